"""One camera's line to the detector process: the picture goes through shared memory, only its shape, the crop
and the answer cross the socket.

The wire (``multiprocessing.connection`` on a Unix socket, authenticated with the node's key; every message a
small tuple):

- ``("hello", camera_id, buffer_name, buffer_size)`` -> ``("ready",)`` or ``("refused", reason)``: the client
  made a :class:`SharedPicture`; once the detector has mapped it the client removes its name.
- ``("detect", seq, shape, crop)`` -> ``("found", seq, [(label, score, x1, y1, x2, y2), ...], took_ms)`` or
  ``("failed", seq, reason)``: the picture is in the buffer; boxes come back in the picture's pixels.

The client never waits for a detection: :meth:`DetectorClient.submit` returns False while a request is out, and
the reply is picked up by :meth:`DetectorClient.poll` on a later frame. When the detector is unreachable (not
started yet, restarting) frames simply go without detection; the client tries again every ``retry_s``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from typing import Any

import numpy as np

from vigil.media.shared_picture import SharedPicture
from vigil.ports import DetectionReply

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    seq: int
    at_us: int
    shape: tuple[int, int, int]
    crop: tuple[int, int, int, int]
    sent: float


class DetectorClient:
    def __init__(
        self,
        address: str,
        authkey: bytes,
        camera_id: str,
        *,
        retry_s: float = 2.0,
        reply_timeout_s: float = 10.0,
    ) -> None:
        self._address, self._authkey, self._camera_id = address, authkey, camera_id
        self._retry_s, self._reply_timeout_s = retry_s, reply_timeout_s
        self._conn: Any = None
        self._buffer: SharedPicture | None = None
        self._next_try = 0.0
        self._seq = 0
        self._pending: _Pending | None = None
        self.lost = 0  # how many times the detector went away

    @property
    def connected(self) -> bool:
        return self._conn is not None

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def submit(self, picture: Any, crop: tuple[int, int, int, int], at_us: int) -> bool:
        if self._pending is not None:
            return False
        array = np.ascontiguousarray(picture, dtype=np.uint8)
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"a BGR picture is height x width x 3, not {array.shape}")
        if self._buffer is not None and array.nbytes > self._buffer.size:
            self._drop("the picture grew")  # a new resolution: reconnect with a buffer that holds it
            self._next_try = 0.0
        if not self._ensure(array.nbytes):
            return False
        assert self._buffer is not None
        shape = (int(array.shape[0]), int(array.shape[1]), 3)
        self._buffer.array(shape)[...] = array
        self._seq += 1
        try:
            self._conn.send(("detect", self._seq, shape, crop))
        except (OSError, ValueError) as exc:
            self._drop(f"send failed: {exc}")
            return False
        self._pending = _Pending(self._seq, at_us, shape, crop, time.monotonic())
        return True

    def poll(self) -> DetectionReply | None:
        pending = self._pending
        if pending is None or self._conn is None:
            return None
        try:
            if not self._conn.poll(0):
                if time.monotonic() - pending.sent > self._reply_timeout_s:
                    self._drop("no reply")
                return None
            reply = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._drop(f"connection lost: {exc}")
            return None
        if reply[1] != pending.seq:
            self._drop(f"reply {reply[1]} to request {pending.seq}")
            return None
        self._pending = None
        if reply[0] != "found":
            log.warning("camera=%s: the detector failed on a frame: %s", self._camera_id, reply[2])
            return None
        assert self._buffer is not None
        picture = self._buffer.array(pending.shape)
        return DetectionReply(pending.at_us, list(reply[2]), picture, pending.crop, float(reply[3]))

    def close(self) -> None:
        self._drop("")

    # --- connection ---------------------------------------------------------------------------------
    def _ensure(self, size: int) -> bool:
        if self._conn is not None:
            return True
        now = time.monotonic()
        if now < self._next_try:
            return False
        self._next_try = now + self._retry_s
        try:
            conn = Client(self._address, family="AF_UNIX", authkey=self._authkey)
        except (OSError, EOFError, AuthenticationError) as exc:
            log.debug("camera=%s: detector not reachable: %s", self._camera_id, exc)
            return False
        buffer = SharedPicture.create(max(size, 1))
        try:
            conn.send(("hello", self._camera_id, buffer.name, buffer.size))
            answer = conn.recv() if conn.poll(self._reply_timeout_s) else ("refused", "no answer")
        except (OSError, EOFError) as exc:
            answer = ("refused", str(exc))
        finally:
            buffer.unlink()  # mapped by both sides now (or refused): the name is no longer needed
        if answer[0] != "ready":
            log.warning("camera=%s: the detector refused the link: %s", self._camera_id, answer[1])
            conn.close()
            buffer.close()
            return False
        self._conn, self._buffer = conn, buffer
        log.info("camera=%s: linked to the detector", self._camera_id)
        return True

    def _drop(self, why: str) -> None:
        if self._conn is not None:
            if why:
                log.warning("camera=%s: detector link dropped: %s", self._camera_id, why)
                self.lost += 1
            with contextlib.suppress(OSError):
                self._conn.close()
        if self._buffer is not None:
            self._buffer.close()
        self._conn, self._buffer, self._pending = None, None, None

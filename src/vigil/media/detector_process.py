"""The detector process: one object detector serving every camera's analysis (see :mod:`detector_link`).

Started by a :class:`~vigil.media.supervisor.WorkerSupervisor` with ``target=detector_main`` and a single
:class:`DetectorJob`. The model is built by ``factory(job)`` (given by the composition root, so this module
never imports the analysis package) before the socket opens: a client that connects is served at once. It
reports :class:`~vigil.domain.reports.DetectorUp` up its pipe when it listens, so the node can close the gap in
detection that its death opened.

Requests are answered one at a time, in turn across the clients that have one waiting; the model's own
threads do the work. A client that goes away loses only its own buffer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, Listener, wait
from typing import Any

from vigil.domain.reports import DetectorUp
from vigil.media.shared_picture import SharedPicture
from vigil.media.worker import PipeSender, run_until_stopped
from vigil.ports import Found, SystemClock

log = logging.getLogger(__name__)

# Looks at a BGR picture (numpy) and returns what it found, boxes in its pixels.
DetectFn = Callable[[Any], list[Found]]


@dataclass(frozen=True, slots=True)
class DetectorJob:
    address: str  # Unix socket (a leading NUL: Linux's abstract namespace)
    authkey: bytes
    model: str = ""  # "" = the bundled model
    kind: str = "nanodet"
    input_width: int = 416
    input_height: int = 416
    labels: tuple[str, ...] = ()
    min_score: float = 0.35
    label_min_score: tuple[tuple[str, float], ...] = ()
    label_min_height: tuple[tuple[str, int], ...] = ()
    threads: int = 1
    class_names: tuple[str, ...] = ()
    camera_id: str = "*"  # what the supervisor names its workers by
    stream: str = "detector"


DetectorFactory = Callable[[DetectorJob], DetectFn]


@dataclass
class _Client:
    conn: Connection
    camera_id: str = "?"
    buffer: SharedPicture | None = None


class DetectorServer:
    def __init__(self, job: DetectorJob, detect: DetectFn, on_ready: Callable[[], None] = lambda: None) -> None:
        self._job, self._detect, self._on_ready = job, detect, on_ready
        self._clients: list[_Client] = []
        self._lock = threading.Lock()
        self.served = 0

    def run(self, stop: threading.Event) -> None:
        listener = Listener(self._job.address, family="AF_UNIX", authkey=self._job.authkey)
        accepting = threading.Thread(target=self._accept, args=(listener, stop), name="detector-accept", daemon=True)
        accepting.start()
        self._on_ready()
        log.info("detector listening")
        try:
            while not stop.is_set():
                with self._lock:
                    clients = list(self._clients)
                if not clients:
                    stop.wait(0.05)
                    continue
                for ready in wait([c.conn for c in clients], timeout=0.2):
                    client = next(c for c in clients if c.conn is ready)
                    self._serve(client)
        finally:
            listener.close()
            with self._lock:
                for client in self._clients:
                    self._forget(client)

    def _accept(self, listener: Listener, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                conn = listener.accept()
            except (OSError, EOFError, AuthenticationError) as exc:  # closed at stop, or a client refused
                if stop.is_set():
                    return
                log.warning("detector: a connection was refused: %s", exc)
                time.sleep(0.1)
                continue
            with self._lock:
                self._clients.append(_Client(conn))

    def _serve(self, client: _Client) -> None:
        try:
            request = client.conn.recv()
            reply = self._answer(client, request)
            client.conn.send(reply)
        except (EOFError, OSError) as exc:
            log.info("detector: camera=%s went away (%s)", client.camera_id, exc or "closed")
            with self._lock:
                self._forget(client)

    def _answer(self, client: _Client, request: Any) -> tuple[Any, ...]:
        kind = request[0] if isinstance(request, tuple) and request else None
        if kind == "hello":
            _, camera_id, name, size = request
            client.camera_id = str(camera_id)
            try:
                client.buffer = SharedPicture.attach(str(name), int(size))
            except (OSError, ValueError) as exc:
                return ("refused", f"cannot map the picture buffer: {exc}")
            log.info("detector: camera=%s linked", client.camera_id)
            return ("ready",)
        if kind == "detect":
            _, seq, shape, crop = request
            if client.buffer is None:
                return ("failed", seq, "no picture buffer (say hello first)")
            started = time.perf_counter()
            try:
                picture = client.buffer.array(tuple(shape))
                x1, y1, x2, y2 = crop
                found = self._detect(picture[y1:y2, x1:x2])
            except Exception as exc:
                log.exception("detector: camera=%s: detection failed", client.camera_id)
                return ("failed", seq, str(exc))
            self.served += 1
            moved = [
                (label, score, bx1 + x1, by1 + y1, bx2 + x1, by2 + y1) for label, score, bx1, by1, bx2, by2 in found
            ]
            return ("found", seq, moved, (time.perf_counter() - started) * 1000)
        return ("failed", request[1] if kind else 0, f"unknown request {kind!r}")

    def _forget(self, client: _Client) -> None:
        if client in self._clients:
            self._clients.remove(client)
        if client.buffer is not None:
            client.buffer.close()
        client.conn.close()


def detector_main(jobs: list[DetectorJob], conn: Any, log_level: int, factory: DetectorFactory) -> None:
    """Load the model, then serve until SIGTERM or until the parent is gone."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    (job,) = jobs
    send = PipeSender(conn)
    detect = factory(job)
    server = DetectorServer(job, detect, on_ready=lambda: send(DetectorUp(SystemClock().now_us())))
    run_until_stopped([("detector", server.run)], log_level, join_s=5)

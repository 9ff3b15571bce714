"""Opening camera streams (RTSP) and simulation files with PyAV, and naming why one failed."""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from vigil.domain.errors import SourceError
from vigil.domain.segment import GapCause

log = logging.getLogger(__name__)


def classify_error(exc: BaseException) -> tuple[GapCause, str]:
    """Map a PyAV/OS failure to a gap cause and a short, password-free detail."""
    text = str(exc)
    if isinstance(exc, av.error.HTTPUnauthorizedError) or "401" in text or "Unauthorized" in text:
        return GapCause.AUTH_FAILED, "the camera refused the credentials (401)"
    err_no = getattr(exc, "errno", None)
    if isinstance(exc, ConnectionRefusedError) or err_no == errno.ECONNREFUSED:
        return GapCause.UNREACHABLE, "connection refused"
    if err_no in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENOENT) or "resolve" in text.lower():
        return GapCause.UNREACHABLE, text[:200]
    if isinstance(exc, TimeoutError | av.error.ExitError) or err_no == errno.ETIMEDOUT:
        return GapCause.TIMEOUT, "no data within the socket timeout"
    if err_no == errno.ENOSPC:
        return GapCause.DISK_FULL, "no space left on the recording volume"
    if isinstance(exc, EOFError | av.error.EOFError):
        return GapCause.STREAM_ENDED, "the source closed the stream"
    return GapCause.STREAM_ERROR, f"{type(exc).__name__}: {text[:200]}"


@dataclass
class OpenedSource:
    """An open input with its video stream. ``loop`` sources rewind at the end (simulation files)."""

    container: Any
    stream: Any
    loop: bool
    target: str = ""

    def packets(self) -> Iterator[Any]:
        while True:
            for packet in self.container.demux(self.stream):
                if packet.size == 0:  # demuxer flush packet
                    continue
                yield packet
            if not self.loop:
                raise EOFError("end of stream")
            self._rewind()

    def _rewind(self) -> None:
        """Back to the start of a looping file: seek, or reopen where the format cannot seek (raw H.264).
        The stream object stays the first one: its time base and codec are what the recorder set up with."""
        try:
            self.container.seek(0, stream=self.stream)
        except av.error.FFmpegError:
            self.container.close()
            self.container = av.open(self.target)
            self.stream = self.container.streams.video[0]

    def close(self) -> None:
        try:
            self.container.close()
        except Exception:  # closing a broken input must not hide the original error
            log.debug("error while closing input", exc_info=True)


def open_source(
    url: str,
    *,
    display_url: str,
    rtsp_transport: str = "tcp",
    timeout_s: float = 10.0,
    loop_files: bool = True,
    network_options: Mapping[str, str] | None = None,
) -> OpenedSource:
    """Open an ``rtsp://``, ``rtsps://`` or ``file://`` source; raise :class:`SourceError` with a cause.
    ``network_options`` are added to FFmpeg's options for network sources (live view probes less)."""
    is_file = url.startswith("file://")
    target = url.removeprefix("file://") if is_file else url
    options: dict[str, str] = {}
    if not is_file:
        options = {"rtsp_transport": rtsp_transport, "timeout": str(int(timeout_s * 1e6)), **(network_options or {})}
    elif not Path(target).is_file():
        raise SourceError(f"{display_url}: no such file", GapCause.UNREACHABLE)
    started = time.monotonic()
    try:
        # Only the open is guarded by PyAV's timeout: its read-timeout callback takes the GIL on every FFmpeg
        # I/O check (~3,000 times a second per stream, measured); FFmpeg's own socket timeout guards reads.
        container = av.open(target, options=options, timeout=(timeout_s, None))
    except Exception as exc:
        cause, detail = classify_error(exc)
        if cause is GapCause.STREAM_ERROR and time.monotonic() - started >= 0.9 * timeout_s:
            cause, detail = GapCause.TIMEOUT, "the camera did not answer within the socket timeout"
        raise SourceError(f"{display_url}: {detail}", cause) from None
    if not container.streams.video:
        container.close()
        raise SourceError(f"{display_url}: no video stream", GapCause.STREAM_ERROR)
    stream = container.streams.video[0]
    return OpenedSource(container=container, stream=stream, loop=is_file and loop_files, target=target)

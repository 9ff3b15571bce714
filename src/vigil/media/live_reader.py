"""One camera stream read for live view: packets copied into fragmented MP4 in a thread of its own.

PyAV blocks while it reads, so each reader is a thread. It hands what it makes to ``deliver`` (called from
the reader thread; :class:`vigil.media.live.LiveHub` passes it on to its event loop): a
:class:`StreamStarted` (codec and init segment) at every connection, then one :class:`Fragment` per frame
starting at a keyframe, and a :class:`StreamFailed` when a connection fails or ends. It reconnects with
back-off until :meth:`LiveReader.stop`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from vigil.domain.errors import SourceError
from vigil.domain.segment import GapCause
from vigil.domain.timestamps import TimestampRepairer
from vigil.media.fmp4 import Fmp4Remuxer, Fragment
from vigil.media.recorder import MAX_UNDATED
from vigil.media.sources import OpenedSource, classify_error, open_source

log = logging.getLogger(__name__)

# FFmpeg probes about a second of packets before it returns from open (1.1-2.2 s measured against the simulator);
# the SDP's parameter sets already give the codec and the picture size, so live view asks for no probing (60 ms)
# and probes fully only for a stream whose SDP does not tell the picture size.
QUICK_PROBE = {"probesize": "32", "analyzeduration": "0"}


@dataclass(frozen=True, slots=True)
class StreamStarted:
    """A connection is up: what a player needs before the fragments (sent again after every reconnection)."""

    mime: str  # for MediaSource.addSourceBuffer, e.g. video/mp4; codecs="avc1.64001f"
    init: bytes  # ftyp + moov
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class StreamFailed:
    """A connection failed or ended; the reader retries after its back-off."""

    cause: str  # a GapCause word
    message: str  # without credentials


LiveItem = StreamStarted | Fragment | StreamFailed


@dataclass(frozen=True, slots=True)
class LiveSpec:
    url: str  # with credentials: never log it
    display_url: str
    label: str  # "camera/stream", for logs
    rtsp_transport: str = "tcp"
    timeout_s: float = 10.0
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 30.0


class LiveReader:
    """Reads one stream in a daemon thread and delivers :data:`LiveItem` objects until stopped."""

    def __init__(self, spec: LiveSpec, deliver: Callable[[LiveItem], None]) -> None:
        self.spec = spec
        self._deliver = deliver
        self._stop = threading.Event()
        self._full_probe = False  # set once the quick probe left the picture size unknown
        self._thread = threading.Thread(target=self.run, name=f"live-{spec.label}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; it does at its next packet (or when a blocked read times out)."""
        self._stop.set()

    def join(self, timeout_s: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        if self._thread.ident is not None:
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Connect, remux, and after a failure report it and retry with back-off (doubling, reset by a success)."""
        delay = self.spec.reconnect_initial_s
        while not self._stop.is_set():
            started, cause, message = self._connection()
            if self._stop.is_set():
                return
            log.info("live %s: %s (%s); retrying in %.1f s", self.spec.label, message, cause, delay)
            self._deliver(StreamFailed(cause, message))
            if started:
                delay = self.spec.reconnect_initial_s
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, self.spec.reconnect_max_s)

    def _connection(self) -> tuple[bool, str, str]:
        """One connection: (whether it delivered a stream, why it ended, a message without credentials)."""
        spec, started = self.spec, False
        try:
            source = self._open()
        except SourceError as exc:
            return False, exc.cause, exc.message
        try:
            started = self._remux(source)
        except SourceError as exc:
            return started, exc.cause, exc.message
        except Exception as exc:
            cause, detail = classify_error(exc)
            return started, cause, f"{spec.display_url}: {detail}"
        finally:
            source.close()
        return started, GapCause.STREAM_ENDED, f"{spec.display_url}: the source closed the stream"

    def _open(self) -> OpenedSource:
        spec = self.spec
        source = open_source(
            spec.url,
            display_url=spec.display_url,
            rtsp_transport=spec.rtsp_transport,
            timeout_s=spec.timeout_s,
            network_options=None if self._full_probe else QUICK_PROBE,
        )
        context = source.stream.codec_context
        if self._full_probe or source.loop or (context.width and context.height):
            return source
        source.close()
        log.info("live %s: the SDP does not give the picture size; probing the stream", spec.label)
        self._full_probe = True
        return self._open()

    def _remux(self, source: OpenedSource) -> bool:
        """Copy packets until the source fails (raises) or the reader is stopped; True once a stream started."""
        remux = PacketRemux(source.stream)
        first_read: float | None = None
        try:
            for count, packet in enumerate(source.packets()):
                read_at = time.monotonic()
                if self._stop.is_set():
                    break
                if source.loop:  # a file plays at its own pace (frame by frame), as a camera would
                    first_read = first_read or read_at
                    if self._stop.wait(max(0.0, first_read + count * remux.frame_s - read_at)):
                        break
                    read_at = time.monotonic()
                for item in remux.feed(packet, read_at):
                    if isinstance(item, StreamStarted):
                        log.info("live %s: %s, %dx%d", self.spec.label, item.mime, item.width, item.height)
                    self._deliver(item)
        finally:
            try:
                remux.close()  # its last fragment is dropped: a new connection starts with a new init anyway
            except Exception:
                log.debug("live %s: error while closing the remuxer", self.spec.label, exc_info=True)
        return remux.started


class PacketRemux:
    """One connection's packets into live items: timestamps repaired as the recorder does (packets before the
    first dated one are dated backwards from it, then :mod:`vigil.domain.timestamps`), nothing before the first
    keyframe, a :class:`StreamStarted` at it, then one :class:`Fragment` per frame. :class:`LiveReader` drives
    it; it needs no thread or network (tests feed it packets from files)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        time_base = Fraction(stream.time_base)
        rate = Fraction(stream.average_rate or stream.guessed_rate or 25)
        self.frame_s = float(1 / rate)
        self._frame_ticks = frame_ticks = max(1, round(1 / (rate * time_base)))
        self._repairer = TimestampRepairer(frame_ticks, max_jump_ticks=max(frame_ticks, round(10 / time_base)))
        self._undated: list[tuple[Any, float | None]] = []  # (packet, read_at) held until one has a timestamp
        self._dated = False
        self._remuxer: Fmp4Remuxer | None = None

    @property
    def started(self) -> bool:
        return self._remuxer is not None

    def feed(self, packet: Any, read_at: float | None = None) -> list[LiveItem]:
        """Take one packet: what it completed (a fragment is ready when the packet after it comes)."""
        if not self._dated:
            origin = packet.dts if packet.dts is not None else packet.pts
            if origin is None and len(self._undated) < MAX_UNDATED:
                self._undated.append((packet, read_at))
                return []
            self._dated = True
            items: list[LiveItem] = []
            for k, (early, early_read_at) in enumerate(self._undated):
                if origin is not None:
                    early.dts = early.pts = origin - (len(self._undated) - k) * self._frame_ticks
                items += self._mux(early, early_read_at)
            self._undated = []
            return items + self._mux(packet, read_at)
        return self._mux(packet, read_at)

    def close(self) -> list[LiveItem]:
        """The last fragment (from the muxer's trailer). Safe to call twice."""
        return list(self._remuxer.close()) if self._remuxer is not None else []

    def _mux(self, packet: Any, read_at: float | None) -> list[LiveItem]:
        fixed = self._repairer.repair(packet.dts, packet.pts)
        packet.dts, packet.pts = fixed.dts, fixed.pts
        if not packet.duration:
            packet.duration = self._repairer.frame_ticks
        items: list[LiveItem] = []
        if self._remuxer is None:
            if not packet.is_keyframe:
                return items  # a player can only start at a keyframe
            remuxer = self._remuxer = Fmp4Remuxer(self.stream, packet)
            items.append(StreamStarted(remuxer.mime, remuxer.init, remuxer.width, remuxer.height))
        items.extend(self._remuxer.push(packet, read_at))
        return items

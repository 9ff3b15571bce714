"""One camera's video stream through Vigil's RTSP reader: access units with timestamps, for the recorder.

:func:`open_rtsp` connects, authenticates, describes, sets up the first H.264 / H.265 video stream over
interleaved TCP and starts it; a stream in another codec (or H.264's interleaved packetization) raises
:class:`UnsupportedStream` so the caller can use FFmpeg's reader instead. :meth:`RtspVideoSource.packets` yields
:class:`AccessUnit` objects until the connection fails (it raises: ``TimeoutError`` when nothing at all arrives
for the socket timeout, ``EOFError`` when the camera closes it, :class:`SourceError` for the rest) or until
``stop`` is set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from fractions import Fraction

from vigil.domain.errors import SourceError
from vigil.domain.segment import GapCause
from vigil.domain.timestamps import DecodeTimes
from vigil.media.rtsp.client import MAX_REDIRECTS, Redirected, RtspSession, RtspUrl
from vigil.media.rtsp.depacketizer import AccessUnit, Depacketizer, DepacketizerStats
from vigil.media.rtsp.h264 import H264Depacketizer
from vigil.media.rtsp.h265 import H265Depacketizer
from vigil.media.rtsp.messages import RtspProtocolError, UnsupportedStream, parse_transport
from vigil.media.rtsp.sdp import VideoTrack, decode_sprop, parse_sdp, resolve_control, video_track

log = logging.getLogger(__name__)

DEFAULT_FRAME_RATE = 25


class RtspVideoSource:
    """A playing RTSP session and its depacketizer."""

    loop = False  # a camera, not a simulation file

    def __init__(self, session: RtspSession, track: VideoTrack, depacketizer: Depacketizer, stop: threading.Event):
        self.session = session
        self.track = track
        self.depacketizer = depacketizer
        self.codec = track.codec
        self.time_base = Fraction(1, track.clock_rate)
        rate = track.framerate
        config = depacketizer.config()
        if config is not None and config.frame_rate:
            rate = config.frame_rate
        self.frame_rate = Fraction(rate).limit_denominator(1001) if rate and 1 <= rate <= 240 else None
        reorder = config.reorder_frames if config is not None and config.reorder_frames is not None else 0
        self._decode_times = DecodeTimes(reorder)
        self._stop = stop

    @property
    def stats(self) -> DepacketizerStats:
        return self.depacketizer.stats

    def packets(self) -> Iterator[AccessUnit]:
        session, ready = self.session, self.depacketizer.ready
        rate = self.frame_rate or DEFAULT_FRAME_RATE
        frame_ticks = max(1, round(self.track.clock_rate / rate))
        decode_times = self._decode_times
        last_data = time.monotonic()
        while not self._stop.is_set():
            count = session.pump()
            now = time.monotonic()
            if count:
                last_data = now
            elif now - last_data > session.timeout_s:
                raise TimeoutError("no data within the socket timeout")
            if ready:
                units = ready[:]
                ready.clear()
                for unit in units:
                    unit.dts = decode_times.dts(unit.pts, frame_ticks)
                    yield unit
            session.keep_alive(now)

    def close(self) -> None:
        self.depacketizer.flush()
        self.session.close()


def open_rtsp(url: str, *, display_url: str, timeout_s: float, stop: threading.Event) -> RtspVideoSource:
    """Connect and start playing the video stream; :class:`SourceError` (or ``OSError``) when it cannot."""
    target = RtspUrl.parse(url)
    for _ in range(MAX_REDIRECTS + 1):
        session = RtspSession(target, display_url, timeout_s)
        try:
            return _start(session, stop)
        except Redirected as redirect:
            session.close()
            log.info("%s: redirected", display_url)
            try:
                moved = RtspUrl.parse(redirect.location)
            except SourceError:
                raise RtspProtocolError(f"{display_url}: redirected to an address that is not RTSP") from None
            target = RtspUrl(moved.scheme, moved.host, moved.port, moved.request_url, target.credentials)
        except BaseException:
            session.close()
            raise
    raise RtspProtocolError(f"{display_url}: more than {MAX_REDIRECTS} redirects")


def _start(session: RtspSession, stop: threading.Event) -> RtspVideoSource:
    url = session.url.request_url
    session.connect()
    try:
        session.note_methods(session.request("OPTIONS", url))
    except SourceError as exc:
        if exc.cause == GapCause.AUTH_FAILED:
            raise
        log.debug("%s: OPTIONS refused (%s); going on", session.display_url, exc.message)
    described = session.request("DESCRIBE", url, {"Accept": "application/sdp"})
    base = described.header("content-base") or described.header("content-location") or url
    try:
        sdp = parse_sdp(described.body.decode("utf-8", errors="replace"))
    except RtspProtocolError as exc:
        raise RtspProtocolError(f"{session.display_url}: {exc.message}") from None
    try:
        track = video_track(sdp, base)
    except UnsupportedStream as exc:
        raise UnsupportedStream(f"{session.display_url}: {exc.message}") from None
    depacketizer = _depacketizer(track)
    transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
    setup = session.request("SETUP", track.control_url, {"Transport": transport})
    session.note_session(setup)
    channels = parse_transport(setup.header("transport", transport)).interleaved or (0, 1)
    session.rtp_channel, session.sink = channels[0], depacketizer.push
    play_url = resolve_control(base, sdp.control) if sdp.control else base
    session.request("PLAY", play_url, {"Range": "npt=0.000-"})
    session.start_streaming()
    log.debug(
        "%s: playing %s (payload type %d) on channel %d",
        session.display_url,
        track.codec,
        track.payload_type,
        channels[0],
    )
    return RtspVideoSource(session, track, depacketizer, stop)


def _depacketizer(track: VideoTrack) -> Depacketizer:
    params = track.parameters
    if track.codec == "h264":
        return H264Depacketizer(
            track.payload_type, decode_sprop(params.get("sprop-parameter-sets", "")), track.framerate
        )
    sprop = [u for key in ("sprop-vps", "sprop-sps", "sprop-pps") for u in decode_sprop(params.get(key, ""))]
    don = params.get("sprop-max-don-diff", "0").strip()
    return H265Depacketizer(track.payload_type, sprop, track.framerate, with_don=don.isdigit() and int(don) > 0)

"""Session descriptions (RFC 4566) as RTSP cameras send them in answer to DESCRIBE, and control URLs.

Only what a recorder needs is kept: each media section's kind, payload types, ``rtpmap`` (encoding name and
clock rate), ``fmtp`` parameters (``packetization-mode``, ``sprop-parameter-sets``, ``sprop-vps/sps/pps``),
``control`` and ``framerate``. Lines this parser does not know are skipped; a section it cannot read (a bad
``m=`` line) is an error with the line in it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from dataclasses import dataclass, field

from vigil.media.rtsp.messages import RtspProtocolError, UnsupportedStream

# Static payload types (RFC 3551) a camera might use without an rtpmap line.
_STATIC = {26: ("JPEG", 90000), 32: ("MPV", 90000), 33: ("MP2T", 90000), 34: ("H263", 90000)}
SUPPORTED = ("H264", "H265")


@dataclass(frozen=True, slots=True)
class MediaDescription:
    kind: str  # "video", "audio", "application"
    protocol: str  # "RTP/AVP" ...
    payload_types: tuple[int, ...]
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)  # pt -> (encoding upper-case, clock rate)
    fmtp: dict[int, dict[str, str]] = field(default_factory=dict)  # pt -> {lower-case name: value}
    control: str = ""
    framerate: float | None = None

    def encoding(self, pt: int) -> tuple[str, int]:
        return self.rtpmap.get(pt) or _STATIC.get(pt, ("", 90000))


@dataclass(frozen=True, slots=True)
class SessionDescription:
    control: str
    media: tuple[MediaDescription, ...]


@dataclass(frozen=True, slots=True)
class VideoTrack:
    """The video stream chosen for recording."""

    control_url: str
    payload_type: int
    codec: str  # "h264" or "hevc" (FFmpeg's names, as the catalog stores them)
    clock_rate: int
    parameters: dict[str, str]  # the fmtp of the payload type
    framerate: float | None


@dataclass(slots=True)
class _Section:
    kind: str
    protocol: str
    payload_types: tuple[int, ...]
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)
    fmtp: dict[int, dict[str, str]] = field(default_factory=dict)
    control: str = ""
    framerate: float | None = None

    def frozen(self) -> MediaDescription:
        return MediaDescription(
            self.kind, self.protocol, self.payload_types, self.rtpmap, self.fmtp, self.control, self.framerate
        )


def parse_sdp(text: str) -> SessionDescription:
    session_control = ""
    media: list[_Section] = []
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            media.append(_media_line(value))
        elif kind == "a":
            name, _, arg = value.partition(":")
            if media:
                _attribute(media[-1], name.strip().lower(), arg.strip())
            elif name.strip().lower() == "control":
                session_control = arg.strip()
    return SessionDescription(session_control, tuple(m.frozen() for m in media))


def _media_line(value: str) -> _Section:
    parts = value.split()
    if len(parts) < 4:
        raise RtspProtocolError(f"a bad SDP media line: m={value[:80]!r}")
    try:
        pts = tuple(int(p) for p in parts[3:])
    except ValueError:
        pts = ()  # not RTP (e.g. "application 0 TCP/WSS ..."): no payload types
    return _Section(parts[0].lower(), parts[2], pts)


def _attribute(section: _Section, name: str, arg: str) -> None:
    if name == "control":
        section.control = arg
    elif name == "framerate":
        with contextlib.suppress(ValueError):
            section.framerate = float(arg)
    elif name in ("rtpmap", "fmtp"):
        pt_text, _, rest = arg.partition(" ")
        if not pt_text.isdigit():
            return
        pt = int(pt_text)
        if name == "rtpmap":
            encoding, _, clock = rest.strip().partition("/")
            rate_text = clock.split("/")[0]
            rate = int(rate_text) if rate_text.isdigit() and int(rate_text) > 0 else 90000
            section.rtpmap[pt] = (encoding.strip().upper(), rate)
        else:
            params: dict[str, str] = {}
            for item in rest.split(";"):
                key, _, val = item.strip().partition("=")
                if key.strip():
                    params[key.strip().lower()] = val.strip()
            section.fmtp[pt] = params


def resolve_control(base: str, control: str) -> str:
    """A control attribute as a URL (RFC 2326 C.1.1). Absolute URLs are kept; ``*`` or nothing is the base; a
    relative one is appended to the base with one ``/`` between (as FFmpeg and cameras expect, also when the
    base does not end in ``/``)."""
    if not control or control == "*":
        return base
    if "://" in control[:10].lower() or control.lower().startswith(("rtsp:", "rtsps:")):
        return control
    if base.endswith("/"):
        return base + control.lstrip("/")
    return base + "/" + control.lstrip("/")


def video_track(sdp: SessionDescription, base: str) -> VideoTrack:
    """The first video stream Vigil's reader can record; :class:`UnsupportedStream` naming the codec if none."""
    seen: list[str] = []
    for media in sdp.media:
        if media.kind != "video" or not media.protocol.upper().startswith("RTP/"):
            continue
        for pt in media.payload_types:
            encoding, clock = media.encoding(pt)
            params = media.fmtp.get(pt, {})
            seen.append(encoding or f"payload type {pt}")
            if encoding == "H264" and params.get("packetization-mode", "0") in ("0", "1"):
                codec = "h264"
            elif encoding in ("H265", "HEVC"):
                codec = "hevc"
            else:
                continue
            url = resolve_control(base, media.control)
            return VideoTrack(url, pt, codec, clock, params, media.framerate)
    if not seen:
        raise RtspProtocolError("the camera's session description has no RTP video stream")
    raise UnsupportedStream(f"video in {', '.join(seen)} (Vigil's reader records H.264 and H.265)")


def decode_sprop(value: str) -> list[bytes]:
    """The NAL units of ``sprop-parameter-sets`` (comma-separated base64); unreadable ones are skipped."""
    units: list[bytes] = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            unit = base64.b64decode(item + "=" * (-len(item) % 4), validate=False)
        except (binascii.Error, ValueError):
            continue
        if unit:
            units.append(unit)
    return units

"""RTSP/1.0 messages (RFC 2326): requests written, responses parsed, and the headers the client needs.

Pure functions and dataclasses: no sockets here. A response is parsed from its bytes (status line, headers,
body of ``Content-Length``); anything malformed raises :class:`RtspProtocolError` with what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vigil.domain.errors import SourceError
from vigil.domain.segment import GapCause

USER_AGENT = "Vigil"
MAX_HEAD_BYTES = 64 * 1024  # an RTSP head longer than this is not an RTSP head
MAX_BODY_BYTES = 1 << 20


class RtspProtocolError(SourceError):
    """The camera sent something that is not valid RTSP (or not what was asked for)."""

    def __init__(self, message: str, cause: str = GapCause.STREAM_ERROR) -> None:
        super().__init__(message, cause)


class UnsupportedStream(SourceError):
    """The stream is valid but this reader does not record it (codec, packetization): use FFmpeg's reader."""

    def __init__(self, message: str) -> None:
        super().__init__(message, GapCause.STREAM_ERROR)


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self, cseq: int, extra: dict[str, str] | None = None) -> bytes:
        lines = [f"{self.method} {self.url} RTSP/1.0", f"CSeq: {cseq}", f"User-Agent: {USER_AGENT}"]
        for name, value in {**self.headers, **(extra or {})}.items():
            lines.append(f"{name}: {value}")
        if self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str
    headers: dict[str, list[str]]  # lower-case names; a header may repeat (WWW-Authenticate)
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return self.headers.get(name.lower(), [])

    @property
    def cseq(self) -> int | None:
        text = self.header("cseq").strip()
        return int(text) if text.isdigit() else None


def head_length(data: bytes | bytearray, start: int, end: int) -> int | None:
    """Bytes of the message head starting at ``start`` (through the blank line), or None while incomplete."""
    at = data.find(b"\r\n\r\n", start, min(end, start + MAX_HEAD_BYTES + 4))
    if at < 0:
        if end - start > MAX_HEAD_BYTES:
            raise RtspProtocolError("an RTSP message head longer than 64 KiB")
        return None
    return at + 4 - start


def parse_head(head: bytes) -> tuple[str, dict[str, list[str]]]:
    """(first line, headers by lower-case name) of a message head; folded lines are joined."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    lines = text.split("\r\n")
    first = lines[0]
    headers: dict[str, list[str]] = {}
    name = ""
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and name:  # continuation of the previous header
            headers[name][-1] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise RtspProtocolError(f"a header line without a colon: {line[:80]!r}")
        name = key.strip().lower()
        headers.setdefault(name, []).append(value.strip())
    return first, headers


def content_length(headers: dict[str, list[str]]) -> int:
    values = headers.get("content-length")
    if not values:
        return 0
    text = values[0].strip()
    if not text.isdigit() or int(text) > MAX_BODY_BYTES:
        raise RtspProtocolError(f"a bad Content-Length: {text[:40]!r}")
    return int(text)


def parse_response(head: bytes, body: bytes = b"") -> Response:
    first, headers = parse_head(head)
    parts = first.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("RTSP/") or not parts[1].isdigit():
        raise RtspProtocolError(f"not an RTSP response: {first[:80]!r}")
    return Response(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, body)


def is_response_start(data: bytes) -> bool:
    return data.startswith(b"RTSP/")


def is_request_start(data: bytes) -> bool:
    """A request from the server (some cameras send GET_PARAMETER or ANNOUNCE): ``METHOD url RTSP/1.0``."""
    word = data.split(b" ", 1)[0]
    return 2 < len(word) < 20 and word.isupper() and word.replace(b"_", b"").isalpha()


@dataclass(frozen=True, slots=True)
class SessionHeader:
    session_id: str
    timeout_s: float  # 60 s when the server does not say (RFC 2326 12.37)


def parse_session(value: str) -> SessionHeader:
    """``Session: 12345678;timeout=60``."""
    parts = [p.strip() for p in value.split(";")]
    if not parts[0]:
        raise RtspProtocolError("an empty Session header")
    timeout = 60.0
    for part in parts[1:]:
        key, _, number = part.partition("=")
        if key.strip().lower() == "timeout":
            try:
                timeout = float(number)
            except ValueError:
                raise RtspProtocolError(f"a bad session timeout: {number[:20]!r}") from None
            if timeout <= 0:
                timeout = 60.0
    return SessionHeader(parts[0], timeout)


@dataclass(frozen=True, slots=True)
class TransportHeader:
    interleaved: tuple[int, int] | None
    ssrc: int | None
    lower_transport: str  # "TCP" or "UDP"


def parse_transport(value: str) -> TransportHeader:
    """The server's answer to SETUP, e.g. ``RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=5F1A2B3C;mode="PLAY"``.
    When several transports are listed (comma-separated) the first is taken."""
    first = value.split(",", 1)[0]
    params = [p.strip() for p in first.split(";")]
    spec = params[0].upper()
    lower = "TCP" if spec.endswith("/TCP") else "UDP"
    channels: tuple[int, int] | None = None
    ssrc: int | None = None
    for param in params[1:]:
        key, _, arg = param.partition("=")
        key = key.strip().lower()
        try:
            if key == "interleaved":
                low, _, high = arg.partition("-")
                channels = (int(low), int(high) if high else int(low) + 1)
                if not (0 <= channels[0] <= 255 and 0 <= channels[1] <= 255):
                    raise ValueError(arg)
            elif key == "ssrc":
                ssrc = int(arg.strip().strip('"'), 16)
        except ValueError:
            raise RtspProtocolError(f"a bad Transport parameter: {param[:60]!r}") from None
    return TransportHeader(channels, ssrc, lower)


def parse_rtp_info(value: str, control_url: str) -> tuple[int | None, int | None]:
    """(seq, rtptime) for ``control_url`` from an RTP-Info header (the only stream, when one is listed)."""
    entries = [e.strip() for e in value.split(",") if e.strip()]
    for entry in entries:
        fields = dict(
            (k.strip().lower(), v.strip()) for k, _, v in (p.partition("=") for p in entry.split(";")) if k.strip()
        )
        if len(entries) == 1 or fields.get("url", "").rstrip("/") == control_url.rstrip("/"):
            seq = fields.get("seq", "")
            rtptime = fields.get("rtptime", "")
            return (int(seq) if seq.isdigit() else None, int(rtptime) if rtptime.isdigit() else None)
    return None, None


def public_methods(response: Response) -> set[str]:
    return {m.strip().upper() for m in response.header("public").split(",") if m.strip()}

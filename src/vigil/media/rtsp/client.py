"""An RTSP client session over TCP (RFC 2326): OPTIONS, DESCRIBE, SETUP (interleaved), PLAY, keep-alive, TEARDOWN.

Reading is what it is built for: once playing, the socket is blocking with ``SO_RCVLOWAT`` (the kernel wakes the
reader only when 64 KiB have arrived) and ``SO_RCVTIMEO`` (or after a tenth of a second), and each wake-up is
one ``recv_into`` of everything queued, split in bulk by :class:`ReceiveBuffer`. FFmpeg's reader makes three
``poll`` + ``recv`` pairs per RTP packet instead (about 2,900 system calls a second for a 5 Mb/s camera).

Authentication: a 401 is answered once with the strongest scheme offered (Digest, then Basic); a second 401 is
:data:`GapCause.AUTH_FAILED` ("the camera refused the credentials"). A 3xx redirect is followed (up to three).
``rtsps://`` runs the same protocol through TLS in memory (:mod:`vigil.media.rtsp.tls`: still large reads;
certificates not verified, as FFmpeg's default).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import struct
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from vigil.domain.errors import SourceError
from vigil.domain.segment import GapCause
from vigil.media.rtsp.auth import Authenticator, Credentials, choose, parse_challenges
from vigil.media.rtsp.interleaved import Message, PacketSink, ReceiveBuffer
from vigil.media.rtsp.messages import (
    Request,
    Response,
    RtspProtocolError,
    parse_response,
    parse_session,
    public_methods,
)
from vigil.media.rtsp.tls import TlsSocket

log = logging.getLogger(__name__)

LOW_WATER_BYTES = 64 * 1024  # wake the reader once this much is queued ...
READ_SLICE_S = 0.1  # ... or after this long, whichever comes first
_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322}
MAX_REDIRECTS = 3


@dataclass(frozen=True, slots=True)
class RtspUrl:
    """An ``rtsp://`` or ``rtsps://`` URL split into what the socket needs and what requests carry."""

    scheme: str
    host: str
    port: int
    request_url: str  # without credentials
    credentials: Credentials | None

    @classmethod
    def parse(cls, url: str) -> RtspUrl:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise SourceError("not an rtsp:// or rtsps:// URL with a host", GapCause.UNREACHABLE)
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            raise SourceError("the URL's port is not a number", GapCause.UNREACHABLE) from None
        host = parts.hostname
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        request_url = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
        credentials = None
        if parts.username is not None:
            credentials = Credentials(unquote(parts.username), unquote(parts.password or ""))
        return cls(scheme, host, port, request_url, credentials)


Connection = socket.socket | TlsSocket


class Redirected(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class RtspSession:
    """One connection to a camera. Methods raise :class:`SourceError` (with a cause) or ``OSError``."""

    def __init__(self, url: RtspUrl, display_url: str, timeout_s: float) -> None:
        self.url = url
        self.display_url = display_url
        self.timeout_s = timeout_s
        self.buffer = ReceiveBuffer()
        self.session_id = ""
        self.session_timeout_s = 60.0
        self.keepalive_method = "OPTIONS"
        self.rtp_channel = -1
        self.sink: PacketSink | None = None
        self._cseq = 0
        self._auth: Authenticator | None = None
        self._sock: Connection | None = None
        self._sent_at = 0.0  # when our last request went out (keep-alive timing)
        self.bytes_received = 0
        self.reads = 0

    # --- connection ------------------------------------------------------------------------------------
    def connect(self) -> None:
        try:
            sock = socket.create_connection((self.url.host, self.url.port), timeout=self.timeout_s)
        except socket.gaierror as exc:
            raise SourceError(
                f"{self.display_url}: cannot resolve {self.url.host} ({exc})", GapCause.UNREACHABLE
            ) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.url.scheme == "rtsps":
            try:
                self._sock = TlsSocket(sock, self.url.host)
            except BaseException:
                sock.close()
                raise
        else:
            self._sock = sock

    def close(self) -> None:
        """TEARDOWN without waiting for its answer (the connection closes anyway), then close the socket."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self.session_id:
            try:
                sock.settimeout(0.5)
                sock.sendall(self._encode(Request("TEARDOWN", self.url.request_url, {"Session": self.session_id})))
            except (OSError, ValueError):
                pass
        with contextlib.suppress(OSError):
            sock.close()

    # --- requests ----------------------------------------------------------------------------------------
    def request(self, method: str, url: str, headers: dict[str, str] | None = None) -> Response:
        """Send a request and wait for its answer, answering one 401 challenge; 2xx or an error."""
        request = Request(method, url, dict(headers or {}))
        if self.session_id and method not in ("OPTIONS", "DESCRIBE"):
            request.headers.setdefault("Session", self.session_id)
        response = self._exchange(request)
        if response.status == 401:
            self._answer_challenge(response)
            if response.header("connection").strip().lower() == "close":
                self._reconnect()  # some cameras hang up after a 401
            response = self._exchange(request)
            if response.status == 401:
                raise SourceError(f"{self.display_url}: the camera refused the credentials (401)", GapCause.AUTH_FAILED)
        if 300 <= response.status < 400 and response.header("location"):
            raise Redirected(response.header("location"))
        if not 200 <= response.status < 300:
            raise self._refusal(method, response)
        return response

    def _answer_challenge(self, response: Response) -> None:
        if self.url.credentials is None:
            raise SourceError(
                f"{self.display_url}: the camera asks for credentials (401) and none are configured",
                GapCause.AUTH_FAILED,
            )
        challenge = choose(parse_challenges(response.all("www-authenticate")))
        previous = self._auth.challenge if self._auth is not None else None
        if previous is not None and not challenge.stale and challenge.params == previous.params:
            raise SourceError(f"{self.display_url}: the camera refused the credentials (401)", GapCause.AUTH_FAILED)
        self._auth = Authenticator(self.url.credentials, challenge)

    def _reconnect(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        self.buffer = ReceiveBuffer()
        self.connect()

    def _refusal(self, method: str, response: Response) -> SourceError:
        what = f"{self.display_url}: {method} answered {response.status} {response.reason}".rstrip()
        if response.status == 404:
            return SourceError(f"{what} (no stream at this address)", GapCause.STREAM_ERROR)
        if response.status == 461:
            return SourceError(f"{what} (the camera does not send RTP over TCP)", GapCause.STREAM_ERROR)
        return SourceError(what, GapCause.STREAM_ERROR)

    def _encode(self, request: Request) -> bytes:
        self._cseq += 1
        extra = {"Authorization": self._auth.header(request.method, request.url)} if self._auth else None
        return request.encode(self._cseq, extra)

    def _exchange(self, request: Request) -> Response:
        sock = self._socket()
        data = self._encode(request)
        cseq = self._cseq
        sock.settimeout(self.timeout_s)
        sock.sendall(data)
        self._sent_at = time.monotonic()
        deadline = self._sent_at + self.timeout_s
        while True:
            messages: list[Message] = []
            self.buffer.split(self.rtp_channel, self.sink, messages)
            for message in messages:
                if not message.is_response:
                    self._answer_server(message)
                    continue
                response = parse_response(message.head, message.body)
                if response.cseq in (None, cseq):
                    return response
                log.debug("%s: skipped a late answer (CSeq %s)", self.display_url, response.cseq)
            if time.monotonic() > deadline:
                raise SourceError(f"{self.display_url}: no answer to {request.method}", GapCause.TIMEOUT)
            self._receive(sock)

    def _receive(self, sock: Connection) -> int:
        count = sock.recv_into(self.buffer.space())
        if count == 0:
            raise EOFError("the camera closed the connection")
        self.buffer.filled(count)
        self.bytes_received += count
        self.reads += 1
        return count

    def _answer_server(self, message: Message) -> None:
        """A request from the server (a few cameras send them): answered "not implemented"."""
        line = message.head.split(b"\r\n", 1)[0][:80]
        cseq = b""
        for header in message.head.split(b"\r\n")[1:]:
            if header.lower().startswith(b"cseq:"):
                cseq = header.split(b":", 1)[1].strip()
        log.debug("%s: the camera sent a request %r", self.display_url, line)
        self._socket().sendall(b"RTSP/1.0 501 Not Implemented\r\nCSeq: " + cseq + b"\r\n\r\n")

    def _socket(self) -> Connection:
        if self._sock is None:
            raise SourceError(f"{self.display_url}: not connected", GapCause.STREAM_ERROR)
        return self._sock

    # --- playing -----------------------------------------------------------------------------------------
    def note_session(self, response: Response) -> None:
        value = response.header("session")
        if not value:
            raise RtspProtocolError(f"{self.display_url}: SETUP answered without a Session header")
        session = parse_session(value)
        self.session_id, self.session_timeout_s = session.session_id, session.timeout_s

    def note_methods(self, options: Response) -> None:
        if "GET_PARAMETER" in public_methods(options):
            self.keepalive_method = "GET_PARAMETER"

    def start_streaming(self) -> None:
        """After PLAY: blocking reads that return once 64 KiB are queued or after a tenth of a second."""
        sock = self._socket()
        sock.settimeout(None)
        interval = struct.pack("ll", 0, int(READ_SLICE_S * 1e6))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, interval)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", int(self.timeout_s), 0))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, LOW_WATER_BYTES)

    def pump(self) -> int:
        """One read (at most a tenth of a second) and the split of what came: bytes read (0 for none)."""
        sock = self._socket()
        try:
            count = self._receive(sock)
        except (BlockingIOError, InterruptedError, TimeoutError, ssl.SSLWantReadError):
            count = 0
        if count:
            messages: list[Message] = []
            self.buffer.split(self.rtp_channel, self.sink, messages)
            for message in messages:
                self._on_message(message)
        return count

    def _on_message(self, message: Message) -> None:
        if not message.is_response:
            self._answer_server(message)
            return
        response = parse_response(message.head, message.body)
        if response.status == 454:
            raise SourceError(f"{self.display_url}: the camera ended the session (454)", GapCause.STREAM_ENDED)
        if response.status in (405, 501) and self.keepalive_method != "OPTIONS":
            log.info("%s: %s refused as a keep-alive; using OPTIONS", self.display_url, self.keepalive_method)
            self.keepalive_method = "OPTIONS"
        elif not 200 <= response.status < 300:
            log.debug("%s: keep-alive answered %s %s", self.display_url, response.status, response.reason)

    def keep_alive(self, now: float) -> None:
        """Send a keep-alive (GET_PARAMETER, or OPTIONS when the camera does not offer it) at half the session
        timeout; its answer is read with the stream."""
        if now - self._sent_at < max(1.0, self.session_timeout_s / 2):
            return
        headers = {"Session": self.session_id} if self.session_id else {}
        self._socket().sendall(self._encode(Request(self.keepalive_method, self.url.request_url, headers)))
        self._sent_at = now

"""A scripted RTSP server for tests of what GStreamer's server never does (redirects, hanging up after a 401,
requests from the server, refusing keep-alives, garbage on the wire, going silent). One thread per connection;
``answer(request, connection)`` returns the bytes to send back (or None to hang up), and after PLAY the
connection streams ``stream`` (interleaved bytes) in pieces until it runs out."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=fake\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QAHqy0BQF/ywgAAAMACAAAAwGQeLF1,aO8Jyw==\r\n"
    "a=control:{control}\r\n"
)


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]

    @property
    def cseq(self) -> str:
        return self.headers.get("cseq", "0")


@dataclass
class Connection:
    number: int
    sock: socket.socket
    requests: list[Request] = field(default_factory=list)


def reply(request: Request, status: str = "200 OK", headers: dict[str, str] | None = None, body: str = "") -> bytes:
    lines = [f"RTSP/1.0 {status}", f"CSeq: {request.cseq}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def standard(request: Request, control: str = "trackID=1") -> bytes:
    """A well-behaved camera's answers."""
    if request.method == "OPTIONS":
        return reply(request, headers={"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"})
    if request.method == "DESCRIBE":
        base = request.url.rstrip("/") + "/"
        return reply(request, headers={"Content-Base": base}, body=SDP.format(control=control))
    if request.method == "SETUP":
        return reply(request, headers={"Session": "F00D;timeout=4", "Transport": "RTP/AVP/TCP;interleaved=0-1"})
    return reply(request, headers={"Session": "F00D"})


class FakeCamera:
    def __init__(
        self, answer: Callable[[Request, Connection], bytes | None], stream: bytes = b"", chunk: int = 4096
    ) -> None:
        self.answer, self.stream, self.chunk = answer, stream, chunk
        self.connections: list[Connection] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closing = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "cam", userinfo: str = "") -> str:
        return f"rtsp://{userinfo}127.0.0.1:{self.port}/{path}"

    def requests(self) -> list[Request]:
        return [r for c in self.connections for r in c.requests]

    def close(self) -> None:
        self._closing.set()
        self._server.close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.sock.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            connection = Connection(len(self.connections), sock)
            self.connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        buffer = b""
        streaming: threading.Thread | None = None
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = connection.sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                method, url, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
                request = Request(method, url, headers)
                connection.requests.append(request)
                out = self.answer(request, connection)
                if out is None:
                    connection.sock.close()
                    return
                connection.sock.sendall(out)
                if method == "PLAY" and streaming is None:
                    streaming = threading.Thread(target=self._stream, args=(connection,), daemon=True)
                    streaming.start()
        except OSError:
            return

    def _stream(self, connection: Connection) -> None:
        with contextlib.suppress(OSError):
            for at in range(0, len(self.stream), self.chunk):
                connection.sock.sendall(self.stream[at : at + self.chunk])
                time.sleep(0.002)

"""TLS for ``rtsps://`` with the socket still read in large blocks.

An ``ssl.SSLSocket`` reads one TLS record per call (two ``read`` system calls each: header, body), and a camera
sends about one record per RTP packet, which would bring back the per-packet reads Vigil's reader exists to
avoid. :class:`TlsSocket` keeps the TCP socket (and its ``SO_RCVLOWAT`` / ``SO_RCVTIMEO``) and runs TLS in memory
(``ssl.MemoryBIO``): one ``recv_into`` takes everything queued, and the records in it are decrypted without any
further system call. Certificates are not verified (FFmpeg's default for ``rtsps``); the traffic is encrypted.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any


def client_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class TlsSocket:
    """The parts of a socket that :class:`vigil.media.rtsp.client.RtspSession` uses, over TLS."""

    def __init__(self, sock: socket.socket, server_hostname: str, context: ssl.SSLContext | None = None) -> None:
        self._sock = sock
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = (context or client_context()).wrap_bio(
            self._incoming, self._outgoing, server_hostname=server_hostname
        )
        self._raw = bytearray(256 * 1024)
        self._eof = False
        while True:
            try:
                self._tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    raise ConnectionResetError("the camera closed the connection during the TLS handshake") from None
        self._flush()

    def recv_into(self, view: memoryview) -> int:
        """Decrypted bytes into ``view``: what is buffered, else one read of the socket (which may raise
        ``BlockingIOError`` after ``SO_RCVTIMEO``, or ``TimeoutError``); 0 at the end of the stream."""
        while True:
            count = self._drain(view)
            if count or self._eof:
                return count
            self._fill()

    def sendall(self, data: bytes) -> None:
        self._tls.write(data)
        self._flush()

    def settimeout(self, value: float | None) -> None:
        self._sock.settimeout(value)

    def setsockopt(self, level: int, option: int, value: Any) -> None:
        self._sock.setsockopt(level, option, value)

    def close(self) -> None:
        self._sock.close()

    def _fill(self) -> int:
        count = self._sock.recv_into(self._raw)
        if count == 0:
            self._eof = True
            self._incoming.write_eof()
        else:
            self._incoming.write(memoryview(self._raw)[:count])
        return count

    def _drain(self, view: memoryview) -> int:
        total = 0
        while total < len(view):
            try:
                # with a buffer, read() returns the count (typeshed only knows the bytes form)
                count = int(self._tls.read(len(view) - total, view[total:]))
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                break
            except ssl.SSLEOFError:
                self._eof = True
                break
            if not count:
                break
            total += count
        self._flush()  # a key update or an alert may have something to send
        return total

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self._sock.sendall(data)

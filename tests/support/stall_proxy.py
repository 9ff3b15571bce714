"""A TCP proxy in front of a real RTSP server that can hold back a stream's video while keeping its connection
alive: RTSP over TCP interleaves RTP (channel 0 here: video) and RTCP (channel 1) as ``$``-framed packets on the
one connection; while ``stalled`` the proxy drops the RTP frames and forwards everything else, like a camera whose
encoder hung but whose RTSP session lives on. So that the client's socket timeout cannot fire either (RTCP may be
5 s apart), it also sends an empty frame on an unused channel every 0.5 s while stalled, which RTSP clients skip.

``lose_fragments(n)`` drops the next ``n`` video packets that are fragments of an H.264 NAL unit other than its
first (FU-A without the start bit): packet loss inside a picture, as a lossy network or an overloaded camera
would cause (``lost`` counts them)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


class StallProxy:
    def __init__(self, target_port: int, video_channel: int = 0) -> None:
        self.target_port, self.video_channel = target_port, video_channel
        self.stalled = threading.Event()
        self.dropped = 0
        self.lost = 0
        self.requests: list[bytes] = []  # the first line of every RTSP request the client sent
        self._to_lose = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    def lose_fragments(self, count: int) -> None:
        self._to_lose += count

    def _lose(self, chunk: bytes) -> bool:
        if self._to_lose <= 0 or chunk[1] != self.video_channel or len(chunk) < 4 + 14:
            return False
        payload = chunk[4 + 12 :]  # no CSRC or extension from GStreamer's payloader
        if payload[0] & 0x1F != 28 or payload[1] & 0x80:
            return False
        self._to_lose -= 1
        self.lost += 1
        return True

    def close(self) -> None:
        self._closing.set()
        self._server.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            lock = threading.Lock()
            threading.Thread(target=self._filtered, args=(upstream, client, lock), daemon=True).start()
            threading.Thread(target=self._keepalive, args=(client, lock), daemon=True).start()

    def _keepalive(self, dst: socket.socket, lock: threading.Lock) -> None:
        try:
            while not self._closing.wait(0.5):
                if self.stalled.is_set():
                    with lock:
                        dst.sendall(b"$\x07\x00\x00")
        except OSError:
            pass

    def _requests(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            for chunk in self._messages(src):
                if chunk[:1] != b"$":
                    self.requests.append(chunk.split(b"\r\n", 1)[0])
                dst.sendall(chunk)
        except OSError:
            pass

    def _filtered(self, src: socket.socket, dst: socket.socket, lock: threading.Lock) -> None:
        try:
            for chunk in self._messages(src):
                if chunk[:1] == b"$" and chunk[1] == self.video_channel and self.stalled.is_set():
                    self.dropped += 1
                    continue
                if chunk[:1] == b"$" and self._lose(chunk):
                    continue
                with lock:
                    dst.sendall(chunk)
        except OSError:
            pass

    @staticmethod
    def _messages(src: socket.socket) -> Iterator[bytes]:
        """Whole interleaved frames and whole RTSP messages, as they come."""
        buffer = b""
        while True:
            while True:
                if buffer[:1] == b"$":
                    if len(buffer) < 4:
                        break
                    size = 4 + int.from_bytes(buffer[2:4], "big")
                    if len(buffer) < size:
                        break
                    yield buffer[:size]
                    buffer = buffer[size:]
                elif buffer:
                    end = buffer.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head = buffer[: end + 4]
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    if len(buffer) < end + 4 + length:
                        break
                    yield buffer[: end + 4 + length]
                    buffer = buffer[end + 4 + length :]
                else:
                    break
            data = src.recv(65536)
            if not data:
                return
            buffer += data

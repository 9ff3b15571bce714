"""The receive buffer of an RTSP connection, split in bulk into ``$``-framed packets and RTSP messages.

RTSP over TCP (RFC 2326 10.12) interleaves binary frames (``$``, channel, 16-bit length, data) with RTSP
messages (responses to our keep-alives; rarely a request from the server) on one connection. The buffer is
filled by large ``recv_into`` calls and :meth:`ReceiveBuffer.split` walks every whole frame in it, handing
RTP packets of the wanted channel to a callback as ``(view, start, end)`` without copying. Bytes that are
neither a frame nor a message (a broken server, or a resynchronisation after one) are skipped up to the
next ``$`` and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vigil.media.rtsp.messages import (
    RtspProtocolError,
    content_length,
    head_length,
    is_request_start,
    is_response_start,
    parse_head,
)

PacketSink = Callable[[memoryview, int, int], None]
_DOLLAR = 0x24


@dataclass(frozen=True, slots=True)
class Message:
    """A whole RTSP message found between the frames: its head and body bytes."""

    head: bytes
    body: bytes

    @property
    def is_response(self) -> bool:
        return is_response_start(self.head)


class ReceiveBuffer:
    def __init__(self, size_bytes: int = 512 * 1024) -> None:
        self.buf = bytearray(size_bytes)
        self.view = memoryview(self.buf)
        self.start = 0  # first byte not yet split
        self.end = 0  # end of the bytes received
        self.skipped_bytes = 0
        self.frames: dict[int, int] = {}  # frames seen per channel other than the RTP one

    def space(self, min_free: int = 128 * 1024) -> memoryview:
        """Where the next ``recv_into`` writes; the unsplit tail is moved to the front when room runs short."""
        if len(self.buf) - self.end < min_free and self.start > 0:
            pending = self.end - self.start
            self.buf[:pending] = self.buf[self.start : self.end]
            self.start, self.end = 0, pending
        if self.end >= len(self.buf):
            raise RtspProtocolError("an RTSP message larger than the receive buffer")
        return self.view[self.end :]

    def filled(self, count: int) -> None:
        self.end += count

    def split(self, rtp_channel: int, sink: PacketSink | None, messages: list[Message]) -> None:
        """Hand every whole frame of ``rtp_channel`` to ``sink`` and append whole RTSP messages to ``messages``;
        an incomplete frame or message stays for the next call."""
        buf, view = self.buf, self.view
        at, end = self.start, self.end
        while at < end:
            if buf[at] == _DOLLAR:
                if at + 4 > end:
                    break
                stop = at + 4 + ((buf[at + 2] << 8) | buf[at + 3])
                if stop > end:
                    break
                channel = buf[at + 1]
                if channel == rtp_channel and sink is not None:
                    sink(view, at + 4, stop)
                else:
                    self.frames[channel] = self.frames.get(channel, 0) + 1
                at = stop
                continue
            taken = self._message(at, end, messages)
            if taken is None:
                break
            at += taken
        self.start = at

    def _message(self, at: int, end: int, messages: list[Message]) -> int | None:
        """Bytes taken at ``at``: a whole message, skipped garbage, or None to wait for more bytes."""
        buf = self.buf
        probe = bytes(buf[at : min(end, at + 24)])
        if is_response_start(probe) or is_request_start(probe):
            head = head_length(buf, at, end)
            if head is None:
                return None
            _, headers = parse_head(bytes(buf[at : at + head]))
            total = head + content_length(headers)
            if at + total > end:
                if total > len(buf):
                    raise RtspProtocolError("an RTSP message larger than the receive buffer")
                return None
            messages.append(Message(bytes(buf[at : at + head]), bytes(buf[at + head : at + total])))
            return total
        if len(probe) < 5 and (b"RTSP/".startswith(probe) or probe.isupper()):
            return None  # too short to tell yet
        nxt = buf.find(b"$", at + 1, end)
        skipped = (nxt if nxt >= 0 else end) - at
        self.skipped_bytes += skipped
        return skipped

    def pending(self) -> int:
        return self.end - self.start

"""A small RTP packetizer for tests (RFC 6184 / RFC 7798, the sender's side), independent of the code under test.

It turns access units (lists of NAL units) into RTP packets the way cameras do: one packet per NAL unit that
fits, FU-A / FU fragments for the others, optional STAP-A / AP aggregation of small NAL units, the marker bit on
the last packet of an access unit. ``interleave`` wraps packets in RTSP's ``$`` framing.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import av


@dataclass
class RtpPacketizer:
    payload_type: int = 96
    mtu: int = 1400
    seq: int = 1000
    ssrc: int = 0x1234ABCD
    hevc: bool = False
    aggregate: bool = True  # STAP-A / AP for runs of small NAL units

    def packets(self, units: Sequence[bytes], timestamp: int) -> list[bytes]:
        """The RTP packets of one access unit (``units``: NAL units without start codes or lengths)."""
        payloads: list[bytes] = []
        pending: list[bytes] = []
        for unit in units:
            if self.aggregate and len(unit) + 2 < self.mtu // 4:
                pending.append(unit)
                continue
            payloads += self._aggregated(pending)
            pending = []
            payloads += self._single_or_fragments(unit)
        payloads += self._aggregated(pending)
        out = []
        for k, payload in enumerate(payloads):
            out.append(self.header(timestamp, marker=k == len(payloads) - 1) + payload)
        return out

    def header(self, timestamp: int, marker: bool, padding: int = 0) -> bytes:
        b0 = 0x80 | (0x20 if padding else 0)
        b1 = (0x80 if marker else 0) | self.payload_type
        head = struct.pack(">BBHII", b0, b1, self.seq & 0xFFFF, timestamp & 0xFFFFFFFF, self.ssrc)
        self.seq = (self.seq + 1) & 0xFFFF
        return head

    def _aggregated(self, units: list[bytes]) -> list[bytes]:
        if not units:
            return []
        if len(units) == 1:
            return [units[0]]
        header = bytes([48 << 1, 1]) if self.hevc else bytes([max(u[0] & 96 for u in units) | 24])
        return [header + b"".join(struct.pack(">H", len(u)) + u for u in units)]

    def _single_or_fragments(self, unit: bytes) -> list[bytes]:
        if len(unit) <= self.mtu:
            return [unit]
        head_size = 2 if self.hevc else 1
        header, body = unit[:head_size], unit[head_size:]
        step = self.mtu - head_size - 1
        pieces = [body[i : i + step] for i in range(0, len(body), step)]
        out = []
        for k, piece in enumerate(pieces):
            flags = (0x80 if k == 0 else 0) | (0x40 if k == len(pieces) - 1 else 0)
            if self.hevc:
                kind = (header[0] >> 1) & 0x3F
                out.append(bytes([(header[0] & 0x81) | (49 << 1), header[1], flags | kind]) + piece)
            else:
                out.append(bytes([(header[0] & 0xE0) | 28, flags | (header[0] & 0x1F)]) + piece)
        return out


def interleave(packets: Iterable[bytes], channel: int = 0) -> bytes:
    return b"".join(b"$" + bytes([channel]) + struct.pack(">H", len(p)) + p for p in packets)


def split_lengths(data: bytes) -> list[bytes]:
    """The NAL units of a sample with 4-byte lengths (MP4 form)."""
    units, at = [], 0
    while at + 4 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        units.append(data[at + 4 : at + 4 + size])
        at += 4 + size
    return units


@dataclass(frozen=True)
class ClipUnit:
    pts: int  # 90 kHz
    keyframe: bool
    units: list[bytes]  # NAL units


def clip_units(path, limit: int | None = None) -> Iterator[ClipUnit]:
    """The access units of an MP4 file (H.264 or H.265, length-prefixed) with 90 kHz presentation times."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        for count, packet in enumerate(p for p in container.demux(stream) if p.size):
            if limit is not None and count >= limit:
                return
            yield ClipUnit(round(packet.pts * tb * 90000), bool(packet.is_keyframe), split_lengths(bytes(packet)))


def parameter_sets_of(path) -> list[bytes]:
    """The parameter sets in an MP4 file's avcC / hvcC record."""
    with av.open(str(path)) as container:
        record = bytes(container.streams.video[0].codec_context.extradata)
    if record[0] == 1 and len(record) > 6 and not _is_hvcc(path):
        units: list[bytes] = []
        at = 6
        for count in (record[5] & 0x1F, None):
            if count is None:
                count = record[at]
                at += 1
            for _ in range(count):
                size = int.from_bytes(record[at : at + 2], "big")
                units.append(record[at + 2 : at + 2 + size])
                at += 2 + size
        return units
    units, at = [], 23
    for _ in range(record[22]):
        count = int.from_bytes(record[at + 1 : at + 3], "big")
        at += 3
        for _ in range(count):
            size = int.from_bytes(record[at : at + 2], "big")
            units.append(record[at + 2 : at + 2 + size])
            at += 2 + size
    return units


def _is_hvcc(path) -> bool:
    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.name == "hevc"

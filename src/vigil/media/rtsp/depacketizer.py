"""RTP packets to access units: what H.264 and H.265 depacketizing share (RFC 3550, RFC 6184, RFC 7798).

An access unit (one coded picture) is built from the RTP packets of one timestamp, in MP4's form (each NAL unit
behind a 4-byte length), and ends at the packet with the marker bit or at the first packet of another timestamp.
Timestamps are extended from 32 to 64 bits (wrap-around, also backwards); sequence numbers show losses.

**Losses never reach the file as garbage.** When packets are missing:

- if the packets on both sides of the gap carry the same timestamp, every missing packet belonged to that
  picture: it is dropped, and when other pictures may refer to it (a reference picture) everything up to the
  next keyframe is dropped too;
- otherwise the missing packets may have held whole pictures: the picture being built is dropped and so is
  everything up to the next keyframe (a keyframe that starts cleanly right after the gap ends the wait at once).

An access unit with no picture in it (parameter sets sent alone, with the marker bit or their own timestamp, as
some cameras do) is held and prepended to the next one. Malformed payloads damage the access unit they are in
and are counted; they never raise. Packets of other payload types (or an RTP version other than 2) are skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_HEADER = struct.Struct(">BBHI")
_HALF = 1 << 31
_WRAP = 1 << 32
MAX_LATE_RUN = 64  # this many packets in a row "older" than the last: the sender restarted its numbering


@dataclass(frozen=True, slots=True)
class CodecConfig:
    """What an MP4 sample entry needs; a new one (with new parameter sets) means a new segment."""

    codec: str  # "h264" or "hevc"
    width: int
    height: int
    record: bytes  # the avcC / hvcC payload
    frame_rate: float | None
    reorder_frames: int | None


@dataclass(slots=True)
class AccessUnit:
    """One coded picture: NAL units with 4-byte lengths. Timestamps in the RTP clock (extended to 64 bits);
    ``dts`` is set by the source (equal to ``pts`` unless pictures are reordered)."""

    pts: int
    dts: int
    is_keyframe: bool
    data: bytes | bytearray
    size: int
    config: CodecConfig


@dataclass(slots=True)
class DepacketizerStats:
    packets: int = 0
    lost_packets: int = 0  # from gaps in sequence numbers
    late_packets: int = 0  # older than one already taken (duplicates, reordering): skipped
    other_packets: int = 0  # another payload type, or not RTP version 2
    malformed_packets: int = 0
    damaged_units: int = 0  # pictures dropped because part of them was lost or malformed
    skipped_units: int = 0  # pictures dropped while waiting for a keyframe after a loss
    unconfigured_units: int = 0  # pictures dropped because no usable parameter sets were known yet
    units: int = 0  # pictures handed over

    @property
    def dropped_units(self) -> int:
        return self.damaged_units + self.skipped_units + self.unconfigured_units


class Depacketizer:
    """Shared RTP handling; subclasses read their payload format in :meth:`_payload`."""

    def __init__(self, payload_type: int) -> None:
        self.payload_type = payload_type
        self.stats = DepacketizerStats()
        self.ready: list[AccessUnit] = []  # completed access units; the caller takes them
        self._next_seq = -1
        self._late_run = 0
        self._last_ts = -1  # the 32-bit timestamp of the access unit being built
        self._ext_ts = 0
        self._data = bytearray()
        self._started = False  # a packet of the current access unit has been taken
        self._damaged = False
        self._picture = False  # a picture's slice NAL unit is in the access unit
        self._keyframe = False
        self._reference = False
        self._fu_at = -1  # where the length of the NAL unit being reassembled goes, while inside one
        self._gap_unknown = False  # a loss may have taken whole pictures: wait for a keyframe
        self._waiting = False
        self._check_start = False  # the first packet after a loss: does it start a picture cleanly?
        self._last_config: CodecConfig | None = None

    def push(self, buf: bytes | bytearray | memoryview, start: int, end: int) -> None:
        """Take the RTP packet ``buf[start:end]``; completed access units are appended to :attr:`ready`."""
        if end - start < 12:
            self.stats.malformed_packets += 1
            return
        b0, b1, seq, ts = _HEADER.unpack_from(buf, start)
        if b0 & 0xC0 != 0x80 or b1 & 0x7F != self.payload_type:
            self.stats.other_packets += 1
            return
        self.stats.packets += 1
        lost = False
        if seq != self._next_seq and self._next_seq >= 0:
            gap = (seq - self._next_seq) & 0xFFFF
            if gap >= 0x8000 and self._late_run < MAX_LATE_RUN:
                self._late_run += 1
                self.stats.late_packets += 1
                return
            if gap < 0x8000:
                self.stats.lost_packets += gap
            lost = True  # (after a long run of "late" packets: the sender restarted its numbering)
        self._late_run = 0
        self._next_seq = (seq + 1) & 0xFFFF
        if ts != self._last_ts:
            if self._started:
                if lost:
                    self._damaged = True
                self._finish()
            self._ext_ts = ts if self._last_ts < 0 else self._ext_ts + ((ts - self._last_ts + _HALF) % _WRAP) - _HALF
            self._last_ts = ts
            if lost:
                self._gap_unknown = self._check_start = True
        elif lost:
            if self._started:
                self._damaged = True  # the lost packets were part of this picture
            else:
                self._gap_unknown = self._check_start = True
        offset = start + 12 + 4 * (b0 & 0x0F)
        if b0 & 0x10:  # header extension
            if offset + 4 > end:
                self._malformed()
                return
            offset += 4 + 4 * struct.unpack_from(">H", buf, offset + 2)[0]
        if b0 & 0x20:  # padding
            end -= buf[end - 1]
        if offset < end:
            self._started = True
            self._payload(buf, offset, end)
        elif offset > end:
            self._malformed()
            return
        if b1 & 0x80:
            self._finish()

    def flush(self) -> None:
        """The stream ended: the access unit being built is incomplete and is dropped (counted)."""
        if self._started and self._picture:
            self.stats.damaged_units += 1
        self._reset()

    def config(self) -> CodecConfig | None:
        """The configuration from the parameter sets known so far (the SDP's, before any keyframe)."""
        return self._config()

    # --- for the codecs ------------------------------------------------------------------------------
    def _payload(self, buf: bytes | bytearray | memoryview, offset: int, end: int) -> None:
        raise NotImplementedError

    def _config(self) -> CodecConfig | None:
        """The configuration for a keyframe being finished (rebuilt when parameter sets changed)."""
        raise NotImplementedError

    def _malformed(self) -> None:
        self.stats.malformed_packets += 1
        self._damaged = self._started = True  # the access unit of this timestamp is damaged

    def _clean_start(self, clean: bool) -> None:
        """Called by the codec for the first NAL unit of a packet: after a loss, whether it starts a picture."""
        if self._check_start:
            self._check_start = False
            if not clean:
                self._damaged = True

    def _finish(self) -> None:
        if self._fu_at >= 0:  # a fragmented NAL unit never got its end
            self._damaged = True
        if not self._started:
            return
        if not self._picture and not self._damaged:
            self._started = False  # parameter sets or SEI alone: kept for the next picture
            return
        if self._damaged:
            self.stats.damaged_units += 1
            lost_reference = self._reference or self._keyframe or not self._picture
            self._waiting = self._waiting or lost_reference or self._gap_unknown
            self._gap_unknown = False
            self._reset()
            return
        if self._gap_unknown:
            self._waiting, self._gap_unknown = True, False
        if self._waiting and not self._keyframe:
            self.stats.skipped_units += 1
            self._reset()
            return
        config = self._config() if self._keyframe else self._last_config
        if config is None:
            if self._keyframe:  # no usable parameter sets: nothing can be written until a keyframe has them
                self.stats.unconfigured_units += 1
                self._waiting = True
            self._reset()  # (pictures before the first keyframe: the recorder would not write them either)
            return
        self._waiting = False
        self._last_config = config
        data = self._data
        self.ready.append(AccessUnit(self._ext_ts, self._ext_ts, self._keyframe, data, len(data), config))
        self.stats.units += 1
        self._data = bytearray()
        self._reset()

    def _reset(self) -> None:
        if self._data:
            self._data = bytearray()
        self._started = self._damaged = self._picture = self._keyframe = self._reference = False
        self._fu_at = -1
        self._check_start = False

"""H.265 over RTP (RFC 7798): single NAL unit packets, aggregation packets (AP) and fragmentation units (FU),
with or without decoding order numbers (``sprop-max-don-diff`` > 0). PACI packets are not taken.

Parameter sets come from the SDP (``sprop-vps``, ``sprop-sps``, ``sprop-pps``) and in-band; a keyframe (an IRAP
picture: IDR, CRA, BLA) after a change carries a new :class:`CodecConfig`. One sequence parameter set is kept
(the latest); video and picture parameter sets by id.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence

from vigil.media.rtsp.depacketizer import CodecConfig, Depacketizer
from vigil.media.rtsp.parameter_sets import BitReader, ParameterSetError, hvcc_record, parse_h265_sps, unescape

log = logging.getLogger(__name__)

_LEN = struct.Struct(">I")
_AP, _FU, _PACI = 48, 49, 50
_VPS, _SPS, _PPS = 32, 33, 34
_PREFIX_TYPES = {_VPS, _SPS, _PPS, 35, 39}  # parameter sets, access unit delimiter, prefix SEI


class H265Depacketizer(Depacketizer):
    def __init__(
        self, payload_type: int, sprop: Sequence[bytes] = (), frame_rate: float | None = None, with_don: bool = False
    ) -> None:
        super().__init__(payload_type)
        self._don = 2 if with_don else 0  # bytes of DONL in front of a NAL unit's payload
        self._vps: dict[int, bytes] = {}
        self._sps: bytes | None = None
        self._pps: dict[int, bytes] = {}
        self._changed = True
        self._config_cache: CodecConfig | None = None
        self._sdp_frame_rate = frame_rate
        self.bad_parameter_sets = 0
        for unit in sprop:
            if len(unit) > 2:
                self._parameter_set((unit[0] >> 1) & 0x3F, unit)

    def _payload(self, buf: bytes | bytearray | memoryview, offset: int, end: int) -> None:
        if offset + 2 >= end:
            self._malformed()
            return
        kind = (buf[offset] >> 1) & 0x3F
        if buf[offset] & 0x80:  # forbidden_zero_bit: not H.265
            self._malformed()
            return
        if kind == _FU:
            self._fragment(buf, offset, end)
            return
        if self._fu_at >= 0:
            self._damaged = True
            self._fu_at = -1
        if kind == _AP:
            self._aggregate(buf, offset + 2 + self._don, end)
        elif kind == _PACI or kind > _PACI:
            self._malformed()
        else:
            body = offset + 2 + self._don
            if body >= end:
                self._malformed()
                return
            self._clean_start(self._opens(kind, buf, body, end))
            self._unit(buf, offset, body, end)

    def _unit(self, buf: bytes | bytearray | memoryview, header: int, body: int, end: int) -> None:
        data = self._data
        data += _LEN.pack(end - body + 2)
        data += buf[header : header + 2]
        data += buf[body:end]
        self._nal(buf[header], data, len(data) - (end - body) - 2, len(data))

    def _aggregate(self, buf: bytes | bytearray | memoryview, at: int, end: int) -> None:
        first = True
        while at < end:
            if not first:
                at += self._don // 2  # DOND: one byte
            if at + 2 > end:
                self._malformed()
                return
            size = (buf[at] << 8) | buf[at + 1]
            at += 2
            if size < 3 or at + size > end or buf[at] & 0x80:
                self._malformed()
                return
            if first:
                self._clean_start(self._opens((buf[at] >> 1) & 0x3F, buf, at + 2, at + size))
                first = False
            self._unit(buf, at, at + 2, at + size)
            at += size

    def _fragment(self, buf: bytes | bytearray | memoryview, offset: int, end: int) -> None:
        body = offset + 3
        fu = buf[offset + 2] if body <= end else 0
        if fu & 0x80:
            body += self._don
        if body >= end:
            self._malformed()
            return
        data = self._data
        if fu & 0x80:
            if self._fu_at >= 0:
                self._damaged = True
            kind = fu & 0x3F
            self._clean_start(self._opens(kind, buf, body, end))
            self._fu_at = len(data)
            data += b"\x00\x00\x00\x00"
            data.append((buf[offset] & 0x81) | (kind << 1))
            data.append(buf[offset + 1])
        elif self._fu_at < 0:
            self._clean_start(False)
            self._damaged = True
            return
        data += buf[body:end]
        if fu & 0x40:
            at = self._fu_at
            self._fu_at = -1
            size = len(data) - at - 4
            data[at : at + 4] = _LEN.pack(size)
            self._nal(data[at + 4], data, at + 4, at + 4 + size)

    @staticmethod
    def _opens(kind: int, buf: bytes | bytearray | memoryview, body: int, end: int) -> bool:
        if kind in _PREFIX_TYPES:
            return True
        return kind < 32 and body < end and bool(buf[body] & 0x80)  # first_slice_segment_in_pic_flag

    def _nal(self, header: int, data: bytes | bytearray | memoryview, start: int, end: int) -> None:
        kind = (header >> 1) & 0x3F
        if kind < 32:
            self._picture = True
            if 16 <= kind <= 23:
                self._keyframe = True
            if kind > 15 or kind & 1:  # not a sub-layer non-reference picture
                self._reference = True
        elif kind in (_VPS, _SPS, _PPS):
            self._parameter_set(kind, bytes(data[start:end]))

    def _parameter_set(self, kind: int, unit: bytes) -> None:
        if len(unit) < 3:
            return
        if kind == _SPS:
            if unit != self._sps:
                self._sps, self._changed = unit, True
            return
        table = self._vps if kind == _VPS else self._pps if kind == _PPS else None
        if table is None:
            return
        try:
            ident = unit[2] >> 4 if kind == _VPS else BitReader(unescape(unit[2:10])).ue()
        except ParameterSetError:
            self.bad_parameter_sets += 1
            return
        if table.get(ident) != unit:
            table[ident] = unit
            self._changed = True

    def _config(self) -> CodecConfig | None:
        if not self._changed:
            return self._config_cache
        self._changed = False
        if not self._vps or self._sps is None or not self._pps:
            return self._config_cache
        try:
            info, general = parse_h265_sps(self._sps)
        except ParameterSetError as exc:
            self.bad_parameter_sets += 1
            log.warning("an unreadable H.265 sequence parameter set (%s); keeping the previous one", exc)
            return self._config_cache
        vps = [self._vps[k] for k in sorted(self._vps)]
        pps = [self._pps[k] for k in sorted(self._pps)]
        record = hvcc_record(vps, [self._sps], pps, info, general)
        if self._config_cache is None or self._config_cache.record != record:
            rate = info.frame_rate or self._sdp_frame_rate
            self._config_cache = CodecConfig("hevc", info.width, info.height, record, rate, info.reorder_frames)
        return self._config_cache

"""H.264 over RTP (RFC 6184), non-interleaved mode: single NAL unit packets, STAP-A and FU-A.

Parameter sets come from the SDP (``sprop-parameter-sets``) and in-band; they are kept by id, and a keyframe
after a change carries a new :class:`CodecConfig` (the recorder then starts a new segment). In-band parameter
sets stay in the access unit as well, so every keyframe can be decoded on its own.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence

from vigil.media.rtsp.depacketizer import CodecConfig, Depacketizer
from vigil.media.rtsp.parameter_sets import BitReader, ParameterSetError, avcc_record, parse_h264_sps, unescape

log = logging.getLogger(__name__)

_LEN = struct.Struct(">I")
_STAP_A, _FU_A = 24, 28
_SPS, _PPS = 7, 8
_PREFIX_TYPES = {6, 7, 8, 9}  # SEI, SPS, PPS, access unit delimiter: they open an access unit


class H264Depacketizer(Depacketizer):
    def __init__(self, payload_type: int, sprop: Sequence[bytes] = (), frame_rate: float | None = None) -> None:
        super().__init__(payload_type)
        self._sps: dict[int, bytes] = {}
        self._pps: dict[int, bytes] = {}
        self._changed = True
        self._config_cache: CodecConfig | None = None
        self._sdp_frame_rate = frame_rate
        self.bad_parameter_sets = 0
        for unit in sprop:
            self._parameter_set(unit[0] & 0x1F, unit)

    # --- payloads ----------------------------------------------------------------------------------------
    def _payload(self, buf: bytes | bytearray | memoryview, offset: int, end: int) -> None:
        header = buf[offset]
        kind = header & 0x1F
        if header & 0x80:  # forbidden_zero_bit: not H.264
            self._malformed()
            return
        if kind == _FU_A:
            self._fragment(buf, header, offset, end)
            return
        if self._fu_at >= 0:  # a new NAL unit while one was still being reassembled: its end was lost
            self._damaged = True
            self._fu_at = -1
        if 1 <= kind <= 23:
            self._clean_start(self._opens(kind, buf, offset + 1, end))
            self._unit(buf, offset, end)
        elif kind == _STAP_A:
            self._aggregate(buf, offset + 1, end)
        else:  # STAP-B, MTAP, FU-B (interleaved mode) or reserved: not taken
            self._malformed()

    def _unit(self, buf: bytes | bytearray | memoryview, start: int, end: int) -> None:
        data = self._data
        data += _LEN.pack(end - start)
        data += buf[start:end]
        self._nal(buf[start], buf, start, end)

    def _aggregate(self, buf: bytes | bytearray | memoryview, at: int, end: int) -> None:
        first = True
        while at < end:
            if at + 2 > end:
                self._malformed()
                return
            size = (buf[at] << 8) | buf[at + 1]
            at += 2
            if size == 0 or at + size > end or buf[at] & 0x80:
                self._malformed()
                return
            if first:
                self._clean_start(self._opens(buf[at] & 0x1F, buf, at + 1, at + size))
                first = False
            self._unit(buf, at, at + size)
            at += size

    def _fragment(self, buf: bytes | bytearray | memoryview, indicator: int, offset: int, end: int) -> None:
        if offset + 2 >= end:
            self._malformed()
            return
        fu = buf[offset + 1]
        data = self._data
        if fu & 0x80:  # start
            if self._fu_at >= 0:
                self._damaged = True
            self._clean_start(self._opens(fu & 0x1F, buf, offset + 2, end))
            self._fu_at = len(data)
            data += b"\x00\x00\x00\x00"
            data.append((indicator & 0xE0) | (fu & 0x1F))
        elif self._fu_at < 0:  # a middle or end without its start: the start was lost
            self._clean_start(False)
            self._damaged = True
            return
        data += buf[offset + 2 : end]
        if fu & 0x40:  # end
            at = self._fu_at
            self._fu_at = -1
            size = len(data) - at - 4
            data[at : at + 4] = _LEN.pack(size)
            self._nal(data[at + 4], data, at + 4, at + 4 + size)

    @staticmethod
    def _opens(kind: int, buf: bytes | bytearray | memoryview, body: int, end: int) -> bool:
        """Whether a NAL unit of ``kind`` whose body starts at ``body`` can open an access unit: a prefix NAL unit,
        or a slice whose first_mb_in_slice is 0 (its first bit, ue(v) = 0, is 1)."""
        if kind in _PREFIX_TYPES:
            return True
        return kind in (1, 5) and body < end and bool(buf[body] & 0x80)

    def _nal(self, header: int, buf: bytes | bytearray | memoryview, start: int, end: int) -> None:
        kind = header & 0x1F
        if 1 <= kind <= 5:
            self._picture = True
            if kind == 5:
                self._keyframe = True
            if header & 0x60:
                self._reference = True
        elif kind in (_SPS, _PPS):
            self._parameter_set(kind, bytes(buf[start:end]))

    # --- parameter sets -------------------------------------------------------------------------------
    def _parameter_set(self, kind: int, unit: bytes) -> None:
        table = self._sps if kind == _SPS else self._pps if kind == _PPS else None
        if table is None or len(unit) < 2:
            return
        try:
            reader = BitReader(unescape(unit[4:12] if kind == _SPS else unit[1:9]))
            ident = reader.ue()
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
        if not self._sps or not self._pps:
            return self._config_cache
        sps_list = [self._sps[k] for k in sorted(self._sps)]
        pps_list = [self._pps[k] for k in sorted(self._pps)]
        try:
            info = parse_h264_sps(sps_list[0])
        except ParameterSetError as exc:
            self.bad_parameter_sets += 1
            log.warning("an unreadable H.264 sequence parameter set (%s); keeping the previous one", exc)
            return self._config_cache
        rate = info.frame_rate or self._sdp_frame_rate
        record = avcc_record(sps_list, pps_list, info)
        if self._config_cache is None or self._config_cache.record != record:
            self._config_cache = CodecConfig("h264", info.width, info.height, record, rate, info.reorder_frames)
        return self._config_cache

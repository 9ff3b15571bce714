"""Sequence parameter sets read far enough for a recorder: picture size, frame rate, reorder depth, and the
``avcC`` / ``hvcC`` decoder configuration records an MP4 sample entry carries (ISO/IEC 14496-15).

H.264 (ITU-T H.264 7.3.2.1.1 and annex E) and H.265 (ITU-T H.265 7.3.2.2). A truncated or nonsensical SPS
raises :class:`ParameterSetError`; the caller keeps the previous configuration.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


class ParameterSetError(ValueError):
    pass


def unescape(data: bytes) -> bytes:
    """RBSP from a NAL unit's payload: emulation prevention bytes (``00 00 03``) removed."""
    if b"\x00\x00\x03" not in data:
        return data
    out = bytearray()
    zeros = 0
    for byte in data:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class BitReader:
    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._size = len(data) * 8
        self._pos = 0

    def u(self, bits: int) -> int:
        if bits == 0:
            return 0
        if self._pos + bits > self._size:
            raise ParameterSetError("the parameter set is truncated")
        self._pos += bits
        return (self._value >> (self._size - self._pos)) & ((1 << bits) - 1)

    def flag(self) -> bool:
        return self.u(1) == 1

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ParameterSetError("an Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


@dataclass(frozen=True, slots=True)
class SequenceInfo:
    width: int
    height: int
    frame_rate: float | None  # from the VUI timing information, when present
    reorder_frames: int | None  # max_num_reorder_frames (H.264) / sps_max_num_reorder_pics (H.265)
    chroma_format: int
    bit_depth_luma: int
    bit_depth_chroma: int


# --- H.264 --------------------------------------------------------------------------------------------
def parse_h264_sps(nal: bytes) -> SequenceInfo:
    if len(nal) < 4 or nal[0] & 0x1F != 7:
        raise ParameterSetError("not an H.264 sequence parameter set")
    r = BitReader(unescape(nal[1:]))
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    chroma, depth_luma, depth_chroma, separate = 1, 8, 8, False
    if profile in _HIGH_PROFILES:
        chroma = r.ue()
        if chroma == 3:
            separate = r.flag()
        depth_luma, depth_chroma = r.ue() + 8, r.ue() + 8
        r.u(1)  # qpprime_y_zero_transform_bypass_flag
        if r.flag():  # seq_scaling_matrix_present_flag
            for k in range(12 if chroma == 3 else 8):
                if r.flag():
                    _skip_scaling_list(r, 16 if k < 6 else 64)
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.u(1)
        r.se()
        r.se()
        for _ in range(r.ue()):
            r.se()
    r.ue()  # max_num_ref_frames
    r.u(1)
    width_mbs, height_units = r.ue() + 1, r.ue() + 1
    frame_mbs_only = r.flag()
    if not frame_mbs_only:
        r.u(1)
    r.u(1)  # direct_8x8_inference_flag
    crop = (r.ue(), r.ue(), r.ue(), r.ue()) if r.flag() else (0, 0, 0, 0)
    mono = chroma == 0 or separate
    unit_x = 1 if mono or chroma == 3 else 2
    unit_y = (1 if mono or chroma != 1 else 2) * (2 - frame_mbs_only)
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_units * 16 - unit_y * (crop[2] + crop[3])
    if width <= 0 or height <= 0 or width > 16384 or height > 16384:
        raise ParameterSetError(f"an impossible picture size {width}x{height}")
    rate, reorder = _h264_vui(r) if r.flag() else (None, None)
    return SequenceInfo(width, height, rate, reorder, chroma, depth_luma, depth_chroma)


def _skip_scaling_list(r: BitReader, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + r.se() + 256) % 256
        last = following or last


def _h264_vui(r: BitReader) -> tuple[float | None, int | None]:
    try:
        if r.flag() and r.u(8) == 255:  # aspect_ratio_info_present_flag, aspect_ratio_idc (extended SAR)
            r.u(32)
        if r.flag():  # overscan_info_present_flag
            r.u(1)
        if r.flag():  # video_signal_type_present_flag
            r.u(4)
            if r.flag():
                r.u(24)
        if r.flag():  # chroma_loc_info_present_flag
            r.ue()
            r.ue()
        rate = None
        if r.flag():  # timing_info_present_flag
            units, scale = r.u(32), r.u(32)
            r.u(1)
            if units and scale:
                rate = scale / (2 * units)
        nal_hrd = r.flag() and _skip_hrd(r)
        vcl_hrd = r.flag() and _skip_hrd(r)
        if nal_hrd or vcl_hrd:
            r.u(1)
        r.u(1)  # pic_struct_present_flag
        reorder = None
        if r.flag():  # bitstream_restriction_flag
            r.u(1)
            for _ in range(4):
                r.ue()
            reorder = r.ue()
        return rate, reorder
    except ParameterSetError:
        return None, None  # a truncated VUI: the picture size is still good


def _skip_hrd(r: BitReader) -> bool:
    count = r.ue() + 1
    r.u(8)
    for _ in range(count):
        r.ue()
        r.ue()
        r.u(1)
    r.u(20)
    return True


def avcc_record(sps_list: list[bytes], pps_list: list[bytes], info: SequenceInfo) -> bytes:
    """An ``avcC`` box payload (AVCDecoderConfigurationRecord) with 4-byte NAL lengths."""
    sps = sps_list[0]
    out = bytearray([1, sps[1], sps[2], sps[3], 0xFF, 0xE0 | len(sps_list)])
    for unit in sps_list:
        out += struct.pack(">H", len(unit)) + unit
    out.append(len(pps_list))
    for unit in pps_list:
        out += struct.pack(">H", len(unit)) + unit
    if sps[1] in _HIGH_PROFILES:
        out += bytes([0xFC | info.chroma_format, 0xF8 | (info.bit_depth_luma - 8), 0xF8 | (info.bit_depth_chroma - 8)])
        out.append(0)  # no SPS extensions
    return bytes(out)


# --- H.265 --------------------------------------------------------------------------------------------
def parse_h265_sps(nal: bytes) -> tuple[SequenceInfo, bytes]:
    """(the SPS's facts, its 12 bytes of general profile_tier_level) from an H.265 SPS NAL unit."""
    if len(nal) < 15 or (nal[0] >> 1) & 0x3F != 33:
        raise ParameterSetError("not an H.265 sequence parameter set")
    rbsp = unescape(nal[2:])
    r = BitReader(rbsp)
    r.u(4)  # sps_video_parameter_set_id
    sub_layers = r.u(3)
    r.u(1)
    general = rbsp[1:13]
    r.u(96)
    _skip_sub_layers(r, sub_layers)
    r.ue()  # sps_seq_parameter_set_id
    chroma = r.ue()
    if chroma == 3:
        r.u(1)
    width, height = r.ue(), r.ue()
    if r.flag():  # conformance_window_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        unit_x, unit_y = (2 if chroma in (1, 2) else 1), (2 if chroma == 1 else 1)
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    if width <= 0 or height <= 0 or width > 16384 or height > 16384:
        raise ParameterSetError(f"an impossible picture size {width}x{height}")
    depth_luma, depth_chroma = r.ue() + 8, r.ue() + 8
    reorder = None
    try:
        r.ue()  # log2_max_pic_order_cnt_lsb_minus4
        first = 0 if r.flag() else sub_layers
        for _ in range(first, sub_layers + 1):
            r.ue()
            reorder = r.ue()
            r.ue()
    except ParameterSetError:
        pass
    info = SequenceInfo(width, height, None, reorder, chroma, depth_luma, depth_chroma)
    return info, general


def _skip_sub_layers(r: BitReader, sub_layers: int) -> None:
    present = [(r.flag(), r.flag()) for _ in range(sub_layers)]
    if sub_layers:
        r.u(2 * (8 - sub_layers))
    for profile, level in present:
        r.u(88 if profile else 0)
        r.u(8 if level else 0)


def hvcc_record(vps: list[bytes], sps: list[bytes], pps: list[bytes], info: SequenceInfo, general: bytes) -> bytes:
    """An ``hvcC`` box payload (HEVCDecoderConfigurationRecord) with 4-byte NAL lengths."""
    out = bytearray([1])
    out += general  # profile space, tier, profile, compatibility flags, constraint flags, level
    depths = (0xF8 | (info.bit_depth_luma - 8), 0xF8 | (info.bit_depth_chroma - 8))
    # no spatial segmentation or parallelism announced; frame rate and temporal layers unknown; 4-byte lengths
    out += struct.pack(">HBBBBHB", 0xF000, 0xFC, 0xFC | info.chroma_format, *depths, 0, 0x03)
    arrays = [(32, vps), (33, sps), (34, pps)]
    out.append(sum(1 for _, units in arrays if units))
    for kind, units in arrays:
        if not units:
            continue
        out.append(0x80 | kind)
        out += struct.pack(">H", len(units))
        for unit in units:
            out += struct.pack(">H", len(unit)) + unit
    return bytes(out)

"""ISO-BMFF boxes for fragmented MP4 segments written without FFmpeg (ISO/IEC 14496-12 and -15).

An init segment (``ftyp`` + ``moov`` with an ``avc1``/``hvc1`` sample entry, empty sample tables and ``mvex``)
and media fragments (``moof`` + ``mdat``): what FFmpeg writes with
``movflags=frag_keyframe+empty_moov+default_base_moof``, so the rest of Vigil (PyAV remux for clips, salvage,
``vigil check``, live view) reads these files the same way. Pure functions of their inputs.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
SYNC_SAMPLE_FLAGS = 0x0200_0000  # sample_depends_on = 2 (an I picture)
NON_SYNC_SAMPLE_FLAGS = 0x0101_0000  # sample_depends_on = 1, sample_is_non_sync_sample
_TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400  # data offset, durations, sizes, flags
_TRUN_CTS = 0x000800  # composition time offsets
_TFHD_DEFAULT_BASE_IS_MOOF = 0x020000
TRACK_ID = 1


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *parts)


@dataclass(frozen=True, slots=True)
class TrackFormat:
    codec: str  # "h264" or "hevc"
    width: int
    height: int
    record: bytes  # avcC / hvcC payload
    timescale: int  # ticks a second (the RTP clock rate: 90000)


def init_segment(track: TrackFormat) -> bytes:
    """``ftyp`` + ``moov`` for one video track with no samples (they all come in fragments)."""
    brand = b"avc1" if track.codec == "h264" else b"hvc1"
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5", b"iso6", b"mp41", brand)
    mvhd = full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIIIIH10x", 0, 0, 1000, 0, 0x10000, 0x0100),
        _MATRIX,
        bytes(24),
        struct.pack(">I", TRACK_ID + 1),
    )
    tkhd = full_box(
        b"tkhd",
        0,
        0x000003,
        struct.pack(">IIIII8xHHH2x", 0, 0, TRACK_ID, 0, 0, 0, 0, 0),
        _MATRIX,
        struct.pack(">II", track.width << 16, track.height << 16),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, track.timescale, 0, 0x55C4, 0))  # und
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s12x", 0, b"vide"), b"VideoHandler\x00")
    dref = full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), _sample_entry(track)),
        full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    minf = box(b"minf", full_box(b"vmhd", 0, 1, bytes(8)), box(b"dinf", dref), stbl)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">5I", TRACK_ID, 1, 0, 0, 0)))
    return ftyp + box(b"moov", mvhd, trak, mvex)


def _sample_entry(track: TrackFormat) -> bytes:
    kind, config = (b"avc1", b"avcC") if track.codec == "h264" else (b"hvc1", b"hvcC")
    fields = struct.pack(">6xH16xHHIIIH32sHh", 1, track.width, track.height, 0x480000, 0x480000, 0, 1, b"", 0x18, -1)
    return box(kind, fields, box(config, track.record))


@dataclass(frozen=True, slots=True)
class Sample:
    duration: int  # ticks
    size: int
    keyframe: bool
    composition_offset: int  # pts - dts, ticks


def fragment_header(sequence: int, decode_time: int, samples: Sequence[Sample]) -> bytes:
    """The ``moof`` box and the ``mdat`` header for ``samples`` (whose data follows, in order)."""
    with_cts = any(s.composition_offset for s in samples)
    per_sample = "IIIi" if with_cts else "III"
    values: list[int] = []
    for s in samples:
        values += (s.duration, s.size, SYNC_SAMPLE_FLAGS if s.keyframe else NON_SYNC_SAMPLE_FLAGS)
        if with_cts:
            values.append(s.composition_offset)
    table = struct.pack(">" + per_sample * len(samples), *values)
    trun_flags = _TRUN_FLAGS | (_TRUN_CTS if with_cts else 0)
    # moof = 8 + mfhd 16 + traf (8 + tfhd 16 + tfdt 20 + trun (20 + table))
    moof_size = 8 + 16 + 8 + 16 + 20 + 20 + len(table)
    trun = full_box(b"trun", 1, trun_flags, struct.pack(">Ii", len(samples), moof_size + 8), table)
    traf = box(
        b"traf",
        full_box(b"tfhd", 0, _TFHD_DEFAULT_BASE_IS_MOOF, struct.pack(">I", TRACK_ID)),
        full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time)),
        trun,
    )
    moof = box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), traf)
    assert len(moof) == moof_size
    data_size = sum(s.size for s in samples)
    return moof + struct.pack(">I4s", 8 + data_size, b"mdat")

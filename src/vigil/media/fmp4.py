"""Fragmented MP4 for live view: packets copied (never decoded) into an init segment and per-frame fragments.

The output is what Media Source Extensions take: an init segment (``ftyp`` + ``moov``) once per stream,
then media fragments (``moof`` + ``mdat``), one per frame. FFmpeg's MP4 muxer closes a fragment when the
next packet arrives (it needs that packet's DTS for the duration of the last sample), so a fragment is
ready one frame interval after its packet was read (``bench/live_latency.py`` measured the options).

The MSE codec string (``avc1.PPCCLL``, ``hvc1...``) comes from the stream's extradata, whether it is in
ISO-BMFF form (``avcC`` / ``hvcC``) or Annex B parameter sets (what RTSP's SDP gives).
"""

from __future__ import annotations

import io
import struct
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import av

from vigil.domain.errors import SourceError
from vigil.domain.segment import GapCause

# One fragment per frame; the init segment has an empty moov; offsets relative to each moof (what MSE wants);
# every fragment handed over as soon as the muxer has it.
LIVE_OPTIONS = {"movflags": "frag_every_frame+empty_moov+default_base_moof", "flush_packets": "1"}
_SAMPLE_IS_NON_SYNC = 0x0001_0000
_H264_PARAMETER_SETS = {7, 8}  # SPS, PPS
_HEVC_PARAMETER_SETS = {32, 33, 34}  # VPS, SPS, PPS


class UnsupportedCodec(SourceError):
    """The stream's codec cannot be played by Media Source Extensions as it is (only H.264 and H.265 can)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, GapCause.STREAM_ERROR)


# --- codec strings (RFC 6381, ISO/IEC 14496-15 annex E) ---------------------------------------------------
def mse_mime(codec_name: str, extradata: bytes) -> str:
    """The MIME type for ``MediaSource.addSourceBuffer``, e.g. ``video/mp4; codecs="avc1.64001f"``."""
    return f'video/mp4; codecs="{codec_string(codec_name, extradata)}"'


def codec_string(codec_name: str, extradata: bytes) -> str:
    """``avc1.PPCCLL`` for H.264, ``hvc1.<profile>.<compat>.<tier><level>.<constraints>`` for H.265."""
    if codec_name == "h264":
        return _avc1(extradata)
    if codec_name == "hevc":
        return _hvc1(extradata)
    raise UnsupportedCodec(f"live view plays H.264 or H.265 streams; this stream is {codec_name or 'unknown'}")


def _avc1(extradata: bytes) -> str:
    if len(extradata) >= 4 and extradata[0] == 1:  # avcC: version, profile, compatibility, level
        profile = extradata[1:4]
    else:
        sps = next((n for n in nal_units(extradata) if n and n[0] & 0x1F == 7), None)
        if sps is None or len(sps) < 4:
            raise UnsupportedCodec("the H.264 stream announces no sequence parameter set")
        profile = unescape_rbsp(sps[1:8])[:3]
    return "avc1." + profile.hex()


def _hvc1(extradata: bytes) -> str:
    if len(extradata) >= 23 and extradata[0] == 1:  # hvcC: the profile_tier_level bytes follow the version
        ptl = extradata[1:13]
    else:
        sps = next((n for n in nal_units(extradata) if len(n) > 1 and (n[0] >> 1) & 0x3F == 33), None)
        if sps is None:
            raise UnsupportedCodec("the H.265 stream announces no sequence parameter set")
        ptl = unescape_rbsp(sps[2:20])[1:13]  # after the NAL header and one byte of ids
        if len(ptl) < 12:
            raise UnsupportedCodec("the H.265 sequence parameter set is truncated")
    space = ("", "A", "B", "C")[ptl[0] >> 6]
    tier = "H" if ptl[0] & 0x20 else "L"
    compat = int(f"{int.from_bytes(ptl[1:5], 'big'):032b}"[::-1], 2)  # written bit-reversed
    constraints = ptl[5:11].rstrip(b"\x00")
    tail = "".join(f".{byte:X}" for byte in constraints)
    return f"hvc1.{space}{ptl[0] & 0x1F}.{compat:X}.{tier}{ptl[11]}{tail}"


def nal_units(data: bytes) -> Iterator[bytes]:
    """The NAL units of an Annex B byte stream (start codes ``00 00 01`` / ``00 00 00 01``)."""
    start = data.find(b"\x00\x00\x01")
    while start >= 0:
        begin = start + 3
        nxt = data.find(b"\x00\x00\x01", begin)
        end = len(data) if nxt < 0 else nxt
        yield data[begin:end].rstrip(b"\x00") if nxt >= 0 else data[begin:end]
        start = nxt


def unescape_rbsp(data: bytes) -> bytes:
    """Remove emulation prevention bytes (``00 00 03`` -> ``00 00``)."""
    return data.replace(b"\x00\x00\x03", b"\x00\x00")


def parameter_sets(codec_name: str, keyframe: bytes) -> bytes:
    """The parameter sets sent in-band with a keyframe, as Annex B extradata (for a camera whose SDP has none)."""
    wanted, shift, mask = (_HEVC_PARAMETER_SETS, 1, 0x3F) if codec_name == "hevc" else (_H264_PARAMETER_SETS, 0, 0x1F)
    return b"".join(b"\x00\x00\x00\x01" + n for n in nal_units(keyframe) if n and (n[0] >> shift) & mask in wanted)


# --- ISO-BMFF boxes -------------------------------------------------------------------------------------
class Box(NamedTuple):
    kind: bytes  # the four-character type
    begin: int  # where the box starts (its size field)
    payload: int  # where its content starts
    end: int


def boxes(data: bytes, offset: int = 0, end: int | None = None) -> Iterator[Box]:
    """Each whole box in ``data[offset:end]``; stops at the first incomplete one."""
    end = len(data) if end is None else end
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if offset + 16 > end:
                return
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            return
        yield Box(kind, offset, offset + header, offset + size)
        offset += size


def timescale(init: bytes) -> int:
    """The first track's timescale (ticks a second) from an init segment's ``moov/trak/mdia/mdhd``."""
    for path_end in _descend(init, (b"moov", b"trak", b"mdia", b"mdhd")):
        version = init[path_end]
        (ticks,) = struct.unpack_from(">I", init, path_end + (20 if version == 1 else 12))
        return int(ticks)
    raise ValueError("no mdhd box in the init segment")


def _descend(data: bytes, path: tuple[bytes, ...], offset: int = 0, end: int | None = None) -> Iterator[int]:
    """The payload offsets of the boxes at ``path`` (one type per level)."""
    for box in boxes(data, offset, end):
        if box.kind == path[0]:
            if len(path) == 1:
                yield box.payload
            else:
                yield from _descend(data, path[1:], box.payload, box.end)


@dataclass(frozen=True, slots=True)
class FragmentInfo:
    keyframe: bool  # the first sample is a sync sample (a fragment a decoder can start from)
    decode_time: int  # tfdt, in the track's timescale
    samples: int


def fragment_info(moof: bytes) -> FragmentInfo:
    """Read a ``moof`` box (whole, with its header): the first sample's sync flag, its decode time, the count."""
    default_flags, decode_time, samples, first_flags = 0, 0, 0, None
    for box in boxes(moof):
        if box.kind != b"moof":
            continue
        for traf in boxes(moof, box.payload, box.end):
            if traf.kind != b"traf":
                continue
            for child in boxes(moof, traf.payload, traf.end):
                at = child.payload
                if child.kind == b"tfhd":
                    default_flags = _tfhd_default_flags(moof, at)
                elif child.kind == b"tfdt":
                    version = moof[at]
                    (decode_time,) = struct.unpack_from(">Q" if version == 1 else ">I", moof, at + 4)
                elif child.kind == b"trun":
                    samples, first_flags = _trun_first_flags(moof, at)
            break
    flags = default_flags if first_flags is None else first_flags
    return FragmentInfo(
        keyframe=samples > 0 and not flags & _SAMPLE_IS_NON_SYNC, decode_time=decode_time, samples=samples
    )


def _tfhd_default_flags(data: bytes, at: int) -> int:
    (flags,) = struct.unpack_from(">I", data, at)
    offset = at + 8  # version+flags, track_ID
    for bit, size in ((0x01, 8), (0x02, 4), (0x08, 4), (0x10, 4)):
        if flags & bit:
            offset += size
    if flags & 0x20:
        (value,) = struct.unpack_from(">I", data, offset)
        return int(value)
    return 0


def _trun_first_flags(data: bytes, at: int) -> tuple[int, int | None]:
    flags, count = struct.unpack_from(">II", data, at)
    offset = at + 8 + (4 if flags & 0x01 else 0)
    if flags & 0x04:
        (first,) = struct.unpack_from(">I", data, offset)
        return int(count), int(first)
    if flags & 0x400 and count:
        offset += (4 if flags & 0x100 else 0) + (4 if flags & 0x200 else 0)
        (first,) = struct.unpack_from(">I", data, offset)
        return int(count), int(first)
    return int(count), None


class BoxSink(io.RawIOBase):
    """The muxer's output file: keeps bytes until they form whole top-level boxes."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._buffer += view
        return view.nbytes

    def take(self) -> list[tuple[bytes, bytes]]:
        """(type, whole box) of every complete box written so far."""
        if len(self._buffer) < 8:
            return []
        data = bytes(self._buffer)
        found = [(box.kind, data[box.begin : box.end]) for box in boxes(data)]
        if found:
            del self._buffer[: sum(len(whole) for _, whole in found)]
        return found


# --- the remuxer ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fragment:
    """One media fragment (``moof`` + ``mdat``) ready to append to a SourceBuffer."""

    data: bytes
    keyframe: bool
    decode_time: int  # in the track's timescale
    samples: int
    read_at: float  # time.monotonic() when its first packet was read
    ready_at: float  # time.monotonic() when the muxer produced it


class FragmentCutter:
    """Reads what an MP4 muxer wrote into a :class:`BoxSink` as fragments (a ``moof`` and its ``mdat``), each with
    the time its first sample's packet was read (``note`` is called once per sample handed to the muxer)."""

    def __init__(self, sink: BoxSink) -> None:
        self.sink = sink
        self._read_at: deque[float] = deque()
        self._moof: bytes | None = None

    def note(self, read_at: float | None) -> None:
        self._read_at.append(time.monotonic() if read_at is None else read_at)

    def fragments(self) -> list[Fragment]:
        done: list[Fragment] = []
        for kind, box in self.sink.take():
            if kind == b"moof":
                self._moof = box
            elif kind == b"mdat" and self._moof is not None:
                info = fragment_info(self._moof)
                read_at = self._read_at[0] if self._read_at else 0.0
                for _ in range(min(info.samples, len(self._read_at))):
                    self._read_at.popleft()
                data = self._moof + box
                self._moof = None
                done.append(Fragment(data, info.keyframe, info.decode_time, info.samples, read_at, time.monotonic()))
        return done


class Fmp4Remuxer:
    """Copies one video stream's packets into fragmented MP4 in memory.

    ``init`` (``ftyp`` + ``moov``) is ready after construction; :meth:`push` returns the fragments completed
    by a packet (with ``frag_every_frame``, the previous packet's fragment), :meth:`close` the last one. The
    first packet pushed must be a keyframe. A stream whose extradata is empty (an SDP without parameter sets)
    takes them from ``first_keyframe``. ``options`` are the MP4 muxer's (``bench/live_latency.py`` tries others).
    """

    def __init__(
        self, template: Any, first_keyframe: Any | None = None, options: Mapping[str, str] = LIVE_OPTIONS
    ) -> None:
        codec = template.codec_context
        self.codec_name = str(codec.name)
        extradata = bytes(codec.extradata or b"")
        if not extradata and first_keyframe is not None:
            extradata = parameter_sets(self.codec_name, bytes(first_keyframe))
        self.mime = mse_mime(self.codec_name, extradata)
        self.width = int(codec.width or 0)
        self.height = int(codec.height or 0)
        self._sink = BoxSink()
        self._out = av.open(self._sink, "w", format="mp4", options=dict(options))
        self._stream = self._out.add_stream_from_template(template)
        if extradata and not codec.extradata:
            self._stream.codec_context.extradata = extradata
        if self.codec_name == "hevc":
            self._stream.codec_tag = "hvc1"  # parameter sets in the sample entry: what browsers expect
        self._out.start_encoding()
        self.init = b"".join(box for _, box in self._sink.take())
        self._cutter = FragmentCutter(self._sink)
        self._closed = False

    def push(self, packet: Any, read_at: float | None = None) -> list[Fragment]:
        """Mux one packet (timestamps already repaired: DTS strictly increasing)."""
        self._cutter.note(read_at)
        packet.stream = self._stream
        self._out.mux(packet)
        return self._cutter.fragments()

    def close(self) -> list[Fragment]:
        """Finish: the fragment of the last packet pushed. Safe to call twice."""
        if self._closed:
            return []
        self._closed = True
        self._out.close()
        return self._cutter.fragments()

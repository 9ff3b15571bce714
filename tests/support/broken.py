"""Clips with broken timestamps, made from a good clip (for the recorder's repair tests)."""

from __future__ import annotations

from pathlib import Path

import av


def _ts_copy(src: Path, out: Path, offset_s: float = 0.0) -> None:
    with av.open(str(src)) as inp, av.open(str(out), "w", format="mpegts") as dst:
        s = inp.streams.video[0]
        o = dst.add_stream_from_template(s)
        shift = int(offset_s / s.time_base)
        for p in inp.demux(s):
            if p.dts is None:
                continue
            p.dts += shift
            p.pts += shift
            p.stream = o
            dst.mux(p)


def broken_timestamps_ts(src: Path, folder: Path) -> Path:
    """One MPEG-TS file: the clip, then the clip again from 0 (DTS jumps back), then the clip one hour later
    (DTS jumps forward). (Duplicate DTS cannot be written by FFmpeg's muxers; unit tests cover them.)"""
    pieces = []
    for k, offset in enumerate((0.0, 0.0, 3600.0)):
        piece = folder / f"piece{k}.ts"
        _ts_copy(src, piece, offset)
        pieces.append(piece)
    out = folder / "broken-timestamps.ts"
    out.write_bytes(b"".join(p.read_bytes() for p in pieces))
    return out


def raw_h264(src: Path, folder: Path) -> Path:
    """The clip as a raw Annex B stream: no container, no timestamps at all."""
    out = folder / "raw.h264"
    with av.open(str(src)) as inp, av.open(str(out), "w", format="h264") as dst:
        s = inp.streams.video[0]
        o = dst.add_stream_from_template(s)
        for p in inp.demux(s):
            if p.dts is None:
                continue
            p.stream = o
            dst.mux(p)
    return out

"""Recorded footage re-encoded with every picture treated (privacy masks filled in, faces blurred): clips and
playback streams for the people who may not see it as recorded, and the clips of redacted evidence packages.

The packets are chosen exactly as :mod:`vigil.media.clip` chooses them (from the keyframe at or before the start,
a gap between segments kept as a jump in time), decoded with one decoder, passed through ``treat`` and encoded
with libx264 (:mod:`vigil.media.encoder`). Nothing here decides who sees what: the caller passes the treatment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from vigil.domain.errors import NoFootage, StorageError
from vigil.media.clip import ClipPart, ClipResult, Timed, overlapping_parts, packet_timeline, select_range
from vigil.media.encoder import PLAYBACK_OPTIONS, TIME_BASE, FileEncoder, Fmp4Encoder, H264Settings
from vigil.media.recorded_stream import PlaybackStream

log = logging.getLogger(__name__)

_US = 1_000_000
FrameTreatment = Callable[[Any], Any]  # a decoded picture (av.VideoFrame) -> the picture to encode
CLIP_H264 = H264Settings(preset="veryfast", crf=21, gop_s=2.0)
PLAYBACK_H264 = H264Settings(preset="veryfast", crf=23, gop_s=1.0)


def _fps(stream: Any) -> float:
    rate = stream.average_rate or stream.guessed_rate or 25
    fps = float(rate)
    return fps if 0 < fps <= 120 else 25.0


def decoded_pictures(selected: Iterator[tuple[Timed, Any]]) -> Iterator[tuple[Any, Fraction, Any]]:
    """(picture, its time in seconds on the clip's timeline, the source stream) for every packet selected, decoded
    in order by one decoder (the parts share codec and size: :func:`packet_timeline` stops where they do not)."""
    decoder: Any = None
    stream: Any = None
    for item, source in selected:
        if decoder is None:
            stream = source
            decoder = av.CodecContext.create(source.codec_context.name, "r")
            decoder.extradata = source.codec_context.extradata
            decoder.thread_type = "AUTO"
        packet = item.packet
        packet.pts = round(item.pts_s / TIME_BASE)
        packet.dts = round(item.dts_s / TIME_BASE)
        packet.time_base = TIME_BASE
        try:
            frames = decoder.decode(packet)
        except av.error.InvalidDataError:
            log.debug("skipping an undecodable packet")
            continue
        for frame in frames:
            yield frame, Fraction(frame.pts or 0) * TIME_BASE, stream
    if decoder is not None:
        for frame in decoder.decode(None):
            yield frame, Fraction(frame.pts or 0) * TIME_BASE, stream


def _selected(parts: Sequence[ClipPart], start_us: int, end_us: int) -> tuple[int, Any]:
    overlapping = overlapping_parts(parts, start_us, end_us)
    base_us = overlapping[0].start_us
    start_s, end_s = Fraction(start_us - base_us, _US), Fraction(end_us - base_us, _US)
    return base_us, select_range(packet_timeline(overlapping), start_s, end_s)


def reencode_clip(
    parts: Sequence[ClipPart],
    start_us: int,
    end_us: int,
    out_path: Path,
    treat: FrameTreatment,
    settings: H264Settings = CLIP_H264,
) -> ClipResult:
    """Like :func:`vigil.media.clip.write_clip`, but every picture passes through ``treat`` and is encoded again."""
    base_us, selected = _selected(parts, start_us, end_us)
    writer: FileEncoder | None = None
    first_s = last_s = Fraction(0)
    frame_s = Fraction(1, 25)
    try:
        with closing(selected):
            for frame, at_s, stream in decoded_pictures(selected):
                if writer is None:
                    fps = _fps(stream)
                    frame_s = 1 / Fraction(fps).limit_denominator(1001)
                    writer = FileEncoder(out_path, frame.width, frame.height, fps, settings)
                    first_s = at_s
                writer.encode(treat(frame), round((at_s - first_s) / TIME_BASE))
                last_s = max(last_s, at_s)
        if writer is None:
            raise NoFootage(f"no readable frames for {out_path}")
        frames, size = writer.frame_count, writer.commit()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    log.debug("re-encoded clip %s: %s frames", out_path, frames)
    return ClipResult(
        path=out_path,
        start_us=base_us + round(first_s * _US),
        end_us=base_us + round((last_s + frame_s) * _US),
        frame_count=frames,
        size_bytes=size,
        parts_used=0,
        gaps=[],
    )


def open_reencoded_playback(
    parts: Sequence[ClipPart],
    start_us: int,
    end_us: int,
    treat: FrameTreatment,
    settings: H264Settings = PLAYBACK_H264,
) -> PlaybackStream:
    """Like :func:`vigil.media.recorded_stream.open_playback`, every picture treated and encoded again. Decodes up
    to the first picture now, so a range without footage raises NoFootage before any byte is sent."""
    base_us, selected = _selected(parts, start_us, end_us)
    pictures = decoded_pictures(selected)
    try:
        frame, first_s, stream = next(pictures)
        encoder = Fmp4Encoder(frame.width, frame.height, _fps(stream), settings=settings, options=PLAYBACK_OPTIONS)
    except StopIteration:
        selected.close()
        raise NoFootage("no readable frames in the range") from None
    except BaseException:
        selected.close()
        raise

    def chunks() -> Iterator[bytes]:
        try:
            yield encoder.init
            for picture, at_s, _ in _chain((frame, first_s, stream), pictures):
                for fragment in encoder.encode(treat(picture), round((at_s - first_s) / TIME_BASE)):
                    yield fragment.data
            for fragment in encoder.close():
                yield fragment.data
        except (av.FFmpegError, OSError) as exc:
            raise StorageError(f"re-encoding the playback stream failed: {exc}") from exc
        finally:
            encoder.close()
            selected.close()

    return PlaybackStream(
        mime=encoder.mime,
        start_us=base_us + round(first_s * _US),
        width=encoder.width,
        height=encoder.height,
        chunks=chunks(),
    )


def _chain(first: tuple[Any, Fraction, Any], rest: Iterator[tuple[Any, Fraction, Any]]) -> Iterator[Any]:
    yield first
    yield from rest

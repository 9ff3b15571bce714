"""Recorded video streamed for playback: the segments of a range as one fragmented MP4 made while it is sent
(packets copied, never decoded), so a browser shows the first frame of any moment after reading one fragment
instead of waiting for a whole clip to be written (ADR 0011).

The stream starts at the keyframe at or before the moment asked for. Its media time 0 is that keyframe, at wall
time :attr:`PlaybackStream.start_us`; a gap between segments stays a gap in media time (a hole the player
steps over), so media time and wall time never drift apart. Fragments are cut at keyframes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from vigil.domain.errors import NoFootage
from vigil.media.clip import ClipPart, Timed, overlapping_parts, packet_timeline, select_range
from vigil.media.fmp4 import Fmp4Remuxer

log = logging.getLogger(__name__)

_US = 1_000_000
TIME_BASE = Fraction(1, 90_000)
PLAYBACK_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


@dataclass
class PlaybackStream:
    """An opened playback stream: what the player needs before the first byte, then the bytes."""

    mime: str  # for MediaSource.addSourceBuffer
    start_us: int  # the wall time of media time 0 (the first keyframe)
    width: int
    height: int
    chunks: Iterator[bytes]  # the init segment, then one fragment per keyframe interval

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


def open_playback(parts: Sequence[ClipPart], start_us: int, end_us: int) -> PlaybackStream:
    """Open the stream of ``[start_us, end_us)`` over ``parts`` (ordered segments of one stream). Reads up to the
    first keyframe now, so a range without footage raises NoFootage here, not halfway through a response."""
    overlapping = overlapping_parts(parts, start_us, end_us)
    base_us = overlapping[0].start_us
    start_s, end_s = Fraction(start_us - base_us, _US), Fraction(end_us - base_us, _US)
    selected = select_range(packet_timeline(overlapping), start_s, end_s)
    try:
        first = next(selected)
    except StopIteration:
        raise NoFootage("no readable frames in the range") from None
    except BaseException:
        selected.close()
        raise
    item, template = first
    try:
        remuxer = Fmp4Remuxer(template, item.packet, options=PLAYBACK_OPTIONS)
    except BaseException:
        selected.close()
        raise
    origin_s = item.dts_s
    return PlaybackStream(
        mime=remuxer.mime,
        start_us=base_us + round(origin_s * _US),
        width=remuxer.width,
        height=remuxer.height,
        chunks=_chunks(remuxer, first, selected, origin_s),
    )


def _chunks(
    remuxer: Fmp4Remuxer, first: tuple[Timed, Any], rest: Iterator[tuple[Timed, Any]], origin_s: Fraction
) -> Iterator[bytes]:
    last_dts: int | None = None
    try:
        yield remuxer.init
        for item, _stream in _chain(first, rest):
            dts = round((item.dts_s - origin_s) / TIME_BASE)
            if last_dts is not None and dts <= last_dts:
                dts = last_dts + 1  # the muxer refuses a DTS that does not increase
            pts = max(dts, round((item.pts_s - origin_s) / TIME_BASE))
            packet = item.packet
            packet.dts, packet.pts, packet.time_base = dts, pts, TIME_BASE
            packet.duration = max(0, round(item.duration_s / TIME_BASE))
            last_dts = dts
            for fragment in remuxer.push(packet):
                yield fragment.data
        for fragment in remuxer.close():
            yield fragment.data
    finally:
        remuxer.close()
        close = getattr(rest, "close", None)
        if close is not None:
            close()


def _chain(first: tuple[Timed, Any], rest: Iterator[tuple[Timed, Any]]) -> Iterator[tuple[Timed, Any]]:
    yield first
    yield from rest

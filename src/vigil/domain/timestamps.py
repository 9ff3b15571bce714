"""Timestamp repair for packets copied from cameras (pure; works in the stream's time base ticks).

Real streams send packets with no pts, duplicate or backward DTS (at every loop of a looping source,
after a camera clock step) and forward jumps. The MP4 muxer refuses a DTS that does not increase, so
every packet passes through a :class:`TimestampRepairer` before it is muxed:

- a missing DTS/PTS is taken from the other, or from the previous DTS plus one frame;
- a DTS that repeats or goes back by less than one frame is nudged forward by one tick ("nudged");
- a DTS that goes back further, or forward by more than ``max_jump_ticks``, is a discontinuity: the
  offset is rebased so the stream continues one frame after the previous packet ("rebased");
- PTS is never left below DTS.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from enum import StrEnum


class Repair(StrEnum):
    NONE = "none"
    FILLED = "filled"  # a missing timestamp was supplied
    NUDGED = "nudged"  # a small step back or a duplicate, moved forward
    REBASED = "rebased"  # a discontinuity, rebased to follow the previous packet


@dataclass(frozen=True, slots=True)
class Repaired:
    dts: int
    pts: int
    repair: Repair


class TimestampRepairer:
    def __init__(self, default_frame_ticks: int, max_jump_ticks: int) -> None:
        if default_frame_ticks <= 0 or max_jump_ticks <= 0:
            raise ValueError("frame and jump sizes must be positive")
        self._frame_ticks = default_frame_ticks
        self._max_jump = max_jump_ticks
        self._offset = 0
        self._last_dts: int | None = None

    @property
    def frame_ticks(self) -> int:
        return self._frame_ticks

    def repair(self, dts: int | None, pts: int | None) -> Repaired:
        kind = Repair.NONE
        if dts is None or pts is None:
            kind = Repair.FILLED
            if dts is None and pts is None:
                base = (self._last_dts - self._offset + self._frame_ticks) if self._last_dts is not None else 0
                dts = pts = base
            elif dts is None:
                dts = pts
            else:
                pts = dts
        assert dts is not None and pts is not None
        out_dts, out_pts = dts + self._offset, pts + self._offset
        if self._last_dts is not None:
            step = out_dts - self._last_dts
            if -self._frame_ticks < step <= 0:
                out_dts = self._last_dts + 1
                kind = Repair.NUDGED
            elif step <= -self._frame_ticks or step > self._max_jump:
                shift = self._last_dts + self._frame_ticks - out_dts
                self._offset += shift
                out_dts += shift
                out_pts += shift
                kind = Repair.REBASED
            elif kind is Repair.NONE and step < 4 * self._frame_ticks:
                # learn the frame length from ordinary steps (slowly, so one odd step does not dominate)
                self._frame_ticks = max(1, (self._frame_ticks * 7 + step) // 8)
        out_pts = max(out_pts, out_dts)
        self._last_dts = out_dts
        return Repaired(out_dts, out_pts, kind)


class DecodeTimes:
    """Decode times for a stream that carries presentation times only (RTP timestamps are capture times).

    Without reordered pictures (most cameras) the decode time is the presentation time. With B-pictures
    (``reorder_frames`` > 0, from the sequence parameter set, or learned when a presentation time goes back),
    the decode time of the k-th picture is the (k - reorder)-th smallest presentation time seen so far: it never
    exceeds the picture's own presentation time and increases whenever the frames are evenly spaced. The first
    ``reorder_frames`` pictures are placed one frame apart before the first presentation time.
    """

    MAX_REORDER = 16

    def __init__(self, reorder_frames: int = 0) -> None:
        self.reorder_frames = max(0, min(reorder_frames, self.MAX_REORDER))
        self._pending: list[int] = []  # presentation times not yet used as a decode time (a heap)
        self._last_dts: int | None = None

    def dts(self, pts: int, frame_ticks: int) -> int:
        if self._last_dts is not None and pts < self._last_dts and self.reorder_frames < self.MAX_REORDER:
            self.reorder_frames += 1  # shown before a picture already decoded: deeper reordering than assumed
        if self.reorder_frames == 0:
            dts = pts
        else:
            heapq.heappush(self._pending, pts)
            if len(self._pending) > self.reorder_frames:
                dts = heapq.heappop(self._pending)
            else:
                dts = self._pending[0] - (self.reorder_frames - len(self._pending) + 1) * frame_ticks
        self._last_dts = dts
        return dts

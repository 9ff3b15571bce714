"""Mapping a stream's timestamps to wall-clock time (pure; the recorder passes ``now`` in).

A frame cannot be captured after it arrives, so the capture time of the connection's first frame is at most
``arrival - media offset`` for every packet: the anchor is the minimum of that over the packets seen. This
absorbs the burst of buffered packets that arrives when a connection opens (the anchor moves back while it
lasts). The anchor moves forward only at a segment boundary, when every packet of the segment arrived more
than ``drift_limit_us`` after its mapped time: the camera's clock runs slow against ours (or the source was
paused), and the next segment starts at the corrected time.
"""

from __future__ import annotations


class WallClockMapper:
    def __init__(self, us_per_tick: float, drift_limit_us: int = 1_000_000) -> None:
        self._us_per_tick = us_per_tick
        self._drift_limit = drift_limit_us
        self._anchor_wall: int | None = None
        self._anchor_dts = 0
        self._min_lag: int | None = None  # smallest (arrival - mapped time) in the current segment

    @property
    def us_per_tick(self) -> float:
        return self._us_per_tick

    @property
    def started(self) -> bool:
        return self._anchor_wall is not None

    def mapped(self, dts: int) -> int:
        """Wall time of ``dts`` with the current anchor (no correction)."""
        return self._mapped(dts)

    def _mapped(self, dts: int) -> int:
        assert self._anchor_wall is not None
        return self._anchor_wall + round((dts - self._anchor_dts) * self._us_per_tick)

    def wall(self, dts: int, now_us: int) -> int:
        """Wall time of the packet with ``dts`` that arrived at ``now_us``. Never later than its arrival."""
        if self._anchor_wall is None:
            self._anchor_wall, self._anchor_dts = now_us, dts
        mapped = self._mapped(dts)
        if mapped > now_us:
            self._anchor_wall -= mapped - now_us
            mapped = now_us
        lag = now_us - mapped
        self._min_lag = lag if self._min_lag is None else min(self._min_lag, lag)
        return mapped

    def segment_boundary(self, dts: int) -> int:
        """Called at a keyframe that starts a segment; returns its (possibly corrected) wall time."""
        if self._min_lag is not None and self._min_lag > self._drift_limit:
            assert self._anchor_wall is not None
            self._anchor_wall += self._min_lag
        self._min_lag = None
        return self._mapped(dts)

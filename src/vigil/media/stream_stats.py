"""Rolling measurements of one stream: frame rate, bitrate, keyframe interval, last packet time."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW_US = 10_000_000


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    fps: float
    bitrate_kbps: float
    keyframe_interval_s: float


class StreamStats:
    def __init__(self) -> None:
        self._packets: deque[tuple[int, int]] = deque()  # (wall_us, size)
        self._keyframes: deque[int] = deque()
        self._bytes = 0
        self.last_packet_us: int | None = None
        self.repaired = 0
        self.packets = 0

    def add(self, media_us: int, arrival_us: int, size: int, keyframe: bool, repaired: bool) -> None:
        """``media_us``: the packet's own timestamp in µs (rates are measured on it, so a burst of buffered
        packets does not inflate them); ``arrival_us``: when it arrived (the last-packet time)."""
        wall_us = media_us
        self._packets.append((wall_us, size))
        self._bytes += size
        self.packets += 1
        if keyframe:
            self._keyframes.append(wall_us)
            if len(self._keyframes) > 16:
                self._keyframes.popleft()
        if repaired:
            self.repaired += 1
        self.last_packet_us = arrival_us
        horizon = wall_us - WINDOW_US
        while self._packets and self._packets[0][0] < horizon:
            self._bytes -= self._packets.popleft()[1]

    def snapshot(self, now_us: int) -> StatsSnapshot:
        stale = self.last_packet_us is None or now_us - self.last_packet_us > WINDOW_US
        if len(self._packets) < 2 or stale:
            fps = kbps = 0.0
        else:
            span_s = max(1e-3, (self._packets[-1][0] - self._packets[0][0]) / 1e6)
            fps = (len(self._packets) - 1) / span_s
            kbps = self._bytes * 8 / 1000 / span_s
        gop = 0.0
        if len(self._keyframes) >= 2:
            gop = (self._keyframes[-1] - self._keyframes[0]) / (len(self._keyframes) - 1) / 1e6
        return StatsSnapshot(round(fps, 2), round(kbps, 1), round(gop, 3))

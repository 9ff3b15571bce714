"""Storage capacity forecast: how many days of footage the budget holds at the measured bitrates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vigil.domain.timeutil import US_PER_DAY


@dataclass(frozen=True, slots=True)
class CapacityForecast:
    capacity_bytes: int  # what Vigil may use in all
    bytes_per_day: float  # all recorded streams together, measured
    days_of_capacity: float | None  # None when nothing is being recorded
    days_required: float  # the longest legal minimum of any camera
    required_bytes: int  # what the legal minimums need at the measured rates
    ok: bool

    def describe(self) -> str:
        if self.days_of_capacity is None:
            return "no measured bitrate yet: capacity unknown"
        gb_day = self.bytes_per_day / 1e9
        text = (
            f"at {gb_day:.2f} GB/day the budget of {self.capacity_bytes / 1e9:.1f} GB holds "
            f"{self.days_of_capacity:.1f} days; {self.days_required:g} days are required"
        )
        if not self.ok:
            text += f" (short by {(self.required_bytes - self.capacity_bytes) / 1e9:.1f} GB)"
        return text


def capacity_bytes(
    max_bytes: int | None,
    max_percent: float | None,
    volume_total_bytes: int,
    volume_other_bytes: int,
    reserve_free_bytes: int,
) -> int:
    """The most Vigil may hold: the tightest of its byte limit, the volume share, and the free reserve.
    ``volume_other_bytes`` is what other programs use on the volume."""
    limits = [volume_total_bytes - volume_other_bytes - reserve_free_bytes]
    if max_bytes is not None:
        limits.append(max_bytes)
    if max_percent is not None:
        limits.append(int(volume_total_bytes * max_percent / 100.0) - volume_other_bytes)
    return max(0, min(limits))


def forecast_capacity(
    capacity: int, bytes_per_second: Mapping[str, float], min_days: Mapping[str, float]
) -> CapacityForecast:
    """``bytes_per_second`` and ``min_days`` are keyed by camera id."""
    per_day = {cam: rate * US_PER_DAY / 1_000_000 for cam, rate in bytes_per_second.items()}
    total_per_day = sum(per_day.values())
    required = int(sum(per_day[cam] * min_days.get(cam, 0.0) for cam in per_day))
    days_required = max(min_days.values(), default=0.0)
    days = capacity / total_per_day if total_per_day > 0 else None
    return CapacityForecast(
        capacity_bytes=capacity,
        bytes_per_day=total_per_day,
        days_of_capacity=days,
        days_required=days_required,
        required_bytes=required,
        ok=required <= capacity,
    )

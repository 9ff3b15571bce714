"""Time as integers: UTC microseconds since the Unix epoch (``*_us``) everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S


def us_from_datetime(value: datetime) -> int:
    """Convert an aware datetime to UTC microseconds. Naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds


def datetime_from_us(value_us: int) -> datetime:
    return datetime.fromtimestamp(value_us / US_PER_S, tz=UTC)


def iso_from_us(value_us: int) -> str:
    return datetime_from_us(value_us).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_precise_from_us(value_us: int) -> str:
    """ISO 8601 in UTC to the microsecond (``2026-11-24T10:00:00.123456Z``): exact, for records that are evidence."""
    exact = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value_us)  # no float rounding
    return exact.isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_instant(text: str) -> int:
    """Parse an ISO 8601 instant (``2026-11-24T10:00:00Z``, offsets allowed) or integer microseconds."""
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return int(stripped)
    try:
        parsed = datetime.fromisoformat(stripped.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from exc
    return us_from_datetime(parsed)

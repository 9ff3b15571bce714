"""How segment files are named under the storage root.

Layout: ``<camera>/<stream>/<YYYY-MM-DD>/<start_us>.mp4`` (UTC day). A segment being written is
``<start_us>.mp4.part``; it is renamed only after the muxer closed it and its bytes are fsynced.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath

PART_SUFFIX = ".part"
SEGMENT_SUFFIX = ".mp4"


def segment_relpath(camera_id: str, stream: str, start_us: int) -> str:
    day = datetime.fromtimestamp(start_us / 1e6, tz=UTC).strftime("%Y-%m-%d")
    return f"{camera_id}/{stream}/{day}/{start_us}{SEGMENT_SUFFIX}"


def parse_segment_name(path: PurePath) -> tuple[str, str, int] | None:
    """(camera, stream, start_us) from a segment or part path relative to the root; None if not one."""
    parts = path.parts
    name = path.name.removesuffix(PART_SUFFIX)
    if len(parts) != 4 or not name.endswith(SEGMENT_SUFFIX):
        return None
    stem = name.removesuffix(SEGMENT_SUFFIX)
    if not stem.isdigit():
        return None
    return parts[0], parts[1], int(stem)

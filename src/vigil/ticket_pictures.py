"""The pictures a maintenance ticket carries: the camera's last good picture (the first keyframe of its last
segment recorded before the fault began) and the faulty one (the fault event's snapshot), kept in the maintenance
folder. Composed from media (the keyframe) and storage (the files), beside the runtime like ``treatments``."""

from __future__ import annotations

import logging
from pathlib import Path

from vigil.domain.errors import SourceError, StorageError
from vigil.media.still import keyframe_jpeg
from vigil.ports import Catalog, MaintenanceFileStore, SegmentStore

log = logging.getLogger(__name__)
LOOK_BACK_US = 3600 * 1_000_000  # the last good picture is looked for in the hour before the fault
MARGIN_US = 1_000_000  # ... in a segment that began at least a second before it


class RecordedPictures:
    def __init__(self, catalog: Catalog, store: SegmentStore, snapshots: Path, files: MaintenanceFileStore) -> None:
        self.catalog, self.store, self.snapshots, self.files = catalog, store, snapshots, files

    def good(self, camera_id: str, before_us: int, after_us: int) -> bytes | None:
        """The first keyframe of the last segment that began after the camera's last fault ended and at least a
        second before this one began (None when no segment was recorded in that healthy stretch)."""
        since = max(after_us, before_us - LOOK_BACK_US)
        segments = self.catalog.segments(camera_id, "main", since, before_us)
        earlier = [s for s in segments if since <= s.start_us <= before_us - MARGIN_US]
        if not earlier:
            return None
        last = earlier[-1]
        try:
            path = self.store.local(last)
            return keyframe_jpeg(f"file://{path}", f"segment {last.path}")
        except (SourceError, StorageError):
            log.warning("camera=%s: no picture in %s for the ticket", camera_id, last.path)
            return None

    def snapshot(self, relpath: str) -> bytes | None:
        root = self.snapshots.resolve()
        path = (root / relpath).resolve()
        if root not in path.parents:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def keep(self, ticket_id: int, name: str, jpeg: bytes) -> str:
        return self.files.put_picture(ticket_id, name, jpeg)

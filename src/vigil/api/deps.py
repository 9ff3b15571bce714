"""What the API needs, injected by the runtime (the API never builds adapters itself)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vigil.config.models import Config
from vigil.ports import Catalog, Clock, SegmentStore

# (camera_id, stream, start_us, end_us) -> path of a finished MP4 clip
ClipMaker = Callable[[str, str, int, int], Path]


@dataclass(frozen=True)
class ApiDeps:
    config: Config
    catalog: Catalog
    store: SegmentStore
    clock: Clock
    make_clip: ClipMaker
    snapshots: Path | None = None  # the folder event snapshots are written under

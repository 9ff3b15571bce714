"""Build the real API over a real SQLite catalog for tests (accounts and audit log included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.api.deps import ApiDeps, ClipFile, ClipMaker
from vigil.config.models import Config
from vigil.passwords import Argon2Passwords
from vigil.storage.accounts import SqlAccounts
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.catalog import SqlCatalog
from vigil.storage.segment_store import LocalSegmentStore
from vigil.usecases.accounts import Accounts


def no_clips(camera_id: str, stream: str, start_us: int, end_us: int) -> ClipFile:
    raise AssertionError("no clip is asked for here")


def api_deps(
    config: Config,
    catalog: SqlCatalog,
    root: Path,
    clock: Any,
    make_clip: ClipMaker = no_clips,
    **extra: Any,
) -> ApiDeps:
    accounts = Accounts(SqlAccounts(catalog), Argon2Passwords(), clock)
    audit = SqlAuditLog(catalog, root / "audit.head")
    return ApiDeps(config, catalog, LocalSegmentStore(root / "recordings"), clock, make_clip, accounts, audit, **extra)

"""Build the real API over a real SQLite catalog for tests (accounts and audit log included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.api.deps import ApiDeps, ClipFile, ClipMaker
from vigil.config.in_force import ConfigInForce
from vigil.config.models import Config
from vigil.passwords import Argon2Passwords
from vigil.storage.accounts import SqlAccounts
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.catalog import SqlCatalog
from vigil.storage.config_file import YamlConfigFile
from vigil.storage.segment_store import LocalSegmentStore
from vigil.storage.wall_groups import SqlWallGroups
from vigil.usecases.accounts import Accounts
from vigil.usecases.settings import SettingsEditor
from vigil.usecases.wall_groups import WallGroups


def no_clips(camera_id: str, stream: str, start_us: int, end_us: int, masks: Any = ()) -> ClipFile:
    raise AssertionError("no clip is asked for here")


def api_deps(
    config: Config,
    catalog: SqlCatalog,
    root: Path,
    clock: Any,
    make_clip: ClipMaker = no_clips,
    config_file: Path | None = None,
    **extra: Any,
) -> ApiDeps:
    """With ``config_file``, the settings API edits that file (and the configuration in force follows it)."""
    accounts = Accounts(SqlAccounts(catalog), Argon2Passwords(), clock)
    audit = SqlAuditLog(catalog, root / "audit.head")
    in_force = ConfigInForce(config)
    extra.setdefault("wall_groups", WallGroups(SqlWallGroups(catalog), clock))
    if config_file is not None:
        extra["settings"] = SettingsEditor(YamlConfigFile(config_file), in_force, audit, clock, str(config_file))
    return ApiDeps(
        in_force,
        catalog,
        LocalSegmentStore(root / "recordings"),
        clock,
        make_clip,
        accounts,
        audit,
        **extra,
    )

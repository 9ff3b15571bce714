"""The API's OpenAPI document, as checked in at ``docs/api/openapi.json`` (``tools/openapi.py`` writes it; a
test fails when the code and the checked-in document differ)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from vigil.api.app import create_app
from vigil.api.deps import ApiDeps, ClipFile
from vigil.config.in_force import ConfigInForce
from vigil.config.models import Config
from vigil.domain.privacy import NO_MASKS, Masks
from vigil.passwords import Argon2Passwords
from vigil.ports import SystemClock
from vigil.storage.accounts import SqlAccounts
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.segment_store import LocalSegmentStore
from vigil.usecases.accounts import Accounts

DOCUMENT = Path("docs") / "api" / "openapi.json"


def _no_clip(camera_id: str, stream: str, start_us: int, end_us: int, masks: Masks = NO_MASKS) -> ClipFile:
    raise AssertionError("the schema needs no clip")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the API as the code describes it (built on a throwaway catalog)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        catalog = SqlCatalog(sqlite_url(root / "catalog.db"))
        try:
            clock = SystemClock()
            deps = ApiDeps(
                ConfigInForce(Config()),
                catalog,
                LocalSegmentStore(root),
                clock,
                _no_clip,
                Accounts(SqlAccounts(catalog), Argon2Passwords(), clock),
                SqlAuditLog(catalog, root / "audit.head"),
            )
            doc: dict[str, Any] = create_app(deps).openapi()
        finally:
            catalog.close()
    return doc


def openapi_text() -> str:
    return json.dumps(openapi_document(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"

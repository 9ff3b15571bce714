"""``vigil restore`` (ADR 0018): a node brought back from a backup on a tier, all or nothing. Every file is fetched
into a staging folder and checked against the manifest (missing, altered, added), the manifest's signature against
the site key it holds (sealed: the passphrase opens it; a wrong one is refused), the catalog copy by SQLite's own
integrity check; only then is anything put where the restored configuration says, and never over a file that
exists. A failure leaves the target as it was and says what is wrong."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from vigil.config.loader import load_config
from vigil.config.models import Config
from vigil.domain.backup import (
    CATALOG,
    CONFIG,
    MANIFEST,
    PREFIX,
    SEALED_KEY,
    SIGNATURE,
    backup_sets,
    file_problems,
    manifest_problems,
)
from vigil.domain.errors import ConfigError, InvalidRequest, StorageError
from vigil.ports import Tier
from vigil.storage.backup_files import NodeFiles, integrity, place
from vigil.storage.site_key import open_sealed, write_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Restored:
    name: str
    files: int
    bytes: int
    key_restored: bool
    seconds: float
    config: Config
    config_file: Path


def backup_names(tier: Tier) -> tuple[list[str], list[str]]:
    """(whole backups, incomplete ones) on the tier, oldest first."""
    return backup_sets(tier.keys(PREFIX))


def restore(
    tier: Tier,
    config_file: Path,
    passphrase: str | None,
    node_files: Callable[[Config, Path], NodeFiles],
    name: str | None = None,
) -> Restored:
    """Bring the backup ``name`` (default: the newest whole one) back as the node whose configuration file will be
    ``config_file``."""
    started = time.monotonic()
    try:  # reachable, the keys taken, the bucket or folder there: said before anything else
        tier.check()
    except StorageError as exc:
        if "cannot write" not in exc.message:  # (a read-only backup folder is fine to restore from)
            raise
    whole, incomplete = backup_names(tier)
    if name is None:
        if not whole:
            more = f" (incomplete: {', '.join(incomplete)})" if incomplete else ""
            raise StorageError(f"tier {tier.name!r} ({tier.where()}) holds no whole backup{more}: nothing to restore")
        name = whole[-1]
    elif name not in whole:
        if name in incomplete:
            raise StorageError(f"backup {name} is incomplete: it has no {MANIFEST} (the backup was cut short)")
        raise StorageError(f"tier {tier.name!r} holds no backup {name} (whole ones: {', '.join(whole) or 'none'})")
    if config_file.exists():
        raise InvalidRequest(f"{config_file} exists: restore into a new folder (nothing was changed)")
    config_file.parent.mkdir(parents=True, exist_ok=True)
    staging = config_file.parent / f".vigil-restore-{name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        key, size, count = _fetch_and_check(tier, name, staging, passphrase)
        problem = integrity(staging / CATALOG)
        if problem != "ok":
            raise StorageError(f"backup {name}: the catalog copy is damaged ({problem})")
        try:
            config = load_config(staging / CONFIG)
        except ConfigError as exc:
            raise StorageError(f"backup {name}: its vigil.yaml cannot be read: {exc.message}") from None
        node = node_files(config, config_file)
        for target in node.targets():
            if target.exists() and not (target.is_dir() and not any(target.iterdir())):
                raise InvalidRequest(f"{target} exists: restore into a new folder (nothing was changed)")
        place(staging, node)
        if key is not None:
            write_key(node.key, key)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.monotonic() - started
    log.info("restored backup %s: %d file(s), %d bytes in %.1f s", name, count, size, seconds)
    return Restored(name, count, size, key is not None, seconds, config, config_file)


def _fetch_and_check(
    tier: Tier, name: str, staging: Path, passphrase: str | None
) -> tuple[SigningKey | None, int, int]:
    where = f"{PREFIX}{name}/"
    try:
        tier.fetch(where + MANIFEST, staging / MANIFEST)
        tier.fetch(where + SIGNATURE, staging / SIGNATURE)
    except StorageError as exc:
        raise StorageError(f"backup {name}: {exc.message}") from None
    body = (staging / MANIFEST).read_bytes()
    try:
        doc = json.loads(body)
        sig = json.loads((staging / SIGNATURE).read_bytes())
    except ValueError as exc:
        raise StorageError(f"backup {name}: its manifest cannot be read ({exc})") from None
    problems = manifest_problems(doc)
    if problems:
        raise StorageError(f"backup {name} cannot be restored: " + "; ".join(problems))
    listed = [f for f in doc["files"] if isinstance(f, dict)]
    found: dict[str, tuple[int, str] | None] = {}
    for entry in listed:
        path = str(entry["path"])
        dest = staging / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            digest = tier.fetch(where + path, dest)
            found[path] = (dest.stat().st_size, digest)
        except StorageError as exc:
            if "missing" not in exc.message:
                raise
            found[path] = None
    problems = file_problems(listed, found)
    known = {where + str(f["path"]) for f in listed} | {where + MANIFEST, where + SIGNATURE}
    problems += [
        f"{k.removeprefix(where)} is in the backup but not in its manifest" for k in tier.keys(where) if k not in known
    ]
    signer = _signature_key(sig, body, doc, problems)
    key: SigningKey | None = None
    if SEALED_KEY in found and found[SEALED_KEY] is not None and not problems:
        if not passphrase:
            raise InvalidRequest(
                f"backup {name} holds the site key sealed with a passphrase: give it (VIGIL_BACKUP_PASSPHRASE)"
            )
        key = open_sealed((staging / SEALED_KEY).read_bytes(), passphrase)
        if signer is not None and bytes(key.verify_key) != bytes(signer):
            problems.append("the manifest is signed by another key than the site key the backup holds")
    if problems:
        raise StorageError(f"backup {name} cannot be restored: " + "; ".join(problems))
    sizes = [f.get("size_bytes", 0) for f in listed]
    return key, sum(s for s in sizes if isinstance(s, int)), len(listed)


def _signature_key(sig: object, body: bytes, doc: dict[str, object], problems: list[str]) -> VerifyKey | None:
    try:
        assert isinstance(sig, dict)
        public, signature = bytes.fromhex(str(sig["public_key"])), bytes.fromhex(str(sig["signature"]))
        key = VerifyKey(public)
        key.verify(body, signature)
    except (AssertionError, KeyError, ValueError, TypeError):
        problems.append(f"{SIGNATURE} is not a signature of the manifest")
        return None
    except BadSignatureError:
        problems.append(f"the manifest was altered: {SIGNATURE} does not match it")
        return None
    site = doc.get("site")
    if not isinstance(site, dict) or site.get("public_key") != public.hex():
        problems.append("the manifest is signed by a key other than the one it names")
    return key

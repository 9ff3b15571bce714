"""Scheduled system backups (ADR 0018): every ``storage.backup.every_hours`` the node gathers its own files (the
catalog as an online copy, vigil.yaml and its history, the emergency plans, the audit anchor, the site key sealed
with a passphrase that is not stored with it, evidence packages, certificates, maintenance documents), lists them
with their SHA-256 in a manifest signed with the site key, and uploads them to a tier under ``backups/<name>/``:
every file read back and checked, the manifest last (a backup without one is incomplete and never restored). The
newest ``keep`` backups stay. The footage is not copied: it is on the tiers already."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from vigil.config.models import Config
from vigil.domain.backup import (
    MANIFEST,
    NAME,
    PREFIX,
    SIGNATURE,
    BackupFile,
    backup_name,
    backup_sets,
    manifest,
    name_time_us,
)
from vigil.domain.errors import StorageError
from vigil.domain.evidence import document_bytes, key_fingerprint, signature_document
from vigil.ports import Clock, Signer, Tier

log = logging.getLogger(__name__)
RETRY_S = 600.0


@dataclass(frozen=True, slots=True)
class BackupMade:
    name: str
    tier: str
    files: int
    bytes: int
    with_key: bool
    seconds: float


class Backups:
    def __init__(
        self,
        stage: Callable[[Path, bool], list[BackupFile]],
        discard: Callable[[Path], None],
        signer: Signer,
        tiers: Mapping[str, Tier],
        clock: Clock,
        config: Callable[[], Config],
        staging: Path,
        passphrase: Callable[[], str | None],
    ) -> None:
        """``stage(folder, with_key)`` gathers the node's files into ``folder``; ``discard`` removes the folder."""
        self.stage, self.discard, self.signer, self.tiers, self.clock = stage, discard, signer, tiers, clock
        self.config, self.staging, self.passphrase = config, staging, passphrase
        self.last: BackupMade | None = None
        self.problem = ""  # the last backup's error, until one succeeds
        self._stop = threading.Event()

    def tier(self) -> Tier:
        name = self.config().storage.backup.tier
        if name is None or name not in self.tiers:
            raise StorageError("no tier to back up to (storage.backup.tier)")
        return self.tiers[name]

    def run(self) -> BackupMade:
        """One backup now, then the old ones pruned."""
        started = self.clock.now_us()
        tier = self.tier()
        name = backup_name(started)
        folder = self.staging / f"backup-{name}"
        passphrase = self.passphrase()
        try:
            files = self.stage(folder, bool(passphrase))
            public = self.signer.public_key
            site = {
                "name": self.config().site.name,
                "public_key": public.hex(),
                "key_fingerprint": key_fingerprint(public),
            }
            doc = manifest(name, started, self.config().maintenance.node_id, site, files)
            body = document_bytes(doc)
            (folder / MANIFEST).write_bytes(body)
            (folder / SIGNATURE).write_bytes(signature_document(public, self.signer.sign(body)))
            for f in files:
                self._upload(tier, folder, name, f.path, f.sha256)
            for last in (SIGNATURE, MANIFEST):  # the manifest last: only then is the backup whole
                tier.put(f"{PREFIX}{name}/{last}", folder / last)
        finally:
            self.discard(folder)
        seconds = (self.clock.now_us() - started) / 1e6
        made = BackupMade(name, tier.name, len(files), sum(f.size_bytes for f in files), bool(passphrase), seconds)
        self.last, self.problem = made, ""
        if not passphrase:
            log.warning(
                "backup %s holds no site key: set the passphrase variable (storage.backup.passphrase_env)", name
            )
        log.info(
            "backup %s: %d file(s), %d bytes to tier %s in %.1f s", name, made.files, made.bytes, tier.name, seconds
        )
        self.prune(tier)
        return made

    def _upload(self, tier: Tier, folder: Path, name: str, path: str, sha256: str) -> None:
        key = f"{PREFIX}{name}/{path}"
        tier.put(key, folder / path)
        found = tier.sha256(key)
        if found != sha256:
            raise StorageError(f"backup {name}: {path} read back from tier {tier.name!r} with another hash")

    def names(self, tier: Tier | None = None) -> list[str]:
        """The whole backups on the tier (those with a manifest), oldest first."""
        return backup_sets((tier or self.tier()).keys(PREFIX))[0]

    def listing(self) -> tuple[list[str], list[str]]:
        """(whole backups, incomplete ones) on the tier, oldest first."""
        return backup_sets(self.tier().keys(PREFIX))

    def prune(self, tier: Tier) -> int:
        """Keep the newest ``keep`` whole backups; remove older ones and incomplete ones older than the newest."""
        keep = self.config().storage.backup.keep
        names = self.names(tier)
        if not names:
            return 0
        kept = set(names[-keep:])
        newest = names[-1]
        gone = 0
        for key in list(tier.keys(PREFIX)):
            name = key.removeprefix(PREFIX).split("/")[0]
            if NAME.match(name) and name not in kept and name < newest:
                tier.delete(key)
                gone += 1
        return gone

    def due(self) -> bool:
        """Is the newest backup older than ``every_hours`` (or is there none)?"""
        every_us = int(self.config().storage.backup.every_hours * 3600 * 1e6)
        if self.last is not None:
            last_us: int | None = name_time_us(self.last.name)
        else:
            names = self.names()
            last_us = name_time_us(names[-1]) if names else None
        return last_us is None or self.clock.now_us() - last_us >= every_us

    def run_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.due():
                    self.run()
            except Exception as exc:  # tried again later; status shows why meanwhile
                self.problem = getattr(exc, "message", str(exc))
                log.exception("the backup failed; trying again in %d s", RETRY_S)
                self._stop.wait(RETRY_S)
            self._stop.wait(60.0)

    def stop(self) -> None:
        self._stop.set()

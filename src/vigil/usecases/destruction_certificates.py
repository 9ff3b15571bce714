"""Destruction certificates (ADR 0017): for a period, every deletion the ledger holds (what, from which cameras and
ranges, which rule, when, from which tiers) and the early deletions approved in it (who asked, who approved, why),
sealed like an evidence package: a README, ``ledger.json``, the verifier, a manifest listing each file's SHA-256,
signed with the site key. ``vigil verify`` (or the shipped ``verify_package.py``, offline) checks the signature, the
files and the ledger's chain entry by entry. A node writes the certificate of each period that has ended
(``storage.certificates``) into ``certificates/`` beside the catalog."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vigil import __version__
from vigil.config.models import Config
from vigil.domain.destruction import (
    LEDGER_FILE,
    Period,
    certificate_manifest,
    ledger_document,
    ledger_problems,
    period_of,
)
from vigil.domain.evidence import (
    MANIFEST,
    README,
    SIGNATURE,
    VERIFIER,
    document_bytes,
    key_fingerprint,
    signature_document,
)
from vigil.domain.timeutil import iso_from_us
from vigil.ports import Catalog, Clock, DeletionRequestStore, PackageFactory, Signer
from vigil.usecases.early_deletion import document
from vigil.usecases.evidence_seal import listed

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Certificate:
    period: Period
    path: Path
    segments: int
    bytes: int
    problems: tuple[str, ...]  # what the ledger's own check found (also in the certificate)


def readme(manifest: dict[str, object]) -> str:
    period, destroyed = manifest["period"], manifest["destroyed"]
    assert isinstance(period, dict) and isinstance(destroyed, dict)
    lines = [
        f"Vigil destruction certificate {manifest['certificate_id']}",
        "",
        f"Footage destroyed from {period['start']} to {period['end']} (UTC): {destroyed['segments']} segment(s),",
        f"{destroyed['bytes']} bytes, cameras: {', '.join(destroyed['cameras']) or 'none'}.",
        "",
        "manifest.json says what was destroyed, by camera, rule and tier, and the early deletions (footage",
        "destroyed before its time, asked by one person and approved by another). ledger.json lists every",
        "deletion as Vigil's deletion ledger holds it, each entry chained to the one before by its SHA-256.",
        "",
        "To check it, offline: python3 verify_package.py (needs PyNaCl), or vigil verify <this folder>.",
        "It checks the signature with the site's key, every file's hash and every ledger entry's chain.",
        "Compare the key fingerprint it prints with the one your site published.",
        "",
    ]
    return "\n".join(lines)


class Certificates:
    def __init__(
        self,
        catalog: Catalog,
        requests: DeletionRequestStore,
        signer: Signer,
        new_package: PackageFactory,
        verifier_source: Callable[[], bytes],
        clock: Clock,
        config: Callable[[], Config],
        folder: Path,
    ) -> None:
        self.catalog, self.requests, self.signer, self.new_package = catalog, requests, signer, new_package
        self.verifier_source, self.clock, self.config, self.folder = verifier_source, clock, config, folder

    def make(self, period: Period, out: Path | None = None) -> Certificate:
        """Seal the certificate of ``period`` at ``out`` (a folder, or a .zip; by default in ``certificates/``)."""
        out = out or self.folder / f"destruction-{period.name}"
        entries = self.catalog.ledger_between(period.start_us, period.end_us)
        problems = ledger_problems(entries)
        early = [document(r) for r in self.requests.approved_between(period.start_us, period.end_us)]
        public = self.signer.public_key
        site = {"name": self.config().site.name, "public_key": public.hex(), "key_fingerprint": key_fingerprint(public)}
        manifest = certificate_manifest(period, entries, early, self.clock.now_us(), site, problems)
        manifest["generator"] = f"vigil {__version__}"
        package = self.new_package(out)
        try:
            package.write(LEDGER_FILE, document_bytes(ledger_document(entries)))
            package.write(README, readme(manifest).encode())
            package.write(VERIFIER, self.verifier_source())
            manifest["files"] = [f.entry() for f in listed(package)]
            body = document_bytes(manifest)
            package.write(MANIFEST, body)
            package.write(SIGNATURE, signature_document(public, self.signer.sign(body)))
            package.publish()
        except BaseException:
            package.discard()
            raise
        for problem in problems:
            log.error("destruction certificate %s: %s", period.name, problem)
        size = sum(e.size_bytes for e in entries)
        log.info("destruction certificate %s: %d segment(s) destroyed, written to %s", period.name, len(entries), out)
        return Certificate(period, out, len(entries), size, tuple(problems))

    def due(self) -> list[Certificate]:
        """The certificate of the last period that has ended, when it is not written yet (``storage.certificates``:
        off, day, week or month) and the ledger reaches back into it (a node that had destroyed nothing by then has
        nothing to certify)."""
        kind = self.config().storage.certificates
        if kind == "off":
            return []
        now = self.clock.now_us()
        last = period_of(kind, period_of(kind, now).start_us - 1)
        out = self.folder / f"destruction-{last.name}"
        if out.exists():
            return []
        first = self.catalog.ledger(limit=1)
        if not first or first[0].deleted_us >= last.end_us:
            return []  # nothing was ever destroyed before the period ended: no certificate to make yet
        self.folder.mkdir(parents=True, exist_ok=True)
        log.info("writing the destruction certificate of %s (ended %s)", last.name, iso_from_us(last.end_us))
        return [self.make(last, out)]

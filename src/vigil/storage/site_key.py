"""The site's Ed25519 signing key for evidence packages: made on first use, kept beside the catalog.

The key file (``site.key`` beside the SQLite file; for another database beside the storage root, like the audit
anchor) holds the 32-byte seed in hex under a comment line, readable by its owner only (0600). It is created
whole or not at all: written to a private temporary file, fsynced, then linked to its name, so two processes
starting at once end up with the same key (the second reads the first's). A key file that others may read is
tightened to 0600 with a warning: whoever could read it could sign packages as this site, so the warning says to
consider it exposed.

The secret never leaves this module: not in logs, ``repr``, the API or the CLI. Only the public key and its
fingerprint (SHA-256 of the raw public key, ``vigil evidence key``) are shown. Back the file up with the catalog:
packages signed with a lost key still verify (the public key is in each), but new ones get a new fingerprint.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from nacl.signing import SigningKey

from vigil.domain.errors import StorageError
from vigil.domain.evidence import key_fingerprint
from vigil.durable_files import fsync_dir, fsync_file
from vigil.storage.audit_log import audit_anchor_path

log = logging.getLogger(__name__)

KEY_NAME = "site.key"
HEADER = "# Vigil site signing key (Ed25519 seed, hex). SECRET: owner-only (0600); back it up with the catalog.\n"
PRIVATE = 0o600


def site_key_path(catalog_url: str, root: Path) -> Path:
    """Beside the SQLite catalog (or, for another database, beside the storage root), like ``audit.head``."""
    return audit_anchor_path(catalog_url, root).with_name(KEY_NAME)


class SiteKey:
    """The ``Signer`` port: loads the key from ``path``, making it first when there is none."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded: SigningKey | None = None  # made or read at first use

    @property
    def _key(self) -> SigningKey:
        if self._loaded is None:
            self._loaded = SigningKey(self._load_or_make())
        return self._loaded

    def __repr__(self) -> str:
        return f"SiteKey({str(self.path)!r})"

    @property
    def public_key(self) -> bytes:
        return bytes(self._key.verify_key)

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return bytes(self._key.sign(message).signature)

    def _load_or_make(self) -> bytes:
        if not self.path.exists():
            self._make()
        return self._read()

    def _make(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        part = self.path.with_name(f".{KEY_NAME}.{os.getpid()}.{secrets.token_hex(4)}.part")
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(HEADER + secrets.token_bytes(32).hex() + "\n")
            fsync_file(part)
            try:
                os.link(part, self.path)  # fails if another process made one meanwhile: theirs is kept
                log.info("made the site signing key %s (fingerprint %s)", self.path, self._fingerprint_of_file())
            except FileExistsError:
                pass
            fsync_dir(self.path.parent)
        except OSError as exc:
            raise StorageError(f"cannot make the site signing key {self.path}: {exc}") from exc
        finally:
            part.unlink(missing_ok=True)

    def _fingerprint_of_file(self) -> str:
        return key_fingerprint(bytes(SigningKey(self._read()).verify_key))

    def _read(self) -> bytes:
        try:
            mode = stat.S_IMODE(self.path.stat().st_mode)
            if mode & 0o077:
                self.path.chmod(PRIVATE)
                log.warning(
                    "the site signing key %s could be read by others (mode %o): made owner-only; if anyone else "
                    "could read it, treat it as exposed and make a new one",
                    self.path,
                    mode,
                )
            lines = [ln.strip() for ln in self.path.read_text(encoding="ascii").splitlines()]
        except (OSError, UnicodeDecodeError) as exc:
            raise StorageError(f"cannot read the site signing key {self.path}: {exc}") from exc
        seeds = [ln for ln in lines if ln and not ln.startswith("#")]
        try:
            seed = bytes.fromhex(seeds[0]) if len(seeds) == 1 else b""
        except ValueError:
            seed = b""
        if len(seed) != 32:
            raise StorageError(f"the site signing key {self.path} is damaged (not one 32-byte hex seed)")
        return seed

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

import json
import logging
import os
import secrets
import stat
from pathlib import Path

import nacl.pwhash
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from nacl.signing import SigningKey

from vigil.domain.errors import InvalidRequest, StorageError
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

    def sealed(self, passphrase: str) -> bytes:
        """The key encrypted with ``passphrase`` (Argon2id, then XSalsa20-Poly1305) for a backup: a JSON document
        holding the salt, the cost and the ciphertext, and the public key to recognise it by. The passphrase is
        never stored with it."""
        return seal_seed(bytes(self._key), passphrase, self.public_key)

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


KDF_OPS = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
KDF_MEM = nacl.pwhash.argon2id.MEMLIMIT_MODERATE
MIN_PASSPHRASE = 12


def seal_seed(seed: bytes, passphrase: str, public_key: bytes) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise InvalidRequest(f"the backup passphrase must be at least {MIN_PASSPHRASE} characters")
    salt = secrets.token_bytes(nacl.pwhash.argon2id.SALTBYTES)
    box = SecretBox(nacl.pwhash.argon2id.kdf(SecretBox.KEY_SIZE, passphrase.encode(), salt, KDF_OPS, KDF_MEM))
    doc = {
        "format": "vigil-sealed-key/1",
        "kdf": "argon2id",
        "opslimit": KDF_OPS,
        "memlimit": KDF_MEM,
        "salt": salt.hex(),
        "cipher": "xsalsa20-poly1305",
        "sealed": bytes(box.encrypt(seed)).hex(),
        "public_key": public_key.hex(),
        "key_fingerprint": key_fingerprint(public_key),
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def open_sealed(sealed: bytes, passphrase: str) -> SigningKey:
    """The signing key from a sealed document; InvalidRequest for a wrong passphrase or a damaged document."""
    try:
        doc = json.loads(sealed)
        salt, ops, mem = bytes.fromhex(doc["salt"]), int(doc["opslimit"]), int(doc["memlimit"])
        ciphertext = bytes.fromhex(doc["sealed"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest(f"the sealed site key is damaged ({exc})") from None
    box = SecretBox(nacl.pwhash.argon2id.kdf(SecretBox.KEY_SIZE, passphrase.encode(), salt, ops, mem))
    try:
        seed = box.decrypt(ciphertext)
    except CryptoError:
        raise InvalidRequest("wrong passphrase for the site key (or the sealed key was altered)") from None
    key = SigningKey(seed)
    if bytes(key.verify_key).hex() != doc.get("public_key"):
        raise InvalidRequest("the sealed site key does not match the public key it names: it was altered")
    return key


def write_key(path: Path, key: SigningKey) -> None:
    """Write a restored key where a node looks for it, owner-only; never over an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(HEADER + bytes(key).hex() + "\n")
    fsync_file(path)
    fsync_dir(path.parent)

"""Check a Vigil evidence package (every file against the signed manifest, the signature, the chain of custody) or a
destruction certificate (the same, and the deletion ledger it lists, entry by entry).

    python3 verify_package.py [PACKAGE] [--expect-fingerprint HEX]

PACKAGE is the package's folder or its .zip (default: the folder this script is in). Needs Python 3.8 or later
and PyNaCl (``pip install pynacl``; Debian and Ubuntu: ``apt install python3-nacl``); nothing else, and no
network. Exit status: 0 intact, 1 a problem found (each one named), 2 not a package or PyNaCl missing.

This file is shipped inside every package and is also what ``vigil verify`` runs, so it imports nothing from
Vigil. It reads only; it never extracts or changes anything.

What it finds: a file changed (``altered``), listed but absent (``missing``), present but not listed (``added``),
a manifest or signature changed or replaced (``bad_signature``), a signature by a key other than the one the
manifest names (``key_mismatch``), a key other than the one you expect (``wrong_key``, with --expect-fingerprint),
custody entries changed, reordered, removed from the middle or unsigned (``custody``), a destruction certificate's
ledger entries changed, removed, inserted or out of order (``ledger``), file names that would
escape the package (``unsafe_name``) and names given twice in a zip (``duplicate``). A signature by a key that the
manifest itself names proves nothing about who made it: compare the fingerprint printed with the one the site
published, or pass it with --expect-fingerprint.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import IO, Any, NamedTuple

FORMAT = "vigil-evidence/1"
DESTRUCTION = "vigil-destruction/1"  # a destruction certificate: the deletion ledger of a period, signed
MANIFEST, SIGNATURE, CUSTODY_DIR = "manifest.json", "manifest.sig", "custody"
CUSTODY_NAME = re.compile(r"^custody/(\d{4})\.json$")
EXIT_INTACT, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2
CHUNK = 1 << 20


class PackageError(Exception):
    """Not a package that can be checked at all (exit 2)."""


class Problem(NamedTuple):
    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}: {self.detail}"


class Report:
    def __init__(self, location: str) -> None:
        self.location = location
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.manifest: dict[str, Any] = {}
        self.fingerprint = ""
        self.files_checked = 0
        self.bytes_checked = 0
        self.custody: list[dict[str, Any]] = []
        self.ledger_entries = 0  # a destruction certificate's ledger entries checked

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, kind: str, path: str, detail: str) -> None:
        self.problems.append(Problem(kind, path, detail))


class PackageFiles:
    """The files of a package folder or .zip, by relative name with forward slashes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.duplicates: list[str] = []
        if path.is_dir():
            self._names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if not p.is_dir())
        elif path.is_file() and zipfile.is_zipfile(path):
            self.zip = zipfile.ZipFile(path)
            members = [i.filename for i in self.zip.infolist() if not i.is_dir()]
            self.duplicates = sorted({n for n in members if members.count(n) > 1})
            self._names = sorted(set(members))
        else:
            raise PackageError(f"{path} is neither a package folder nor a .zip")

    def names(self) -> list[str]:
        return list(self._names)

    def open(self, name: str) -> IO[bytes]:
        if self.zip is not None:
            return self.zip.open(name)
        return (self.path / name).open("rb")

    def read(self, name: str) -> bytes:
        with self.open(name) as fh:
            return fh.read()

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def fingerprint_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


def normal_fingerprint(text: str) -> str:
    """A fingerprint as typed (spaces, colons, upper case, a ``SHA256:`` prefix) in its plain hex form."""
    plain = text.strip().lower()
    if plain.startswith("sha256:"):
        plain = plain[len("sha256:") :]
    return re.sub(r"[\s:]", "", plain)


def safe_name(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and "\\" not in name and ":" not in name and ".." not in parts


def sha256_of(files: PackageFiles, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with files.open(name) as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _ed25519_ok(public_key: bytes, message: bytes, signature: bytes) -> bool:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    try:
        VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


def _hex(value: Any, length: int) -> bytes | None:
    if not isinstance(value, str) or len(value) != 2 * length:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json(files: PackageFiles, name: str, report: Report) -> Any:
    try:
        return json.loads(files.read(name).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        report.problem("unreadable", name, f"not valid JSON: {exc}")
        return None


def check_signature(files: PackageFiles, report: Report, expected: str | None) -> bytes | None:
    """Check manifest.sig against manifest.json; the site's public key when the signature holds."""
    names = set(files.names())
    if SIGNATURE not in names:
        report.problem("missing", SIGNATURE, "the signature file is missing: nothing proves who made the package")
        return None
    sig = _json(files, SIGNATURE, report)
    if not isinstance(sig, dict):
        return None
    key, signature = _hex(sig.get("public_key"), 32), _hex(sig.get("signature"), 64)
    if sig.get("algorithm") != "Ed25519" or key is None or signature is None:
        report.problem("bad_signature", SIGNATURE, "not an Ed25519 signature with a 32-byte public key")
        return None
    report.fingerprint = fingerprint_of(key)
    if sig.get("key_fingerprint") != report.fingerprint:
        report.problem("bad_signature", SIGNATURE, "its key_fingerprint is not the SHA-256 of its public key")
    if not _ed25519_ok(key, files.read(MANIFEST), signature):
        report.problem(
            "bad_signature",
            SIGNATURE,
            "the signature does not match manifest.json: the manifest was changed or the signature replaced",
        )
    site_key = _dict(report.manifest.get("site")).get("public_key")
    if site_key != key.hex():
        report.problem("key_mismatch", SIGNATURE, "signed with a key other than the site key the manifest names")
    if expected is not None and normal_fingerprint(expected) != report.fingerprint:
        report.problem(
            "wrong_key",
            SIGNATURE,
            f"signed by the key with fingerprint {report.fingerprint}, not the one you expect "
            f"({normal_fingerprint(expected)})",
        )
    return key


def check_files(files: PackageFiles, report: Report) -> set[str]:
    """Every file the manifest lists, by size and SHA-256; the set of names it lists."""
    listed: set[str] = set()
    present = set(files.names())
    entries = report.manifest.get("files")
    if not isinstance(entries, list):
        report.problem("unreadable", MANIFEST, "it has no list of files")
        return listed
    for entry in entries:
        name = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not safe_name(name):
            report.problem("unsafe_name", str(name), "the manifest lists a file outside the package")
            continue
        listed.add(name)
        if name not in present:
            report.problem("missing", name, "listed in the manifest but not in the package (removed)")
            continue
        digest, size = sha256_of(files, name)
        report.files_checked += 1
        report.bytes_checked += size
        if size != entry.get("size_bytes") or digest != entry.get("sha256"):
            report.problem(
                "altered",
                name,
                f"{size} bytes with SHA-256 {digest}, but the manifest says {entry.get('size_bytes')} bytes "
                f"with SHA-256 {entry.get('sha256')}",
            )
    return listed


def check_custody(files: PackageFiles, report: Report, site_key: bytes | None) -> None:
    """The custody entries: numbered 0001 on without a gap, each signed, each chained to the one before."""
    numbered = sorted((int(m.group(1)), n) for n in files.names() if (m := CUSTODY_NAME.match(n)))
    if not numbered:
        report.problem("custody", CUSTODY_DIR, "there is no custody entry (custody/0001.json records the export)")
        return
    prev_hash = hashlib.sha256(files.read(MANIFEST)).hexdigest()
    for expected_seq, (seq, name) in enumerate(numbered, start=1):
        if seq != expected_seq:
            report.problem("custody", name, f"custody entry {expected_seq:04d} is missing before it (removed)")
        document = _dict(_json(files, name, report))
        entry = _dict(document.get("entry"))
        signature, key = _hex(document.get("signature"), 64), _hex(entry.get("public_key"), 32)
        if not entry or signature is None or key is None:
            report.problem("custody", name, "not a signed custody entry")
            prev_hash = hashlib.sha256(files.read(name)).hexdigest()
            continue
        if not _ed25519_ok(key, canonical_json(entry), signature):
            report.problem("custody", name, "its signature does not match the entry: changed after it was signed")
        if entry.get("prev_sha256") != prev_hash:
            before = "manifest.json" if expected_seq == 1 else numbered[expected_seq - 2][1]
            report.problem("custody", name, f"does not follow {before} (its prev_sha256 is another file's hash)")
        if entry.get("seq") != seq or entry.get("package_id") != report.manifest.get("package_id"):
            report.problem("custody", name, "its number or package id is not this file's or this package's")
        if expected_seq == 1 and entry.get("action") != "exported":
            report.problem("custody", name, "the first custody entry must record the export")
        if site_key is not None and key != site_key:
            report.notes.append(f"{name} is signed by another key (fingerprint {fingerprint_of(key)})")
        report.custody.append(entry)
        prev_hash = hashlib.sha256(files.read(name)).hexdigest()


def ledger_entry_hash(prev: Any, fields: Any) -> str:
    """As Vigil chains its deletion ledger: SHA-256 of the previous entry's hash, "|" and the fields' JSON."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(((prev or "") + "|" + body).encode()).hexdigest()


def check_ledger(files: PackageFiles, report: Report, listed: set[str]) -> None:
    """A destruction certificate's ledger: every entry's hash recomputed from its fields and the entry before it,
    the stretch joined to what the manifest says it follows and ends with, and the totals the manifest states."""
    about = _dict(report.manifest.get("ledger"))
    name = about.get("file")
    if not isinstance(name, str) or name not in listed:
        report.problem("ledger", MANIFEST, "the certificate names no ledger file that the manifest lists")
        return
    if name not in files.names():
        return  # (already reported missing)
    entries = _json(files, name, report)
    if not isinstance(entries, list):
        report.problem("ledger", name, "not a list of ledger entries")
        return
    expected = about.get("follows")
    total = 0
    for index, raw in enumerate(entries):
        entry = _dict(raw)
        fields = _dict(entry.get("fields"))
        label = f"{name}[{index}] (entry {entry.get('id')})"
        if entry.get("prev_entry_sha256") != expected:
            report.problem("ledger", label, "does not follow the entry before it: an entry was removed or inserted")
        if ledger_entry_hash(entry.get("prev_entry_sha256"), fields) != entry.get("entry_sha256"):
            report.problem("ledger", label, "its hash does not cover its fields: changed after it was written")
        expected = entry.get("entry_sha256")
        size = fields.get("size_bytes")
        total += size if isinstance(size, int) else 0
    if entries and expected != about.get("last_entry_sha256"):
        report.problem("ledger", name, "its last entry is not the one the manifest says the period ends with")
    destroyed = _dict(report.manifest.get("destroyed"))
    if about.get("entries") != len(entries) or destroyed.get("segments") != len(entries):
        report.problem("ledger", name, f"{len(entries)} entries, not the number the manifest states")
    if destroyed.get("bytes") != total:
        report.problem("ledger", name, f"{total} bytes destroyed by its entries, not what the manifest states")
    for problem in about.get("problems") or []:
        report.notes.append(f"the site found when it made the certificate: {problem}")
    report.ledger_entries = len(entries)


def verify(path: Path, expect_fingerprint: str | None = None) -> Report:
    """Check the package at ``path`` (folder or .zip). Raises PackageError when it cannot be checked at all."""
    files = PackageFiles(path)
    report = Report(str(path))
    try:
        for name in files.duplicates:
            report.problem("duplicate", name, "the zip holds two files of this name (one may hide the other)")
        for name in files.names():
            if not safe_name(name):
                report.problem("unsafe_name", name, "a file name that would escape the package")
        if MANIFEST not in files.names():
            raise PackageError(f"{path} has no {MANIFEST}: not a Vigil evidence package")
        manifest = _json(files, MANIFEST, report)
        report.manifest = manifest if isinstance(manifest, dict) else {}
        certificate = report.manifest.get("format") == DESTRUCTION
        if report.manifest.get("format") not in (FORMAT, DESTRUCTION):
            report.problem("unreadable", MANIFEST, f"not a {FORMAT} or {DESTRUCTION} manifest")
        site_key = check_signature(files, report, expect_fingerprint)
        listed = check_files(files, report)
        if certificate:
            check_ledger(files, report, listed)
        else:
            check_custody(files, report, site_key)
        for name in files.names():
            if name not in listed and name not in (MANIFEST, SIGNATURE) and not CUSTODY_NAME.match(name):
                report.problem("added", name, "in the package but not in the manifest (added after signing)")
    finally:
        files.close()
    return report


def render_certificate(report: Report) -> str:
    m = report.manifest
    period, site, destroyed = _dict(m.get("period")), _dict(m.get("site")), _dict(m.get("destroyed"))
    fp = report.fingerprint
    lines = [
        f"Vigil destruction certificate: {report.location}",
        f"  {m.get('certificate_id', '?')}, made {m.get('created', '?')} at {site.get('name', '?')}",
        f"  period {period.get('start', '?')} to {period.get('end', '?')}: {destroyed.get('segments', '?')} "
        f"segment(s), {destroyed.get('bytes', '?')} bytes destroyed, cameras {', '.join(destroyed.get('cameras', []))}",
        f"  signing key fingerprint: {' '.join(fp[i : i + 4] for i in range(0, len(fp), 4)) or 'none'}",
        f"  checked {report.files_checked} files and {report.ledger_entries} ledger entries",
    ]
    for row in destroyed.get("by") or []:
        row = _dict(row)
        lines.append(
            f"  {row.get('camera_id')}/{row.get('stream')}: {row.get('segments')} segment(s) by rule {row.get('rule')} "
            f"from {', '.join(row.get('tiers') or [])}, footage {row.get('footage_from')} to {row.get('footage_to')}"
        )
    for early in m.get("early_deletions") or []:
        early = _dict(early)
        lines.append(
            f"  early deletion {early.get('id')}: {early.get('camera_id')} {early.get('start')} to {early.get('end')}, "
            f"asked by {early.get('requested_by')}, approved by {early.get('approved_by')}: {early.get('reason')}"
        )
    lines += [f"  note: {note}" for note in report.notes]
    lines += [f"PROBLEM {problem}" for problem in report.problems]
    lines.append("RESULT: INTACT" if report.ok else f"RESULT: NOT INTACT ({len(report.problems)} problem(s))")
    return "\n".join(lines)


def render(report: Report) -> str:
    m = report.manifest
    if m.get("format") == DESTRUCTION:
        return render_certificate(report)
    request, site = _dict(m.get("request")), _dict(m.get("site"))
    asked = f"{request.get('requested_by', '?')} for {request.get('recipient', '?')}: {request.get('reason', '')}"
    gaps = m.get("gaps")
    fp = report.fingerprint
    lines = [
        f"Vigil evidence package: {report.location}",
        f"  package {m.get('package_id', '?')}, made {m.get('created', '?')} at {site.get('name', '?')}",
        f"  cameras {', '.join(request.get('cameras', []))}, {request.get('start', '?')} to {request.get('end', '?')}",
        f"  asked by {asked}",
        f"  signing key fingerprint: {' '.join(fp[i : i + 4] for i in range(0, len(fp), 4)) or 'none'}",
        f"  checked {report.files_checked} files ({report.bytes_checked} bytes) and {len(report.custody)} custody "
        "entries",
    ]
    for entry in report.custody:
        lines.append(
            f"  custody {entry.get('seq')}: {entry.get('at')} {entry.get('action')} by {entry.get('by')} "
            f"to {entry.get('to')}"
        )
    for gap in gaps if isinstance(gaps, list) else []:
        gap = _dict(gap)
        lines.append(f"  gap on {gap.get('camera_id')}: {gap.get('start')} to {gap.get('end')} ({gap.get('cause')})")
    lines += [f"  note: {note}" for note in report.notes]
    lines += [f"PROBLEM {problem}" for problem in report.problems]
    lines.append("RESULT: INTACT" if report.ok else f"RESULT: NOT INTACT ({len(report.problems)} problem(s))")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Vigil evidence package (folder or .zip).")
    parser.add_argument("package", nargs="?", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--expect-fingerprint", help="the site key's fingerprint as the site published it")
    args = parser.parse_args(argv)
    try:
        import nacl.signing  # noqa: F401 (checked before anything is read)
    except ImportError:
        print("verify_package.py needs PyNaCl: pip install pynacl (or: apt install python3-nacl)", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        report = verify(Path(args.package), args.expect_fingerprint)
    except (PackageError, OSError, zipfile.BadZipFile) as exc:
        print(f"cannot check {args.package}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(render(report))
    return EXIT_INTACT if report.ok else EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())

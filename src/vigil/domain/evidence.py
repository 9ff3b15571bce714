"""Evidence packages: what a package holds and how its manifest and custody entries are written. Pure.

A package is a folder (or the same folder as a .zip; ADR 0008)::

    README.txt               for the recipient: what this is and how to check it
    verify_package.py        the standalone verifier (Python 3 and PyNaCl)
    manifest.json            every other file's SHA-256 and size, the clips' source segments and their hash chain,
                             the gaps with their causes, who asked, why, for whom, the legal holds placed
    manifest.sig             Ed25519 signature of manifest.json's exact bytes, with the site's public key
    custody/0001.json ...    the chain of custody: entry 1 is the export; each later handover is appended, signed,
                             and chained to the one before (entry 1 to the SHA-256 of manifest.json)
    clips/<camera>/...mp4    one per camera per recorded span, remuxed from the segments (no re-encoding), or re-encoded
                             with the camera's privacy masks burned in (``privacy`` in the manifest says which)
    snapshots/<camera>/...   the events' snapshots
    records/*.json           events, the audit entries touching the footage, gaps, and any records the caller adds

A redacted package (faces, plates, people hidden) has the same layout; its clips are the original package's clips
re-encoded, and its manifest's ``redaction`` names the original package and the SHA-256 of its manifest.

The manifest is signed as written (its exact bytes); custody entries are signed over :func:`canonical_json` of
the entry. ``vigil.verify_package`` checks all of it without importing Vigil, so these formats are a contract:
change one only with a new :data:`FORMAT`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigil.domain.errors import InvalidRequest
from vigil.domain.privacy import check_style, parse_redaction
from vigil.domain.segment import Segment
from vigil.domain.timeutil import iso_precise_from_us

FORMAT = "vigil-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
CUSTODY_DIR = "custody"
VERIFIER = "verify_package.py"
README = "README.txt"
SIGNATURE_ALGORITHM = "Ed25519"
MAX_CAMERAS = 64
MAX_TEXT_CHARS = 2000
_RECORD_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
RESERVED_RECORDS = frozenset({"events", "audit", "gaps", "holds"})


def canonical_json(value: Any) -> bytes:
    """JSON with keys sorted, no whitespace, non-ASCII kept, UTF-8: the bytes a custody entry's signature covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def document_bytes(value: Any) -> bytes:
    """A JSON file of the package as written (indented for people to read, keys sorted, a final newline)."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode()


def key_fingerprint(public_key: bytes) -> str:
    """The SHA-256 (hex) of a raw 32-byte Ed25519 public key: what people compare to recognise the site's key."""
    return hashlib.sha256(public_key).hexdigest()


def spaced(fingerprint: str) -> str:
    """A fingerprint in groups of four for reading aloud or comparing by eye."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


def moment(name: str, at_us: int) -> dict[str, Any]:
    """``{name_us: 1764..., name: "2026-...Z"}``: every time of a package in UTC microseconds and ISO 8601."""
    return {f"{name}_us": at_us, name: iso_precise_from_us(at_us)}


def custody_name(seq: int) -> str:
    return f"{CUSTODY_DIR}/{seq:04d}.json"


@dataclass(frozen=True, slots=True)
class EvidenceRequest:
    """What someone asks to be exported. ``records`` are further JSON documents to include as ``records/<name>.json``
    (an incident's records, later), each named in lower case."""

    camera_ids: tuple[str, ...]
    start_us: int
    end_us: int
    reason: str
    recipient: str
    requested_by: str
    client: str = ""
    stream: str = "main"
    include_events: bool = True
    records: Mapping[str, Any] = field(default_factory=dict)
    unmasked: bool = False  # the original pictures (the exporter may view them unmasked and asks for them)
    redact: frozenset[str] = frozenset()  # also make a redacted package: faces, plates, people
    redact_style: str = "blur"


def check_request(request: EvidenceRequest, max_range_us: int) -> EvidenceRequest:
    """The request with its texts trimmed; InvalidRequest naming what is wrong. A package always needs a reason
    and a recipient: it places a legal hold and starts a chain of custody."""
    cameras = tuple(dict.fromkeys(c.strip() for c in request.camera_ids))
    if not cameras or not all(cameras):
        raise InvalidRequest("cameras: name at least one camera")
    if len(cameras) > MAX_CAMERAS:
        raise InvalidRequest(f"cameras: at most {MAX_CAMERAS} in one package")
    if request.end_us <= request.start_us:
        raise InvalidRequest("the end of the range must be after its start")
    if request.end_us - request.start_us > max_range_us:
        raise InvalidRequest(f"the range is longer than {max_range_us // 3_600_000_000} hours; export it in parts")
    texts = {"reason": request.reason, "recipient": request.recipient, "requested_by": request.requested_by}
    for name, text in texts.items():
        if not text.strip():
            raise InvalidRequest(f"{name}: required for an evidence package")
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidRequest(f"{name}: at most {MAX_TEXT_CHARS} characters")
    for name in request.records:
        if not _RECORD_NAME.match(name) or name in RESERVED_RECORDS:
            raise InvalidRequest(f"records: {name!r} is not a free record name (lower-case letters, digits, - and _)")
    return EvidenceRequest(
        camera_ids=cameras,
        start_us=request.start_us,
        end_us=request.end_us,
        reason=request.reason.strip(),
        recipient=request.recipient.strip(),
        requested_by=request.requested_by.strip(),
        client=request.client,
        stream=request.stream,
        include_events=request.include_events,
        records=dict(request.records),
        unmasked=request.unmasked,
        redact=parse_redaction(request.redact),
        redact_style=check_style(request.redact_style),
    )


@dataclass(frozen=True, slots=True)
class PackageFile:
    path: str  # relative, with forward slashes
    size_bytes: int
    sha256: str
    kind: str  # clip | snapshot | record | readme | verifier

    def entry(self) -> dict[str, Any]:
        return {"path": self.path, "size_bytes": self.size_bytes, "sha256": self.sha256, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class PackageClip:
    path: str
    camera_id: str
    stream: str
    start_us: int  # the clip's first frame (a keyframe at or before the start asked for)
    end_us: int
    frame_count: int
    sources: tuple[Segment, ...]  # the recorded segments it was joined from, in order


@dataclass(frozen=True, slots=True)
class FootageGap:
    """A stretch of the range with no footage in the package, and why: a recorded gap's cause (``timeout``,
    ``process_down`` ...), ``deleted`` (lawfully, per the deletion ledger), ``missing_file`` or ``altered`` (a
    catalogued segment whose file is gone or no longer matches its hash), or ``unknown`` (no cause on record)."""

    camera_id: str
    stream: str
    start_us: int
    end_us: int
    cause: str
    detail: str = ""
    segments: tuple[Mapping[str, Any], ...] = ()  # the deleted, missing or altered segments behind it

    def entry(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "stream": self.stream,
            **moment("start", self.start_us),
            **moment("end", self.end_us),
            "duration_us": self.end_us - self.start_us,
            "cause": self.cause,
            "detail": self.detail,
            "segments": [dict(s) for s in self.segments],
        }


def chain_links(sources: Sequence[Segment], ledgered: set[str]) -> list[str]:
    """How each source segment (one stream, in order) links into its stream's hash chain: ``previous_source``
    (its ``prev_sha256`` is the hash of a segment earlier in this package), ``deleted_segment`` (of a segment
    lawfully deleted, in the ledger), ``start_of_stream`` (the stream's first segment) or ``outside_package``."""
    seen: set[str] = set()
    links = []
    for seg in sources:
        if seg.prev_sha256 is None:
            links.append("start_of_stream")
        elif seg.prev_sha256 in seen:
            links.append("previous_source")
        elif seg.prev_sha256 in ledgered:
            links.append("deleted_segment")
        else:
            links.append("outside_package")
        seen.add(seg.sha256)
    return links


def source_entry(seg: Segment, link: str) -> dict[str, Any]:
    return {
        "segment_id": seg.id,
        "path": seg.path,
        **moment("start", seg.start_us),
        **moment("end", seg.end_us),
        "size_bytes": seg.size_bytes,
        "sha256": seg.sha256,
        "prev_sha256": seg.prev_sha256,
        "chain_link": link,
        "recovered": seg.recovered,
        "codec": seg.codec,
        "width": seg.width,
        "height": seg.height,
    }


def clip_entry(clip: PackageClip, ledgered: set[str], earlier: Sequence[Segment] = ()) -> dict[str, Any]:
    """The manifest's record of one clip; ``earlier`` are the sources of the same stream's earlier clips (so a
    clip after a gap shows whether its first segment follows the last one before the gap)."""
    links = chain_links([*earlier, *clip.sources], ledgered)[len(earlier) :]
    return {
        "path": clip.path,
        "camera_id": clip.camera_id,
        "stream": clip.stream,
        **moment("start", clip.start_us),
        **moment("end", clip.end_us),
        "frame_count": clip.frame_count,
        "sources": [source_entry(s, link) for s, link in zip(clip.sources, links, strict=True)],
    }


def custody_entry(
    seq: int,
    package_id: str,
    action: str,
    at_us: int,
    by: str,
    to: str,
    note: str,
    prev_sha256: str,
    public_key_hex: str,
) -> dict[str, Any]:
    """One act in the chain of custody (``exported`` first, then ``handed_over``): who gave it to whom, when, and
    the SHA-256 of what came before (the manifest for entry 1, the previous custody file's bytes after)."""
    if not by.strip() or not to.strip():
        raise InvalidRequest("custody: who hands the package over and who receives it must both be named")
    return {
        "seq": seq,
        "package_id": package_id,
        "action": action,
        **moment("at", at_us),
        "by": by.strip(),
        "to": to.strip(),
        "note": note.strip(),
        "prev_sha256": prev_sha256,
        "public_key": public_key_hex,
    }


def custody_document(entry: Mapping[str, Any], signature: bytes) -> bytes:
    """A custody file: the entry and the Ed25519 signature of its canonical JSON."""
    return document_bytes({"entry": dict(entry), "signature": signature.hex()})


def signature_document(public_key: bytes, signature: bytes) -> bytes:
    return document_bytes(
        {
            "algorithm": SIGNATURE_ALGORITHM,
            "signed_file": MANIFEST,
            "public_key": public_key.hex(),
            "key_fingerprint": key_fingerprint(public_key),
            "signature": signature.hex(),
        }
    )


def safe_part(text: str) -> str:
    """A piece of a file name from free text (a camera id is already safe; this keeps it so)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "x"


def stamp(at_us: int) -> str:
    """``20261124T100000Z``: an instant as a compact piece of a file name (UTC, to the second)."""
    iso = iso_precise_from_us(at_us)
    return iso[:19].replace("-", "").replace(":", "") + "Z"


@dataclass(frozen=True, slots=True)
class PackageRecord:
    """One evidence package in the site's register (``vigil evidence list``)."""

    id: str
    created_us: int
    requested_by: str
    client: str
    reason: str
    recipient: str
    cameras: tuple[str, ...]
    stream: str
    start_us: int
    end_us: int
    path: str
    manifest_sha256: str
    key_fingerprint: str
    file_count: int
    size_bytes: int
    gap_count: int
    masks_applied: bool = False  # privacy masks burned into its pictures
    redaction_of: str | None = None  # a redacted package: the id of the original it was made from
    redacted: str = ""  # what a redacted package hides: faces,plates,people

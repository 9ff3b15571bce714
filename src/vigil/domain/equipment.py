"""The equipment register as data: cameras' device records and the equipment cameras depend on (Vigil nodes and
their disks, switches and their port groups, power supplies and UPSs, third-party recorders), the links between
them, and what follows from the links. Pure: no I/O, no clock reads.

Every piece of equipment has a stable ``id`` (a camera's is its camera id) and names what it *depends on*
(``depends_on``: other equipment, with the port or outlet used). The links form a directed graph that must have no
cycle (:func:`dependency_cycle`); a camera depends on its PoE switch port group, the port group on its switch, the
switch on a UPS. :func:`upstream` walks the links up (what a camera needs to work); :func:`downstream` walks them
down (what stops when a switch dies: the root-cause grouping of outages, ``vigil.domain.tickets``).

A record changes only as a whole new revision (``revision`` + 1); every change is kept in the history with the
fields that changed, who changed them and when (:func:`changed_fields`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from enum import StrEnum
from typing import Any

from vigil.domain.errors import InvalidRequest

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,62}$")
MAC_PATTERN = re.compile(r"^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$")
MAX_TEXT_CHARS = 2000
MAX_NAME_CHARS = 200
MAX_LINKS = 16


class EquipmentKind(StrEnum):
    CAMERA = "camera"
    NODE = "node"  # a Vigil node (this machine, or another)
    DISK = "disk"  # a disk of a node
    SWITCH = "switch"
    PORT_GROUP = "port_group"  # a group of ports of a switch (a PoE budget, a VLAN, a line card)
    POWER = "power"  # a power supply, a UPS, a circuit
    RECORDER = "recorder"  # a third-party recorder (NVR/DVR) a camera is also recorded by
    OTHER = "other"


class EquipmentChange(StrEnum):
    """What happened to a record (its history)."""

    REGISTERED = "registered"
    CHANGED = "changed"
    REPLACED = "replaced"  # a camera's device was replaced (old and new device in the detail)
    REMOVED = "removed"  # the camera left the configuration, or the equipment was taken out
    RESTORED = "restored"  # it came back
    DOCUMENT_ADDED = "document_added"
    DOCUMENT_REMOVED = "document_removed"


@dataclass(frozen=True, slots=True)
class Dependency:
    """One link: this equipment needs ``equipment_id`` (through ``port``: a switch port, an outlet)."""

    equipment_id: str
    port: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"equipment_id": self.equipment_id, "port": self.port}


@dataclass(frozen=True, slots=True)
class Equipment:
    id: str
    kind: EquipmentKind
    name: str
    site: str = "default"
    location: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""
    ip: str = ""
    mac: str = ""
    vendor: str = ""  # who maintains it: a vendor's accounts see only their own equipment
    vendor_contact: str = ""
    installer_contact: str = ""
    installed: str = ""  # YYYY-MM-DD
    warranty_end: str = ""  # YYYY-MM-DD
    lens: str = ""  # e.g. "2.8 mm fixed", "2.7-13.5 mm motorised"
    fov_deg: float | None = None  # horizontal field of view
    mount_height_m: float | None = None
    notes: str = ""
    depends_on: tuple[Dependency, ...] = ()
    revision: int = 0  # 1 for the first stored version, + 1 for every change
    updated_us: int = 0
    updated_by: str = ""
    removed_us: int | None = None  # taken out of service (its history and tickets stay)

    @property
    def active(self) -> bool:
        return self.removed_us is None


# the fields a person edits (everything but the identity and the bookkeeping)
EDITABLE = tuple(
    f.name for f in fields(Equipment) if f.name not in ("id", "kind", "revision", "updated_us", "updated_by")
)
TEXT_FIELDS = tuple(
    n
    for n in EDITABLE
    if n not in ("fov_deg", "mount_height_m", "depends_on", "removed_us", "installed", "warranty_end")
)
DEVICE_FIELDS = (
    "model",
    "serial",
    "firmware",
    "ip",
    "mac",
    "installed",
    "lens",
    "fov_deg",
)  # what a replacement renews


def check_id(equipment_id: str) -> str:
    value = equipment_id.strip()
    if not ID_PATTERN.match(value):
        raise InvalidRequest(
            f"id: {equipment_id!r} must be 1-63 lower-case letters, digits, '-', '_', '.' or ':' (starting with a "
            "letter or digit)"
        )
    return value


def _check_date(name: str, value: str) -> None:
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise InvalidRequest(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def check_equipment(e: Equipment) -> Equipment:
    """The record with its text trimmed, or InvalidRequest naming the first bad field."""
    check_id(e.id)
    if not isinstance(e.kind, EquipmentKind):
        raise InvalidRequest(f"kind: {e.kind!r} is not one of {', '.join(EquipmentKind)}")
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        text = getattr(e, name)
        if not isinstance(text, str):
            raise InvalidRequest(f"{name}: must be text")
        text = text.strip()
        limit = MAX_NAME_CHARS if name != "notes" else MAX_TEXT_CHARS
        if len(text) > limit:
            raise InvalidRequest(f"{name}: at most {limit} characters")
        values[name] = text
    if not values["name"]:
        raise InvalidRequest("name: must not be empty")
    if values["ip"]:
        try:
            ipaddress.ip_address(values["ip"])
        except ValueError:
            raise InvalidRequest(f"ip: {values['ip']!r} is not an IPv4 or IPv6 address") from None
    if values["mac"]:
        values["mac"] = values["mac"].lower()
        if not MAC_PATTERN.match(values["mac"]):
            raise InvalidRequest(f"mac: {e.mac!r} is not a MAC address (six hex pairs, e.g. 00:1a:2b:3c:4d:5e)")
    _check_date("installed", e.installed)
    _check_date("warranty_end", e.warranty_end)
    if e.fov_deg is not None and not 1 <= e.fov_deg <= 360:
        raise InvalidRequest("fov_deg: must be between 1 and 360 degrees")
    if e.mount_height_m is not None and not 0 <= e.mount_height_m <= 500:
        raise InvalidRequest("mount_height_m: must be between 0 and 500 metres")
    if len(e.depends_on) > MAX_LINKS:
        raise InvalidRequest(f"depends_on: at most {MAX_LINKS} links")
    seen: set[str] = set()
    for link in e.depends_on:
        check_id(link.equipment_id)
        if link.equipment_id == e.id:
            raise InvalidRequest(f"depends_on: {e.id!r} cannot depend on itself")
        if link.equipment_id in seen:
            raise InvalidRequest(f"depends_on: {link.equipment_id!r} is named twice")
        if len(link.port) > 64:
            raise InvalidRequest("depends_on: a port name has at most 64 characters")
        seen.add(link.equipment_id)
    return replace(e, **values)


def changed_fields(old: Equipment | None, new: Equipment) -> dict[str, list[Any]]:
    """``{field: [old value, new value]}`` for every editable field that differs (links as lists of dicts)."""

    def plain(e: Equipment | None, name: str) -> Any:
        if e is None:
            return None
        value = getattr(e, name)
        if name == "depends_on":
            return [d.as_dict() for d in value]
        return value

    out: dict[str, list[Any]] = {}
    for name in EDITABLE:
        before, after = plain(old, name), plain(new, name)
        if before != after and not (old is None and after in ("", None, [])):
            out[name] = [before, after]
    return out


Graph = Mapping[str, Sequence[str]]  # equipment id -> the ids it depends on


def graph_of(items: Iterable[Equipment]) -> dict[str, tuple[str, ...]]:
    """The dependency graph of the active records."""
    return {e.id: tuple(d.equipment_id for d in e.depends_on) for e in items if e.active}


def dependency_cycle(graph: Graph, equipment_id: str, depends_on: Sequence[str]) -> list[str] | None:
    """The cycle ``equipment_id`` would close by depending on ``depends_on`` (as a path that starts and ends with
    it, e.g. ``[a, b, c, a]``), or None when the links stay acyclic."""
    edges = {**graph, equipment_id: tuple(depends_on)}
    for start in depends_on:
        stack: list[tuple[str, list[str]]] = [(start, [equipment_id, start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            if node == equipment_id:
                return path
            if node in seen:
                continue
            seen.add(node)
            for nxt in edges.get(node, ()):
                stack.append((nxt, [*path, nxt]))
    return None


def upstream(graph: Graph, equipment_id: str) -> list[str]:
    """Everything ``equipment_id`` depends on, directly or not, nearest first (breadth first)."""
    out: list[str] = []
    seen = {equipment_id}
    frontier = list(graph.get(equipment_id, ()))
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            if node in seen:
                continue
            seen.add(node)
            out.append(node)
            nxt.extend(graph.get(node, ()))
        frontier = nxt
    return out


def downstream(graph: Graph, equipment_id: str) -> set[str]:
    """Everything that depends on ``equipment_id``, directly or not."""
    below: dict[str, list[str]] = {}
    for node, ups in graph.items():
        for up in ups:
            below.setdefault(up, []).append(node)
    out: set[str] = set()
    frontier = list(below.get(equipment_id, ()))
    while frontier:
        node = frontier.pop()
        if node in out:
            continue
        out.add(node)
        frontier.extend(below.get(node, ()))
    return out


def dependencies_from(items: Sequence[Mapping[str, Any] | str] | None) -> tuple[Dependency, ...]:
    """Links from plain data (``[{"equipment_id": ..., "port": ...}]``, or ``"id"`` / ``"id:port"`` strings)."""
    out: list[Dependency] = []
    for item in items or ():
        if isinstance(item, str):
            ident, _, port = item.partition("@")
            out.append(Dependency(ident.strip(), port.strip()))
        else:
            out.append(Dependency(str(item.get("equipment_id", "")).strip(), str(item.get("port", "") or "").strip()))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class EquipmentHistoryEntry:
    equipment_id: str
    at_us: int
    actor: str
    change: str  # EquipmentChange
    revision: int  # the record's revision after the change
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Document:
    """A file kept with a piece of equipment (a datasheet, a photo of the installation), stored by its SHA-256."""

    id: int
    equipment_id: str
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    added_us: int
    added_by: str
    removed_us: int | None = None
    removed_by: str | None = None


DOCUMENT_TYPES = {  # what a document may be, by its first bytes (never by its name alone)
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
    "text/plain": (),
}
DOCUMENT_SUFFIXES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".txt": "text/plain",
}
MAX_DOCUMENT_NAME = 200


def document_type(name: str, head: bytes) -> str:
    """The content type of an uploaded document, checked against what its bytes are: InvalidRequest when the name
    promises something the bytes are not (a ``.pdf`` that is an executable), or a kind not kept."""
    clean = name.strip().replace("\\", "/").rsplit("/", 1)[-1]
    if not clean or len(clean) > MAX_DOCUMENT_NAME or any(ord(ch) < 32 for ch in clean):
        raise InvalidRequest(f"name: a file name of 1-{MAX_DOCUMENT_NAME} printable characters")
    suffix = "." + clean.rsplit(".", 1)[-1].lower() if "." in clean else ""
    wanted = DOCUMENT_SUFFIXES.get(suffix)
    if wanted is None:
        raise InvalidRequest(
            f"name: {clean!r}: documents are {', '.join(sorted(DOCUMENT_SUFFIXES))} files (PDF, pictures, text)"
        )
    if not head:
        raise InvalidRequest(f"{clean!r} is empty")
    magic = DOCUMENT_TYPES[wanted]
    if wanted == "text/plain":
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a character cut at the end of the head is fine
                raise InvalidRequest(f"{clean!r} is not UTF-8 text, whatever its name says") from None
        if b"\x00" in head:
            raise InvalidRequest(f"{clean!r} is not text (it holds NUL bytes), whatever its name says")
    elif not any(head.startswith(m) for m in magic) or (wanted == "image/webp" and head[8:12] != b"WEBP"):
        raise InvalidRequest(f"{clean!r} is not a {suffix[1:].upper()} file, whatever its name says")
    return wanted


def document_name(name: str) -> str:
    """The name a document is kept under: its last path part, trimmed."""
    return name.strip().replace("\\", "/").rsplit("/", 1)[-1]

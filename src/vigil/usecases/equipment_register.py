"""The equipment register: every camera's device record and the equipment cameras depend on, changed by people
(the console, the API, ``vigil equipment``) and by ``vigil.yaml``, each change kept in the record's history and
written to the audit log.

Cameras come from the configuration: :meth:`EquipmentRegister.sync` registers each camera (and this node and its
disk) and applies what ``cameras[].device`` says. The device block *seeds* the record: a value written there is put in
the record when it first appears or when it changes in the file, and a value changed in the console stays until the
file changes that key again (ADR 0015). A camera that leaves the configuration keeps its record, marked removed, with
its history and tickets.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from vigil.config.models import CameraConfig, Config
from vigil.domain.audit import SYSTEM_ACTOR, AuditAction
from vigil.domain.equipment import (
    DEVICE_FIELDS,
    EDITABLE,
    Dependency,
    Document,
    Equipment,
    EquipmentChange,
    EquipmentHistoryEntry,
    EquipmentKind,
    changed_fields,
    check_equipment,
    check_id,
    dependencies_from,
    dependency_cycle,
    document_name,
    document_type,
    graph_of,
)
from vigil.domain.errors import Conflict, InvalidRequest, NotFound
from vigil.domain.tiers import storage_equipment
from vigil.domain.timeutil import datetime_from_us
from vigil.ports import AuditLog, Clock, EquipmentStore, MaintenanceFileStore

log = logging.getLogger(__name__)
CONFIG_ACTOR = "vigil.yaml"
NUMBERS = ("fov_deg", "mount_height_m")


def camera_seed(cam: CameraConfig) -> dict[str, Any]:
    """What ``vigil.yaml`` says of a camera's record."""
    d = cam.device
    host = urlsplit(cam.streams.main.url).hostname or ""
    seed: dict[str, Any] = {"name": cam.name, "site": cam.site, "location": cam.location}
    for name in ("model", "serial", "firmware", "vendor", "lens", "notes"):
        value = getattr(d, name)
        if value is not None:
            seed[name] = value
    if d.installed is not None:
        seed["installed"] = d.installed.isoformat()
    if d.warranty_end is not None:
        seed["warranty_end"] = d.warranty_end.isoformat()
    for name in NUMBERS:
        if getattr(d, name) is not None:
            seed[name] = float(getattr(d, name))
    if d.depends_on:
        seed["depends_on"] = [link.as_dict() for link in dependencies_from(d.depends_on)]
    try:
        ipaddress.ip_address(host)
        seed["ip"] = host
    except ValueError:
        pass
    return seed


def with_values(item: Equipment, values: Mapping[str, Any]) -> Equipment:
    """The record with ``values`` (plain data, as the API and the seed give them) put in."""
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise InvalidRequest(f"{unknown[0]}: not a field of the register (fields: {', '.join(EDITABLE)})")
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "depends_on":
            out[name] = dependencies_from(value)
        elif name in NUMBERS:
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise InvalidRequest(f"{name}: must be a number")
            out[name] = None if value is None else float(value)
        elif name == "removed_us":
            raise InvalidRequest("removed_us: remove equipment with its own act")
        else:
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise InvalidRequest(f"{name}: must be text")
            out[name] = value
    return replace(item, **out)


class EquipmentRegister:
    def __init__(
        self,
        store: EquipmentStore,
        files: MaintenanceFileStore,
        audit: AuditLog,
        clock: Clock,
        documents_max_bytes: int = 20 * 2**20,
    ) -> None:
        self.store, self.files, self.audit, self.clock = store, files, audit, clock
        self.documents_max_bytes = documents_max_bytes

    # --- reading ---------------------------------------------------------------------------------------------
    def get(self, equipment_id: str) -> Equipment:
        found = self.store.get(equipment_id)
        if found is None:
            raise NotFound(f"no equipment with id {equipment_id!r}")
        return found

    def all(self, *, include_removed: bool = False) -> list[Equipment]:
        return self.store.all(include_removed=include_removed)

    def names(self) -> dict[str, str]:
        """Every active record's name, by id."""
        return {e.id: e.name for e in self.store.all()}

    def graph(self) -> dict[str, tuple[str, ...]]:
        return graph_of(self.store.all())

    def history(self, equipment_id: str) -> list[EquipmentHistoryEntry]:
        self.get(equipment_id)
        return self.store.history(equipment_id)

    # --- the configuration's cameras -----------------------------------------------------------------------------
    def sync(self, config: Config, node_id: str = "vigil") -> int:
        """Register this node, its disk, its storage tiers and every camera of ``config``; apply what changed in the
        cameras' device blocks; mark cameras no longer configured removed (and back when they return). How many
        records changed."""
        changed = 0
        node_name = f"Vigil node {socket.gethostname()}"
        tiers = [
            (storage_equipment(node_id, t.name), EquipmentKind.OTHER, f"Storage tier {t.name}", (Dependency(node_id),))
            for t in config.storage.tiers
        ]
        for ident, kind, name, links in (
            (node_id, EquipmentKind.NODE, node_name, ()),
            (f"{node_id}:disk", EquipmentKind.DISK, "Recording disk", (Dependency(node_id),)),
            *tiers,
        ):
            if self.store.get(ident) is None:
                item = Equipment(ident, kind, name, depends_on=links)
                self._add(item, SYSTEM_ACTOR, "", {})
                changed += 1
        configured = {c.id for c in config.cameras}
        for cam in config.cameras:
            changed += self._sync_camera(cam)
        for item in self.store.all():
            if item.kind is EquipmentKind.CAMERA and item.id not in configured:
                now = self.clock.now_us()
                gone = replace(item, removed_us=now)
                self._store(item, gone, CONFIG_ACTOR, "", EquipmentChange.REMOVED, {"why": "not in vigil.yaml"})
                changed += 1
        return changed

    def _sync_camera(self, cam: CameraConfig) -> int:
        seed = camera_seed(cam)
        existing = self.store.get(cam.id)
        if existing is None:
            item = self._valid_seed(Equipment(cam.id, EquipmentKind.CAMERA, cam.name), seed, cam.id)
            self._add(item, CONFIG_ACTOR, "", seed)
            return 1
        old_seed = self.store.seed(cam.id)
        moved = {k: v for k, v in seed.items() if old_seed.get(k) != v}
        dropped = [k for k in old_seed if k not in seed]  # removed from the file: the record keeps its value
        restored = existing.removed_us is not None
        if not moved and not restored and not dropped:
            return 0
        item = self._valid_seed(existing, moved, cam.id)
        if restored:
            item = replace(item, removed_us=None)
        if item == existing:  # the file now says what the record says already
            self.store.set_seed(cam.id, seed)
            return 0
        change = EquipmentChange.RESTORED if restored else EquipmentChange.CHANGED
        self._store(existing, item, CONFIG_ACTOR, "", change, {}, seed=seed)
        return 1

    def _valid_seed(self, item: Equipment, seed: Mapping[str, Any], camera_id: str) -> Equipment:
        values = dict(seed)
        new = with_values(item, values)
        try:
            new = check_equipment(new)
        except InvalidRequest as exc:
            log.warning("camera=%s: vigil.yaml device: %s (the register keeps its value)", camera_id, exc.message)
            bad = exc.message.split(":", 1)[0]
            values.pop(bad, None)
            return self._valid_seed(item, values, camera_id) if bad in seed else item
        links = [d.equipment_id for d in new.depends_on]
        cycle = dependency_cycle(self.graph(), camera_id, links) if links else None
        if cycle is not None:
            log.warning("camera=%s: vigil.yaml device.depends_on makes a cycle: %s", camera_id, " -> ".join(cycle))
            new = replace(new, depends_on=item.depends_on)
        return new

    # --- people's acts ---------------------------------------------------------------------------------------
    def add(self, item: Equipment, by: str, client: str = "") -> Equipment:
        """Register new equipment (not a camera: cameras come from the configuration)."""
        if item.kind is EquipmentKind.CAMERA:
            raise InvalidRequest("kind: cameras are added in the settings (vigil.yaml); their record follows")
        item = check_equipment(replace(item, id=check_id(item.id)))
        self._check_links(item)
        return self._add(item, by, client, None)

    def change(
        self, equipment_id: str, values: Mapping[str, Any], revision: int, by: str, client: str = ""
    ) -> Equipment:
        """Change fields of a record the person saw at ``revision`` (Conflict when someone changed it meanwhile)."""
        current = self.get(equipment_id)
        if current.revision != revision:
            raise Conflict(
                f"equipment {equipment_id!r} was changed meanwhile by {current.updated_by or 'someone'} "
                f"(revision {current.revision}, you saw {revision}); look again"
            )
        if current.kind is EquipmentKind.CAMERA and {"name", "site"} & set(values):
            raise InvalidRequest("name: a camera's name and site are set in the settings (vigil.yaml)")
        new = check_equipment(with_values(current, values))
        if "depends_on" in values:
            self._check_links(new)
        if new == current:
            raise InvalidRequest("nothing to change")
        return self._store(current, new, by, client, EquipmentChange.CHANGED, {})

    def remove(self, equipment_id: str, by: str, reason: str, client: str = "") -> Equipment:
        current = self.get(equipment_id)
        if current.kind is EquipmentKind.CAMERA:
            raise InvalidRequest("a camera is removed in the settings; its record is kept, marked removed")
        if current.removed_us is not None:
            raise Conflict(f"equipment {equipment_id!r} was removed already")
        if not reason.strip():
            raise InvalidRequest("reason: required (it is written to the audit log)")
        users = sorted(e.id for e in self.store.all() if equipment_id in {d.equipment_id for d in e.depends_on})
        if users:
            raise Conflict(f"{', '.join(users)} still depend(s) on {equipment_id!r}: change their links first")
        gone = replace(current, removed_us=self.clock.now_us())
        return self._store(current, gone, by, client, EquipmentChange.REMOVED, {"reason": reason.strip()})

    def replace_device(
        self,
        camera_id: str,
        device: Mapping[str, Any],
        reason: str,
        by: str,
        *,
        ticket_id: int | None = None,
        revision: int | None = None,
        client: str = "",
    ) -> Equipment:
        """A camera's device replaced: the camera keeps its id, recordings, rules, zones and masks; the record takes
        the new device's values and its history keeps the old and the new device, the reason and the ticket."""
        current = self.get(camera_id)
        if current.kind is not EquipmentKind.CAMERA:
            raise InvalidRequest(f"{camera_id!r} is not a camera")
        if revision is not None and revision != current.revision:
            raise Conflict(f"camera {camera_id!r} was changed meanwhile (revision {current.revision}); look again")
        unknown = sorted(set(device) - set(DEVICE_FIELDS))
        if unknown:
            raise InvalidRequest(f"{unknown[0]}: not a device field (fields: {', '.join(DEVICE_FIELDS)})")
        if not reason.strip():
            raise InvalidRequest("reason: say why the device was replaced")
        values = dict(device)
        values.setdefault("installed", self._today())
        new = check_equipment(with_values(current, values))
        if new.serial and new.serial == current.serial and new.model == current.model:
            raise InvalidRequest("serial: the new device has the old one's serial number; give the new one's")
        old_device = {f: getattr(current, f) for f in DEVICE_FIELDS}
        new_device = {f: getattr(new, f) for f in DEVICE_FIELDS}
        detail = {"old": old_device, "new": new_device, "reason": reason.strip(), "ticket": ticket_id}
        return self._store(current, new, by, client, EquipmentChange.REPLACED, detail)

    def _today(self) -> str:
        return datetime_from_us(self.clock.now_us()).date().isoformat()

    def _check_links(self, item: Equipment) -> None:
        known = {e.id for e in self.store.all()}
        for link in item.depends_on:
            if link.equipment_id not in known:
                raise InvalidRequest(f"depends_on: no equipment with id {link.equipment_id!r}")
        cycle = dependency_cycle(self.graph(), item.id, [d.equipment_id for d in item.depends_on])
        if cycle is not None:
            raise InvalidRequest(f"depends_on: that makes a cycle: {' -> '.join(cycle)}")

    # --- documents -----------------------------------------------------------------------------------------------
    def add_document(self, equipment_id: str, name: str, data: bytes, by: str, client: str = "") -> Document:
        """Keep a datasheet or a photo with a record: refused when too large, empty, or not what its name says."""
        self.get(equipment_id)
        if len(data) > self.documents_max_bytes:
            raise InvalidRequest(
                f"{document_name(name)!r} is {len(data)} bytes; documents are at most {self.documents_max_bytes}"
            )
        content_type = document_type(name, data[:4096])
        digest = self.files.put_document(data)
        now = self.clock.now_us()
        doc = Document(0, equipment_id, document_name(name), content_type, len(data), digest, now, by)
        current = self.get(equipment_id)
        entry = EquipmentHistoryEntry(
            equipment_id,
            now,
            by,
            EquipmentChange.DOCUMENT_ADDED,
            current.revision,
            {"name": doc.name, "sha256": digest},
        )
        stored = self.store.add_document(doc, entry)
        self._audit(by, client, equipment_id, EquipmentChange.DOCUMENT_ADDED, {"document": stored.id, "name": doc.name})
        return stored

    def documents(self, equipment_id: str) -> list[Document]:
        self.get(equipment_id)
        return self.store.documents(equipment_id)

    def document(self, equipment_id: str, document_id: int) -> tuple[Document, bytes]:
        doc = self.store.document(document_id)
        if doc is None or doc.equipment_id != equipment_id or doc.removed_us is not None:
            raise NotFound(f"no document {document_id} of {equipment_id!r}")
        return doc, self.files.document(doc.sha256)

    def remove_document(self, equipment_id: str, document_id: int, by: str, client: str = "") -> Document:
        doc, _ = self.document(equipment_id, document_id)
        now = self.clock.now_us()
        current = self.get(equipment_id)
        entry = EquipmentHistoryEntry(
            equipment_id, now, by, EquipmentChange.DOCUMENT_REMOVED, current.revision, {"name": doc.name}
        )
        gone = self.store.remove_document(document_id, by, now, entry)
        self._audit(by, client, equipment_id, EquipmentChange.DOCUMENT_REMOVED, {"document": doc.id, "name": doc.name})
        return gone

    # --- writing ---------------------------------------------------------------------------------------------
    def _add(self, item: Equipment, by: str, client: str, seed: Mapping[str, Any] | None) -> Equipment:
        now = self.clock.now_us()
        item = replace(item, revision=1, updated_us=now, updated_by=by)
        fields = changed_fields(None, item)
        entry = EquipmentHistoryEntry(item.id, now, by, EquipmentChange.REGISTERED, 1, {"fields": fields})
        stored = self.store.add(item, entry, seed)
        self._audit(
            by, client, item.id, EquipmentChange.REGISTERED, {"kind": item.kind.value, "fields": sorted(fields)}
        )
        return stored

    def _store(
        self,
        old: Equipment,
        new: Equipment,
        by: str,
        client: str,
        change: EquipmentChange,
        detail: dict[str, Any],
        seed: Mapping[str, Any] | None = None,
    ) -> Equipment:
        now = self.clock.now_us()
        new = replace(new, revision=old.revision + 1, updated_us=now, updated_by=by)
        fields = changed_fields(old, new)
        entry = EquipmentHistoryEntry(new.id, now, by, change, new.revision, {"fields": fields, **detail})
        stored = self.store.update(new, old.revision, entry, seed)
        self._audit(by, client, new.id, change, {"fields": sorted(fields), **detail})
        return stored

    def _audit(self, by: str, client: str, equipment_id: str, change: str, detail: dict[str, Any]) -> None:
        kind_camera = self.store.get(equipment_id)
        camera = equipment_id if kind_camera is not None and kind_camera.kind is EquipmentKind.CAMERA else None
        self.audit.append(
            self.clock.now_us(),
            by,
            AuditAction.EQUIPMENT,
            camera_id=camera,
            client=client,
            detail={"equipment": equipment_id, "change": str(change), **detail},
        )


def dependents_of(items: Sequence[Equipment], equipment_id: str) -> list[str]:
    """The ids of the records that name ``equipment_id`` among their links."""
    return sorted(e.id for e in items if equipment_id in {d.equipment_id for d in e.depends_on})

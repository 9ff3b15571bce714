"""Changing the settings while Vigil runs: cameras (with their streams, register data, retention, zones, lines,
masks and rules) added, changed and removed from the console, and ``vigil.yaml`` edited by hand.

Every change goes the same way: the whole document is validated by the models that validate the file at
start-up (the same messages, with the path of the bad key), written to the :class:`ConfigStore` (refused if
someone else wrote it meanwhile), written to the audit log (who, which camera, which keys, the reason; never a
value that could be a secret), and put in force (the runtime restarts only the recorders and analysers of the
cameras that changed). A hand edit that does not validate is not put in force: the last good configuration
stays, and :attr:`SettingsEditor.problem` says what is wrong until the file is fixed.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vigil.config.in_force import ConfigInForce
from vigil.config.loader import parse_config
from vigil.config.models import Config
from vigil.domain.audit import SYSTEM_ACTOR, AuditAction, require_reason
from vigil.domain.errors import ConfigError, Conflict, InvalidRequest, NotFound
from vigil.ports import AuditLog, Clock, ConfigStore
from vigil.usecases.camera_documents import changed_keys, shown, with_secrets

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CameraDocument:
    camera: dict[str, Any]  # as shown: no secrets
    revision: str


def restart_needed(old: Config, new: Config) -> list[str]:
    """Settings that changed but take effect only when Vigil is restarted."""
    pairs = {
        "storage.root": (old.storage.root, new.storage.root),
        "storage.catalog_url": (old.storage.catalog_url, new.storage.catalog_url),
        "storage.tiers": (old.storage.tiers, new.storage.tiers),
        "storage.read_cache": (old.storage.read_cache, new.storage.read_cache),
        "server": (old.server, new.server),
        "recording.streams_per_worker": (old.recording.streams_per_worker, new.recording.streams_per_worker),
        "analysis.cameras_per_worker": (old.analysis.cameras_per_worker, new.analysis.cameras_per_worker),
        "analysis.detector": (old.analysis.detector, new.analysis.detector),
        "site.timezone": (old.site.timezone, new.site.timezone),
        "notifications.channels": (old.notifications.channels, new.notifications.channels),
    }
    return [key for key, (a, b) in pairs.items() if a != b]


class SettingsEditor:
    def __init__(
        self, store: ConfigStore, in_force: ConfigInForce, audit: AuditLog, clock: Clock, source: str = "vigil.yaml"
    ) -> None:
        self._store, self._in_force, self._audit, self._clock = store, in_force, audit, clock
        self.source = source
        self._applied = store.revision()  # the revision whose content is in force
        self._started = in_force.current
        self.problem: str | None = None  # why the file on disk is not in force, when it is not
        self._lock = threading.Lock()

    @property
    def restart_pending(self) -> list[str]:
        """Settings changed since start-up that wait for a restart."""
        return restart_needed(self._started, self._in_force.current)

    # --- reading ---------------------------------------------------------------------------------------------
    def cameras(self) -> tuple[list[dict[str, Any]], str]:
        data, revision = self._store.read()
        return [shown(c) for c in _cameras(data)], revision

    def camera(self, camera_id: str) -> CameraDocument:
        data, revision = self._store.read()
        _, doc = _find(data, camera_id)
        return CameraDocument(shown(doc), revision)

    # --- changing --------------------------------------------------------------------------------------------
    def save_camera(
        self,
        actor: str,
        camera_id: str,
        camera: Mapping[str, Any],
        *,
        revision: str | None = None,
        reason: str = "",
        client: str = "",
    ) -> CameraDocument:
        """Add the camera, or replace it whole. ``camera`` is one entry of ``cameras:`` as :meth:`camera` shows it
        (its ``id`` may be left out; if given it must be ``camera_id``)."""
        if camera.get("id", camera_id) != camera_id:
            raise InvalidRequest(f"id: the camera's id is {camera_id!r}; ids cannot be changed (add a new camera)")
        why = self._reason(reason)
        with self._lock:
            data, current = self._read(revision)
            cameras = _cameras(data)
            index = next((i for i, c in enumerate(cameras) if c.get("id") == camera_id), None)
            old = cameras[index] if index is not None else None
            doc = with_secrets({"id": camera_id, **{k: v for k, v in camera.items() if k != "id"}}, old)
            if index is None:
                cameras.append(doc)
            else:
                cameras[index] = doc
            data["cameras"] = cameras
            config = self._validate(data, index if index is not None else len(cameras) - 1, camera_id)
            new_revision = self._write(data, current)
            change = "added" if old is None else "changed"
            keys = changed_keys(old, doc) if old is not None else []  # names only: safe with secrets
            if old is not None and not keys:
                return CameraDocument(shown(doc), new_revision)
            detail: dict[str, Any] = {"camera": camera_id, "change": change}
            if keys:
                detail["keys"] = keys
            self._record(actor, client, why, camera_id, detail)
        self._in_force.replace(config)
        return CameraDocument(shown(doc), new_revision)

    def remove_camera(
        self, actor: str, camera_id: str, *, revision: str | None = None, reason: str = "", client: str = ""
    ) -> str:
        """Remove the camera from the configuration (its recordings stay until retention removes them)."""
        why = self._reason(reason)
        with self._lock:
            data, current = self._read(revision)
            index, _ = _find(data, camera_id)
            cameras = _cameras(data)
            del cameras[index]
            data["cameras"] = cameras
            config = self._validate(data, None, camera_id)
            new_revision = self._write(data, current)
            self._record(actor, client, why, camera_id, {"camera": camera_id, "change": "removed"})
        self._in_force.replace(config)
        return new_revision

    def reload(self) -> bool:
        """Put the file in force if it was changed by hand since it was last applied; True when it was. A file
        that does not validate is left out of force (:attr:`problem` says why) and is tried again when it
        changes."""
        with self._lock:
            revision = self._store.revision()
            if revision == self._applied or not revision:
                return False
            try:
                data, revision = self._store.read()
                config = parse_config(data, self.source)
            except ConfigError as exc:
                if self.problem != exc.message:
                    log.error(
                        "%s was changed but cannot be used; the last good configuration stays: %s",
                        self.source,
                        exc.message,
                    )
                self.problem, self._applied = exc.message, revision
                return False
            old = self._in_force.current
            self.problem, self._applied = None, revision
            detail = {"change": "file edited", "file": self.source, "keys": _config_keys(old, config)}
            self._audit.append(self._clock.now_us(), SYSTEM_ACTOR, AuditAction.CONFIG_CHANGE, detail=detail)
        log.info("%s was changed by hand; the new configuration is in force", self.source)
        self._in_force.replace(config)
        return True

    # --- steps -----------------------------------------------------------------------------------------------
    def _reason(self, reason: str) -> str:
        return require_reason(AuditAction.CONFIG_CHANGE, reason, self._in_force.current.security.require_reason_for)

    def _read(self, revision: str | None) -> tuple[dict[str, Any], str]:
        data, current = self._store.read()
        if revision is not None and revision != current:
            raise Conflict("the settings were changed meanwhile (by someone else, or in the file); reload them")
        return copy.deepcopy(data), current

    def _validate(self, data: dict[str, Any], index: int | None, camera_id: str) -> Config:
        try:
            return parse_config(data, f"camera {camera_id!r}" if index is not None else self.source)
        except ConfigError as exc:
            message = exc.message.replace(f"cameras[{index}].", "") if index is not None else exc.message
            raise ConfigError(message) from None

    def _write(self, data: dict[str, Any], revision: str) -> str:
        new_revision = self._store.write(data, revision)
        self._applied, self.problem = new_revision, None
        return new_revision

    def _record(self, actor: str, client: str, reason: str, camera_id: str, detail: dict[str, Any]) -> None:
        self._audit.append(
            self._clock.now_us(),
            actor,
            AuditAction.CONFIG_CHANGE,
            camera_id=camera_id,
            client=client,
            reason=reason,
            detail=detail,
        )


def _cameras(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    cameras = data.get("cameras") or []
    if not isinstance(cameras, list):
        raise ConfigError("cameras: must be a list")
    for i, cam in enumerate(cameras):
        if not isinstance(cam, dict):
            raise ConfigError(f"cameras[{i}]: must be a mapping of keys")
    return list(cameras)


def _find(data: Mapping[str, Any], camera_id: str) -> tuple[int, dict[str, Any]]:
    for i, cam in enumerate(_cameras(data)):
        if cam.get("id") == camera_id:
            return i, cam
    raise NotFound(f"no camera with id {camera_id!r}")


def _config_keys(old: Config, new: Config) -> list[str]:
    """Which settings a hand edit changed: top-level sections, and cameras by id (no values)."""
    keys = [k for k in type(old).model_fields if k != "cameras" and getattr(old, k) != getattr(new, k)]
    before = {c.id: c for c in old.cameras}
    after = {c.id: c for c in new.cameras}
    keys += [f"cameras.{i}" for i in sorted(before.keys() | after.keys()) if before.get(i) != after.get(i)]
    return keys

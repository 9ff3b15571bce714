"""Where the emergency plans live: one YAML file per incident type (``<type>.yaml``) in the plans folder beside
``vigil.yaml`` (``alarms.plans_dir``), over a built-in library shipped with Vigil (``default_plans/``) for the types the
folder has no file for. ``PlanFolder`` is the :class:`vigil.ports.PlanStore`.

Writes are atomic (a temporary file, fsync, rename, folder fsync) and keep the previous text in
``.vigil-plans-history/`` inside the folder (the newest ``HISTORY_KEEP`` per plan), and are refused when the file
changed on disk since it was read (the revision is the SHA-256 of its bytes; "" for a built-in plan that has no file
yet). The texts are returned as they are: checking them is the use case's (``usecases.plans``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

from vigil.domain.errors import Conflict, InvalidRequest, StorageError
from vigil.durable_files import fsync_dir

BUILT_IN = Path(__file__).resolve().parent / "default_plans"
HISTORY_DIR = ".vigil-plans-history"
HISTORY_KEEP = 50
_TYPE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _revision(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class PlanFolder:
    def __init__(self, folder: Path, built_in: Path = BUILT_IN) -> None:
        self.folder = folder
        self.built_in = built_in
        self._lock = threading.Lock()

    def _file(self, plan_type: str) -> Path:
        if not _TYPE.match(plan_type):
            raise InvalidRequest(f"type: {plan_type!r} is not an incident type (lower-case letters, digits, - and _)")
        return self.folder / f"{plan_type}.yaml"

    def texts(self) -> dict[str, tuple[str, str, bool]]:
        out: dict[str, tuple[str, str, bool]] = {}
        for path in sorted(self.built_in.glob("*.yaml")):
            out[path.stem] = (path.read_text(encoding="utf-8"), "", True)
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.yaml")):
                if not _TYPE.match(path.stem):
                    continue
                try:
                    raw = path.read_bytes()
                    out[path.stem] = (raw.decode("utf-8"), _revision(raw), False)
                except (OSError, UnicodeDecodeError) as exc:
                    out[path.stem] = (f"# {path.name} cannot be read: {exc}\n", "", False)
        return out

    def write(self, plan_type: str, text: str, revision: str) -> str:
        path = self._file(plan_type)
        data = text.encode("utf-8")
        with self._lock:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                raw = path.read_bytes() if path.exists() else None
            except OSError as exc:
                raise StorageError(f"cannot read the plans folder {self.folder}: {exc}") from None
            current = _revision(raw) if raw is not None else ""
            if current != revision:
                raise Conflict(f"the plan {plan_type!r} was changed meanwhile; reload it and try again")
            if raw is not None:
                self._keep(path, raw)
            self._replace(path, data)
            return _revision(data)

    def history(self, plan_type: str) -> list[Path]:
        folder = self.folder / HISTORY_DIR
        return sorted(folder.glob(f"{plan_type}.yaml.*")) if folder.is_dir() else []

    def _keep(self, path: Path, raw: bytes) -> None:
        folder = self.folder / HISTORY_DIR
        try:
            folder.mkdir(exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            (folder / f"{path.name}.{stamp}").write_bytes(raw)
            for old in self.history(path.stem)[:-HISTORY_KEEP]:
                old.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot keep the previous plan in {folder}: {exc}") from None

    @staticmethod
    def _replace(path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(path)
            fsync_dir(path.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise StorageError(f"cannot write {path}: {exc} (the plan was not changed)") from None

"""Where the configuration lives: ``vigil.yaml`` on disk, changed by the console as a person would edit it
(the :class:`vigil.ports.ConfigStore` of a node started from a file; ADR 0010).

The file stays the one source of truth. A change made in the console is merged into the file's own YAML tree
(ruamel's round-trip mode), so the administrator's comments, key order and untouched keys survive; list items
with an ``id`` or ``name`` (cameras, zones, lines, rules) are matched by it and keep their comments too. Each
write is atomic (a temporary file, fsync, rename), keeps the previous text in ``.vigil-config-history/`` beside
the file (the newest ``HISTORY_KEEP``), and is refused when the file changed on disk since it was read (the
revision is the SHA-256 of its bytes).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from vigil.domain.errors import ConfigError, Conflict, StorageError
from vigil.durable_files import fsync_dir

HISTORY_DIR = ".vigil-config-history"
HISTORY_KEEP = 50


def revision_of(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold a long URL
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def plain(node: Any) -> Any:
    """A ruamel tree as plain dicts, lists and scalars (what the pydantic models are given)."""
    if isinstance(node, Mapping):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def merge(tree: Any, new: Any) -> Any:
    """``new`` laid over ``tree`` in place where both are mappings (keeping the comments of kept keys), else
    ``new`` itself. Keys missing from ``new`` are removed."""
    if isinstance(tree, CommentedMap) and isinstance(new, Mapping):
        for key in [k for k in tree if k not in new]:
            del tree[key]
        for key, value in new.items():
            tree[key] = merge(tree[key], value) if key in tree else _commented(value)
        return tree
    if isinstance(tree, CommentedSeq) and isinstance(new, list):
        old = {_ident(item): item for item in tree if _ident(item) is not None}
        if old and all(_ident(v) is not None for v in new):  # cameras by id, zones by name: keep their comments
            kept = [merge(old[_ident(v)], v) if _ident(v) in old else _commented(v) for v in new]
            tree[:] = kept
            return tree
        if len(tree) == len(new):
            for i, value in enumerate(new):
                tree[i] = merge(tree[i], value)
            return tree
    return _commented(new)


def _ident(item: Any) -> Any:
    """What identifies a list item across edits: its id (cameras) or name (zones, lines, rules)."""
    if isinstance(item, Mapping):
        return item.get("id", item.get("name"))
    return None


def _commented(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _commented(v)
        return out
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq(_commented(v) for v in value)
        if value and all(not isinstance(v, (Mapping, list, tuple)) for v in value) and len(value) <= 8:
            seq.fa.set_flow_style()  # [x, y] points stay on one line
        return seq
    return value


class YamlConfigFile:
    """``vigil.yaml`` read and written as described in the module's docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, bytes]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{self.path}: no such configuration file") from None
        except OSError as exc:
            raise StorageError(f"{self.path}: cannot read: {exc}") from None
        try:
            tree = _yaml().load(raw.decode("utf-8"))
        except (YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: not valid YAML: {exc}") from None
        return (tree if tree is not None else CommentedMap()), raw

    def read(self) -> tuple[dict[str, Any], str]:
        tree, raw = self._load()
        data = plain(tree)
        if not isinstance(data, dict):
            raise ConfigError(f"{self.path}: the top level must be a mapping of keys")
        return data, revision_of(raw)

    def revision(self) -> str:
        try:
            return revision_of(self.path.read_bytes())
        except OSError:
            return ""

    def write(self, data: Mapping[str, Any], revision: str) -> str:
        with self._lock:
            tree, raw = self._load()
            if revision_of(raw) != revision:
                raise Conflict(
                    f"{self.path.name} was changed on disk since it was read; reload the settings and try again"
                )
            if not isinstance(tree, CommentedMap):
                tree = CommentedMap()
            merge(tree, data)
            out = io.StringIO()
            _yaml().dump(tree, out)
            text = out.getvalue().encode("utf-8")
            self._keep(raw)
            self._replace(text)
            return revision_of(text)

    def history(self) -> list[Path]:
        """The kept earlier versions, oldest first."""
        folder = self.path.parent / HISTORY_DIR
        return sorted(folder.glob(f"{self.path.name}.*")) if folder.is_dir() else []

    def _keep(self, raw: bytes) -> None:
        folder = self.path.parent / HISTORY_DIR
        try:
            folder.mkdir(exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            (folder / f"{self.path.name}.{stamp}").write_bytes(raw)
            for old in self.history()[:-HISTORY_KEEP]:
                old.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot keep the previous configuration in {folder}: {exc}") from None

    def _replace(self, text: bytes) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            if self.path.exists():
                tmp.chmod(self.path.stat().st_mode & 0o7777)
            tmp.replace(self.path)
            fsync_dir(self.path.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise StorageError(f"cannot write {self.path}: {exc} (the configuration was not changed)") from None


class MemoryConfigStore:
    """A configuration kept in memory only (a node started without a file, and tests)."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = plain(dict(data or {}))
        self._rev = 0

    def read(self) -> tuple[dict[str, Any], str]:
        return plain(self._data), str(self._rev)

    def revision(self) -> str:
        return str(self._rev)

    def write(self, data: Mapping[str, Any], revision: str) -> str:
        if revision != str(self._rev):
            raise Conflict("the configuration was changed meanwhile; reload the settings and try again")
        self._data = plain(dict(data))
        self._rev += 1
        return str(self._rev)

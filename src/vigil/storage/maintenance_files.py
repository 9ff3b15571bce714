"""Files of the equipment register and the tickets, under ``<data>/maintenance``: documents kept by their SHA-256
(``documents/<sha256>``: the same file uploaded twice is stored once) and the pictures of tickets
(``tickets/<id>/<name>.jpg``). Written whole (a part file, fsynced, renamed) before any row names them."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from vigil.domain.errors import InvalidRequest, NotFound, StorageError
from vigil.durable_files import part_path, publish_part

_SHA = re.compile(r"^[0-9a-f]{64}$")
_RELPATH = re.compile(r"^(tickets/[0-9]{1,12}/[a-z0-9_-]{1,40}|inspections/[0-9]{1,12})\.jpg$")


class MaintenanceFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _write(self, final: Path, data: bytes) -> None:
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            part = part_path(final)
            part.write_bytes(data)
            publish_part(part, final)
        except OSError as exc:
            raise StorageError(f"cannot write {final}: {exc.strerror or exc}") from exc

    def put_document(self, data: bytes) -> str:
        """Keep a document's bytes; their SHA-256 (the name they are kept under)."""
        digest = hashlib.sha256(data).hexdigest()
        final = self.root / "documents" / digest
        if not final.exists():
            self._write(final, data)
        return digest

    def document(self, sha256: str) -> bytes:
        if not _SHA.match(sha256):
            raise InvalidRequest("not a document hash")
        try:
            return (self.root / "documents" / sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound("the document's file is missing") from None
        except OSError as exc:
            raise StorageError(f"cannot read the document: {exc.strerror or exc}") from exc

    def put_picture(self, ticket_id: int, name: str, jpeg: bytes) -> str:
        """Keep a ticket's picture; its path relative to the maintenance folder."""
        relpath = f"tickets/{ticket_id}/{name}.jpg"
        if not _RELPATH.match(relpath):
            raise InvalidRequest(f"not a picture name: {name!r}")
        self._write(self.root / relpath, jpeg)
        return relpath

    def put_inspection_picture(self, inspection_id: int, jpeg: bytes) -> str:
        relpath = f"inspections/{inspection_id}.jpg"
        self._write(self.root / relpath, jpeg)
        return relpath

    def put_reference(self, camera_id: str, jpeg: bytes) -> None:
        """Keep the old view of a camera whose device was replaced (what the new one is compared with)."""
        self._write(self._reference_path(camera_id), jpeg)

    def reference(self, camera_id: str) -> bytes | None:
        try:
            return self._reference_path(camera_id).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read the reference picture: {exc.strerror or exc}") from exc

    def _reference_path(self, camera_id: str) -> Path:
        if not re.match(r"^[a-z0-9][a-z0-9_-]{0,62}$", camera_id):
            raise InvalidRequest(f"not a camera id: {camera_id!r}")
        return self.root / "references" / f"{camera_id}.jpg"

    def picture(self, relpath: str) -> bytes:
        if not _RELPATH.match(relpath):
            raise NotFound("no such picture")
        try:
            return (self.root / relpath).read_bytes()
        except FileNotFoundError:
            raise NotFound("the picture's file is missing") from None
        except OSError as exc:
            raise StorageError(f"cannot read the picture: {exc.strerror or exc}") from exc

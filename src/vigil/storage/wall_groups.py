"""The live wall's camera groups in the catalog's database (table of revision 0006), written through the
catalog's one writer."""

from __future__ import annotations

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from vigil.domain.records import WallGroup
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog


def _group(row: RowMapping) -> WallGroup:
    return WallGroup(
        owner=row["owner"],
        name=row["name"],
        cameras=tuple(str(c) for c in row["cameras"]),
        layout=int(row["layout"]),
        shared=bool(row["shared"]),
        updated_us=int(row["updated_us"]),
    )


class SqlWallGroups:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def groups(self, owner: str) -> list[WallGroup]:
        c = t.wall_groups.c
        query = select(t.wall_groups).where(or_(c.owner == owner, c.shared.is_(True))).order_by(c.name, c.owner)
        with self._catalog._read() as conn:
            return [_group(r) for r in conn.execute(query).mappings()]

    def save(self, group: WallGroup) -> None:
        c = t.wall_groups.c
        values = {
            "cameras": list(group.cameras),
            "layout": group.layout,
            "shared": group.shared,
            "updated_us": group.updated_us,
        }
        with self._catalog._write() as conn:
            changed = conn.execute(
                update(t.wall_groups).where(c.owner == group.owner, c.name == group.name).values(**values)
            ).rowcount
            if not changed:
                conn.execute(insert(t.wall_groups).values(owner=group.owner, name=group.name, **values))

    def remove(self, owner: str, name: str) -> bool:
        c = t.wall_groups.c
        with self._catalog._write() as conn:
            return bool(conn.execute(delete(t.wall_groups).where(c.owner == owner, c.name == name)).rowcount)

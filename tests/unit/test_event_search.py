"""Event search on a real SQLite catalog: the set of cameras a user may see (with or without the node's own events),
keyset paging, per-user review marks, the full-text index (the same answers as LIKE) and migration 0005 over a
catalog that already holds events. Every filter combination is checked against a plain Python reading of the rows."""

import random
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event as sa_event

from vigil.domain.errors import NotFound
from vigil.domain.records import EventRecord
from vigil.storage import catalog as catalog_module
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.migrate import alembic_config

T0 = 1_764_000_000_000_000
S = 1_000_000
HOUR = 3600 * S
CAMERAS = ["door", "yard", "gate", "dock", "roof", "hall"]
WORDS = [
    "A person entered zone 'Gate'",
    "a PERSON crossed line 'Fence'",
    "Motion from 10:00:00 for 4.0 s (at most 50% of the picture)",
    "Motion from 10:00:05 for 2.5 s (at most 5_0 of the picture)",
    'The operator said "check the gate"',
    "Path C:\\cams\\door was unreachable",
    "Ärger am Tor",
    "ärger am tor",
    "Straße gesperrt",
    "Object detection stopped: the detector process died (exit code -9)",
    "A car loitered in zone 'Car park' for 45 s",
    "carriage return",
]
LABELS: list[list[str]] = [[], [], ["person"], ["car"], ["car", "person"], ["carriage"], ["dog"], ["truck", "person"]]
ZONES = [None, None, "Gate", "Car park", "Fence"]
TYPES = ["motion", "object", "line_cross", "zone_enter", "camera_offline"]


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[SqlCatalog]:
    cat = SqlCatalog(sqlite_url(tmp_path / "catalog.db"))
    yield cat
    cat.close()


def fill(catalog: SqlCatalog, count: int = 240, seed: int = 4) -> list[EventRecord]:
    """``count`` events over six cameras and the node, many sharing a start time; some ended with new words, some
    (a camera offline, say) started hours earlier and lasted over an hour, or have not ended."""
    rng = random.Random(seed)
    for k in range(count):
        camera = None if k % 11 == 0 else rng.choice(CAMERAS)
        start, end = T0 + rng.randrange(40) * S, T0 + (40 + rng.randrange(40)) * S  # plenty of ties
        if k % 9 == 0:
            start = T0 - rng.randrange(1, 6) * HOUR + rng.randrange(40) * S
            end = rng.choice([T0 + rng.randrange(60) * S, start + HOUR + S, start + HOUR, T0 - HOUR])
        event_id = catalog.add_event(
            "analysis" if camera is None else rng.choice(TYPES),
            start,
            rng.choice(WORDS),
            camera_id=camera,
            end_us=None if k % 7 == 0 else end,
            zone=rng.choice(ZONES),
            labels=rng.choice(LABELS),
        )
        if k % 13 == 0:  # an open event that ends with another description and more labels
            catalog.end_event(event_id, T0 + 90 * S, rng.choice(WORDS) + " (ended)", labels=["bicycle"])
    return catalog.events(limit=10_000)


def ascii_lower(text: str) -> str:
    return text.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))


@dataclass
class Query:
    camera_id: str | None = None
    types: Sequence[str] | None = None
    start_us: int | None = None
    end_us: int | None = None
    text: str | None = None
    label: str | None = None
    zone: str | None = None
    camera_ids: Sequence[str] | None = None
    include_node_events: bool = True
    before: tuple[int, int] | None = None
    unreviewed_by: str | None = None

    def run(self, catalog: SqlCatalog, limit: int = 10_000, offset: int = 0) -> list[int]:
        return [e.id for e in catalog.events(**self.__dict__, limit=limit, offset=offset)]

    def expected(
        self,
        every: list[EventRecord],
        reviewed: frozenset[int] | set[int] = frozenset(),
        limit: int = 10_000,
        offset: int = 0,
    ) -> list[int]:
        """The same query read the plain way (``reviewed``: the events ana marked; nobody else marked any).
        SQLite's LIKE ignores the case of ASCII letters only."""

        def keep(e: EventRecord) -> bool:
            if self.camera_ids is not None:
                if e.camera_id is None and not (self.include_node_events and self.camera_ids):
                    return False
                if e.camera_id is not None and e.camera_id not in self.camera_ids:
                    return False
            if not self.include_node_events and e.camera_id is None:
                return False
            return all(
                (
                    self.camera_id is None or e.camera_id == self.camera_id,
                    not self.types or e.type in self.types,
                    self.start_us is None or e.end_us is None or e.end_us >= self.start_us,
                    self.end_us is None or e.start_us < self.end_us,
                    not self.text or ascii_lower(self.text) in ascii_lower(e.description),
                    self.label is None or self.label.strip().lower() in e.labels,
                    self.zone is None or e.zone == self.zone,
                    self.before is None or (e.start_us, e.id) < self.before,
                    self.unreviewed_by is None or self.unreviewed_by != "ana" or e.id not in reviewed,
                )
            )

        rows = sorted((e for e in every if keep(e)), key=lambda e: (e.start_us, e.id), reverse=True)
        return [e.id for e in rows][offset : offset + limit]


TEXTS = [
    "person",
    "PERSON",
    "gate",
    "50%",
    "5_0",
    '"check',
    "C:\\cams",
    "ärger",
    "Ärger",
    "straße",
    "car",
    "ca",
    "e",
    "xyz",
]


def test_every_filter_combination_answers_as_a_plain_reading_of_the_rows(catalog: SqlCatalog) -> None:
    every = fill(catalog)
    for event_id in [e.id for e in every][::3]:
        catalog.mark_reviewed(event_id, "ana", T0)
    reviewed = catalog.reviewed_ids([e.id for e in every], "ana")
    rng = random.Random(9)
    queries = [Query(text=t) for t in TEXTS] + [Query(label=label) for label in ("car", "Person", "bicycle", "cat")]
    for _ in range(300):
        queries.append(
            Query(
                camera_id=rng.choice([None, None, None, "door"]),
                types=rng.choice([None, None, ["motion"], ["object", "line_cross"]]),
                start_us=rng.choice([None, T0 + 30 * S, T0 - 2 * HOUR]),
                end_us=rng.choice([None, T0 + 20 * S, T0 - HOUR]),
                text=rng.choice([None, None, *TEXTS]),
                label=rng.choice([None, None, "car", "person", "bicycle"]),
                zone=rng.choice([None, None, "Gate"]),
                camera_ids=rng.choice([None, [], ["door"], ["yard", "gate", "nowhere"], CAMERAS]),
                include_node_events=rng.random() < 0.5,
                before=rng.choice([None, None, (T0 + 20 * S, every[len(every) // 2].id)]),
                unreviewed_by=rng.choice([None, "ana", "bob"]),
            )
        )
    for query in queries:
        assert query.run(catalog) == query.expected(every, reviewed), query
        assert query.run(catalog, limit=5, offset=3) == query.expected(every, reviewed, limit=5, offset=3), query


def test_the_cameras_a_user_may_see_with_or_without_the_nodes_own_events(catalog: SqlCatalog) -> None:
    door = catalog.add_event("motion", T0, "Motion", camera_id="door")
    yard = catalog.add_event("motion", T0 + S, "Motion", camera_id="yard")
    gate = catalog.add_event("motion", T0 + 2 * S, "Motion", camera_id="gate")
    node = catalog.add_event("analysis", T0 + 3 * S, "Object detection stopped")

    def ids(**kwargs: Any) -> list[int]:
        return [e.id for e in catalog.events(**kwargs)]

    assert ids(camera_ids=["door", "yard"]) == [node, yard, door]
    assert ids(camera_ids=["door", "yard"], include_node_events=False) == [yard, door]
    assert ids(camera_ids=("yard", "yard")) == [node, yard], "repeats are harmless"
    assert ids(camera_ids=[]) == [] and ids(camera_ids=[], include_node_events=False) == [], "no cameras: nothing"
    assert ids(camera_ids=["nowhere"], include_node_events=False) == []
    assert ids(include_node_events=False) == [gate, yard, door]
    assert ids() == [node, gate, yard, door]
    assert ids(camera_ids=["door", "yard"], camera_id="yard") == [yard], "one camera of the set"
    assert ids(camera_ids=["door"], camera_id="gate") == [], "not one of the set"
    assert ids(camera_ids=["door", "yard"], limit=2, offset=1) == [yard, door]


def test_keyset_pages_cover_every_event_once_in_order_despite_ties(catalog: SqlCatalog) -> None:
    every = fill(catalog)
    assert len({e.start_us for e in every}) < len(every) / 3, "many events share a start"
    for query in (Query(), Query(camera_ids=["door", "yard"]), Query(text="person"), Query(label="car")):
        expected = query.expected(every)
        seen: list[int] = []
        cursor: tuple[int, int] | None = None
        while True:
            page = catalog.events(**{**query.__dict__, "before": cursor}, limit=7)
            seen += [e.id for e in page]
            if len(page) < 7:
                break
            cursor = (page[-1].start_us, page[-1].id)
        assert seen == expected, query
        offsets = [e for o in range(0, len(expected) + 7, 7) for e in query.run(catalog, limit=7, offset=o)]
        assert offsets == expected, "offset paging still works"


def test_review_marks_are_per_user_and_idempotent(tmp_path: Path) -> None:
    catalog = SqlCatalog(sqlite_url(tmp_path / "catalog.db"))
    a = catalog.add_event("motion", T0, "Motion", camera_id="door")
    b = catalog.add_event("motion", T0 + S, "Motion", camera_id="door")
    c = catalog.add_event("analysis", T0 + 2 * S, "Object detection stopped")
    assert catalog.mark_reviewed(a, "ana", T0 + 10 * S) is True
    assert catalog.mark_reviewed(a, "ana", T0 + 20 * S) is False, "already marked"
    assert catalog.mark_reviewed(c, "ana", T0 + 30 * S) is True
    assert catalog.mark_reviewed(b, "bob", T0 + 40 * S) is True
    with pytest.raises(NotFound):
        catalog.mark_reviewed(999, "ana", T0)
    assert catalog.reviewed_ids([a, b, c, 999], "ana") == {a, c}
    assert catalog.reviewed_ids([a, b, c], "bob") == {b}
    assert catalog.reviewed_ids([], "ana") == set() and catalog.reviewed_ids([a], "cy") == set()
    assert catalog.reviewed_ids(list(range(1, 2000)), "ana") == {a, c}, "long lists are asked for in parts"
    assert [e.id for e in catalog.events(unreviewed_by="ana")] == [b]
    assert [e.id for e in catalog.events(unreviewed_by="bob")] == [c, a]
    assert [e.id for e in catalog.events(unreviewed_by="cy")] == [c, b, a]
    assert catalog.unmark_reviewed(a, "ana") is True
    assert catalog.unmark_reviewed(a, "ana") is False
    assert catalog.unmark_reviewed(b, "ana") is False, "bob's mark is bob's"
    assert [e.id for e in catalog.events(unreviewed_by="ana")] == [b, a]
    assert catalog.reviewed_ids([a, b, c], "bob") == {b}
    catalog.close()
    db = sqlite3.connect(tmp_path / "catalog.db")
    marks = db.execute("SELECT event_id, username, at_us FROM event_reviews ORDER BY event_id, username").fetchall()
    db.close()
    assert marks == [(b, "bob", T0 + 40 * S), (c, "ana", T0 + 30 * S)], "the first mark's time stays"


def test_full_text_search_gives_the_answers_of_like_whichever_way_it_goes(
    catalog: SqlCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = fill(catalog)
    queries = [Query(text=t) for t in TEXTS] + [Query(text=t, label="person") for t in TEXTS]
    queries += [Query(label=label) for label in ("car", "carriage", "person", "dog", "ca", "cat")]
    by_index = [q.run(catalog) for q in queries]
    monkeypatch.setattr(catalog_module, "FULL_TEXT_SAMPLE", 2)
    monkeypatch.setattr(catalog, "_full_text_cap", lambda _events: 3)  # most now too many: LIKE alone
    few = [q.run(catalog) for q in queries]
    monkeypatch.setattr(catalog, "_full_text", False)  # as on PostgreSQL
    like = [q.run(catalog) for q in queries]
    for query, a, b, c in zip(queries, by_index, few, like, strict=True):
        assert a == b == c == query.expected(every), query
    assert any(len(r) > 3 for r in like) and any(0 < len(r) <= 3 for r in like), "both ways were taken"


def test_the_full_text_index_follows_added_ended_and_deleted_events(catalog: SqlCatalog, tmp_path: Path) -> None:
    first = catalog.add_event("loiter", T0, "Someone loitered by the kiosk", camera_id="door", labels=["person"])
    catalog.end_event(first, T0 + S, "A person stood at the newsstand for 60 s", labels=["Umbrella"])
    assert [e.id for e in catalog.events(text="newsstand")] == [first]
    assert catalog.events(text="kiosk") == [], "the old description is out of the index"
    assert [e.id for e in catalog.events(label="umbrella")] == [first]
    catalog.mark_reviewed(first, "ana", T0)
    db = sqlite3.connect(tmp_path / "catalog.db")
    with db:
        db.execute("DELETE FROM events WHERE id = ?", (first,))
    left = db.execute("SELECT count(*) FROM events_fts WHERE events_fts MATCH 'newsstand'").fetchone()[0]
    marks = db.execute("SELECT count(*) FROM event_reviews").fetchone()[0]
    db.close()
    assert (left, marks) == (0, 0), "the index entry and the review marks go with the event"
    assert catalog.events(text="newsstand") == []


def plans(catalog: SqlCatalog, path: Path, **kwargs: Any) -> str:
    """SQLite's plan for every statement ``catalog.events(**kwargs)`` runs, one line per step."""
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    engine = catalog._engine
    sa_event.listen(engine, "before_cursor_execute", keep)
    try:
        catalog.events(**kwargs)
    finally:
        sa_event.remove(engine, "before_cursor_execute", keep)
    db = sqlite3.connect(path)
    lines = [row[3] for sql, params in statements for row in db.execute("EXPLAIN QUERY PLAN " + sql, params)]
    db.close()
    return "\n".join(lines)


def test_the_console_queries_use_their_indexes(catalog: SqlCatalog, tmp_path: Path) -> None:
    fill(catalog, count=60)
    path = tmp_path / "catalog.db"
    full_scan = re.compile(r"SCAN events\b(?! USING)")
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "SCAN events USING INDEX ix_events_time"),
        ({"before": (T0 + 20 * S, 30)}, "ix_events_time (start_us<?)"),
        ({"camera_id": "door"}, "ix_events_camera_time (camera_id=?)"),
        ({"camera_ids": ["door", "yard"], "include_node_events": False}, "ix_events_camera_time (camera_id=?)"),
        ({"camera_ids": ["door", "yard"], "before": (T0 + 20 * S, 30)}, "(camera_id=? AND start_us<?)"),
        ({"types": ["loiter"]}, "ix_events_type_time (type=?)"),
        ({"zone": "Gate"}, "ix_events_zone_time (zone=?)"),
        ({"start_us": T0, "end_us": T0 + 9 * S}, "ix_events_time (start_us>? AND start_us<?)"),
        ({"start_us": T0, "camera_id": "door"}, "ix_events_camera_time (camera_id=? AND start_us>?)"),
        ({"start_us": T0}, "SEARCH events USING INDEX ix_events_long (start_us<?)"),
        ({"text": "newsstand"}, "VIRTUAL TABLE"),
        ({"text": "Ärger", "camera_id": "door"}, "MATERIALIZE hits"),
        ({"unreviewed_by": "ana"}, "event_reviews"),
    ]
    for kwargs, wanted in cases:
        plan = plans(catalog, path, **kwargs)
        assert wanted in plan and not full_scan.search(plan), (kwargs, plan)
    camera_set = plans(catalog, path, camera_ids=["door", "yard"])
    assert camera_set.count("ix_events_camera_time") == 2, "the cameras' events and the node's, each by index"
    assert "USE TEMP B-TREE" not in plans(catalog, path), "the newest page is read in order"


def test_migration_0005_indexes_the_events_a_0004_catalog_holds(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    url = sqlite_url(path)
    command.upgrade(alembic_config(url), "0004")
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO events (type, camera_id, stream, start_us, end_us, description, data, zone, labels) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            [
                ("line_cross", "gate", "sub", T0, T0, "A person crossed line 'Barrier'", "{}", "Barrier", ",person,"),
                ("motion", "yard", "sub", T0 + S, T0 + 4 * S, "Motion from 10:00:01 for 3.0 s", "{}", None, None),
                ("analysis", None, None, T0 + 2 * S, None, "Object detection stopped", "{}", None, None),
            ],
        )
    db.close()
    catalog = SqlCatalog(url)  # upgrades to the head revision
    assert catalog._full_text, "this SQLite has FTS5 with trigrams"
    assert [e.type for e in catalog.events(text="barrier")] == ["line_cross"]
    assert [e.type for e in catalog.events(label="person")] == ["line_cross"]
    assert [e.type for e in catalog.events(text="detection STOPPED")] == ["analysis"]
    assert [e.type for e in catalog.events(camera_ids=["gate"], include_node_events=False)] == ["line_cross"]
    new = catalog.add_event("zone_enter", T0 + 3 * S, "A person entered zone 'Barrier'", camera_id="gate")
    assert catalog.events(text="barrier")[0].id == new
    catalog.mark_reviewed(new, "ana", T0)
    catalog.close()
    command.downgrade(alembic_config(url), "0004")
    db = sqlite3.connect(path)
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    count = db.execute("SELECT count(*) FROM events").fetchone()[0]
    db.close()
    assert not {n for n in names if "fts" in n or "review" in n} and count == 4
    assert {n for n in names if n.startswith("ix_events")} == {"ix_events_time", "ix_events_camera_time"}
    catalog = SqlCatalog(url)  # and up again: the index rebuilt from the four events
    assert catalog.events(text="barrier")[0].id == new
    assert catalog.reviewed_ids([new], "ana") == set(), "review marks went with the downgrade"
    catalog.close()

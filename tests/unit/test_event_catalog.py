"""Events keep their zone (or line), object labels and best score as catalog fields, on a real SQLite file: the
0002 migration adds them under existing rows, ends widen them, and the event list filters by label and zone."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from vigil.domain.errors import InvalidRequest
from vigil.domain.records import EventRecord
from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd
from vigil.storage.catalog import SqlCatalog
from vigil.storage.migrate import alembic_config, upgrade_to_head
from vigil.storage.schema import declared_name, metadata
from vigil.usecases.analysis_reports import AnalysisReports

T0 = 1_764_000_000_000_000
S = 1_000_000


def stored(catalog: SqlCatalog, event_id: int) -> EventRecord:
    record = catalog.event(event_id)
    assert record is not None
    return record


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[SqlCatalog]:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_to_head(url)
    cat = SqlCatalog(url)
    yield cat
    cat.close()


def test_migrating_a_0001_catalog_keeps_its_events_with_no_zone_labels_or_score(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "0001")
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO events (type, camera_id, stream, start_us, end_us, description, data) VALUES (?,?,?,?,?,?,?)",
            [
                ("motion", "yard", "sub", T0, T0 + 4 * S, "Motion from 10:00:00 for 4.0 s", '{"key": "motion"}'),
                ("camera_offline", "door", "main", T0 + S, None, "The door camera stopped", "{}"),
            ],
        )
    db.close()
    catalog = SqlCatalog(url)  # opening the catalog upgrades it to the head revision
    old = catalog.events()
    assert [(e.type, e.zone, e.labels, e.score) for e in old] == [
        ("camera_offline", None, (), None),
        ("motion", None, (), None),
    ]
    assert old[1].data == {"key": "motion"} and old[1].end_us == T0 + 4 * S
    assert catalog.events(label="person") == [] and catalog.events(zone="Gate") == []
    assert [e.type for e in catalog.events(camera_id="yard", start_us=T0, end_us=T0 + S)] == ["motion"]
    new = catalog.add_event("zone_enter", T0 + 2 * S, "Someone came", camera_id="yard", zone="Gate", labels=["person"])
    assert [e.id for e in catalog.events(zone="Gate", label="person")] == [new]
    catalog.close()
    command.downgrade(alembic_config(url), "0001")
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(events)")]
        count = db.execute("SELECT count(*) FROM events").fetchone()[0]
    db.close()
    assert "zone" not in columns and "labels" not in columns and "score" not in columns and count == 3


def test_the_migrations_build_exactly_the_tables_of_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_to_head(url)
    engine = create_engine(url)
    with engine.connect() as conn:  # all but the full-text index's tables, which SQLite owns (revision 0005)
        differences = compare_metadata(MigrationContext.configure(conn, opts={"include_name": declared_name}), metadata)
    engine.dispose()
    assert differences == []


def test_labels_are_matched_exactly_case_aside(catalog: SqlCatalog) -> None:
    car = catalog.add_event("zone_enter", T0, "A car entered", camera_id="yard", labels=["car"])
    catalog.add_event("zone_enter", T0 + 1, "A carriage entered", camera_id="yard", labels=["carriage"])
    catalog.add_event("zone_enter", T0 + 2, "A sidecar", camera_id="yard", labels=["sidecar", "scar"])
    both = catalog.add_event("zone_enter", T0 + 3, "A car and people", camera_id="yard", labels=["Person", "car"])
    catalog.add_event("motion", T0 + 4, "Motion", camera_id="yard")
    assert [e.id for e in catalog.events(label="car")] == [both, car], "not carriage, sidecar or scar"
    assert [e.id for e in catalog.events(label="CAR")] == [both, car]
    assert stored(catalog, both).labels == ("car", "person"), "lower-case, sorted"
    assert catalog.events(label="ca_") == [] and catalog.events(label="%") == [], "wildcards taken literally"
    assert catalog.events(label="ar") == []


def test_an_empty_label_or_one_with_a_comma_is_refused(catalog: SqlCatalog) -> None:
    with pytest.raises(InvalidRequest, match="empty"):
        catalog.events(label="  ")
    with pytest.raises(InvalidRequest, match="comma"):
        catalog.events(label="car,person")
    with pytest.raises(InvalidRequest, match="comma"):
        catalog.add_event("zone_enter", T0, "x", labels=["car,person"])
    with pytest.raises(InvalidRequest, match="finite"):
        catalog.add_event("zone_enter", T0, "x", score=float("nan"))
    assert catalog.events() == [], "nothing written"


def test_zone_is_matched_exactly_and_combines_with_camera_time_and_paging(catalog: SqlCatalog) -> None:
    ids = {}
    for k in range(6):
        cam = "yard" if k % 2 == 0 else "door"
        zone = "Loading dock" if k < 4 else "Loading"
        ids[k] = catalog.add_event(
            "loiter", T0 + k * 10 * S, f"event {k}", camera_id=cam, end_us=T0 + k * 10 * S + S, zone=zone
        )
    catalog.add_event("motion", T0 + 5 * S, "Motion", camera_id="yard")
    assert [e.id for e in catalog.events(zone="Loading dock")] == [ids[3], ids[2], ids[1], ids[0]]
    assert [e.id for e in catalog.events(zone="Loading")] == [ids[5], ids[4]], "no prefix match"
    assert catalog.events(zone="loading dock") == [], "zone names are exact"
    yard = catalog.events(camera_id="yard", zone="Loading dock", types=["loiter"])
    assert [e.id for e in yard] == [ids[2], ids[0]]
    in_range = catalog.events(zone="Loading dock", start_us=T0 + 15 * S, end_us=T0 + 35 * S)
    assert [e.id for e in in_range] == [ids[3], ids[2]]
    pages = [catalog.events(zone="Loading dock", limit=3, offset=o) for o in (0, 3, 6)]
    assert [[e.id for e in p] for p in pages] == [[ids[3], ids[2], ids[1]], [ids[0]], []]
    assert [e.id for e in catalog.events(zone="Loading dock", text="event 1")] == [ids[1]]


def test_ending_an_event_widens_its_labels_and_keeps_its_best_score(catalog: SqlCatalog) -> None:
    event_id = catalog.add_event("crowd", T0, "A crowd", camera_id="yard", zone="Square", labels=["person"], score=0.6)
    catalog.end_event(event_id, T0 + 9 * S, labels=["person", "bicycle"], score=0.4)
    ended = stored(catalog, event_id)
    assert (ended.end_us, ended.labels, ended.score, ended.zone) == (T0 + 9 * S, ("bicycle", "person"), 0.6, "Square")
    assert ended.description == "A crowd"
    catalog.end_event(event_id, T0 + 10 * S, "A crowd for 10 s", score=0.9)
    again = stored(catalog, event_id)
    assert (again.labels, again.score, again.description) == (("bicycle", "person"), 0.9, "A crowd for 10 s")
    bare = catalog.add_event("motion", T0, "Motion", camera_id="yard")
    catalog.end_event(bare, T0 + S, labels=["car"], score=0.7)
    assert (stored(catalog, bare).labels, stored(catalog, bare).score) == (("car",), 0.7)
    catalog.end_event(bare, T0 + 2 * S)
    assert (stored(catalog, bare).labels, stored(catalog, bare).score) == (("car",), 0.7), "nothing new: unchanged"
    assert [e.id for e in catalog.events(label="bicycle")] == [event_id]


def test_analysis_events_give_their_zone_labels_and_score_as_fields(catalog: SqlCatalog) -> None:
    reports = AnalysisReports(catalog)
    data = {"zone": "Gate", "labels": ["person", "Car"], "score": 0.83, "track_ids": [4]}
    reports.handle(AnalysisEvent("yard", "sub", "rule:gate", "line_cross", T0, T0, "A person crossed", data))
    reports.handle(AnalysisEvent("yard", "sub", "motion", "motion", T0 + S, None, "Motion", {"regions": []}))
    reports.handle(AnalysisEventEnd("yard", "motion", T0 + 5 * S, "Motion for 4.0 s"))
    crossed, moved = catalog.events(types=["line_cross"])[0], catalog.events(types=["motion"])[0]
    assert (crossed.zone, crossed.labels, crossed.score) == ("Gate", ("car", "person"), 0.83)
    assert crossed.data == {**data, "key": "rule:gate"}, "the data keeps them too"
    assert (moved.zone, moved.labels, moved.score, moved.end_us) == (None, (), None, T0 + 5 * S)


def test_analysis_event_facts_of_the_wrong_kind_are_left_out_not_the_event(
    catalog: SqlCatalog, caplog: pytest.LogCaptureFixture
) -> None:
    reports = AnalysisReports(catalog)
    bad = {"zone": 7, "labels": "person", "score": "high"}
    reports.handle(AnalysisEvent("yard", "sub", "rule:a", "loiter", T0, T0 + S, "loitering", bad))
    reports.handle(AnalysisEvent("yard", "sub", "rule:b", "loiter", T0 + S, T0 + 2 * S, "b", {"labels": ["a,b"]}))
    reports.handle(AnalysisEvent("yard", "sub", "rule:c", "loiter", T0 + 2 * S, T0 + 3 * S, "c", {"score": True}))
    rows = catalog.events(types=["loiter"])
    assert [(e.zone, e.labels, e.score) for e in rows] == [(None, (), None)] * 3
    assert rows[-1].data == {**bad, "key": "rule:a"}
    assert "left out" in caplog.text and "camera=yard" in caplog.text


def test_the_node_publishes_events_with_their_zone_labels_and_score(tmp_path: Path) -> None:
    from vigil.usecases.event_bus import EventBus
    from vigil.wiring import PublishingCatalog

    bus = EventBus()
    catalog = PublishingCatalog(f"sqlite:///{tmp_path / 'catalog.db'}", bus)
    seen: list[tuple[str, EventRecord]] = []
    bus.subscribe(lambda message: seen.append((message.change, message.record)))
    event_id = catalog.add_event("crowd", T0, "A crowd", camera_id="yard", zone="Square", labels=["person"], score=0.5)
    catalog.end_event(event_id, T0 + S, labels=["dog"], score=0.8)
    assert [(change, r.zone, r.labels, r.score) for change, r in seen] == [
        ("opened", "Square", ("person",), 0.5),
        ("closed", "Square", ("dog", "person"), 0.8),
    ]
    catalog.close()


def test_analysis_events_a_killed_run_left_open_are_closed_at_restart_and_others_are_not(catalog: SqlCatalog) -> None:
    reports = AnalysisReports(catalog)
    reports.handle(AnalysisEvent("cam", "main", "motion", "motion", 1_000_000, None, "Motion from 00:00:01"))
    reports.handle(AnalysisEvent("cam", "main", "rule:Crowd", "crowd", 2_000_000, None, "3 people gathered"))
    reports.detector_down(3_000_000, -9)
    offline = catalog.add_event("offline", 1_500_000, "Camera offline", camera_id="cam")  # the recorder's own
    again = AnalysisReports(catalog)  # a new run: it knows nothing of what the last one had open
    assert again.close_leftovers(10_000_000) == 3
    closed = [e for e in catalog.events(limit=10) if e.type != "offline"]
    assert all(e.end_us == 10_000_000 and "still open when Vigil stopped" in e.description for e in closed)
    still = catalog.event(offline)
    assert still is not None and still.end_us is None
    assert again.close_leftovers(11_000_000) == 0

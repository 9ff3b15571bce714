"""The audit log on a real SQLite file: a long chain verifies; whatever is changed or removed behind Vigil's
back (with sqlite3, after dropping the append-only triggers) is named by its seq; the triggers refuse UPDATE and
DELETE; concurrent appends keep one chain; auditors' searches and exports find what they ask for."""

import itertools
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command

from vigil.domain.audit import GENESIS_HASH, AuditAction, AuditHead, ProblemKind
from vigil.domain.errors import InvalidRequest, StorageError
from vigil.storage.audit_log import SqlAuditLog, audit_anchor_path
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.migrate import alembic_config
from vigil.usecases.audit import AuditQuery, csv_lines, export_audit, jsonl_lines, search_all, verify_audit

T0 = 1_764_000_000_000_000
S = 1_000_000
ACTIONS = [AuditAction.LOGIN, AuditAction.PLAYBACK, AuditAction.SNAPSHOT_VIEW, AuditAction.EXPORT]


class FixedClock:
    def now_us(self) -> int:
        return T0 + 10_000 * S


def fill(log: SqlAuditLog, n: int, start: int = 0) -> None:
    for k in range(start, start + n):
        action = ACTIONS[k % len(ACTIONS)]
        log.append(
            T0 + k * S,
            ["alice", "bob", "李雷"][k % 3],
            action,
            camera_id=None if action == AuditAction.LOGIN else ["door", "yard"][k % 2],
            range_start_us=T0 - 3600 * S + k,
            range_end_us=T0 - 60 * S + k,
            client=f"10.0.0.{k % 7}",
            reason="" if k % 5 else f"case {k}: 盗窃",
            detail={"k": k, "via": "test"},
        )


def open_log(folder: Path) -> tuple[SqlCatalog, SqlAuditLog]:
    catalog = SqlCatalog(sqlite_url(folder / "vigil.db"))
    return catalog, SqlAuditLog(catalog)


@pytest.fixture(scope="module")
def thousand(tmp_path_factory) -> Path:
    """A folder holding a catalog with 1,000 audit entries and its anchor (copied for each test that damages it)."""
    folder = tmp_path_factory.mktemp("audit")
    catalog, log = open_log(folder)
    fill(log, 1000)
    catalog.close()
    return folder


@pytest.fixture
def copy(thousand: Path, tmp_path: Path) -> Path:
    for name in ("vigil.db", "vigil.db-wal", "audit.head"):
        if (thousand / name).exists():
            shutil.copy2(thousand / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def log(tmp_path: Path) -> Iterator[SqlAuditLog]:
    catalog, audit = open_log(tmp_path)
    yield audit
    catalog.close()


def tamper(folder: Path, *statements: str) -> None:
    """Edit the file as someone with shell access could: drop the triggers, then change rows."""
    db = sqlite3.connect(folder / "vigil.db")
    with db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("DROP TRIGGER audit_no_delete")
        for statement in statements:
            db.execute(statement)
    db.close()


def report_of(folder: Path, *expected: AuditHead):
    catalog, audit = open_log(folder)
    try:
        return verify_audit(audit, expected)
    finally:
        catalog.close()


def test_a_chain_of_1000_entries_verifies(copy: Path) -> None:
    catalog, audit = open_log(copy)
    entries = list(audit.all_in_order(batch=300))
    assert [e.seq for e in entries] == list(range(1, 1001))
    assert entries[0].prev_hash == GENESIS_HASH and all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert audit.head() == entries[-1].head == audit.anchor()
    assert (copy / "audit.head").read_text() == f"1000:{entries[-1].hash}\n"
    assert entries[5].reason == "case 5: 盗窃" and entries[5].detail == {"k": 5, "via": "test"}
    catalog.close()
    report = report_of(copy, entries[-1].head)
    assert report.ok and report.entries_checked == 1000 and report.head == report.anchor == entries[-1].head


ALTERATIONS = {
    "at_us": "at_us = at_us + 1",
    "actor": "actor = 'mallory'",
    "action": "action = 'live_start'",
    "camera_id": "camera_id = 'gate'",
    "range_start_us": "range_start_us = range_start_us - 1",
    "range_end_us": "range_end_us = NULL",
    "client": "client = '192.168.1.1'",
    "reason": "reason = 'routine check'",
    "detail": """detail = '{"k": 1, "via": "test"}'""",
    "detail (not JSON)": "detail = 'garbage{'",
    "prev_hash": f"prev_hash = '{'0' * 64}'",
    "hash": f"hash = '{'f' * 64}'",
    "seq": "seq = 5000",
}


@pytest.mark.parametrize("change", ALTERATIONS.values(), ids=ALTERATIONS.keys())
def test_altering_any_field_of_one_entry_is_reported_with_its_seq(copy: Path, change: str) -> None:
    tamper(copy, f"UPDATE audit SET {change} WHERE seq = 500")
    report = report_of(copy)
    assert not report.ok
    assert 500 in {p.seq for p in report.problems}, [str(p) for p in report.problems]
    assert all(p.seq in (500, 501, 5000) for p in report.problems if p.kind != ProblemKind.MISSING)


def test_deleting_a_middle_entry_is_reported(copy: Path) -> None:
    tamper(copy, "DELETE FROM audit WHERE seq BETWEEN 300 AND 302")
    report = report_of(copy)
    assert [str(p) for p in report.problems] == ["seq 300: missing: entries 300 to 302 are missing (removed)"]
    assert report.entries_checked == 997


def test_deleting_the_newest_entries_is_reported_thanks_to_the_anchor(copy: Path) -> None:
    tamper(copy, "DELETE FROM audit WHERE seq > 990")
    report = report_of(copy)
    assert [(p.seq, p.kind) for p in report.problems] == [(991, ProblemKind.TRUNCATED)]
    assert "the head anchor records seq 1000" in str(report.problems[0])
    (copy / "audit.head").unlink()  # the anchor removed as well: the chain alone looks whole ...
    report = report_of(copy)
    assert [p.kind for p in report.problems] == [ProblemKind.NO_ANCHOR], "... but a missing anchor is reported"
    (copy / "audit.head").write_text("990:not a hash\n")
    assert "damaged" in str(report_of(copy).problems[0])


def test_a_head_kept_elsewhere_catches_a_rebuilt_chain_and_anchor(copy: Path, thousand: Path) -> None:
    catalog, original = open_log(thousand)
    kept = original.head()
    catalog.close()
    assert kept is not None
    tamper(copy, "DELETE FROM audit WHERE seq > 995")
    (copy / "audit.head").unlink()
    catalog, audit = open_log(copy)
    fill(audit, 5, start=2000)  # the forger's entries: the chain and a fresh anchor are consistent again
    catalog.close()
    assert report_of(copy).ok, "nothing on the machine can tell: the limit ADR 0005 states"
    report = report_of(copy, kept)
    assert [(p.seq, p.kind) for p in report.problems] == [(1000, ProblemKind.REWRITTEN)]


def test_the_anchor_never_follows_a_truncated_log(copy: Path) -> None:
    tamper(copy, "DELETE FROM audit WHERE seq > 900")
    catalog, audit = open_log(copy)
    fill(audit, 3, start=3000)  # appends go on (seq 901..903) but the anchor keeps what it saw
    assert audit.anchor() is not None and audit.anchor().seq == 1000
    fill(audit, 100, start=4000)  # past the anchor's seq: the chain now holds another entry 1000
    catalog.close()
    kinds = [(p.seq, p.kind) for p in report_of(copy).problems]
    assert kinds == [(1000, ProblemKind.REWRITTEN)]


def test_update_and_delete_through_sql_are_refused_by_the_triggers(log: SqlAuditLog, tmp_path: Path) -> None:
    fill(log, 3)
    db = sqlite3.connect(tmp_path / "vigil.db")
    for statement in ("UPDATE audit SET reason = 'x' WHERE seq = 2", "DELETE FROM audit WHERE seq = 3"):
        with pytest.raises(sqlite3.IntegrityError, match="the audit log is append-only"):
            db.execute(statement)
    db.close()
    assert verify_audit(log).ok and log.head().seq == 3


def test_concurrent_appends_make_one_unbroken_chain(tmp_path: Path) -> None:
    """Threads on one log, and a second catalog on the same file (as a second process would be)."""
    first, log_a = open_log(tmp_path)
    second, log_b = open_log(tmp_path)

    def work(audit: SqlAuditLog, name: str) -> None:
        for k in range(40):
            audit.append(T0 + k, name, AuditAction.LIVE_START, camera_id="door", detail={"k": k})

    threads = [threading.Thread(target=work, args=(a, f"t{i}")) for i, a in enumerate([log_a] * 4 + [log_b] * 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify_audit(log_a)
    assert report.ok, [str(p) for p in report.problems]
    assert report.entries_checked == 240 and report.head == log_b.head()
    assert sorted((e.actor, e.detail["k"]) for e in log_a.all_in_order()) == sorted(
        (f"t{i}", k) for i in range(6) for k in range(40)
    )
    first.close()
    second.close()


def test_bad_input_is_refused_before_anything_is_written(log: SqlAuditLog) -> None:
    with pytest.raises(InvalidRequest, match="not one of"):
        log.append(T0, "alice", "peek")
    with pytest.raises(InvalidRequest, match="serialised"):
        log.append(T0, "alice", AuditAction.EXPORT, detail={"x": float("inf")})
    with pytest.raises(InvalidRequest, match="not one of"):
        log.entries(action="peek")
    assert log.head() is None and log.anchor() is None


def test_the_log_needs_an_anchor_path_where_it_cannot_guess_one(tmp_path: Path) -> None:
    memory = SqlCatalog("sqlite://")
    with pytest.raises(StorageError, match="needs an anchor path"):
        SqlAuditLog(memory)
    memory.close()
    catalog = SqlCatalog(sqlite_url(tmp_path / "vigil.db"))
    SqlAuditLog(catalog, tmp_path / "elsewhere.head").append(T0, "system", "config_change")
    assert (tmp_path / "elsewhere.head").read_text().startswith("1:") and not (tmp_path / "audit.head").exists()
    catalog.close()
    assert audit_anchor_path("postgresql://vigil:secret@db/vigil", tmp_path / "rec") == tmp_path / "audit.head"
    assert audit_anchor_path(sqlite_url(tmp_path / "x" / "cat.db"), tmp_path) == tmp_path / "x" / "audit.head"


def test_searches_filter_and_page_newest_first(thousand: Path) -> None:
    catalog, audit = open_log(thousand)
    newest = audit.entries(limit=3)
    assert [e.seq for e in newest] == [1000, 999, 998]
    assert [e.seq for e in audit.entries(limit=3, offset=3)] == [997, 996, 995]
    assert [e.seq for e in audit.entries(limit=2, max_seq=10)] == [10, 9]
    bob_yard = audit.entries(actor="bob", camera_id="yard", action="playback", limit=1000)
    assert bob_yard and all((e.actor, e.camera_id, e.action) == ("bob", "yard", "playback") for e in bob_yard)
    assert [e.seq for e in bob_yard] == [k + 1 for k in range(999, -1, -1) if k % 3 == 1 and k % 4 == 1]
    window = audit.entries(start_us=T0 + 10 * S, end_us=T0 + 20 * S, limit=1000)
    assert [e.seq for e in window] == list(range(20, 10, -1)), "start inclusive, end exclusive"
    assert [e.seq for e in audit.entries(text="CASE 55", limit=10)] == [556, 551, 56]
    assert [e.seq for e in audit.entries(text="盗窃", limit=1000)] == [k + 1 for k in range(995, -1, -5)]
    assert len(audit.entries(text="10.0.0.6", limit=1000)) == len([k for k in range(1000) if k % 7 == 6])
    assert audit.entries(text="%") == [] and audit.entries(text="_") == [], "wildcards taken literally"
    assert audit.entries(actor="李雷", limit=1)[0].seq == 999
    query = AuditQuery(actor="alice", start_us=T0, end_us=T0 + 600 * S)
    found = list(search_all(audit, query, page=7))
    assert [e.seq for e in found] == [k + 1 for k in range(597, -1, -3)], "all pages, none repeated"
    catalog.close()


def test_export_writes_the_found_entries_and_records_the_export(copy: Path) -> None:
    catalog, audit = open_log(copy)
    written: list[str] = []
    query = AuditQuery(camera_id="door", action=AuditAction.SNAPSHOT_VIEW, start_us=T0, end_us=T0 + 100 * S)
    done = export_audit(
        audit, query, "jsonl", written.extend, clock=FixedClock(), actor="auditor1", client="10.9.9.9", reason="review"
    )
    rows = [json.loads(line) for line in written]
    assert done.entries == len(rows) == 25 and [r["seq"] for r in rows] == list(range(99, 0, -4))
    assert all(r["camera_id"] == "door" and r["action"] == "snapshot_view" for r in rows)
    recorded = done.recorded
    assert (recorded.seq, recorded.actor, recorded.action) == (1001, "auditor1", "audit_export")
    assert (recorded.client, recorded.reason) == ("10.9.9.9", "review")
    assert (recorded.range_start_us, recorded.range_end_us) == (T0, T0 + 100 * S)
    assert recorded.detail == {
        "format": "jsonl",
        "entries": 25,
        "filters": {"action": "snapshot_view", "camera_id": "door"},
    }
    catalog.close()
    assert report_of(copy).ok


def test_csv_lines_are_spreadsheet_safe_and_json_lines_exact(log: SqlAuditLog) -> None:
    entry = log.append(T0, "=cmd|' /C calc'!A0", AuditAction.LOGIN_FAILED, client="10.0.0.1", reason="+1", detail={})
    header, line = list(csv_lines([entry]))
    assert header.startswith("seq,time,actor,action,camera_id,range_start,range_end,client,reason,detail")
    assert line.startswith("1,2025-11-24T16:00:00.000Z,'=cmd|' /C calc'!A0,login_failed,,,,10.0.0.1,'+1,{},")
    assert json.loads(next(jsonl_lines([entry]))) == entry.as_dict()


def test_downgrading_removes_the_table_and_its_triggers(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "vigil.db")
    catalog, audit = open_log(tmp_path)
    fill(audit, 2)
    catalog.close()
    command.downgrade(alembic_config(url), "0003")
    db = sqlite3.connect(tmp_path / "vigil.db")
    left = db.execute("SELECT name FROM sqlite_master WHERE name LIKE '%audit%'").fetchall()
    db.close()
    assert left == []
    catalog, audit = open_log(tmp_path)  # upgraded again: an empty log, triggers back
    assert audit.head() is None
    audit.append(T0, "system", AuditAction.CONFIG_CHANGE)
    catalog.close()
    db = sqlite3.connect(tmp_path / "vigil.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit")
    db.close()

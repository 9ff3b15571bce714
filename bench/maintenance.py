"""Maintenance: how fast a fault becomes a ticket, and how fast availability is computed, each against a baseline in
the same run.

**Fault to ticket.** A real :class:`vigil.runtime.Vigil` records and analyses 16 cameras (motion and picture faults;
object detection off) served by four real RTSP servers on 127.0.0.1 (four cameras each) from real footage (PETS09-S2L1
transcoded once to H.264; a generated clip when ``../shared/data`` is absent). In each round every server is stopped in
turn, so its four cameras drop at once, and started again once their tickets are open. The thresholds are 0 and the
grouping window 0 (no register links), so the latency measured is the engine's own: from the moment the
``camera_offline`` event is published on the node's bus (a subscriber takes the wall time) to the ticket's
``opened_us``. The baseline in the same run is the alarm engine's path for the same events (an alarm rule on
``camera_offline``): bus -> alarm ``created_us``. The issue's target: p95 under 2 s.

**Availability over a year for 1,000 cameras.** A synthetic catalog (SQLite, the real schema and migrations): 1,000
cameras recorded from 1 January, each with about 50 gaps (10 s to 2 h; some ``reconfigured``), about 100 picture-fault
events (some overlapping each other), and a few maintenance windows placed at run time on the first Monday of a month
(with gaps inside them). Timed (p50/p95 over repetitions): the whole site over the year, one camera over the year, and
one camera per day over a month, through ``AvailabilityDesk`` (three queries, interval arithmetic in Python). The
baseline is a plain SQL reference (window functions: fault islands merged, gaps clipped, overlaps with windows and
faults summed) computing the same per-camera figures over the year, timed too; every camera's observed, down,
planned, faulty time and outage count must be equal (``availability_matches_reference``).

``--quick`` (under a minute): one round of outages, fewer repetitions. The last line is one JSON object with at least
``fault_to_ticket_p95_s``, ``availability_p95_s`` and ``availability_matches_reference``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from vigil.config.loader import parse_config  # noqa: E402
from vigil.domain.timeutil import us_from_datetime  # noqa: E402
from vigil.media.simulator import RtspSimulator  # noqa: E402
from vigil.media.synthetic import make_synthetic_clip  # noqa: E402
from vigil.media.transcode import ensure_h264  # noqa: E402
from vigil.runtime import Vigil  # noqa: E402
from vigil.storage.catalog import SqlCatalog, sqlite_url  # noqa: E402
from vigil.storage.history import SqlHistory  # noqa: E402
from vigil.usecases.availability import AvailabilityDesk  # noqa: E402
from vigil.usecases.event_bus import EventPublished  # noqa: E402

SOURCE = HERE.parent.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
S = 1_000_000
CAMERAS, SERVERS = 16, 4


def stats(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    arr = np.asarray(values, dtype=float)
    return {
        "n": len(values),
        "p50": round(float(np.percentile(arr, 50)), 4),
        "p95": round(float(np.percentile(arr, 95)), 4),
        "max": round(float(arr.max()), 4),
    }


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# --- fault to ticket -------------------------------------------------------------------------------------------
def fault_to_ticket(work: Path, rounds: int) -> dict[str, Any]:
    clip = ensure_h264(SOURCE, work / "cache") if SOURCE.is_file() else make_synthetic_clip(work / "scene.mp4")
    servers = []
    urls: dict[str, str] = {}
    for k in range(SERVERS):
        mounts = {f"cam{k * 4 + j:02d}": clip for j in range(CAMERAS // SERVERS)}
        sim = RtspSimulator(mounts, log_path=work / f"rtsp-{k}.log")
        sim.start()
        servers.append(sim)
        urls.update(sim.urls)
    doc = {
        "storage": {"root": str(work / "recordings"), "min_retention_days": 0},
        "recording": {"segment_duration_s": 2, "reconnect_initial_s": 0.5, "reconnect_max_s": 1},
        "analysis": {"enabled": True, "detector": {"enabled": False}},
        "maintenance": {"thresholds_s": {"offline": 0}, "group_window_s": 0, "check_interval_s": 1},
        "alarms": {"rules": [{"name": "Camera down", "types": ["camera_offline"], "priority": 3}]},
        "cameras": [{"id": c, "name": c, "streams": {"main": {"url": u}}} for c, u in urls.items()],
    }
    node = Vigil(parse_config(doc), work)
    published: dict[int, int] = {}  # camera_offline event id -> wall time it was published
    lock = threading.Lock()

    def on_event(p: EventPublished) -> None:
        if p.record.type == "camera_offline" and p.change == "opened":
            with lock:
                published[p.record.id] = time.time_ns() // 1000

    node.bus.subscribe(on_event)
    node.start()
    tickets: list[float] = []
    kinds: dict[str, int] = {}
    alarms: list[float] = []
    onset: list[float] = []
    try:
        ok = False
        for _ in range(3):  # GStreamer's RTSP server sometimes aborts at start (rtsp-media.c get_rates): restart it
            ok = wait_for(lambda: all(node.catalog.segments(c, "main") for c in urls), 60)
            if ok:
                break
            for sim in servers:
                if not sim.running:
                    print("  an RTSP server died at start; starting it again", flush=True)
                    sim.start()
        print(f"fault to ticket: {CAMERAS} cameras recording and analysed: {ok}", flush=True)
        time.sleep(3)
        for r in range(rounds):
            for k, sim in enumerate(servers):
                cams = [c for c in urls if int(c[3:]) // (CAMERAS // SERVERS) == k]
                stopped_us = time.time_ns() // 1000
                sim.stop()

                def new_events(cs: list[str] = cams, since: int = stopped_us) -> list[Any]:
                    found = [e for c in cs for e in node.catalog.events(camera_id=c, types=["camera_offline"], limit=3)]
                    return [e for e in found if e.start_us >= since - 10 * S and e.id in published]

                def linked(cs: list[str] = cams) -> bool:
                    got = new_events(cs)
                    return len(got) >= len(cs) and all(node.tickets.store.ticket_of_event(e.id) for e in got)

                wait_for(linked, 30)
                for event in new_events():
                    ticket_id = node.tickets.store.ticket_of_event(event.id)
                    if ticket_id is None:
                        continue
                    # opened, or reopened (the same fault within the reopen window): the entry naming this event
                    entry = next(
                        (h for h in node.tickets.store.history(ticket_id) if event.id in h.detail.get("events", [])),
                        None,
                    )
                    if entry is None:
                        continue
                    kinds[entry.change] = kinds.get(entry.change, 0) + 1
                    tickets.append((entry.at_us - published[event.id]) / S)
                    onset.append((entry.at_us - event.start_us) / S)
                    alarm_id = node.alarm_desk.store.alarm_of_event(event.id)
                    alarm = node.alarm_desk.store.alarm(alarm_id) if alarm_id is not None else None
                    if alarm is not None and alarm.first_event_id == event.id:
                        alarms.append((alarm.created_us - published[event.id]) / S)
                sim.start()
                if not wait_for(lambda sm=sim: sm.running, 5):
                    sim.start()
                wait_for(lambda cs=cams: all(node.catalog.open_gap_of(c, "main") is None for c in cs), 30)
                print(f"  round {r + 1} server {k + 1}: {len(tickets)} tickets so far {kinds}", flush=True)
    finally:
        node.stop()
        for sim in servers:
            sim.stop()
    t, a, o = stats(tickets), stats(alarms), stats(onset)
    print(f"bus -> ticket: {t}\nbus -> alarm (baseline): {a}\noutage onset -> ticket: {o}", flush=True)
    return {
        "fault_to_ticket_n": t["n"],
        "fault_to_ticket_p50_s": t["p50"],
        "fault_to_ticket_p95_s": t["p95"],
        "fault_to_ticket_max_s": t["max"],
        "alarm_baseline_p50_s": a["p50"],
        "alarm_baseline_p95_s": a["p95"],
        "ticket_over_alarm_p95": round(t["p95"] / a["p95"], 3) if t["p95"] and a["p95"] else None,
        "onset_to_ticket_p95_s": o["p95"],
        "fault_to_ticket_under_2s": t["p95"] is not None and t["p95"] < 2.0,
        "ticket_changes": kinds,  # opened, reopened, seen_again (a ticket still being verified takes the new outage)
    }


# --- availability ------------------------------------------------------------------------------------------------
YEAR_START = us_from_datetime(dt.datetime(2025, 1, 1))
YEAR_END = us_from_datetime(dt.datetime(2026, 1, 1))


def synthetic_catalog(path: Path, cameras: int, seed: int = 7) -> None:
    """The real schema (migrations), filled in bulk with sqlite3."""
    SqlCatalog(sqlite_url(path)).close()
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    segs, gaps, events, windows = [], [], [], []
    mondays = []  # the first Monday of each month, 02:00-04:00 UTC: the maintenance slots
    for month in range(1, 13):
        day = dt.date(2025, month, 1)
        day += dt.timedelta(days=(7 - day.weekday()) % 7)
        a = us_from_datetime(dt.datetime(day.year, day.month, day.day, 2))
        mondays.append((a, a + 2 * 3600 * S))
    for k in range(cameras):
        cam = f"cam{k:04d}"
        first = YEAR_START + rng.randrange(0, 20 * 86400) * S
        segs.append(
            (cam, "main", f"{cam}/first.mp4", first, first + 60 * S, 1000, "0" * 64, "h264", 64, 36, 60, 0, "ok")
        )
        slots = rng.sample(mondays, 3)
        for a, b in slots:
            windows.append(("maintenance", json.dumps([cam]), a, b, "cleaning", "bench", a))
            start = a + rng.randrange(0, 3600) * S
            gaps.append((cam, "main", start, start + rng.randrange(60, 3000) * S, "timeout", ""))
        t = first + rng.randrange(3600, 86400) * S
        while t < YEAR_END:
            length = rng.randrange(10, 7200) * S
            if any(a - 7200 * S <= t <= b for a, b in mondays):  # keep the slots' gaps as placed
                t += 3 * 86400 * S
                continue
            open_ended = t + length > YEAR_END
            cause = "reconfigured" if rng.random() < 0.1 else rng.choice(["timeout", "unreachable", "stream_ended"])
            gaps.append((cam, "main", t, None if open_ended else t + length, cause, ""))
            t += length + rng.randrange(2 * 86400, 12 * 86400) * S
        for _ in range(rng.randrange(80, 120)):
            a = first + rng.randrange(0, (YEAR_END - first) // S) * S
            kind = rng.choice(["blurred", "covered", "frozen", "moved"])
            end = a + rng.randrange(5, 1800) * S
            events.append(("fault", cam, "main", a, end, kind, json.dumps({"fault": kind})))
            if rng.random() < 0.2:  # another fault at once
                events.append(
                    ("fault", cam, "main", a + 3 * S, end + 60 * S, "frozen", json.dumps({"fault": "frozen"}))
                )
    con.executemany(
        "INSERT INTO segments (camera_id, stream, path, start_us, end_us, size_bytes, sha256, codec, width, height, "
        "frame_count, recovered, state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        segs,
    )
    con.executemany("INSERT INTO gaps (camera_id, stream, start_us, end_us, cause, detail) VALUES (?,?,?,?,?,?)", gaps)
    con.executemany(
        "INSERT INTO events (type, camera_id, stream, start_us, end_us, description, data) VALUES (?,?,?,?,?,?,?)",
        events,
    )
    con.executemany(
        "INSERT INTO alarm_suppressions (kind, cameras, start_us, end_us, reason, placed_by, placed_us) "
        "VALUES (?,?,?,?,?,?,?)",
        windows,
    )
    con.commit()
    con.close()
    print(f"synthetic catalog: {cameras} cameras, {len(gaps)} gaps, {len(events)} fault events, "
          f"{len(windows)} maintenance windows", flush=True)  # fmt: skip


REFERENCE = """
WITH obs AS (
  SELECT camera_id, MAX(:s, MIN(start_us)) AS b FROM segments WHERE stream = 'main' GROUP BY camera_id
),
g AS (
  SELECT gaps.camera_id, MAX(gaps.start_us, obs.b) AS a, MIN(COALESCE(gaps.end_us, :e), :e) AS z, gaps.cause
  FROM gaps JOIN obs ON obs.camera_id = gaps.camera_id
  WHERE gaps.stream = 'main' AND gaps.start_us < :e AND COALESCE(gaps.end_us, :e) > obs.b
),
w AS (
  SELECT json_each.value AS camera_id, MAX(start_us, :s) AS a, MIN(COALESCE(end_us, :e), :e) AS z
  FROM alarm_suppressions, json_each(alarm_suppressions.cameras) WHERE kind = 'maintenance'
),
gw AS (  -- each gap's time inside windows (windows of a camera never overlap each other here)
  SELECT g.camera_id, g.a, g.z, g.cause, COALESCE(SUM(MAX(0, MIN(g.z, w.z) - MAX(g.a, w.a))), 0) AS inside
  FROM g LEFT JOIN w ON w.camera_id = g.camera_id AND w.a < g.z AND w.z > g.a
  GROUP BY g.camera_id, g.a, g.z, g.cause
),
f AS (
  SELECT events.camera_id, MAX(events.start_us, obs.b) AS a, MIN(COALESCE(events.end_us, :e), :e) AS z
  FROM events JOIN obs ON obs.camera_id = events.camera_id
  WHERE events.type = 'fault' AND events.start_us < :e AND COALESCE(events.end_us, :e) > obs.b
),
fm AS (
  SELECT camera_id, a, z,
    CASE WHEN a <= MAX(z) OVER (PARTITION BY camera_id ORDER BY a, z ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
         THEN 0 ELSE 1 END AS starts
  FROM f
),
islands AS (
  SELECT camera_id, MIN(a) AS a, MAX(z) AS z FROM (
    SELECT camera_id, a, z, SUM(starts) OVER (PARTITION BY camera_id ORDER BY a, z ROWS UNBOUNDED PRECEDING) AS gid
    FROM fm) GROUP BY camera_id, gid
),
faulty AS (
  SELECT i.camera_id,
    SUM(i.z - i.a) - COALESCE((SELECT SUM(MAX(0, MIN(i2.z, g.z) - MAX(i2.a, g.a))) FROM islands i2 JOIN g
      ON g.camera_id = i2.camera_id AND g.a < i2.z AND g.z > i2.a WHERE i2.camera_id = i.camera_id), 0) AS t
  FROM islands i GROUP BY i.camera_id
)
SELECT obs.camera_id, :e - obs.b AS observed,
  COALESCE((SELECT SUM(z - a) FROM g WHERE g.camera_id = obs.camera_id), 0) AS down,
  COALESCE((SELECT SUM(CASE WHEN cause IN ('reconfigured', 'disabled') THEN z - a ELSE inside END) FROM gw
            WHERE gw.camera_id = obs.camera_id), 0) AS planned,
  COALESCE((SELECT t FROM faulty WHERE faulty.camera_id = obs.camera_id), 0) AS faulty,
  (SELECT COUNT(*) FROM gw WHERE gw.camera_id = obs.camera_id AND cause NOT IN ('reconfigured', 'disabled')
     AND inside < z - a) AS outages
FROM obs ORDER BY obs.camera_id
"""


def availability_bench(work: Path, cameras: int, repeat: int) -> dict[str, Any]:
    path = work / "year.db"
    started = time.perf_counter()
    synthetic_catalog(path, cameras)
    print(f"  made in {time.perf_counter() - started:.1f} s", flush=True)
    catalog = SqlCatalog(sqlite_url(path))
    doc = {"cameras": [{"id": f"cam{k:04d}", "name": f"Camera {k}", "streams": {"main": {"url": "rtsp://10.0.0.1/x"}}}
                       for k in range(cameras)]}  # fmt: skip
    config = parse_config(doc)
    desk = AvailabilityDesk(SqlHistory(catalog), lambda: config, dict)
    rng = random.Random(3)
    timings: dict[str, list[float]] = {"site_year": [], "camera_year": [], "camera_month_by_day": []}
    site = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        site = desk.figures(YEAR_START, YEAR_END, each=True)
        timings["site_year"].append(time.perf_counter() - t0)
        cam = f"cam{rng.randrange(cameras):04d}"
        t0 = time.perf_counter()
        desk.figures(YEAR_START, YEAR_END, cameras=[cam])
        timings["camera_year"].append(time.perf_counter() - t0)
        month = YEAR_START + rng.randrange(0, 11) * 30 * 86400 * S
        t0 = time.perf_counter()
        desk.figures(month, month + 30 * 86400 * S, cameras=[cam], by="day")
        timings["camera_month_by_day"].append(time.perf_counter() - t0)
    assert site is not None
    ref_times = []
    for _ in range(max(1, repeat // 3)):
        con = sqlite3.connect(path)
        t0 = time.perf_counter()
        rows = con.execute(REFERENCE, {"s": YEAR_START, "e": YEAR_END}).fetchall()
        ref_times.append(time.perf_counter() - t0)
        con.close()
    ours = {f.subject.removeprefix("camera:"): f.series.whole for f in site[1:]}
    mismatches = []
    for camera, observed, down, planned, faulty, outages in rows:
        a = ours.get(camera)
        got = (a.observed_us, a.down_us, a.planned_us, a.faulty_us, a.outages) if a is not None else None
        if got != (observed, down, planned, faulty, outages):
            mismatches.append((camera, got, (observed, down, planned, faulty, outages)))
    catalog.close()
    for name, values in timings.items():
        print(f"availability {name}: {stats(values)}", flush=True)
    print(f"SQL reference, per camera over the year: {stats(ref_times)}; mismatches: {len(mismatches)}", flush=True)
    for m in mismatches[:5]:
        print("  mismatch", m, flush=True)
    whole = site[0].series.whole
    all_p95 = max(stats(v)["p95"] or 0 for v in timings.values())
    return {
        "availability_cameras": cameras,
        "availability_site_year_p95_s": stats(timings["site_year"])["p95"],
        "availability_camera_year_p95_s": stats(timings["camera_year"])["p95"],
        "availability_camera_month_by_day_p95_s": stats(timings["camera_month_by_day"])["p95"],
        "availability_p95_s": all_p95,
        "reference_sql_p50_s": stats(ref_times)["p50"],
        "availability_site_over_reference": round(
            float(np.median(timings["site_year"])) / float(np.median(ref_times)), 3
        ),
        "availability_matches_reference": not mismatches and len(rows) == cameras,
        "site_recording_share": round(whole.recording_share or 0, 6),
        "site_outages": whole.outages,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="under a minute")
    parser.add_argument("--rounds", type=int, default=None, help="outage rounds (default 3; 1 with --quick)")
    parser.add_argument("--cameras", type=int, default=1000, help="cameras in the synthetic year")
    parser.add_argument("--skip-node", action="store_true", help="only the availability part")
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    work = Path(tempfile.mkdtemp(prefix="vigil-bench-maintenance-"))
    result: dict[str, Any] = {"bench": "maintenance", "quick": args.quick}
    try:
        if not args.skip_node:
            result |= fault_to_ticket(work / "node", rounds)
        result |= availability_bench(work, args.cameras, 5 if args.quick else 20)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["goal_met"] = bool(
        result.get("fault_to_ticket_under_2s", args.skip_node)
        and (result["availability_p95_s"] or 9) < 1.0
        and result["availability_matches_reference"]
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

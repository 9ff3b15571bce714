"""``vigil alarms list|show|ack|assign|resolve`` and ``vigil incidents list|show|report``: alarms and incidents from
the command line. Acts are recorded like the console's (history, notifications, audit log, client ``cli``) under the
name given with ``--by`` (default: the operating-system user); a running node sends their notifications within a
second."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigil.commands.args import os_user
from vigil.config.models import Config
from vigil.domain.alarms import OPEN_STATES, AlarmOutcome, AlarmState
from vigil.domain.timeutil import iso_from_us

CLIENT = "cli"


def run_alarms(config: Config, base: Path, args: argparse.Namespace) -> int:
    from vigil.wiring import open_alarm_desks  # the composition root, only when a command runs

    desk, _incidents, close = open_alarm_desks(config, base)
    try:
        command = args.alarms_command
        if command == "list":
            states = [args.state] if args.state else sorted(OPEN_STATES)
            rows = desk.store.alarms(states=states, queue=not args.state, limit=args.limit)
            for a in rows:
                who = a.assigned_to or a.acknowledged_by or ""
                print(
                    f"{a.id:6}  P{a.priority}  {a.state:12}  {iso_from_us(a.created_us)}  {a.camera_id or '-':12}  "
                    f"x{a.event_count:<4} {a.title}" + (f"  ({who})" if who else "")
                )
            print(f"{len(rows)} alarm(s)")
            return 0
        if command == "show":
            a = desk.alarm(args.id)
            print(f"alarm {a.id}: {a.title} (rule {a.rule}, P{a.priority}, {a.state})\n  {a.text}")
            if a.suppressed_by:
                print(f"  suppressed by {a.suppressed_by}")
            for h in desk.store.history(a.id):
                detail = ", ".join(f"{k}: {v}" for k, v in h.detail.items())
                print(f"  {iso_from_us(h.at_us)}  {h.actor:12}  {h.change:12}  {detail}")
            return 0
        by = args.by or os_user()
        if command == "ack":
            a = desk.acknowledge(args.id, by, CLIENT)
        elif command == "assign":
            a = desk.assign(args.id, args.to, by, CLIENT)
        else:
            a = desk.resolve(args.id, args.outcome, by, args.note or "", CLIENT)
        print(f"alarm {a.id} is {a.state} ({by})")
        return 0
    finally:
        close()


def run_incidents(config: Config, base: Path, args: argparse.Namespace) -> int:
    from vigil.reports.incident_html import render_html
    from vigil.reports.incident_pdf import render_pdf
    from vigil.storage.legal_holds import SqlEvidenceRegister
    from vigil.usecases.incident_report import build_report
    from vigil.wiring import Paths, open_alarm_desks

    _desk, incidents, close = open_alarm_desks(config, base)
    try:
        if args.incidents_command == "list":
            rows = incidents.incidents(args.state, args.limit)
            for i in rows:
                print(f"{i.id:6}  {i.state:6}  {i.severity:8}  {iso_from_us(i.opened_us)}  {i.type:16}  {i.title}")
            print(f"{len(rows)} incident(s)")
            return 0
        view = incidents.view(args.id)
        if args.incidents_command == "show":
            inc = view.incident
            print(f"incident {inc.id}: {inc.title} ({inc.type}, {inc.severity}, {inc.state})")
            print(
                "  durations: " + ", ".join(f"{k} {v if v is None else round(v)}" for k, v in inc.durations_s().items())
            )
            for row in view.checklist:
                mark = f"{row.tick.status} by {row.tick.by} {iso_from_us(row.tick.at_us)}" if row.tick else "open"
                print(f"  step {row.index + 1}: {row.step.text} [{mark}]")
            for t in view.timeline:
                print(f"  {iso_from_us(t.at_us)}  {t.actor:12}  {t.what}  {t.text}")
            return 0
        paths = Paths.of(config, base)
        root = paths.snapshots

        def snapshot(relpath: str) -> bytes | None:
            path = (root / relpath).resolve()
            return path.read_bytes() if path.is_relative_to(root.resolve()) and path.is_file() else None

        from vigil.storage.catalog import SqlCatalog

        catalog = SqlCatalog(paths.catalog_url)
        try:
            report = build_report(
                view,
                site=config.site.name,
                timezone=config.site.timezone,
                camera_names={c.id: c.name for c in config.cameras},
                now_us=incidents.clock.now_us(),
                by=args.by or os_user(),
                snapshot=snapshot,
                register=SqlEvidenceRegister(catalog),
            )
        finally:
            catalog.close()
        out = Path(args.output)
        out.write_bytes(render_pdf(report) if out.suffix.lower() == ".pdf" else render_html(report).encode("utf-8"))
        print(f"wrote {out}")
        return 0
    finally:
        close()


def add_parsers(
    sub: Any, alarms: Callable[[argparse.Namespace], int], incidents: Callable[[argparse.Namespace], int]
) -> None:
    p = sub.add_parser("alarms", help="the alarm queue: list, show, acknowledge, assign, resolve", description=__doc__)
    p.set_defaults(func=alarms)
    cmds = p.add_subparsers(dest="alarms_command", required=True)
    q = cmds.add_parser("list", help="open alarms by priority then age (or those in one state, newest first)")
    q.add_argument("--state", choices=[s.value for s in AlarmState])
    q.add_argument("--limit", type=int, default=50)
    q = cmds.add_parser("show", help="one alarm with its history")
    q.add_argument("id", type=int)
    for name, text in (("ack", "acknowledge an alarm (escalation stops)"), ("assign", "give an alarm to someone"),
                       ("resolve", "resolve an alarm with its outcome")):  # fmt: skip
        q = cmds.add_parser(name, help=text)
        q.add_argument("id", type=int)
        q.add_argument("--by", help="who (default: the operating-system user)")
        if name == "assign":
            q.add_argument("--to", required=True, help="the user name of whoever takes it")
        if name == "resolve":
            q.add_argument("--outcome", required=True, choices=[o.value for o in AlarmOutcome])
            q.add_argument("--note", help="what was found")
    p = sub.add_parser("incidents", help="incidents: list, show, write the report (HTML or PDF)", description=__doc__)
    p.set_defaults(func=incidents)
    cmds = p.add_subparsers(dest="incidents_command", required=True)
    q = cmds.add_parser("list", help="incidents, newest first")
    q.add_argument("--state", choices=["open", "closed"])
    q.add_argument("--limit", type=int, default=50)
    q = cmds.add_parser("show", help="one incident: durations, checklist, timeline")
    q.add_argument("id", type=int)
    q = cmds.add_parser("report", help="write the incident's report (.pdf or .html by the file name)")
    q.add_argument("id", type=int)
    q.add_argument("-o", "--output", required=True, help="report.pdf or report.html")
    q.add_argument("--by", help="who writes it (default: the operating-system user)")

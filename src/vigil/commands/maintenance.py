"""``vigil equipment``, ``vigil tickets`` and ``vigil availability``: the equipment register, maintenance tickets and
availability from the command line. Acts are recorded like the console's (history, notifications, audit log, client
``cli``) under the name given with ``--by`` (default: the operating-system user); a running node verifies what is
resolved here and sends the notifications within a second."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigil.commands.args import instant_arg, os_user
from vigil.config.models import Config
from vigil.domain.equipment import Equipment, EquipmentKind
from vigil.domain.errors import InvalidRequest
from vigil.domain.tickets import TicketKind, TicketState, WorkDone
from vigil.domain.timeutil import iso_from_us
from vigil.usecases.availability import figures_csv
from vigil.usecases.equipment_register import with_values
from vigil.usecases.maintenance_access import tickets_csv

CLIENT = "cli"


def _when(us: int | None) -> str:
    return iso_from_us(us) if us is not None else "-"


def _values(pairs: list[str]) -> dict[str, Any]:
    """``name=value`` pairs; numbers for fov_deg and mount_height_m, ``depends_on=a@1,b`` a list."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InvalidRequest(f"{pair!r}: give fields as name=value")
        name = name.strip()
        if name in ("fov_deg", "mount_height_m"):
            try:
                out[name] = float(value) if value else None
            except ValueError:
                raise InvalidRequest(f"{name}: {value!r} is not a number") from None
        elif name == "depends_on":
            out[name] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            out[name] = value
    return out


def run_equipment(config: Config, base: Path, args: argparse.Namespace) -> int:
    from vigil.wiring import open_maintenance  # the composition root, only when a command runs

    tools = open_maintenance(config, base)
    reg = tools.register
    by = getattr(args, "by", None) or os_user()
    try:
        command = args.equipment_command
        if command == "list":
            items = reg.all(include_removed=args.all)
            for e in items:
                links = ",".join(d.equipment_id + (f"@{d.port}" if d.port else "") for d in e.depends_on)
                gone = "  (removed)" if e.removed_us is not None else ""
                print(f"{e.id:16} {e.kind.value:10} {e.name:24} {e.model or '-':20} {e.serial or '-':12} {links}{gone}")
            print(f"{len(items)} record(s)")
        elif command == "show":
            e = reg.get(args.id)
            fields = [f for f in Equipment.__dataclass_fields__ if f not in ("depends_on",)]
            for name in fields:
                value = getattr(e, name)
                if value not in ("", None):
                    print(f"  {name:18} {value.value if isinstance(value, EquipmentKind) else value}")
            for d in e.depends_on:
                print(f"  depends on         {d.equipment_id}" + (f" (port {d.port})" if d.port else ""))
            for doc in reg.documents(e.id):
                print(f"  document {doc.id:4}    {doc.name} ({doc.content_type}, {doc.size_bytes} bytes)")
            for h in reg.history(e.id)[: args.history]:
                detail = ", ".join(f"{k}: {v}" for k, v in h.detail.get("fields", {}).items())
                print(f"  {_when(h.at_us)}  {h.actor:12} {h.change:16} {detail}")
        elif command == "add":
            item = with_values(Equipment(args.id, EquipmentKind(args.kind), args.name), _values(args.set or []))
            e = reg.add(item, by, CLIENT)
            print(f"registered {e.id} ({e.kind.value})")
        elif command == "set":
            e = reg.get(args.id)
            e = reg.change(args.id, _values(args.values), e.revision, by, CLIENT)
            print(f"{e.id} is at revision {e.revision}")
        elif command == "remove":
            reg.remove(args.id, by, args.reason, CLIENT)
            print(f"{args.id} taken out of service")
        elif command == "replace":
            e = reg.replace_device(args.id, _values(args.device), args.reason, by, ticket_id=args.ticket, client=CLIENT)
            print(f"{e.id}: device replaced (now {e.model or '?'} serial {e.serial or '?'})")
        elif command == "document":
            path = Path(args.file)
            doc = reg.add_document(args.id, path.name, path.read_bytes(), by, CLIENT)
            print(f"document {doc.id} kept with {args.id} (sha256 {doc.sha256})")
        return 0
    finally:
        tools.close()


def run_tickets(config: Config, base: Path, args: argparse.Namespace) -> int:
    from vigil.wiring import open_maintenance

    tools = open_maintenance(config, base)
    desk = tools.tickets
    by = getattr(args, "by", None) or os_user()
    try:
        command = args.tickets_command
        if command == "list":
            if args.state:
                rows = desk.store.tickets(states=[args.state], limit=args.limit)
            else:
                rows = desk.queue(limit=args.limit)
            for t in rows:
                who = t.assignee or t.vendor or ""
                due = t.restore_due_us if t.resolved_us is None else None
                print(
                    f"{t.id:6}  P{t.priority}  {t.state.value:12} {t.kind.value:12} {t.equipment_id:14} "
                    f"due {_when(due):24} {t.title}" + (f"  ({who})" if who else "")
                )
            print(f"{len(rows)} ticket(s)")
            return 0
        if command == "show":
            view = desk.view(args.id)
            t = view.ticket
            print(f"ticket {t.id}: {t.title} ({t.kind.value}, P{t.priority}, {t.state.value}, revision {t.revision})")
            print(f"  equipment {t.equipment_id}; cameras {', '.join(t.cameras) or '-'}; opened {_when(t.opened_us)}")
            print(f"  fault since {_when(t.first_seen_us)}, cleared {_when(t.fault_cleared_us)}")
            print(f"  respond by {_when(t.respond_due_us)}, restore by {_when(t.restore_due_us)}")
            if t.verify_note:
                print(f"  {t.verify_note}")
            for h in view.history:
                detail = ", ".join(f"{k}: {v}" for k, v in h.detail.items())
                print(f"  {_when(h.at_us)}  {h.actor:12}  {h.change:14}  {detail}")
            return 0
        if command == "csv":
            start, end = instant_arg("start", args.start), instant_arg("end", args.end)
            rows = sorted(
                desk.store.tickets(opened_from_us=start, opened_until_us=end, limit=100_000), key=lambda t: t.id
            )
            Path(args.output).write_text(tickets_csv(rows), encoding="utf-8")
            print(f"wrote {len(rows)} ticket(s) to {args.output}")
            return 0
        if command == "open":
            t = desk.open(
                args.equipment,
                by,
                kind=args.kind,
                title=args.title or "",
                priority=args.priority,
                note=args.note or "",
                client=CLIENT,
            )
        elif command == "ack":
            t = desk.acknowledge(args.id, by, None, CLIENT)
        elif command == "assign":
            t = desk.assign(args.id, by, None, args.to or "", args.vendor or "", CLIENT)
        elif command == "start":
            t = desk.start(args.id, by, None, CLIENT)
        elif command == "wait":
            t = desk.wait(args.id, by, None, args.why or "", CLIENT)
        elif command == "resolve":
            t = desk.resolve(args.id, by, None, args.work, args.part or [], args.minutes, args.note or "", CLIENT)
        elif command == "close":
            t = desk.close(args.id, by, None, CLIENT)
        elif command == "reopen":
            t = desk.reopen(args.id, by, None, args.why, CLIENT)
        else:
            desk.note(args.id, by, args.text, CLIENT)
            print(f"note added to ticket {args.id}")
            return 0
        print(f"ticket {t.id} is {t.state.value} ({by})")
        return 0
    finally:
        tools.close()


def run_availability(config: Config, base: Path, args: argparse.Namespace) -> int:
    from vigil.wiring import open_maintenance

    tools = open_maintenance(config, base)
    try:
        start, end = instant_arg("start", args.start), instant_arg("end", args.end)
        found = tools.availability.figures(
            start,
            end,
            cameras=args.camera or None,
            site=args.site,
            equipment=args.equipment,
            by=args.by,
            each=args.each,
        )
        if args.csv:
            Path(args.csv).write_text(figures_csv(found, start, end), encoding="utf-8")
            print(f"wrote {args.csv}")
            return 0
        if args.json:
            print(json.dumps([_figures_json(f) for f in found], indent=2))
            return 0
        for f in found:
            w = f.series.whole
            print(
                f"{f.subject}: {len(f.cameras)} camera(s), {_share(w.recording_share)} recording, "
                f"{_share(w.healthy_share)} healthy picture"
            )
            print(
                f"  down {w.down_us / 1e6:.0f} s (planned {w.planned_us / 1e6:.0f} s, unplanned "
                f"{w.unplanned_us / 1e6:.0f} s), {w.outages} outage(s), MTBF {_secs(w.mtbf_s)}, MTTR {_secs(w.mttr_s)}"
            )
            for bucket, a in f.series.buckets:
                print(
                    f"  {bucket.label:10}  {_share(a.recording_share):>8} recording  {_share(a.healthy_share):>8} "
                    f"healthy  {a.unplanned_us / 1e6:8.0f} s unplanned  {a.outages} outage(s)"
                )
        return 0
    finally:
        tools.close()


def _share(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.3f}%"


def _secs(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f} s"


def _figures_json(f: Any) -> dict[str, Any]:
    def plain(a: Any) -> dict[str, Any]:
        return {
            "observed_s": a.observed_us / 1e6,
            "recording_share": a.recording_share,
            "healthy_share": a.healthy_share,
            "planned_down_s": a.planned_us / 1e6,
            "unplanned_down_s": a.unplanned_us / 1e6,
            "outages": a.outages,
            "mtbf_s": a.mtbf_s,
            "mttr_s": a.mttr_s,
        }

    return {
        "subject": f.subject,
        "cameras": list(f.cameras),
        "whole": plain(f.series.whole),
        "buckets": [{"label": b.label, **plain(a)} for b, a in f.series.buckets],
    }


def add_parsers(
    sub: Any,
    equipment: Callable[[argparse.Namespace], int],
    tickets: Callable[[argparse.Namespace], int],
    availability: Callable[[argparse.Namespace], int],
) -> None:
    p = sub.add_parser(
        "equipment", help="the equipment register: list, show, add, set, remove, replace, document", description=__doc__
    )
    p.set_defaults(func=equipment)
    cmds = p.add_subparsers(dest="equipment_command", required=True)
    q = cmds.add_parser("list", help="every record (cameras, switches, power, nodes, disks ...)")
    q.add_argument("--all", action="store_true", help="with those taken out of service")
    q = cmds.add_parser("show", help="one record with its links, documents and history")
    q.add_argument("id")
    q.add_argument("--history", type=int, default=20, help="changes shown (newest first)")
    q = cmds.add_parser("add", help="register a switch, port group, power supply, recorder ...")
    q.add_argument("id")
    q.add_argument("--kind", required=True, choices=[k.value for k in EquipmentKind if k is not EquipmentKind.CAMERA])
    q.add_argument("--name", required=True)
    q.add_argument("--set", nargs="*", metavar="FIELD=VALUE", help="other fields (e.g. ip=10.0.0.2 vendor=Acme)")
    q.add_argument("--by")
    q = cmds.add_parser("set", help="change fields of a record (depends_on=sw-1@7,ups-1)")
    q.add_argument("id")
    q.add_argument("values", nargs="+", metavar="FIELD=VALUE")
    q.add_argument("--by")
    q = cmds.add_parser("remove", help="take equipment out of service (nothing may depend on it)")
    q.add_argument("id")
    q.add_argument("--reason", required=True)
    q.add_argument("--by")
    q = cmds.add_parser("replace", help="a camera's device replaced (it keeps its id, recordings, rules, masks)")
    q.add_argument("id")
    q.add_argument("device", nargs="+", metavar="FIELD=VALUE", help="model=... serial=... firmware=...")
    q.add_argument("--reason", required=True)
    q.add_argument("--ticket", type=int)
    q.add_argument("--by")
    q = cmds.add_parser("document", help="keep a file with a record (PDF, PNG, JPEG, WebP, text)")
    q.add_argument("id")
    q.add_argument("file")
    q.add_argument("--by")

    p = sub.add_parser(
        "tickets",
        help="maintenance tickets: list, show, open, ack, assign, ..., resolve, close, csv",
        description=__doc__,
    )
    p.set_defaults(func=tickets)
    cmds = p.add_subparsers(dest="tickets_command", required=True)
    q = cmds.add_parser("list", help="the queue (nearest deadline first), or the tickets in one state")
    q.add_argument("--state", choices=[s.value for s in TicketState])
    q.add_argument("--limit", type=int, default=100)
    q = cmds.add_parser("show", help="one ticket with its history")
    q.add_argument("id", type=int)
    q = cmds.add_parser("csv", help="the tickets opened in a period, as CSV")
    q.add_argument("--start", required=True)
    q.add_argument("--end", required=True)
    q.add_argument("-o", "--output", required=True)
    q = cmds.add_parser("open", help="open a ticket by hand")
    q.add_argument("equipment", help="the register id (a camera id, a switch ...)")
    q.add_argument("--kind", default="other", choices=[k.value for k in TicketKind])
    q.add_argument("--title")
    q.add_argument("--priority", type=int, choices=[1, 2, 3, 4])
    q.add_argument("--note")
    q.add_argument("--by")
    acts = {
        "ack": "acknowledge",
        "assign": "give to a person or a vendor",
        "start": "work starts",
        "wait": "waiting for parts or the vendor",
        "resolve": "say it is fixed (Vigil verifies)",
        "close": "close a verified ticket",
        "reopen": "work goes on",
        "note": "add a note",
    }
    for name, text in acts.items():
        q = cmds.add_parser(name, help=text)
        q.add_argument("id", type=int)
        q.add_argument("--by")
        if name == "assign":
            q.add_argument("--to", help="a user name")
            q.add_argument("--vendor", help="a vendor")
        if name in ("wait", "reopen"):
            q.add_argument("--why", required=name == "reopen")
        if name == "resolve":
            q.add_argument("--work", nargs="+", required=True, choices=[w.value for w in WorkDone])
            q.add_argument("--part", action="append", help="a part used (again for more)")
            q.add_argument("--minutes", type=int, help="time spent")
            q.add_argument("--note")
        if name == "note":
            q.add_argument("text")

    p = sub.add_parser(
        "availability", help="availability of cameras, a site or equipment over a period", description=__doc__
    )
    p.set_defaults(func=availability)
    p.add_argument("--start", required=True, help="ISO 8601")
    p.add_argument("--end", required=True, help="ISO 8601")
    p.add_argument("--camera", action="append", help="a camera (again for more; default: every camera)")
    p.add_argument("--site")
    p.add_argument("--equipment", help="the cameras depending on this equipment")
    p.add_argument("--by", choices=["day", "week", "month"])
    p.add_argument("--each", action="store_true", help="each camera on its own too")
    p.add_argument("--csv", help="write CSV to this file")
    p.add_argument("--json", action="store_true")

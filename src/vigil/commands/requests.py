"""``vigil requests``: requests from authorities to view or copy footage (add, list, show, approve, refuse,
withdraw, fulfil, report). Acts are written to the audit log as the person named with ``--by`` (default: the
operating-system user), from ``cli``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vigil.commands.args import instant_arg, os_user
from vigil.config.models import Config
from vigil.domain.authority import AuthorityRequest, RequestKind, RequestState, summary
from vigil.ports import SystemClock
from vigil.usecases.authority_requests import AuthorityDesk, document, report_csv, report_rows

CLIENT = "cli"


@contextmanager
def opened(config: Config, base: Path) -> Iterator[AuthorityDesk]:
    from vigil.storage.audit_log import SqlAuditLog, audit_anchor_path
    from vigil.storage.authority_requests import SqlAuthorityRequests
    from vigil.wiring import evidence_exporter, open_storage  # the composition root, only when a command runs

    paths, catalog, store = open_storage(config, base)
    try:
        audit = SqlAuditLog(catalog, audit_anchor_path(paths.catalog_url, paths.root))
        clock = SystemClock()
        exporter = evidence_exporter(lambda: config, paths, catalog, store, audit, clock)
        yield AuthorityDesk(SqlAuthorityRequests(catalog), audit, clock, lambda: config, exporter, paths.evidence)
    finally:
        catalog.close()


def _line(r: AuthorityRequest, now_us: int) -> str:
    doc = document(r)
    late = "  OVERDUE" if r.overdue(now_us) else ""
    return (
        f"#{r.id} {doc['received'][:19]} {r.state:<9} {r.authority} ({r.officer}) ref. {r.reference or '-'}: "
        f"{r.kind} {', '.join(r.camera_ids)} {doc['start'][:19]} to {doc['end'][:19]}{late}"
    )


def run_requests(config: Config, base: Path, args: argparse.Namespace) -> int:
    by = getattr(args, "by", None) or os_user()
    now = SystemClock().now_us()
    with opened(config, base) as desk:
        command = args.requests_command
        if command == "add":
            request = AuthorityRequest(
                id=0,
                received_us=instant_arg("received", args.received) if args.received else now,
                recorded_by=by,
                authority=args.authority,
                officer=args.officer,
                officer_id=args.officer_id,
                contact=args.contact,
                legal_basis=args.legal_basis,
                reference=args.reference,
                kind=RequestKind(args.kind),
                camera_ids=tuple(args.camera),
                start_us=instant_arg("start", args.start),
                end_us=instant_arg("end", args.end),
                deadline_us=instant_arg("deadline", args.deadline) if args.deadline else None,
                notes=args.notes,
            )
            print("recorded " + _line(desk.record(request, client=CLIENT), now))
        elif command == "list":
            state = RequestState(args.state) if args.state else None
            for r in desk.requests(state=state, limit=args.limit):
                print(_line(r, now))
        elif command == "show":
            print(json.dumps(document(desk.store.get(args.id)), indent=2, ensure_ascii=False))
        elif command in ("approve", "refuse"):
            print(_line(desk.decide(args.id, command == "approve", by, args.reason, client=CLIENT), now))
        elif command == "withdraw":
            print(_line(desk.withdraw(args.id, by, args.reason, client=CLIENT), now))
        elif command == "fulfil":
            done, made = desk.fulfil(args.id, by, client=CLIENT, unmasked=args.unmasked)
            print(_line(done, now))
            print(f"  evidence package {made.record.id}: {made.record.path} ({made.record.size_bytes} bytes)")
        elif command == "report":
            return _report(desk, args, now)
    return 0


def _report(desk: AuthorityDesk, args: argparse.Namespace, now: int) -> int:
    found = desk.in_period(instant_arg("start", args.start), instant_arg("end", args.end))
    if args.csv:
        Path(args.csv).write_text(report_csv(found, now), encoding="utf-8")
    s = summary(found, now)
    print(f"{s.count} request(s) received from {args.start} to {args.end}")
    print("  by state: " + (", ".join(f"{k} {v}" for k, v in sorted(s.by_state.items())) or "-"))
    print("  by authority: " + (", ".join(f"{k} {v}" for k, v in s.by_authority.items()) or "-"))
    print(f"  overdue now: {s.overdue}; answered after their deadline: {s.answered_late}")
    print(f"  median days to decide: {s.days_to_decide_median}; to fulfil: {s.days_to_fulfil_median}")
    for row in report_rows(found, now):
        print("  #" + " | ".join(row[:4] + row[7:13]))
    return 0


def add_parser(sub: Any, handler: Callable[[argparse.Namespace], int]) -> None:
    p = sub.add_parser("requests", help="requests from authorities to view or copy footage")
    p.set_defaults(func=handler)
    rq = p.add_subparsers(dest="requests_command", required=True)
    q = rq.add_parser("add", help="record a request as received")
    q.add_argument("--authority", required=True, help="the requesting body")
    q.add_argument("--officer", required=True, help="the person acting for it")
    q.add_argument("--officer-id", default="", help="badge or warrant-card number")
    q.add_argument("--contact", default="")
    q.add_argument("--legal-basis", required=True, help="the law, order or warrant relied on")
    q.add_argument("--reference", default="", help="the authority's case or document number")
    q.add_argument("--kind", choices=[k.value for k in RequestKind], default="copy")
    q.add_argument("--camera", action="append", required=True, help="a camera id (repeat for several)")
    q.add_argument("--start", required=True, help="ISO 8601")
    q.add_argument("--end", required=True, help="ISO 8601")
    q.add_argument("--deadline", help="ISO 8601: answer by")
    q.add_argument("--received", help="ISO 8601: when it arrived (default: now)")
    q.add_argument("--notes", default="")
    q.add_argument("--by", help="who records it (default: the operating-system user)")
    q = rq.add_parser("list", help="requests, newest first")
    q.add_argument("--state", choices=[s.value for s in RequestState])
    q.add_argument("--limit", type=int, default=100)
    q = rq.add_parser("show", help="one request in full (JSON)")
    q.add_argument("id", type=int)
    for name, text in (("approve", "approve a request"), ("refuse", "refuse a request"), ("withdraw", "withdraw it")):
        q = rq.add_parser(name, help=text)
        q.add_argument("id", type=int)
        q.add_argument("--reason", default="", required=name != "approve", help="why (recorded)")
        q.add_argument("--by", help="who decides (default: the operating-system user)")
    q = rq.add_parser("fulfil", help="fulfil an approved request with an evidence package (places a legal hold)")
    q.add_argument("id", type=int)
    q.add_argument("--by", help="who fulfils it (default: the operating-system user)")
    q.add_argument("--unmasked", action="store_true", help="the original pictures, without the privacy masks")
    q = rq.add_parser("report", help="the requests received in a period, with what became of them")
    q.add_argument("--start", required=True, help="ISO 8601")
    q.add_argument("--end", required=True, help="ISO 8601")
    q.add_argument("--csv", help="also write every request as CSV to this file")

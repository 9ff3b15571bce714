"""``vigil destruction``: destruction certificates (``certificate PERIOD``: sealed and signed, ``vigil verify`` checks
it), the deletion ledger's own chain (``ledger``) and the early deletion requests (``requests``). Early deletions are
asked and decided through the API, by two signed-in people (ADR 0017); here they are only listed."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vigil.config.models import Config
from vigil.domain.destruction import ledger_problems, parse_period
from vigil.domain.errors import InvalidRequest
from vigil.domain.timeutil import iso_from_us
from vigil.ports import SystemClock
from vigil.usecases.destruction_certificates import Certificates
from vigil.usecases.early_deletion import DeletionDesk
from vigil.usecases.early_deletion import document as request_document


@contextmanager
def opened(config: Config, base: Path) -> Iterator[tuple[DeletionDesk, Certificates]]:
    from vigil.storage.audit_log import SqlAuditLog, audit_anchor_path
    from vigil.wiring import destruction_desks, open_storage  # the composition root, only when a command runs

    paths, catalog, store = open_storage(config, base)
    try:
        audit = SqlAuditLog(catalog, audit_anchor_path(paths.catalog_url, paths.root))
        yield destruction_desks(lambda: config, paths, catalog, store, audit, SystemClock())
    finally:
        catalog.close()


def run_destruction(config: Config, base: Path, args: argparse.Namespace) -> int:
    with opened(config, base) as (desk, certificates):
        if args.destruction_command == "certificate":
            try:
                period = parse_period(args.period)
            except ValueError as exc:
                raise InvalidRequest(f"period: {exc}") from None
            if period.end_us > SystemClock().now_us():
                raise InvalidRequest(f"period: {period.name} has not ended yet (it ends {iso_from_us(period.end_us)})")
            out = Path(args.output) if args.output else None
            if out is None:
                certificates.folder.mkdir(parents=True, exist_ok=True)
            made = certificates.make(period, out)
            print(f"destruction certificate {period.name}: {made.segments} segment(s), {made.bytes} bytes destroyed")
            print(f"written to {made.path}; check it with: vigil verify {made.path}")
            for problem in made.problems:
                print(f"PROBLEM {problem}")
            return 1 if made.problems else 0
        if args.destruction_command == "ledger":
            entries = certificates.catalog.ledger()
            problems = ledger_problems(entries, prev=None)
            print(f"deletion ledger: {len(entries)} entries")
            for problem in problems:
                print(f"PROBLEM {problem}")
            print("RESULT: INTACT" if not problems else f"RESULT: NOT INTACT ({len(problems)} problem(s))")
            return 1 if problems else 0
        rows = desk.store.requests(limit=args.limit)
        for r in rows:
            doc = request_document(r)
            print(
                f"#{r.id} {doc['requested'][:19]} {r.state:<9} {r.camera_id} {doc['start'][:19]} to {doc['end'][:19]}"
                f" asked by {r.requested_by}" + (f", {r.state} by {r.decided_by}" if r.decided_by else "")
            )
            print(f"    reason: {r.reason}" + (f"; note: {r.note}" if r.note else ""))
        print(f"{len(rows)} request(s)")
        return 0


def add_parser(sub: Any, func: Callable[[argparse.Namespace], int]) -> None:
    text = "destruction certificates, the deletion ledger's chain, early deletion requests"
    p = sub.add_parser("destruction", help=text, description=text)
    p.set_defaults(func=func)
    inner = p.add_subparsers(dest="destruction_command", required=True)
    c = inner.add_parser("certificate", help="seal and sign the destruction certificate of a period that has ended")
    c.add_argument("period", help="a month (2026-11), an ISO week (2026-W47) or a day (2026-11-30), in UTC")
    c.add_argument("-o", "--output", help="a new folder or .zip (default: certificates/destruction-<period>)")
    inner.add_parser("ledger", help="check the deletion ledger's chain, entry by entry")
    r = inner.add_parser("requests", help="early deletion requests, newest first")
    r.add_argument("--limit", type=int, default=50)

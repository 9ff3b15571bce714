"""``vigil audit verify`` and ``vigil audit export``: the audit log from the command line.

``verify`` checks the whole hash chain and the anchor file (and a head kept elsewhere, ``--expect-head``); it
changes nothing. ``export`` writes a search to a .csv or .jsonl file (part file, fsync, rename) and records the
export in the log as an ``audit_export`` entry by ``system`` from ``cli``, naming the operating-system user.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.commands.args import instant_arg, os_user
from vigil.config.models import Config
from vigil.domain.audit import SYSTEM_ACTOR, AuditAction, AuditHead, parse_head
from vigil.domain.errors import InvalidRequest
from vigil.domain.timeutil import iso_from_us
from vigil.durable_files import part_path, publish_part
from vigil.ports import SystemClock
from vigil.usecases.audit import AuditQuery, ExportFormat, export_audit, export_format, verify_audit

if TYPE_CHECKING:
    from vigil.storage.audit_log import SqlAuditLog


def run_audit(config: Config, base: Path, args: argparse.Namespace) -> int:
    if args.audit_command == "verify":
        expected = [_head(text) for text in args.expect_head or []]
        return _with_log(config, base, lambda log: _verify(log, expected))
    query = AuditQuery(
        actor=args.actor,
        action=AuditAction(args.action) if args.action else None,
        camera_id=args.camera,
        start_us=instant_arg("start", args.start),
        end_us=instant_arg("end", args.end),
        text=args.text,
    )
    output = Path(args.output)
    fmt = export_format(output.name)
    if not output.parent.is_dir():
        raise InvalidRequest(f"output: no folder {output.parent}")
    return _with_log(config, base, lambda log: _export(log, query, fmt, output, args.reason))


def _with_log(config: Config, base: Path, run: Callable[[SqlAuditLog], int]) -> int:
    from vigil.storage.audit_log import SqlAuditLog, audit_anchor_path
    from vigil.wiring import open_storage  # the composition root, only when a command runs

    paths, catalog, _ = open_storage(config, base)
    try:
        return run(SqlAuditLog(catalog, audit_anchor_path(paths.catalog_url, paths.root)))
    finally:
        catalog.close()


def _verify(log: SqlAuditLog, expected: list[AuditHead]) -> int:
    report = verify_audit(log, expected)
    print(f"checked {report.entries_checked} audit entr{'y' if report.entries_checked == 1 else 'ies'}")
    if report.head is not None:
        print(f"head: {report.head}  (keep a copy elsewhere; check it later with --expect-head)")
    anchor = f"{report.anchor}" if report.anchor else "none"
    print(f"anchor ({log.anchor_file.path}): {anchor}")
    for problem in report.problems:
        print(f"  [problem] {problem}")
    print("OK: the audit log is intact" if report.ok else f"{len(report.problems)} problem(s) found")
    return 0 if report.ok else 1


def _export(log: SqlAuditLog, query: AuditQuery, fmt: ExportFormat, output: Path, reason: str) -> int:
    def write(lines: Iterable[str]) -> None:
        part = part_path(output)
        try:
            with part.open("w", encoding="utf-8", newline="") as fh:
                fh.writelines(lines)
            publish_part(part, output)
        finally:
            part.unlink(missing_ok=True)

    done = export_audit(
        log,
        query,
        fmt,
        write,
        clock=SystemClock(),
        actor=SYSTEM_ACTOR,
        client="cli",
        reason=reason,
        detail={"os_user": os_user(), "file": str(output.resolve())},
    )
    span = " to ".join(iso_from_us(v) if v is not None else "..." for v in (query.start_us, query.end_us))
    print(f"wrote {output}: {done.entries} entr{'y' if done.entries == 1 else 'ies'} ({span}), newest first")
    print(f"recorded as audit entry {done.recorded.seq}")
    return 0


def _head(text: str) -> AuditHead:
    try:
        return parse_head(text)
    except ValueError as exc:
        raise InvalidRequest(f"--expect-head: {exc}") from None


def add_parser(sub: Any, func: Callable[[argparse.Namespace], int]) -> None:
    p = sub.add_parser("audit", help="verify the audit log's hash chain; export a search of it", description=__doc__)
    p.set_defaults(func=func)
    audit = p.add_subparsers(dest="audit_command", required=True)
    q = audit.add_parser("verify", help="check every entry, the chain and the anchor (exit 1 on any problem)")
    q.add_argument(
        "--expect-head", action="append", metavar="SEQ:HASH", help="a head kept elsewhere, as verify printed it"
    )
    q = audit.add_parser("export", help="write the entries a search finds to a .csv or .jsonl file")
    q.add_argument("--start", required=True, help="ISO 8601: entries at or after, e.g. 2026-11-24T00:00:00Z")
    q.add_argument("--end", required=True, help="ISO 8601: entries before")
    q.add_argument("--actor", help="one user name (or system)")
    q.add_argument("--camera", help="one camera id")
    q.add_argument(
        "--action", choices=[a.value for a in AuditAction], metavar="ACTION", help="one action, e.g. playback"
    )
    q.add_argument("--text", help="words in the reason, actor, client or detail")
    q.add_argument("--reason", default="", help="why the log is exported (recorded with the export)")
    q.add_argument("-o", "--output", required=True, help="output file: .csv or .jsonl")

"""``vigil evidence`` (export, list, handover, key), ``vigil verify`` and ``vigil hold`` (list, place, lift).

Acts from the command line are written to the audit log by ``system`` from ``cli``, naming the operating-system
user; the person named with ``--by`` (default: that user) is the one recorded on the package, its custody entries
and the holds.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vigil import verify_package
from vigil.commands.args import instant_arg, os_user
from vigil.config.models import Config
from vigil.domain.audit import SYSTEM_ACTOR
from vigil.domain.errors import InvalidRequest
from vigil.domain.evidence import EvidenceRequest, spaced
from vigil.domain.privacy import REDACT_STYLES, parse_redaction
from vigil.domain.timeutil import iso_from_us
from vigil.ports import SystemClock
from vigil.usecases.evidence import EvidenceExporter

CLIENT = "cli"


@contextmanager
def opened(config: Config, base: Path) -> Iterator[EvidenceExporter]:
    from vigil.storage.audit_log import SqlAuditLog, audit_anchor_path
    from vigil.wiring import evidence_exporter, open_storage  # the composition root, only when a command runs

    paths, catalog, store = open_storage(config, base)
    try:
        audit = SqlAuditLog(catalog, audit_anchor_path(paths.catalog_url, paths.root))
        yield evidence_exporter(lambda: config, paths, catalog, store, audit, SystemClock())
    finally:
        catalog.close()


def _detail() -> dict[str, Any]:
    return {"os_user": os_user()}


def _records(pairs: list[str] | None) -> dict[str, Any]:
    records: dict[str, Any] = {}
    for pair in pairs or []:
        name, eq, file = pair.partition("=")
        if not eq:
            raise InvalidRequest(f"--record: {pair!r} is not NAME=FILE.json")
        try:
            records[name] = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidRequest(f"--record {name}: cannot read {file} as JSON: {exc}") from None
    return records


def _export(exporter: EvidenceExporter, args: argparse.Namespace) -> int:
    request = EvidenceRequest(
        camera_ids=tuple(args.camera),
        start_us=instant_arg("start", args.start),
        end_us=instant_arg("end", args.end),
        reason=args.reason,
        recipient=args.recipient,
        requested_by=args.by or os_user(),
        client=CLIENT,
        stream=args.stream,
        include_events=not args.no_events,
        records=_records(args.record),
        unmasked=args.unmasked,
        redact=parse_redaction(args.redact or []),
        redact_style=args.redact_style,
    )
    out = Path(args.output)
    made = exporter.export(request, out, actor=SYSTEM_ACTOR, detail=_detail())
    m, r = made.manifest, made.record
    print(f"wrote evidence package {r.id} to {out} ({r.size_bytes} bytes, {r.file_count} files)")
    print("  privacy masks " + ("burned into its pictures" if r.masks_applied else "not applied"))
    print(f"  {m['counts']['clips']} clip(s), {m['counts']['events']} event(s), {m['counts']['snapshots']} snapshot(s)")
    for gap in m["gaps"]:
        print(f"  gap on {gap['camera_id']}: {gap['start']} to {gap['end']}: {gap['cause']} ({gap['detail']})")
    for problem in m["problems"]:
        print(f"  problem: {problem}")
    print(f"  legal hold(s) placed: {', '.join(str(h.id) for h in made.holds)} (lift with vigil hold lift)")
    print(f"  signed by the site key {spaced(r.key_fingerprint)}")
    ok = _checked(out, r.key_fingerprint, "")
    if made.redacted is not None:
        red = made.redacted.record
        hidden = made.redacted.manifest["redaction"]["regions_hidden"]
        print(f"wrote redacted package {red.id} to {red.path} ({red.size_bytes} bytes): {red.redacted} hidden")
        print(f"  regions hidden: {', '.join(f'{k} {v}' for k, v in sorted(hidden.items()))}")
        print(f"  linked to {r.id} by its manifest's SHA-256 {r.manifest_sha256}")
        ok = _checked(Path(red.path), red.key_fingerprint, "the redacted package ") and ok
    return 0 if ok else 1


def _checked(path: Path, fingerprint: str, what: str) -> bool:
    report = verify_package.verify(path, fingerprint)
    print(f"checked {what}after writing: " + ("intact" if report.ok else "NOT INTACT"))
    for problem in report.problems:
        print(f"  [problem] {problem}")
    return report.ok


def _list(exporter: EvidenceExporter, args: argparse.Namespace) -> int:
    rows = exporter.tools.register.packages(limit=args.limit)
    for r in rows:
        print(
            f"{r.id}  {iso_from_us(r.created_us)}  by {r.requested_by} for {r.recipient}  {','.join(r.cameras)}  "
            f"{iso_from_us(r.start_us)} to {iso_from_us(r.end_us)}  {r.size_bytes} bytes  {r.gap_count} gap(s)"
            + ("  masked" if r.masks_applied else "")
            + (f"  redacted ({r.redacted}) copy of {r.redaction_of}" if r.redaction_of else "")
        )
        print(f"    at {r.path}")
        print(f"    reason: {r.reason}")
    print(f"{len(rows)} package(s)")
    return 0


def _handover(exporter: EvidenceExporter, args: argparse.Namespace) -> int:
    from vigil.storage.evidence_package import open_sealed
    from vigil.usecases.custody import hand_over

    tools = exporter.tools
    path = Path(args.package)
    fingerprint = verify_package.fingerprint_of(tools.signer.public_key)
    report = verify_package.verify(path, fingerprint)
    if not report.ok:
        print(verify_package.render(report))
        print("no custody entry added: the package is not intact, or not signed by this site's key")
        return 1
    entry = hand_over(
        open_sealed(path),
        tools.signer,
        tools.audit,
        tools.clock,
        by=args.by,
        to=args.to,
        note=args.note,
        client=CLIENT,
        actor=SYSTEM_ACTOR,
        detail=_detail(),
    )
    print(f"custody entry {entry['seq']}: {entry['at']} handed over by {entry['by']} to {entry['to']}")
    return 0


def _key(exporter: EvidenceExporter, args: argparse.Namespace) -> int:
    from vigil.storage.site_key import SiteKey

    signer = exporter.tools.signer
    public = signer.public_key
    if isinstance(signer, SiteKey):
        print(f"site signing key: {signer.path} (secret, owner-only; back it up with the catalog)")
    print(f"public key:  {public.hex()}")
    print(f"fingerprint: {spaced(verify_package.fingerprint_of(public))}")
    return 0


def run_evidence(config: Config, base: Path, args: argparse.Namespace) -> int:
    acts: dict[str, Callable[[EvidenceExporter, argparse.Namespace], int]] = {
        "export": _export,
        "list": _list,
        "handover": _handover,
        "key": _key,
    }
    with opened(config, base) as exporter:
        return acts[args.evidence_command](exporter, args)


def run_verify(args: argparse.Namespace) -> int:
    argv = [args.package] + (["--expect-fingerprint", args.expect_fingerprint] if args.expect_fingerprint else [])
    return verify_package.main(argv)


def run_hold(config: Config, base: Path, args: argparse.Namespace) -> int:
    with opened(config, base) as exporter:
        clerk = exporter.tools.clerk
        if args.hold_command == "list":
            rows = clerk.holds.holds(active_only=not args.all, camera_id=args.camera)
            for h in rows:
                state = "active" if h.active else f"lifted {iso_from_us(h.lifted_us or 0)} by {h.lifted_by}"
                print(
                    f"hold {h.id}: {h.camera_id} {iso_from_us(h.start_us)} to {iso_from_us(h.end_us)}; placed "
                    f"{iso_from_us(h.placed_us)} by {h.placed_by}; {state}"
                )
                print(f"    reason: {h.reason}" + (f"; lifted because: {h.lift_reason}" if h.lift_reason else ""))
            print(f"{len(rows)} hold(s)")
            return 0
        by = args.by or os_user()
        if args.hold_command == "place":
            if exporter.tools.config.camera(args.camera) is None:
                raise InvalidRequest(f"--camera: no camera {args.camera!r} in the configuration")
            start_us, end_us = instant_arg("start", args.start), instant_arg("end", args.end)
            hold = clerk.place(
                args.camera,
                start_us,
                end_us,
                by=by,
                reason=args.reason,
                client=CLIENT,
                actor=SYSTEM_ACTOR,
                detail=_detail(),
            )
            print(f"placed legal hold {hold.id} on {hold.camera_id}: retention will not delete this footage")
            return 0
        hold = clerk.lift(args.hold_id, by=by, reason=args.reason, client=CLIENT, actor=SYSTEM_ACTOR, detail=_detail())
        print(f"lifted legal hold {hold.id} on {hold.camera_id}: retention applies again from its next sweep")
        return 0


def add_parsers(
    sub: Any,
    evidence: Callable[[argparse.Namespace], int],
    verify: Callable[[argparse.Namespace], int],
    hold: Callable[[argparse.Namespace], int],
) -> None:
    p = sub.add_parser("evidence", help="export signed evidence packages; hand them over; the site key")
    p.set_defaults(func=evidence)
    ev = p.add_subparsers(dest="evidence_command", required=True)
    q = ev.add_parser("export", help="clips, snapshots, records, signed manifest and custody; places a legal hold")
    q.add_argument("--camera", action="append", required=True, help="a camera id (repeat for several)")
    q.add_argument("--start", required=True, help="ISO 8601, e.g. 2026-11-24T10:00:00Z")
    q.add_argument("--end", required=True, help="ISO 8601")
    q.add_argument("--reason", required=True, help="why (the case, the request): recorded everywhere")
    q.add_argument("--recipient", required=True, help="who receives the package")
    q.add_argument("--by", help="who exports it (default: the operating-system user)")
    q.add_argument("--stream", default="main", choices=["main", "sub"])
    q.add_argument("--no-events", action="store_true", help="leave out the events and their snapshots")
    q.add_argument("--record", action="append", metavar="NAME=FILE.json", help="add a JSON record as records/NAME.json")
    q.add_argument("-o", "--output", required=True, help="the package: a folder, or a file ending in .zip")
    q.add_argument("--unmasked", action="store_true", help="the original pictures, without the cameras' privacy masks")
    q.add_argument(
        "--redact",
        action="append",
        metavar="faces,plates[,people]",
        help="also write a redacted package (OUTPUT-redacted) for dissemination, hiding these",
    )
    q.add_argument("--redact-style", default="blur", choices=REDACT_STYLES, help="how redacted regions are hidden")
    q = ev.add_parser("list", help="the packages exported from this site")
    q.add_argument("--limit", type=int, default=100)
    q = ev.add_parser("handover", help="add a signed custody entry: who handed the package to whom")
    q.add_argument("package", help="the package folder or .zip")
    q.add_argument("--to", required=True, help="who receives it")
    q.add_argument("--by", required=True, help="who hands it over")
    q.add_argument("--note", default="", help="where, how, why (kept in the entry)")
    ev.add_parser("key", help="the site signing key's public key and fingerprint (never the secret)")
    p = sub.add_parser("verify", help="check an evidence package: every file, the signature, the custody chain")
    p.set_defaults(func=verify)
    p.add_argument("package", help="the package folder or .zip")
    p.add_argument("--expect-fingerprint", help="the site key's fingerprint, as the site gave it to you")
    p = sub.add_parser("hold", help="legal holds: list, place, lift (retention never deletes held footage)")
    p.set_defaults(func=hold)
    hl = p.add_subparsers(dest="hold_command", required=True)
    q = hl.add_parser("list", help="active holds (--all: lifted ones too)")
    q.add_argument("--all", action="store_true")
    q.add_argument("--camera")
    q = hl.add_parser("place", help="hold one camera's footage over a time range")
    q.add_argument("--camera", required=True)
    q.add_argument("--start", required=True, help="ISO 8601")
    q.add_argument("--end", required=True, help="ISO 8601")
    q.add_argument("--reason", required=True, help="the order or case")
    q.add_argument("--by", help="who places it (default: the operating-system user)")
    q = hl.add_parser("lift", help="lift a hold: retention applies again")
    q.add_argument("hold_id", type=int)
    q.add_argument("--reason", required=True)
    q.add_argument("--by", help="who lifts it (default: the operating-system user)")

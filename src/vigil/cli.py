"""The ``vigil`` command. Each sub-command is a small function; exit codes: 0 ok, 1 problems found, 2 error."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from vigil import __version__
from vigil.config.loader import load_config
from vigil.config.models import Config
from vigil.domain.errors import VigilError
from vigil.domain.timeutil import iso_from_us, parse_instant

log = logging.getLogger("vigil")


def _config(args: argparse.Namespace) -> tuple[Config, Path]:
    path = Path(args.config)
    return load_config(path), path.resolve().parent


def cmd_serve(args: argparse.Namespace) -> int:
    from vigil.commands.serve import serve

    config, base = _config(args)
    serve(config, base, host=args.host, port=args.port, config_path=Path(args.config).resolve())
    return 0


def cmd_cameras(args: argparse.Namespace) -> int:
    from vigil.commands.reports import print_cameras

    config, base = _config(args)
    print_cameras(config, base)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from vigil.commands.reports import print_status

    config, base = _config(args)
    return print_status(config, base)


def cmd_check(args: argparse.Namespace) -> int:
    from vigil.commands.reports import print_check

    config, base = _config(args)
    return print_check(config, base, repair=args.repair, verify_hashes=not args.no_hashes)


def cmd_export(args: argparse.Namespace) -> int:
    from vigil.media.clip import ClipPart, write_clip
    from vigil.usecases.playback import clip_sources
    from vigil.wiring import open_storage

    config, base = _config(args)
    try:
        start_us, end_us = parse_instant(args.start), parse_instant(args.end)
    except ValueError as exc:
        print(f"vigil export: {exc}", file=sys.stderr)
        return 2
    _, catalog, store = open_storage(config, base)
    sources = clip_sources(config, catalog, store, args.camera, args.stream, start_us, end_us)
    result = write_clip(
        [ClipPart(s.path, s.start_us, s.end_us, s.fetch) for s in sources], start_us, end_us, Path(args.output)
    )
    print(
        f"wrote {result.path}: {iso_from_us(result.start_us)} to {iso_from_us(result.end_us)}, "
        f"{result.frame_count} frames, {result.size_bytes} bytes from {result.parts_used} segment(s)"
    )
    for gap_start, gap_end in result.gaps:
        print(f"  gap (no footage): {iso_from_us(gap_start)} to {iso_from_us(gap_end)}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from vigil.commands.users import run_users

    config, base = _config(args)
    return run_users(config, base, args)


def cmd_audit(args: argparse.Namespace) -> int:
    from vigil.commands.audit import run_audit

    config, base = _config(args)
    return run_audit(config, base, args)


def cmd_destruction(args: argparse.Namespace) -> int:
    from vigil.commands.destruction import run_destruction

    config, base = _config(args)
    return run_destruction(config, base, args)


def cmd_backup(args: argparse.Namespace) -> int:
    from vigil.commands.backup import run_backup

    config, _ = _config(args)
    return run_backup(config, Path(args.config).resolve(), args)


def cmd_restore(args: argparse.Namespace) -> int:
    from vigil.commands.backup import run_restore

    return run_restore(args)


def cmd_evidence(args: argparse.Namespace) -> int:
    from vigil.commands.evidence import run_evidence

    config, base = _config(args)
    return run_evidence(config, base, args)


def cmd_verify(args: argparse.Namespace) -> int:
    from vigil.commands.evidence import run_verify

    return run_verify(args)


def cmd_hold(args: argparse.Namespace) -> int:
    from vigil.commands.evidence import run_hold

    config, base = _config(args)
    return run_hold(config, base, args)


def cmd_requests(args: argparse.Namespace) -> int:
    from vigil.commands.requests import run_requests

    config, base = _config(args)
    return run_requests(config, base, args)


def cmd_notifications(args: argparse.Namespace) -> int:
    from vigil.commands.notifications import run_notifications

    config, base = _config(args)
    return run_notifications(config, base, args)


def cmd_alarms(args: argparse.Namespace) -> int:
    from vigil.commands.alarms import run_alarms

    config, base = _config(args)
    return run_alarms(config, base, args)


def cmd_incidents(args: argparse.Namespace) -> int:
    from vigil.commands.alarms import run_incidents

    config, base = _config(args)
    return run_incidents(config, base, args)


def cmd_equipment(args: argparse.Namespace) -> int:
    from vigil.commands.maintenance import run_equipment

    config, base = _config(args)
    return run_equipment(config, base, args)


def cmd_tickets(args: argparse.Namespace) -> int:
    from vigil.commands.maintenance import run_tickets

    config, base = _config(args)
    return run_tickets(config, base, args)


def cmd_availability(args: argparse.Namespace) -> int:
    from vigil.commands.maintenance import run_availability

    config, base = _config(args)
    return run_availability(config, base, args)


def cmd_simulate(args: argparse.Namespace) -> int:
    from vigil.media.simulator import run_simulator

    media = Path(args.media)
    if not media.is_dir():
        print(f"vigil simulate: {media} is not a folder", file=sys.stderr)
        return 2
    run_simulator(media, args.port, Path(args.cache), host="127.0.0.1")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from vigil.commands.demo import run_demo

    return run_demo(Path(args.data), Path(args.dir), port=args.port, cameras=args.cameras)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigil", description="Vigil video management system")
    parser.add_argument("--version", action="version", version=f"vigil {__version__}")
    parser.add_argument(
        "-c",
        "--config",
        default=os.environ.get("VIGIL_CONFIG", "vigil.yaml"),
        help="configuration file (default: vigil.yaml or $VIGIL_CONFIG)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(func=func)
        return p

    p = add("serve", cmd_serve, "record every camera and serve the web page and API")
    p.add_argument("--host", default=None, help="override server.host")
    p.add_argument("--port", type=int, default=None, help="override server.port")
    add("cameras", cmd_cameras, "list cameras with their live status")
    add("status", cmd_status, "stream health and storage capacity against the legal minimum")
    p = add("check", cmd_check, "verify the catalog against the disk and the hash chains")
    p.add_argument("--repair", action="store_true", help="fix what is safe to fix (see docs/ref/cli.md)")
    p.add_argument("--no-hashes", action="store_true", help="skip re-hashing files (sizes and chains only)")
    p = add("export", cmd_export, "write one MP4 for a camera and time range (no re-encoding)")
    p.add_argument("--camera", required=True)
    p.add_argument("--start", required=True, help="ISO 8601, e.g. 2026-11-24T10:00:00Z")
    p.add_argument("--end", required=True, help="ISO 8601")
    p.add_argument("--stream", default="main", choices=["main", "sub"])
    p.add_argument("-o", "--output", required=True, help="output .mp4 file")
    from vigil.commands.users import add_parser as add_users

    add_users(sub, cmd_users)
    from vigil.commands.audit import add_parser as add_audit

    add_audit(sub, cmd_audit)
    from vigil.commands.evidence import add_parsers as add_evidence

    add_evidence(sub, cmd_evidence, cmd_verify, cmd_hold)
    from vigil.commands.backup import add_parsers as add_backup

    add_backup(sub, cmd_backup, cmd_restore)
    from vigil.commands.destruction import add_parser as add_destruction

    add_destruction(sub, cmd_destruction)
    from vigil.commands.requests import add_parser as add_requests

    add_requests(sub, cmd_requests)
    from vigil.commands.notifications import add_parser as add_notifications

    add_notifications(sub, cmd_notifications)
    from vigil.commands.alarms import add_parsers as add_alarms

    add_alarms(sub, cmd_alarms, cmd_incidents)
    from vigil.commands.maintenance import add_parsers as add_maintenance

    add_maintenance(sub, cmd_equipment, cmd_tickets, cmd_availability)
    p = add("simulate", cmd_simulate, "serve every clip in a folder as an RTSP camera on 127.0.0.1")
    p.add_argument("--media", required=True, help="folder of video clips")
    p.add_argument("--port", type=int, default=8554)
    p.add_argument("--cache", default=".vigil-cache/transcoded", help="where transcoded clips are kept")
    p = add("demo", cmd_demo, "simulate cameras from real footage, record them and serve the console")
    p.add_argument("--data", default="../shared/data", help="footage folder (synthetic clips when absent)")
    p.add_argument("--dir", default="vigil-demo", help="working folder for the demo's config and recordings")
    p.add_argument("--port", type=int, default=8080, help="web port (0: any free port)")
    p.add_argument("--cameras", type=int, default=6, help="how many simulated cameras at most")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin list at every start says nothing
    try:
        code: int = args.func(args)
    except VigilError as exc:
        print(f"vigil {args.command}: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())

"""``vigil backup`` (one backup of the node's own files now, or the list of backups on the tier) and ``vigil
restore`` (a node brought back on a fresh machine from a backup, then its footage settled: segments the lost hot
disk held are released to their copies on the tiers, and the ones with no copy are ledgered as lost). ADR 0018."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigil.config.models import Config
from vigil.domain.backup import name_time_us
from vigil.domain.errors import InvalidRequest
from vigil.domain.timeutil import iso_from_us
from vigil.ports import SystemClock


def run_backup(config: Config, config_file: Path, args: argparse.Namespace) -> int:
    from vigil.storage.backup_restore import backup_names
    from vigil.wiring import Paths, backups_of, tiers_of

    paths = Paths.of(config, config_file.parent)
    backups = backups_of(lambda: config, config_file, paths, tiers_of(config, config_file.parent), SystemClock())
    if args.backup_command == "list":
        whole, incomplete = backup_names(backups.tier())
        for name in whole:
            print(f"{name}  {iso_from_us(name_time_us(name))}  whole")
        for name in incomplete:
            print(f"{name}  {iso_from_us(name_time_us(name))}  INCOMPLETE (no manifest: never restored)")
        print(f"{len(whole)} whole backup(s) on tier {backups.tier().name}")
        return 0
    made = backups.run()
    key = "with the site key (sealed)" if made.with_key else "WITHOUT the site key (no passphrase set)"
    print(
        f"backup {made.name}: {made.files} file(s), {made.bytes} bytes to tier {made.tier} "
        f"in {made.seconds:.1f} s, {key}"
    )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from vigil.storage.backup_restore import restore
    from vigil.usecases.integrity import settle_lost_disk
    from vigil.wiring import node_files, open_storage, restore_source

    tier = restore_source(args.endpoint, args.bucket, args.prefix, args.folder)
    target = Path(args.to).resolve()
    if target.exists() and any(target.iterdir()):
        raise InvalidRequest(f"--to: {target} is not empty: restore into a new folder")
    passphrase = os.environ.get(args.passphrase_env) or None
    done = restore(tier, target / "vigil.yaml", passphrase, node_files, args.backup)
    print(
        f"restored backup {done.name} ({done.files} file(s), {done.bytes} bytes) into {target} in {done.seconds:.1f} s"
    )
    if not done.key_restored:
        print("the backup held no site key: this node makes a new one (packages signed before still verify)")
    _, catalog, store = open_storage(done.config, target)
    try:
        settled = settle_lost_disk(catalog, store, store.copies, SystemClock())
    finally:
        catalog.close()
    print(f"footage: {settled.released} segment(s) the old hot disk held are read from their copies on the tiers")
    if settled.lost:
        first, last = min(s.start_us for s in settled.lost), max(s.end_us for s in settled.lost)
        print(
            f"lost with the old machine: {len(settled.lost)} segment(s) without a copy ({iso_from_us(first)} to "
            f"{iso_from_us(last)}); ledgered as lost (rule check_repair)"
        )
    print(f"next: vigil -c {target / 'vigil.yaml'} check; ... audit verify; then serve")
    return 0


def add_parsers(
    sub: Any, backup: Callable[[argparse.Namespace], int], restore: Callable[[argparse.Namespace], int]
) -> None:
    text = "back the node's own files up to storage.backup.tier now, or list the backups there"
    p = sub.add_parser("backup", help=text, description=text)
    p.set_defaults(func=backup)
    inner = p.add_subparsers(dest="backup_command")
    inner.add_parser("now", help="one backup now (the default)")
    inner.add_parser("list", help="the backups on the tier, oldest first")
    text = "bring a node back from a backup on a bucket or a folder, into a new folder"
    r = sub.add_parser("restore", help=text, description=text)
    r.set_defaults(func=restore)
    r.add_argument("--endpoint", help="the S3 store's URL (keys from VIGIL_S3_ACCESS_KEY and VIGIL_S3_SECRET_KEY)")
    r.add_argument("--bucket", help="the bucket the backups are in")
    r.add_argument("--prefix", default="", help="the tier's key prefix (as in the old vigil.yaml)")
    r.add_argument("--folder", help="or: the folder tier the backups are in")
    r.add_argument("--to", required=True, help="the new node's folder (new or empty); vigil.yaml goes there")
    r.add_argument("--backup", help="the backup's name (default: the newest whole one)")
    r.add_argument("--passphrase-env", default="VIGIL_BACKUP_PASSPHRASE", help="variable holding the key's passphrase")

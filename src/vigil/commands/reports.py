"""What ``vigil cameras``, ``vigil status`` and ``vigil check`` print."""

from __future__ import annotations

from pathlib import Path

from vigil.config.models import Config
from vigil.domain.timeutil import iso_from_us
from vigil.ports import SystemClock
from vigil.storage.legal_holds import SqlLegalHolds
from vigil.storage.tiered_files import TieredFiles
from vigil.usecases.integrity import run_check
from vigil.usecases.status import site_status
from vigil.usecases.tier_status import tier_states
from vigil.wiring import open_storage, probe_facts


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def print_cameras(config: Config, base: Path) -> None:
    _, catalog, store = open_storage(config, base)
    status = {s.camera_id: s for s in site_status(config, catalog, store, SystemClock()).streams}
    rows = [["ID", "NAME", "SITE", "LOCATION", "STATUS", "FPS", "KB/S", "MODEL", "SERIAL", "URL"]]
    for cam in config.cameras:
        st = status.get(cam.id)
        h = st.health if st else None
        rows.append(
            [
                cam.id,
                cam.name,
                cam.site,
                cam.location or "-",
                st.state if st else "unknown",
                f"{h.fps:.1f}" if h else "-",
                f"{h.bitrate_kbps:.0f}" if h else "-",
                cam.device.model or "-",
                cam.device.serial or "-",
                cam.streams.main.display_url(),
            ]
        )
    print(_table(rows))


def print_status(config: Config, base: Path) -> int:
    _, catalog, store = open_storage(config, base)
    st = site_status(config, catalog, store, SystemClock(), SqlLegalHolds(catalog))
    rows = [["CAMERA", "STREAM", "STATE", "SINCE", "FPS", "KB/S", "GOP S", "LAST PACKET", "ERROR"]]
    for s in st.streams:
        h = s.health
        rows.append(
            [
                s.camera_id,
                s.stream,
                s.state,
                iso_from_us(h.since_us) if h else "-",
                f"{h.fps:.1f}" if h else "-",
                f"{h.bitrate_kbps:.0f}" if h else "-",
                f"{h.keyframe_interval_s:.1f}" if h else "-",
                iso_from_us(h.last_packet_us) if h and h.last_packet_us else "-",
                (h.error if h else "")[:60],
            ]
        )
    print(_table(rows))
    cap = st.capacity
    print()
    print(f"Storage: {st.used_bytes / 1e9:.2f} GB of footage; budget {cap.capacity_bytes / 1e9:.1f} GB")
    days = f"{cap.days_of_capacity:.1f}" if cap.days_of_capacity is not None else "unknown"
    print(f"Capacity: {days} days at measured bitrates; {cap.days_required:g} days required by the legal minimum")
    print(f"Forecast: {cap.describe()}" + ("" if cap.ok else "  <-- NOT ENOUGH"))
    tiers_short = print_tiers(config, store, st.now_us) if store.tiers else False
    for event in st.open_problems:
        print(f"Open problem since {iso_from_us(event.start_us)}: {event.description}")
    held_bytes = sum(kept.size_bytes for kept in st.held)
    print(f"Legal holds: {len(st.held)} active, keeping {held_bytes / 1e9:.2f} GB from retention")
    for kept in st.held:
        hold = kept.hold
        print(
            f"  hold {hold.id}: {hold.camera_id} {iso_from_us(hold.start_us)} to {iso_from_us(hold.end_us)}, "
            f"{kept.segments} segment(s), {kept.size_bytes / 1e6:.1f} MB; by {hold.placed_by}: {hold.reason}"
        )
    return 0 if cap.ok and not st.open_problems and not tiers_short else 1


def print_tiers(config: Config, store: TieredFiles, now_us: int) -> bool:
    """The storage tiers (each reached now); True when one does not answer."""
    states = tier_states(config, store.copies, store.tiers, now_us, f"folder {store.hot.root}")
    rows = [["TIER", "KIND", "WHERE", "SEGMENTS", "GB", "DAYS KEPT", "DAYS REQUIRED", "READ BACK", "STATE"]]
    every = config.storage.scrub.every_days
    for tier in states:
        need = f"{tier.days_required:g}" if tier.days_required is not None else "-"
        state = tier.problem or ("short of the days required" if tier.short else "ok")
        if tier.damaged:
            state = f"{tier.damaged} damaged cop{'y' if tier.damaged == 1 else 'ies'}; " + state
        rows.append(
            [
                tier.name,
                tier.kind,
                tier.where,
                str(tier.segments),
                f"{tier.size_bytes / 1e9:.2f}",
                f"{tier.days_kept:.1f}",
                need,
                f"{tier.unchecked_days:.1f} d" + (" LATE" if tier.unchecked_days > every + 1 else ""),
                state[:80],
            ]
        )
    print()
    print(_table(rows))
    for tier in states:
        for lag in tier.copy_lags:
            print(f"Copies to {tier.name} of {', '.join(lag.cameras)}: {lag.lag_s:.0f} s behind")
    return any(tier.problem for tier in states)


def print_check(config: Config, base: Path, repair: bool, verify_hashes: bool) -> int:
    _, catalog, store = open_storage(config, base)
    report = run_check(
        catalog, store, SystemClock(), probe_facts, repair=repair, verify_hashes=verify_hashes, copies=store.copies
    )
    print(f"checked {report.segments_checked} catalogued segment(s), {report.files_on_disk} file(s) on disk")
    for f in report.findings:
        mark = "repaired" if f.repaired else ("problem" if f in report.problems else "note")
        print(f"  [{mark}] {f.kind}: {f.path}: {f.detail}")
    print("OK: catalog and disk agree" if report.ok else f"{len(report.problems)} problem(s) found")
    return 0 if report.ok else 1

"""Vigil's own disk, watched: its SMART health (``ports.DiskProbe``) and recordings that could not be written (open
``disk_full`` gaps). A problem is a node fault event (``fault``, ``data.fault = "disk"``, no camera) held open while
it lasts; the ticket engine turns it into a ticket on ``<node_id>:disk``, as it turns the retention's
``storage_capacity`` event (the legal minimum cannot be kept) into one. The disk's model, serial and firmware, when
SMART gives them, go into its record in the register."""

from __future__ import annotations

import logging
from pathlib import Path

from vigil.domain.disk_health import DiskReport, smart_problems
from vigil.domain.errors import VigilError
from vigil.ports import Catalog, Clock, DiskProbe, HistoryReader
from vigil.usecases.equipment_register import EquipmentRegister

log = logging.getLogger(__name__)
KEY = "fault:disk"
RECENT_US = 3600 * 1_000_000


class DiskWatch:
    def __init__(
        self,
        probe: DiskProbe | None,
        catalog: Catalog,
        history: HistoryReader,
        register: EquipmentRegister,
        clock: Clock,
        path: Path,
        node_id: str = "vigil",
    ) -> None:
        self.probe, self.catalog, self.history, self.register, self.clock = probe, catalog, history, register, clock
        self.path, self.node_id = path, node_id
        self.last: DiskReport | None = None

    def problems(self) -> list[str]:
        out: list[str] = []
        if self.probe is not None:
            self.last = report = self.probe.probe(self.path)
            if not report.available:
                log.debug("disk %s: SMART not read: %s", report.device, report.message)
            out += [f"{report.device}: {p}" for p in smart_problems(report)]
            self._describe(report)
        now = self.clock.now_us()
        full = [
            camera
            for camera, gaps in self.history.gaps(now - RECENT_US, now).items()
            for g in gaps
            if g.end_us is None and g.cause == "disk_full"
        ]
        if full:
            out.append(f"recordings cannot be written to the disk (cameras {', '.join(sorted(set(full)))})")
        return out

    def check(self) -> list[str]:
        """Look now: open the disk fault event when a problem appears, end it when none is left; the problems."""
        found = self.problems()
        now = self.clock.now_us()
        open_ = [e for e in self.catalog.open_events(["fault"]) if e.camera_id is None and e.data.get("key") == KEY]
        if found and not open_:
            text = "Vigil's recording disk: " + "; ".join(found)
            self.catalog.add_event("fault", now, text, data={"fault": "disk", "key": KEY, "problems": found})
            log.warning("%s", text)
        elif not found:
            for e in open_:
                self.catalog.end_event(e.id, max(now, e.start_us), f"{e.description} (no problem found since)")
        return found

    def _describe(self, report: DiskReport) -> None:
        """Put what SMART says of the drive into the disk's record (once, when it is new)."""
        if not report.available or not (report.model or report.serial):
            return
        ident = f"{self.node_id}:disk"
        try:
            item = self.register.get(ident)
            values = {
                k: v
                for k, v in (("model", report.model), ("serial", report.serial), ("firmware", report.firmware))
                if v and getattr(item, k) != v
            }
            if values:
                self.register.change(ident, values, item.revision, "smartctl")
        except VigilError:
            log.warning("the disk's record could not take what SMART says of it", exc_info=True)

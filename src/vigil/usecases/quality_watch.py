"""The quality watch: once a day per camera, by day and by night (``maintenance.quality``: the site's local hours),
measures the picture recorded in that hour, keeps the sample, and judges the trend against the camera's own
baseline (``vigil.domain.degradation``). A decline past the thresholds opens one low-priority ``degradation``
ticket (or reopens the last one within the reopen window); a resolved one is verified only when the daily checks
after the repair are back within the thresholds: the ticket engine asks the watch (``repair_checks``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from vigil.config.models import Config
from vigil.domain.audit import SYSTEM_ACTOR
from vigil.domain.degradation import Finding, QualitySample, findings, judged_periods
from vigil.domain.equipment import EquipmentChange
from vigil.domain.errors import Conflict, VigilError
from vigil.domain.tickets import Ticket, TicketKind, TicketSource, TicketState, Verdict, WorkDone
from vigil.domain.timeutil import us_from_datetime
from vigil.ports import Clock, EquipmentStore, PictureQuality, QualitySampleStore, TicketStore
from vigil.usecases.ticket_desk import TicketDesk

log = logging.getLogger(__name__)
HOUR_US = 3600 * 1_000_000
RENEWS = WorkDone.RECONFIGURED.value


class QualityWatch:
    def __init__(
        self,
        store: QualitySampleStore,
        pictures: PictureQuality,
        tickets: TicketStore,
        equipment: EquipmentStore,
        desk: TicketDesk,
        clock: Clock,
        config: Callable[[], Config],
    ) -> None:
        self.store, self.pictures, self.tickets, self.equipment = store, pictures, tickets, equipment
        self.desk, self.clock, self.config = desk, clock, config

    # --- the daily samples ---------------------------------------------------------------------------------------
    def tick(self) -> list[QualitySample]:
        """Take every sample that is due (today's and yesterday's hours that are over and not measured yet), then
        judge each camera that got one; the samples taken."""
        config = self.config()
        q = config.maintenance.quality
        if not q.enabled:
            return []
        tz = ZoneInfo(config.site.timezone)
        now = self.clock.now_us()
        today = datetime.fromtimestamp(now / 1e6, tz).date()
        taken: list[QualitySample] = []
        for camera in config.cameras:
            if not camera.enabled:
                continue
            got = False
            for day in (today - timedelta(days=1), today):
                for period, hour in (("night", q.night_hour), ("day", q.day_hour)):
                    sample = self._sample(camera.id, day, period, hour, tz, now, q.frames)
                    if sample is not None:
                        taken.append(sample)
                        got = True
            if got:
                try:
                    self.judge(camera.id)
                except VigilError:
                    log.exception("camera=%s: the picture's trend could not be judged", camera.id)
        return taken

    def _sample(
        self, camera_id: str, day: date, period: str, hour: int, tz: ZoneInfo, now: int, frames: int
    ) -> QualitySample | None:
        start = us_from_datetime(datetime(day.year, day.month, day.day, hour, tzinfo=tz))
        if start + HOUR_US > now or self.store.has(camera_id, day.isoformat(), period):
            return None
        measured = self.pictures.measure(camera_id, start, start + HOUR_US, frames)
        if measured is None:
            return None  # nothing recorded in that hour: no sample that day
        measures, count = measured
        sample = QualitySample(camera_id, start, period, measures, day.isoformat(), count)
        return sample if self.store.add(sample) else None

    # --- the trend -------------------------------------------------------------------------------------------------
    def since_us(self, camera_id: str) -> int:
        """The baseline starts afresh at the camera's last device replacement, and at the resolve of a degradation
        ticket whose work was ``reconfigured`` (the view or the scene changed on purpose); else its first sample."""
        replaced = [h.at_us for h in self.equipment.history(camera_id) if h.change == EquipmentChange.REPLACED.value]
        tickets = self.tickets.tickets(camera_id=camera_id, kinds=[TicketKind.DEGRADATION.value], limit=20)
        renewed = [t.resolved_us for t in tickets if t.resolved_us is not None and RENEWS in t.work_done]
        return max([*replaced, *renewed], default=0)

    def findings(self, camera_id: str) -> tuple[list[QualitySample], list[Finding]]:
        config = self.config()
        since = self.since_us(camera_id)
        samples = self.store.samples(camera_id, since)
        return samples, findings(samples, config.maintenance.quality.settings(), since)

    def judge(self, camera_id: str) -> Ticket | None:
        """Open (or reopen) the camera's degradation ticket when its picture has declined; the ticket touched."""
        _, found = self.findings(camera_id)
        if not found:
            return None
        latest = self.tickets.latest(camera_id, TicketKind.DEGRADATION.value)
        if latest is not None and latest.open:
            return None  # being worked (a resolved one is judged by verdict())
        what = "; ".join(f.describe() for f in found)
        config = self.config()
        if latest is not None and self.clock.now_us() - latest.updated_us <= config.maintenance.reopen_window_s * 1e6:
            try:
                return self.desk.reopen(latest.id, SYSTEM_ACTOR, latest.revision, f"the picture declined again: {what}")
            except Conflict:
                return None
        item = self.equipment.get(camera_id)
        if item is None:
            return None
        metrics = {f.metric for f in found}
        return self.desk.open(
            camera_id,
            SYSTEM_ACTOR,
            kind=TicketKind.DEGRADATION.value,
            title=f"{item.name or camera_id}: picture slowly getting worse ({', '.join(sorted(metrics))})",
            source=TicketSource.DEGRADATION.value,
            source_ref=f"quality:{camera_id}",
            note=f"Daily picture check against the camera's own baseline: {what}. Look for dirt or fog on the lens "
            "or dome, a turned focus, or a failing IR light.",
        )

    def verdict(self, ticket: Ticket, now_us: int) -> Verdict:
        """Is a resolved degradation ticket's repair real? The daily checks after the resolve must be back within
        the thresholds on every period that was measured."""
        if ticket.state is not TicketState.RESOLVED or not ticket.cameras:
            return Verdict("waiting")
        if RENEWS in ticket.work_done:
            return Verdict("verified")  # the view changed on purpose: the baseline starts again from the resolve
        resolved = ticket.resolved_us if ticket.resolved_us is not None else ticket.updated_us
        settings = self.config().maintenance.quality.settings()
        bad: list[Finding] = []
        judged = 0
        for camera in ticket.cameras:
            since = self.since_us(camera)
            samples: Sequence[QualitySample] = self.store.samples(camera, since)
            judged += judged_periods(samples, settings, since, resolved)
            bad += findings(samples, settings, since, recent_from_us=resolved)
        if bad:
            return Verdict("failed", "not verified: " + "; ".join(f.describe() for f in bad))
        if judged == 0:
            return Verdict("waiting", f"waiting for {settings.window} daily picture checks after the repair")
        return Verdict("verified")

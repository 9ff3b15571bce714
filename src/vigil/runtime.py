"""The composition root: the running node (:class:`Vigil`) builds every part from the Config (with the builders of
:mod:`vigil.wiring`), starts them in order, stops them in reverse.

Start-up order: catalog (migrated) -> recovery of half-written segments -> notification delivery -> gaps for the
time Vigil was down -> recorder workers -> report drain -> retention sweeper -> web server. Stop: the reverse.

Settings changed while running (the console, or ``vigil.yaml`` edited by hand) come through
:class:`ConfigInForce`: :meth:`Vigil.apply` restarts only the recorder and analysis workers whose cameras changed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from vigil.analysis.detector import load_detector
from vigil.analysis.view_match import match_views
from vigil.api.app import create_app
from vigil.api.deps import ApiDeps, ClipFile, ViewReport
from vigil.config.in_force import ConfigInForce
from vigil.config.models import Config
from vigil.domain.access import Grant
from vigil.domain.audit import SYSTEM_ACTOR, AuditAction
from vigil.domain.errors import ConfigError, NotFound, StorageError, VigilError
from vigil.domain.privacy import NO_MASKS, Masks, PictureTreatment, mask_version
from vigil.domain.reports import StreamStopped
from vigil.domain.segment import GapCause
from vigil.domain.tickets import TicketKind
from vigil.domain.view_match import moved_shapes
from vigil.media.analysis_worker import AnalysisJob, analysis_worker_main
from vigil.media.clip import ClipPart
from vigil.media.detector_process import DetectorJob, detector_main
from vigil.media.live import LiveHub
from vigil.media.masking import MaskPainter, mask_jpeg
from vigil.media.recorded_stream import PlaybackStream as RecordedPlayback
from vigil.media.recorded_stream import open_playback
from vigil.media.recorder import StreamSpec
from vigil.media.reencode import open_reencoded_playback
from vigil.media.still import keyframe_jpeg
from vigil.media.supervisor import RecorderSupervisor, WorkerSupervisor
from vigil.notify.service import NotificationService, notification_router
from vigil.passwords import Argon2Passwords
from vigil.ports import Clock, ConfigStore, SystemClock
from vigil.quality_pictures import RecordedQuality
from vigil.storage.accounts import SqlAccounts
from vigil.storage.alarms import SqlAlarms
from vigil.storage.audit_log import SqlAuditLog, audit_anchor_path
from vigil.storage.authority_requests import SqlAuthorityRequests
from vigil.storage.equipment import SqlEquipment
from vigil.storage.history import SqlHistory
from vigil.storage.incidents import SqlIncidents
from vigil.storage.inspections import SqlInspections
from vigil.storage.legal_holds import SqlLegalHolds
from vigil.storage.maintenance_files import MaintenanceFiles
from vigil.storage.outbox import SqlOutbox, outbox_hook
from vigil.storage.plan_files import PlanFolder
from vigil.storage.quality import SqlQualitySamples
from vigil.storage.smart import SmartctlProbe
from vigil.storage.tickets import SqlTickets
from vigil.storage.wall_groups import SqlWallGroups
from vigil.ticket_pictures import RecordedPictures
from vigil.treatments import Treatments
from vigil.usecases.accounts import Accounts
from vigil.usecases.alarm_desk import AlarmDesk
from vigil.usecases.alarm_engine import AlarmEngine, AlarmSettings
from vigil.usecases.analysis_reports import AnalysisReports
from vigil.usecases.authority_requests import AuthorityDesk
from vigil.usecases.availability import AvailabilityDesk
from vigil.usecases.disk_watch import DiskWatch
from vigil.usecases.equipment_register import EquipmentRegister
from vigil.usecases.event_bus import AlarmBus, EventBus
from vigil.usecases.hold_locks import HoldLocks
from vigil.usecases.incidents import IncidentDesk
from vigil.usecases.inspections import InspectionClerk
from vigil.usecases.maintenance_access import technician_grants
from vigil.usecases.mover import Mover
from vigil.usecases.notifications import Outbox
from vigil.usecases.plans import PlanLibrary
from vigil.usecases.playback import clip_sources
from vigil.usecases.quality_watch import QualityWatch
from vigil.usecases.recorder_reports import RecorderReports
from vigil.usecases.recovery import RecoveryReport, recover
from vigil.usecases.retention import RetentionSweeper
from vigil.usecases.scrub import Scrubber
from vigil.usecases.settings import SettingsEditor
from vigil.usecases.ticket_desk import TicketDesk
from vigil.usecases.ticket_engine import TicketEngine, TicketSettings
from vigil.usecases.tier_status import TierState, tier_states
from vigil.usecases.wall_groups import WallGroups
from vigil.wiring import (
    Paths,
    PublishingCatalog,
    analysis_jobs,
    backups_of,
    camera_analysis_for,
    destruction_desks,
    detect_fn_for,
    detector_job,
    detector_settings,
    evidence_exporter,
    groups,
    plans_folder,
    probe_facts,
    render_report,
    salvage_facts,
    segment_store,
    stream_specs,
)

log = logging.getLogger(__name__)
CLIP_CACHE_MAX_AGE_S = 3600
PICTURE_MAX_AGE_US = 600_000_000


class Vigil:
    """One recorder node: catalog, recorders, retention and the web API."""

    def __init__(
        self,
        config: Config,
        base_dir: Path,
        clock: Clock | None = None,
        config_store: ConfigStore | None = None,
        config_source: str = "vigil.yaml",
    ) -> None:
        self.in_force = ConfigInForce(config)
        self.base_dir = base_dir
        self.worker_sizes = (config.recording.streams_per_worker, config.analysis.cameras_per_worker)  # until restart
        self.paths = Paths.of(config, base_dir)
        self.paths.root.mkdir(parents=True, exist_ok=True)
        self.paths.cache.mkdir(parents=True, exist_ok=True)
        self.clock = clock or SystemClock()
        self.bus = EventBus()  # what later features (alarms, notifications, live pages) subscribe to
        self.catalog = PublishingCatalog(self.paths.catalog_url, self.bus)
        self.store = segment_store(config, base_dir, self.paths, self.catalog)
        self.copies = self.store.copies
        self.holds = SqlLegalHolds(self.catalog)
        self.hold_locks = HoldLocks(
            self.holds, self.catalog, self.copies, self.store.tiers, self.clock, lambda: self.config
        )
        self.mover = Mover(
            self.catalog,
            self.copies,
            self.store,
            self.store.tiers,
            self.clock,
            lambda: self.config,
            lock_until=self.hold_locks.until_for,
        )
        self.scrub = Scrubber(self.catalog, self.copies, self.store, self.store.tiers, self.clock, lambda: self.config)
        self.store.on_damage = self.scrub.damaged  # a reader that finds a copy damaged: a fault, healed soon
        self.store.now_us = self.clock.now_us
        # notifications: made in the event's own transaction (the outbox hook), delivered by the service's thread
        outbox_store = SqlOutbox(self.catalog)
        self.notifications = NotificationService.from_config(config, base_dir, outbox_store, self.clock)
        router = notification_router(config, self.clock, self.paths.snapshots)
        self.outbox = Outbox(outbox_store, router, self.clock, self.notifications.wake)
        self.notifications_on = bool(config.notifications.channels)  # channels are set at start-up
        if self.notifications_on:
            self.catalog.event_hook = outbox_hook(router)
            self.bus.subscribe(lambda _published: self.notifications.wake())
        self.reports = RecorderReports(self.catalog, on_resume=self._salvage_abandoned)
        self.sweeper = RetentionSweeper(config, self.catalog, self.store, self.clock, self.holds, self.copies)
        self.specs = stream_specs(config, self.paths.root)
        self.supervisor = RecorderSupervisor(groups(self.specs, config.recording.streams_per_worker), self._worker_died)
        self.analysis_reports = AnalysisReports(self.catalog, ZoneInfo(config.site.timezone))
        self.detector_job = detector_job(config, base_dir)
        self.detector_problem = ""  # why object detection is off, when its model would not load
        if self.detector_job is not None:
            try:
                load_detector(detector_settings(self.detector_job))  # a bad model is found now, not in a loop
            except ConfigError as exc:
                self.detector_problem = exc.message
                log.error("object detection is off: %s (recording and motion go on)", exc.message)
                self.detector_job = None
        self.detector = WorkerSupervisor(
            [[self.detector_job]] if self.detector_job is not None else [],
            self._detector_died,
            target=detector_main,
            extra_args=(detect_fn_for,),
            role="detector",
            controllable=False,
        )
        self.audit = SqlAuditLog(self.catalog, audit_anchor_path(self.paths.catalog_url, self.paths.root))
        self.accounts = Accounts(
            SqlAccounts(self.catalog),
            Argon2Passwords(),
            self.clock,
            session_ttl_s=config.security.session_hours * 3600,
        )
        self.treatments = Treatments()
        self.evidence = evidence_exporter(
            lambda: self.config, self.paths, self.catalog, self.store, self.audit, self.clock, self.treatments
        )
        self.deletions, self.certificates = destruction_desks(
            lambda: self.config, self.paths, self.catalog, self.store, self.audit, self.clock
        )
        source = Path(config_source)
        self.config_file = source if source.is_absolute() else base_dir / (config_source or "vigil.yaml")
        self.backups = backups_of(lambda: self.config, self.config_file, self.paths, self.store.tiers, self.clock)
        # alarms: the engine turns published events into alarms (its own thread); the desk is what people do
        self.alarm_bus = AlarmBus()
        self._alarm_settings: tuple[Config, AlarmSettings] = (config, AlarmSettings.of(config))
        alarms = SqlAlarms(self.catalog)
        self.alarm_engine = AlarmEngine(
            alarms, self.catalog, self.outbox, self.clock, self.alarm_settings, self.alarm_bus.publish
        )
        self.bus.subscribe(self.alarm_engine.on_event)
        self.alarm_desk = AlarmDesk(
            alarms, self.catalog, self.outbox, self.audit, self.clock, self.alarm_bus.publish, self._is_user
        )
        self.plans = PlanLibrary(PlanFolder(plans_folder(config, base_dir)), self.audit, self.clock)
        self.incidents = IncidentDesk(
            SqlIncidents(self.catalog), alarms, self.catalog, self.plans, self.audit, self.clock
        )
        # maintenance: the register (cameras from the configuration), tickets from faults, people's acts on them
        files = self.maintenance_files = MaintenanceFiles(self.paths.maintenance)
        self.pictures = RecordedPictures(self.catalog, self.store, self.paths.snapshots, files)
        self.register = EquipmentRegister(
            SqlEquipment(self.catalog), files, self.audit, self.clock, config.maintenance.documents_max_bytes
        )
        self._ticket_settings: tuple[Config, TicketSettings] = (config, TicketSettings.of(config))
        tickets = SqlTickets(self.catalog)
        self.ticket_engine = TicketEngine(
            tickets,
            self.catalog,
            self.register.graph,
            self.clock,
            self.ticket_settings,
            self.outbox,
            self.pictures,
            self.register.names,
        )
        self.bus.subscribe(self.ticket_engine.on_event)
        disks = config.maintenance.disks
        self.disk_watch = DiskWatch(
            SmartctlProbe(disks.smartctl) if disks.smart else None,
            self.catalog,
            SqlHistory(self.catalog),
            self.register,
            self.clock,
            self.paths.root,
            config.maintenance.node_id,
        )
        self.accounts.technician_grants = self._technician_grants
        self.tickets = TicketDesk(
            tickets,
            SqlEquipment(self.catalog),
            files,
            self.audit,
            self.clock,
            self.ticket_settings,
            self.outbox,
            alarms,
            self.ticket_engine,
            self._is_user,
        )
        self.inspections = InspectionClerk(
            SqlInspections(self.catalog), self.tickets, files, self.audit, self.clock, lambda: self.config
        )
        self.quality = QualityWatch(
            SqlQualitySamples(self.catalog),
            RecordedQuality(self.catalog, self.store),
            tickets,
            SqlEquipment(self.catalog),
            self.tickets,
            self.clock,
            lambda: self.config,
        )
        self.ticket_engine.repair_checks[TicketKind.DEGRADATION] = self.quality.verdict
        self._generations: dict[str, int] = {}  # cameras whose analysis was renewed (a device replaced)
        self.jobs = self._analysis_jobs(config)
        self.analysers = WorkerSupervisor(
            groups(self.jobs, config.analysis.cameras_per_worker),
            self._analyser_died,
            target=analysis_worker_main,
            extra_args=(camera_analysis_for,),
            role="analysis",
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.live = LiveHub(self.live_url)
        self.settings = (
            SettingsEditor(config_store, self.in_force, self.audit, self.clock, source=config_source)
            if config_store is not None
            else None
        )
        self.in_force.listen(self.apply)

    @property
    def config(self) -> Config:
        """The configuration in force (it changes when the settings are changed while running)."""
        return self.in_force.current

    def alarm_settings(self) -> AlarmSettings:
        """The alarm settings of the configuration in force (made again only when it changed)."""
        config = self.config
        if self._alarm_settings[0] is not config:
            self._alarm_settings = (config, AlarmSettings.of(config))
        return self._alarm_settings[1]

    def ticket_settings(self) -> TicketSettings:
        """The maintenance settings of the configuration in force (made again only when it changed)."""
        config = self.config
        if self._ticket_settings[0] is not config:
            self._ticket_settings = (config, TicketSettings.of(config))
        return self._ticket_settings[1]

    def _analysis_jobs(self, config: Config) -> list[AnalysisJob]:
        jobs = analysis_jobs(config, self.paths.snapshots, self.detector_job)
        return [replace(j, generation=self._generations.get(j.camera_id, 0)) for j in jobs]

    def renew_reference(self, camera_id: str, ticket_id: int | None = None) -> None:
        """A camera's device was replaced: its old view is kept to compare the new one with (the ticket's last good
        picture, else its last picture recorded before its latest outage), and its analysis starts afresh, so the
        fault detector's reference picture is the new view (``moved`` does not fire for ever)."""
        try:
            old = self._old_view(camera_id, ticket_id)
            if old is not None:
                self.maintenance_files.put_reference(camera_id, old)
        except (OSError, VigilError):
            log.warning("camera=%s: its old view could not be kept for the view match", camera_id, exc_info=True)
        self._generations[camera_id] = self._generations.get(camera_id, 0) + 1
        self.jobs = self._analysis_jobs(self.config)
        self.analysers.update(self.jobs, self.worker_sizes[1])
        log.info("camera=%s: device replaced; its analysis restarts with a new reference picture", camera_id)

    def _old_view(self, camera_id: str, ticket_id: int | None) -> bytes | None:
        if ticket_id is not None:
            ticket = self.tickets.store.ticket(ticket_id)
            if ticket is not None and ticket.good_picture:
                return self.maintenance_files.picture(ticket.good_picture)
        outages = self.catalog.events(camera_id=camera_id, types=["camera_offline"], limit=1)
        before = outages[0].start_us if outages else self.clock.now_us()
        return self.pictures.good(camera_id, before, 0)

    def view_match(self, camera_id: str) -> ViewReport:
        """The camera's picture now against its old view, and its shapes moved by the measured transform."""
        old = self.maintenance_files.reference(camera_id)
        if old is None:
            raise NotFound(f"camera {camera_id!r} has no old view to compare with (replace its device first)")
        match = match_views(old, self._picture(camera_id))
        revision = ""
        if self.settings is not None:
            doc = self.settings.camera(camera_id)
            camera, revision = doc.camera, doc.revision
        else:
            cam = self.config.camera(camera_id)
            camera = cam.model_dump(mode="json") if cam is not None else {}
        proposed = moved_shapes(camera, match.matrix) if match.matched else {}
        return ViewReport(match, proposed, revision)

    def _technician_grants(self, username: str, vendor: str | None) -> tuple[Grant, ...]:
        store = self.tickets.store
        work = store.open_cameras(assignee=username, vendor=vendor)
        cameras = {c.id for c in self.config.cameras}
        theirs = {e.id for e in self.register.all() if vendor and e.vendor == vendor and e.id in cameras}
        return technician_grants(username, vendor, work, theirs)

    def _is_user(self, username: str) -> bool:
        return any(u.username == username for u in self.accounts.users())

    # --- life cycle -------------------------------------------------------------------------------
    def recover(self) -> RecoveryReport:
        report = recover(self.catalog, self.store, salvage_facts, probe_facts)
        if report.salvaged or report.adopted:
            log.info("recovery: %d segment(s) salvaged, %d adopted", len(report.salvaged), len(report.adopted))
        return report

    def start(self) -> None:
        self.recover()
        self.register.sync(self.config, self.config.maintenance.node_id)
        self.notifications.start()  # what a previous run left undelivered goes out at once
        self.alarm_engine.start()  # events a crash left unhandled, deadlines passed while down
        self.reports.mark_process_down(((s.camera_id, s.stream) for s in self.specs), self.clock.now_us())
        self.supervisor.start()
        with self._lock:
            left = self.analysis_reports.close_leftovers(self.clock.now_us())
        if left:
            log.info("closed %d analysis event(s) a previous run left open", left)
        self._check_disk()  # before the ticket engine's first look: a disk problem of the last run is still one
        self.ticket_engine.start()  # after the leftovers closed: the faults open now are the faults still there
        if self.detector_problem:
            with self._lock:
                self.analysis_reports.detection_off(self.clock.now_us(), self.detector_problem)
        self.detector.start()
        self.analysers.start()
        loops = [
            (self._drain, "report-drain"),
            (self._drain_analysis, "analysis-drain"),
            (self._sweep_loop, "retention"),
            (self._disk_loop, "disk-watch"),
            (self._inspection_loop, "inspections"),
            (self._quality_loop, "quality-watch"),
        ]
        if self.settings is not None:
            loops.append((self._watch_config, "config-watch"))
        if self.store.tiers:
            self._check_tiers()
            loops.append((self.mover.run, "mover"))
            loops.append((self.scrub.run, "scrub"))
            if any(getattr(t, "object_lock", False) for t in self.config.storage.tiers):
                loops.append((self.hold_locks.run, "hold-locks"))
            if self.config.storage.backup.tier is not None:
                loops.append((self.backups.run_loop, "backups"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _check_tiers(self) -> None:
        """Say at start-up which tiers cannot be reached (recording goes on; the mover tries again)."""
        for tier in self.store.tiers.values():
            try:
                tier.check()
            except StorageError as exc:
                log.error("%s; footage stays on the hot disk until it can be reached", exc.message)
            else:
                log.info("tier %s: %s reachable", tier.name, tier.where())

    def stop(self) -> None:
        self.mover.stop()
        self.scrub.stop()
        self.hold_locks.stop()
        self.backups.stop()
        self.analysers.stop()
        self.detector.stop()
        self.supervisor.stop()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        while self._drain_once(block=False) or self._drain_analysis_once(block=False):
            pass
        with self._lock:
            for job in self.jobs:
                self.analysis_reports.close_all(job.camera_id, self.clock.now_us())
        self.ticket_engine.stop()
        self.alarm_engine.stop()
        self.notifications.stop()  # what is still undelivered stays in the outbox for the next start
        self.catalog.close()

    # --- settings changed while running -----------------------------------------------------------------
    def apply(self, old: Config, new: Config) -> None:
        """Put ``new`` in force: restart the recorders and analysers of the cameras that changed, start those of
        new cameras, stop those of removed or disabled ones; the others go on untouched. Settings that need a
        restart (storage root, server, workers' sizes, the detector) keep their old values until then."""
        with self._lock:
            self.sweeper = RetentionSweeper(new, self.catalog, self.store, self.clock, self.holds, self.copies)
            self._route_notifications(new)
        try:
            self.register.sync(new, new.maintenance.node_id)
        except VigilError:
            log.exception("the equipment register could not follow the new settings; it will at the next start")
        self.specs = stream_specs(new, self.paths.root)
        stopped = self.supervisor.update(self.specs, self.worker_sizes[0])
        if self.detector_job is None and not self.detector_problem:
            self._start_detector(new)
        self.jobs = self._analysis_jobs(new)
        self.analysers.update(self.jobs, self.worker_sizes[1])
        changed = {c.id for c in [*old.cameras, *new.cameras] if old.camera(c.id) != new.camera(c.id)}
        for cam in old.cameras:
            now_cam = new.camera(cam.id)
            if (
                now_cam is None
                or now_cam.streams != cam.streams
                or not now_cam.enabled
                or now_cam.privacy_masks != cam.privacy_masks
            ):
                self.live.drop(cam.id)  # its viewers reconnect to the new stream or masks (or are refused)
        log.info(
            "settings applied: %d recorder stream(s) restarted or stopped, cameras changed: %s",
            len(stopped),
            ", ".join(sorted(changed)) or "none",
        )

    def _route_notifications(self, config: Config) -> None:
        """Events are routed by the routes and camera names in force (the channels change at a restart)."""
        router = notification_router(config, self.clock, self.paths.snapshots)
        self.outbox.router = router
        if self.notifications_on:
            self.catalog.event_hook = outbox_hook(router)

    def _start_detector(self, config: Config) -> None:
        """A camera now looks for objects and no detector runs yet: start one."""
        job = detector_job(config, self.base_dir)
        if job is None:
            return
        try:
            load_detector(detector_settings(job))
        except ConfigError as exc:
            self.detector_problem = exc.message
            log.error("object detection is off: %s (recording and motion go on)", exc.message)
            return
        self.detector_job = job
        self.detector.update([job], 1)

    def _stream_stopped(self, msg: StreamStopped) -> None:
        """A recorder stream stopped for a settings change has closed its last segment: the time until it is
        recorded again is a gap (``reconfigured``), or from now on (``disabled``) when it is no longer recorded."""
        key = (msg.camera_id, msg.stream)
        if key in {(s.camera_id, s.stream) for s in self.specs}:
            self.reports.mark_stopped(key, msg.at_us, GapCause.RECONFIGURED, "restarted for a settings change")
        else:
            self.reports.mark_stopped(key, msg.at_us, GapCause.DISABLED, "removed or disabled in the settings")

    def _watch_config(self) -> None:
        """Notice ``vigil.yaml`` edited by hand (every 2 s) and put it in force when it validates."""
        assert self.settings is not None
        while not self._stop.wait(2.0):
            try:
                self.settings.reload()
            except Exception:
                log.exception("reading the changed configuration failed")

    def _salvage_abandoned(self, camera_id: str, stream: str, before_us: int) -> None:
        """A stream resumed after a failure (a full disk, a broken stream): salvage the part its writer left."""
        try:
            report = recover(self.catalog, self.store, salvage_facts, probe_facts, {(camera_id, stream)}, before_us)
        except (OSError, StorageError):
            log.exception("camera=%s: salvaging after resume failed; start-up recovery will retry", camera_id)
            return
        if report.salvaged:
            log.info("camera=%s: salvaged %d abandoned segment(s) after resuming", camera_id, len(report.salvaged))

    def _worker_died(self, specs: Sequence[StreamSpec], code: int | None) -> None:
        """A worker died: salvage its half-written segments and record the gap before it restarts."""
        streams = {(s.camera_id, s.stream) for s in specs}
        self._drain_once(block=False)
        with self._lock:
            recover(self.catalog, self.store, salvage_facts, probe_facts, streams)
            self.reports.mark_process_down(streams, self.clock.now_us())
        cameras = sorted({s.camera_id for s in specs})
        self.ticket_engine.process_restarted(f"recorder ({', '.join(cameras)})", cameras, self.clock.now_us())

    def _analyser_died(self, jobs: Sequence[AnalysisJob], code: int | None) -> None:
        """An analysis worker died: what its cameras had open ends now, and a gap in their analysis opens until
        the restarted worker has their streams again (recording is not affected)."""
        self._drain_analysis_once(block=False)
        with self._lock:
            for job in jobs:
                now = self.clock.now_us()
                self.analysis_reports.close_all(job.camera_id, now)
                self.analysis_reports.analysis_down(job.camera_id, job.stream, now, code)
        cameras = sorted({j.camera_id for j in jobs})
        self.ticket_engine.process_restarted(f"analysis ({', '.join(cameras)})", cameras, self.clock.now_us())

    def _detector_died(self, jobs: Sequence[DetectorJob], code: int | None) -> None:
        """The detector died: a gap in object detection opens until it is back (motion and faults go on)."""
        self._drain_analysis_once(block=False)
        with self._lock:
            self.analysis_reports.detector_down(self.clock.now_us(), code)

    # --- background loops -------------------------------------------------------------------------
    def _drain_once(self, block: bool) -> bool:
        """Record the reports that arrived (waiting up to 0.5 s if ``block``); False if there were none."""
        messages = self.supervisor.receive(0.5 if block else 0.0)
        with self._lock:
            for msg in messages:
                try:
                    if isinstance(msg, StreamStopped):
                        self._stream_stopped(msg)
                    else:
                        self.reports.handle(msg)
                except StorageError:
                    log.exception("could not record a recorder report")
        return bool(messages)

    def _drain(self) -> None:
        while not self._stop.is_set():
            self._drain_once(block=True)

    def _drain_analysis_once(self, block: bool) -> bool:
        messages = self.analysers.receive(0.5 if block else 0.0) + self.detector.receive(0.0)
        with self._lock:
            for msg in messages:
                try:
                    if isinstance(msg, StreamStopped):  # its analyser closed what it had open; anything left ends
                        self.analysis_reports.close_all(msg.camera_id, msg.at_us)
                    else:
                        self.analysis_reports.handle(msg)
                except StorageError:
                    log.exception("could not record an analysis event")
        return bool(messages)

    def _drain_analysis(self) -> None:
        while not self._stop.is_set():
            self._drain_analysis_once(block=True)

    def _sweep_loop(self) -> None:
        """Sweep at once (the disk may already be over budget), then every ``sweep_interval_s``."""
        while True:
            try:
                with self._lock:
                    self.sweeper.sweep()
            except Exception:
                log.exception("retention sweep failed")
            try:
                self.certificates.due()  # the period that just ended, once
            except Exception:
                log.exception("the destruction certificate could not be written; trying again")
            if self._stop.wait(self.config.storage.sweep_interval_s):
                return

    def _check_disk(self) -> None:
        try:
            self.disk_watch.check()
        except Exception:
            log.exception("the disk check failed; trying again later")

    def _inspection_loop(self) -> None:
        """Inspections fall due and go overdue on their own: look at once, then every minute."""
        while True:
            try:
                self.inspections.tick()
            except Exception:
                log.exception("the inspections could not be brought up to date; trying again")
            if self._stop.wait(60.0):
                return

    def _quality_loop(self) -> None:
        """The daily picture check: samples fall due at the configured hours; look at once, then every ten minutes."""
        while True:
            try:
                self.quality.tick()
            except Exception:
                log.exception("the daily picture check failed; trying again")
            if self._stop.wait(600.0):
                return

    def _disk_loop(self) -> None:
        while not self._stop.wait(self.config.maintenance.disks.check_interval_s):
            self._check_disk()

    # --- services ---------------------------------------------------------------------------------
    def make_clip(self, camera_id: str, stream: str, start_us: int, end_us: int, masks: Masks = NO_MASKS) -> ClipFile:
        """The clip of a range, made once and kept an hour in the cache (with the instant of its first frame); with
        ``masks``, re-encoded with them burned in, cached per mask version."""
        sources = clip_sources(self.config, self.catalog, self.store, camera_id, stream, start_us, end_us)
        key = f"{camera_id}|{stream}|{start_us}|{end_us}|" + "|".join(f"{s.path}:{s.end_us}" for s in sources)
        key += f"|masks:{mask_version(masks)}" if masks else ""
        out = self.paths.cache / "clips" / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".mp4")
        start_file = out.with_suffix(".start")
        if out.exists() and start_file.exists():
            return ClipFile(out, int(start_file.read_text()))
        out.parent.mkdir(parents=True, exist_ok=True)
        self._prune_clips(out.parent)
        parts = [(s.local(), s.start_us, s.end_us) for s in sources]
        made = self.treatments.clip(parts, start_us, end_us, out, PictureTreatment(masks=masks))
        start_file.write_text(str(made.start_us))
        return ClipFile(out, made.start_us)

    @staticmethod
    def _prune_clips(folder: Path) -> None:
        cutoff = time.time() - CLIP_CACHE_MAX_AGE_S
        for old in [*folder.glob("*.mp4"), *folder.glob("*.start")]:
            try:
                if old.stat().st_mtime < cutoff:
                    old.unlink()
            except FileNotFoundError:
                pass

    def first_admin(self) -> str | None:
        """On the very first run: create ``admin`` with a one-time password and return it (else None)."""
        password = self.accounts.ensure_admin()
        if password is not None:
            self.audit.append(
                self.clock.now_us(),
                SYSTEM_ACTOR,
                AuditAction.USER_CHANGE,
                client="serve",
                detail={"user": "admin", "change": "added", "role": "admin", "how": "first run"},
            )
        return password

    def playback(
        self, camera_id: str, stream: str, start_us: int, end_us: int, masks: Masks = NO_MASKS
    ) -> RecordedPlayback:
        """Recorded video of a range, streamed from the keyframe at or before ``start_us`` (made as it is sent);
        with ``masks``, re-encoded with them burned in."""
        sources = clip_sources(self.config, self.catalog, self.store, camera_id, stream, start_us, end_us)
        parts = [ClipPart(s.path, s.start_us, s.end_us, s.fetch) for s in sources]
        if masks:
            return open_reencoded_playback(parts, start_us, end_us, MaskPainter(masks).frame)
        return open_playback(parts, start_us, end_us)

    def picture(self, camera_id: str, masks: Masks = NO_MASKS) -> bytes:
        """A recent picture of the camera: the start of its newest segment when it was recorded in the last
        ten minutes, else a keyframe read from the camera (its sub stream when it has one); ``masks`` filled in."""
        return mask_jpeg(self._picture(camera_id), masks)

    def _picture(self, camera_id: str) -> bytes:
        cam = self.config.camera(camera_id)
        if cam is None:
            raise NotFound(f"no camera with id {camera_id!r}")
        last = self.catalog.last_segment(camera_id, "main")
        if last is not None and self.clock.now_us() - last.end_us < PICTURE_MAX_AGE_US:
            return keyframe_jpeg(f"file://{self.store.local(last)}", f"segment {last.path}")
        stream = cam.streams.sub or cam.streams.main
        return keyframe_jpeg(stream.open_url(), stream.display_url(), self.config.recording.socket_timeout_s)

    def live_url(self, camera_id: str, stream: str) -> str:
        """The URL (with credentials) a live viewer's stream is read from."""
        cam = self.config.camera(camera_id)
        if cam is None:
            raise NotFound(f"no camera with id {camera_id!r}")
        source = cam.streams.sub if stream == "sub" and cam.streams.sub is not None else cam.streams.main
        return source.open_url()

    def tier_states(self) -> list[TierState]:
        """The storage tiers as the mover last saw them (no request to the stores)."""
        where = f"folder {self.paths.root}"
        return tier_states(self.config, self.copies, self.store.tiers, self.clock.now_us(), where, self.mover.problems)

    def api_deps(self) -> ApiDeps:
        return ApiDeps(
            self.in_force,
            self.catalog,
            self.store,
            self.clock,
            self.make_clip,
            self.accounts,
            self.audit,
            snapshots=self.paths.snapshots,
            bus=self.bus,
            live=self.live,
            settings=self.settings,
            picture=self.picture,
            playback=self.playback,
            wall_groups=WallGroups(SqlWallGroups(self.catalog), self.clock),
            holds=self.holds,
            evidence=self.evidence,
            register=self.evidence.tools.register,
            evidence_dir=self.paths.evidence,
            outbox=self.outbox,
            deletions=self.deletions,
            backups=self.backups,
            authority=AuthorityDesk(
                SqlAuthorityRequests(self.catalog),
                self.audit,
                self.clock,
                lambda: self.config,
                self.evidence,
                self.paths.evidence,
            ),
            mask_picture=mask_jpeg,
            alarms=self.alarm_desk,
            alarm_bus=self.alarm_bus,
            incidents=self.incidents,
            plans=self.plans,
            render_report=render_report,
            tickets=self.tickets,
            equipment=self.register,
            on_replaced=self.renew_reference,
            view_match=self.view_match,
            tiers=self.tier_states,
            inspections=self.inspections,
            quality=self.quality,
            availability=AvailabilityDesk(
                SqlHistory(self.catalog),
                lambda: self.config,
                self.register.graph,
                self.catalog,
                self.tickets.store,
                self.clock,
            ),
        )

    def app(self) -> Any:
        return create_app(self.api_deps())

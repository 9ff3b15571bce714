"""How Vigil's parts are built from the configuration: paths, worker jobs, the stores and desks that commands
open without a running node, and the catalog that publishes what it records. The running node itself is
:class:`vigil.runtime.Vigil`."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from vigil import verify_package
from vigil.analysis.camera import AnalysisSettings, CameraAnalysis
from vigil.analysis.detector import DetectorSettings, load_detector
from vigil.config.models import Config
from vigil.config.tiers import S3TierConfig
from vigil.domain.backup import BackupFile
from vigil.domain.errors import InvalidRequest
from vigil.media.analysis_worker import AnalysisJob
from vigil.media.detector_process import DetectFn, DetectorJob
from vigil.media.probe import probe_segment, salvage_segment
from vigil.media.recorder import StreamSpec
from vigil.notify.service import notification_router
from vigil.passwords import Argon2Passwords
from vigil.ports import Clock, DetectionLink, Found, SegmentFacts, SegmentStore, SystemClock, Tier
from vigil.storage.accounts import SqlAccounts
from vigil.storage.alarms import SqlAlarms
from vigil.storage.audit_log import SqlAuditLog, audit_anchor_path
from vigil.storage.backup_files import NodeFiles
from vigil.storage.backup_files import stage as stage_files
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.config_file import HISTORY_DIR
from vigil.storage.deletion_requests import SqlDeletionRequests
from vigil.storage.equipment import SqlEquipment
from vigil.storage.evidence_package import StagedPackage
from vigil.storage.history import SqlHistory
from vigil.storage.incidents import SqlIncidents
from vigil.storage.legal_holds import SqlEvidenceRegister, SqlLegalHolds
from vigil.storage.local_tier import LocalTier
from vigil.storage.maintenance_files import MaintenanceFiles
from vigil.storage.outbox import SqlOutbox
from vigil.storage.plan_files import PlanFolder
from vigil.storage.segment_copies import SqlSegmentCopies
from vigil.storage.segment_store import LocalSegmentStore
from vigil.storage.site_key import SiteKey, site_key_path
from vigil.storage.tickets import SqlTickets
from vigil.storage.tiered_files import TieredFiles
from vigil.treatments import Treatments
from vigil.usecases.accounts import Accounts
from vigil.usecases.alarm_desk import AlarmDesk
from vigil.usecases.availability import AvailabilityDesk
from vigil.usecases.backups import Backups
from vigil.usecases.destruction_certificates import Certificates
from vigil.usecases.early_deletion import DeletionDesk
from vigil.usecases.equipment_register import EquipmentRegister
from vigil.usecases.event_bus import EventBus, EventPublished
from vigil.usecases.evidence import EvidenceExporter, EvidenceTools
from vigil.usecases.incident_report import IncidentReport
from vigil.usecases.incidents import IncidentDesk
from vigil.usecases.legal_holds import HoldClerk
from vigil.usecases.notifications import Outbox
from vigil.usecases.plans import PlanLibrary
from vigil.usecases.ticket_desk import TicketDesk
from vigil.usecases.ticket_engine import TicketSettings


@dataclass(frozen=True, slots=True)
class Paths:
    root: Path
    catalog_url: str
    cache: Path
    snapshots: Path  # event snapshots: <camera>/<YYYY-MM-DD>/<start_us>-<key>.jpg
    evidence: Path  # evidence packages exported through the API: <package id>.zip
    certificates: Path  # destruction certificates: destruction-<period>/ (ADR 0017)
    maintenance: Path  # the register's documents and the tickets' pictures

    @classmethod
    def of(cls, config: Config, base: Path) -> Paths:
        root = (base / config.storage.root).resolve()
        url = config.storage.catalog_url or sqlite_url(root.parent / "vigil.db")
        return cls(
            root=root,
            catalog_url=url,
            cache=root.parent / "cache",
            snapshots=root.parent / "snapshots",
            evidence=root.parent / "evidence",
            certificates=root.parent / "certificates",
            maintenance=root.parent / "maintenance",
        )


def probe_facts(path: Path) -> SegmentFacts:
    p = probe_segment(path)
    return SegmentFacts(p.codec, p.width, p.height, p.frame_count, p.duration_us)


def salvage_facts(partial: Path, out: Path) -> SegmentFacts | None:
    p = salvage_segment(partial, out)
    return None if p is None else SegmentFacts(p.codec, p.width, p.height, p.frame_count, p.duration_us)


T = TypeVar("T")


def stream_specs(config: Config, root: Path) -> list[StreamSpec]:
    rec = config.recording
    return [
        StreamSpec(
            camera_id=cam.id,
            stream="main",
            url=cam.streams.main.open_url(),
            display_url=cam.streams.main.display_url(),
            root=root,
            segment_duration_s=rec.segment_duration_s,
            rtsp_transport=rec.rtsp_transport,
            rtsp_reader=rec.rtsp_reader,
            timeout_s=rec.socket_timeout_s,
            reconnect_initial_s=rec.reconnect_initial_s,
            reconnect_max_s=rec.reconnect_max_s,
            health_interval_s=rec.health_interval_s,
        )
        for cam in config.cameras
        if cam.enabled and cam.record
    ]


def groups(specs: Sequence[T], per_worker: int) -> list[list[T]]:
    return [list(specs[i : i + per_worker]) for i in range(0, len(specs), per_worker)]


def detector_job(config: Config, base: Path) -> DetectorJob | None:
    """The detector process's job, when some camera's analysis looks for objects; a fresh socket and key."""
    d = config.analysis.detector
    if not (config.analysis.enabled and d.enabled):
        return None
    if not any(c.enabled and c.analysis.enabled and c.analysis.detect for c in config.cameras):
        return None
    return DetectorJob(
        address=f"\0vigil-detector-{os.getpid()}-{secrets.token_hex(8)}",
        authkey=secrets.token_bytes(32),
        model=str((base / d.model).resolve()) if d.model else "",
        kind=d.kind,
        input_width=d.input_width,
        input_height=d.input_height,
        labels=tuple(d.labels),
        min_score=d.min_score,
        label_min_score=tuple(d.label_min_score.items()),
        label_min_height=tuple(d.label_min_height.items()),
        threads=d.threads,
        class_names=tuple(d.class_names),
    )


def detector_settings(job: DetectorJob) -> DetectorSettings:
    return DetectorSettings(
        model=Path(job.model) if job.model else None,
        kind="yolo" if job.kind == "yolo" else "nanodet",
        input_width=job.input_width,
        input_height=job.input_height,
        labels=job.labels,
        min_score=job.min_score,
        label_min_score=dict(job.label_min_score),
        label_min_height_px=dict(job.label_min_height),
        threads=job.threads,
        class_names=job.class_names,
    )


def detect_fn_for(job: DetectorJob) -> DetectFn:
    """The detector, built inside the detector process (top-level: pickled by name when it is spawned)."""
    detector = load_detector(detector_settings(job))

    def detect(picture: Any) -> list[Found]:
        return [(d.label, d.score, *d.box) for d in detector.detect(picture)]

    return detect


def analysis_jobs(
    config: Config, snapshots: Path | None = None, detector: DetectorJob | None = None
) -> list[AnalysisJob]:
    """One job per analysed camera: its sub stream when it has one (and ``stream`` is auto), else main. With a
    ``detector``, cameras that detect are linked to it."""
    if not config.analysis.enabled:
        return []
    jobs = []
    for cam in config.cameras:
        detect = detector is not None and cam.analysis.detect
        if not (cam.enabled and cam.analysis.enabled and (cam.analysis.motion or cam.analysis.faults or detect)):
            continue
        use_sub = cam.streams.sub is not None and cam.analysis.stream in ("auto", "sub")
        stream = cam.streams.sub if use_sub and cam.streams.sub is not None else cam.streams.main
        jobs.append(
            AnalysisJob(
                camera_id=cam.id,
                stream="sub" if use_sub else "main",
                url=stream.open_url(),
                display_url=stream.display_url(),
                fps=config.analysis.fps,
                width=config.analysis.width,
                timeout_s=config.recording.socket_timeout_s,
                reconnect_initial_s=config.recording.reconnect_initial_s,
                reconnect_max_s=config.recording.reconnect_max_s,
                motion=cam.analysis.motion,
                faults=cam.analysis.faults,
                timezone=config.site.timezone,
                snapshot_dir=str(snapshots) if snapshots is not None else "",
                motion_mask=tuple(tuple(p) for p in cam.analysis.motion_mask),
                detector_address=detector.address if detect and detector is not None else "",
                detector_key=detector.authkey if detect and detector is not None else b"",
                picture_width=config.analysis.detector.picture_width,
                model_input=(config.analysis.detector.input_width, config.analysis.detector.input_height),
                rules=cam.analysis.domain_rules() if detect else (),
                report_objects=cam.analysis.object_events,
            )
        )
    return jobs


def tiers_of(config: Config, base_dir: Path, env: Mapping[str, str] = os.environ) -> dict[str, Tier]:
    """The storage tiers of ``storage.tiers`` (nothing is reached yet: a tier's ``check`` does that)."""
    tiers: dict[str, Tier] = {}
    for tier in config.storage.tiers:
        if isinstance(tier, S3TierConfig):
            tiers[tier.name] = s3_tier_of(tier, env)
        else:
            tiers[tier.name] = LocalTier(tier.name, (base_dir / tier.path).resolve())
    return tiers


def s3_tier_of(tier: S3TierConfig, env: Mapping[str, str] = os.environ) -> Tier:
    """An S3 tier with its keys from the variables it names (boto3 is imported only by nodes that have one)."""
    from vigil.storage.s3_tier import S3Tier

    access, secret = env.get(tier.access_key_env), env.get(tier.secret_key_env)
    missing = [name for name, value in ((tier.access_key_env, access), (tier.secret_key_env, secret)) if not value]
    return S3Tier(
        tier.name,
        tier.endpoint,
        tier.bucket,
        tier.prefix,
        region=tier.region,
        access_key=access,
        secret_key=secret,
        timeout_s=tier.timeout_s,
        object_lock=tier.object_lock,
        credentials_hint=f"set {' and '.join(missing)}" if missing else "",
    )


def segment_store(config: Config, base_dir: Path, paths: Paths, catalog: SqlCatalog) -> TieredFiles:
    """The segment files on the hot disk and on every tier (ADR 0016)."""
    return TieredFiles(
        LocalSegmentStore(paths.root),
        SqlSegmentCopies(catalog),
        tiers_of(config, base_dir),
        paths.cache / "tiers",
        config.storage.read_cache.max_bytes,
    )


def open_storage(config: Config, base_dir: Path) -> tuple[Paths, SqlCatalog, TieredFiles]:
    """The catalog and segment store alone, for commands that do not record (check, export, status)."""
    paths = Paths.of(config, base_dir)
    paths.root.mkdir(parents=True, exist_ok=True)
    catalog = SqlCatalog(paths.catalog_url)
    return paths, catalog, segment_store(config, base_dir, paths, catalog)


def open_accounts(config: Config, base_dir: Path) -> tuple[Accounts, SqlAuditLog, Callable[[], None]]:
    """Accounts and the audit log alone, for commands that do not record (``vigil users``); and how to close
    them."""
    paths, catalog, _ = open_storage(config, base_dir)
    audit = SqlAuditLog(catalog, audit_anchor_path(paths.catalog_url, paths.root))
    return Accounts(SqlAccounts(catalog), Argon2Passwords(), SystemClock()), audit, catalog.close


def verifier_source() -> bytes:
    """The standalone verifier shipped in every evidence package (``vigil/verify_package.py``)."""
    return Path(verify_package.__file__).read_bytes()


def evidence_exporter(
    config: Callable[[], Config],
    paths: Paths,
    catalog: SqlCatalog,
    store: SegmentStore,
    audit: SqlAuditLog,
    clock: Clock,
    treatments: Treatments | None = None,
) -> EvidenceExporter:
    """Evidence packages and legal holds over the catalog, signed with the site key (made at first use);
    ``config`` gives the configuration in force when asked. Clips are copied, or re-encoded by ``treatments`` when
    masks or a redaction apply."""
    treatments = treatments or Treatments()
    tools = EvidenceTools(
        config_of=config,
        catalog=catalog,
        store=store,
        audit=audit,
        clerk=HoldClerk(SqlLegalHolds(catalog), audit, clock),
        register=SqlEvidenceRegister(catalog),
        signer=SiteKey(site_key_path(paths.catalog_url, paths.root)),
        clock=clock,
        write_clip=treatments.clip,
        treat_picture=treatments.jpeg,
        new_package=StagedPackage,
        verifier_source=verifier_source,
        snapshots=paths.snapshots,
    )
    return EvidenceExporter(tools)


def plans_folder(config: Config, base_dir: Path) -> Path:
    """The emergency plans' folder (``alarms.plans_dir``, relative to the configuration file's folder)."""
    return (base_dir / config.alarms.plans_dir).resolve()


def render_report(report: IncidentReport, fmt: str) -> bytes:
    """An incident report as HTML or PDF (``vigil.reports``)."""
    from vigil.reports.incident_html import render_html
    from vigil.reports.incident_pdf import render_pdf

    return render_pdf(report) if fmt == "pdf" else render_html(report).encode("utf-8")


def open_outbox(config: Config, base_dir: Path) -> tuple[Outbox, SqlCatalog, Paths]:
    """The outbox alone, for ``vigil notifications`` (a running node picks a retry up within a second); close the
    catalog when done."""
    paths, catalog, _ = open_storage(config, base_dir)
    clock = SystemClock()
    return Outbox(SqlOutbox(catalog), notification_router(config, clock, paths.snapshots), clock), catalog, paths


def open_alarm_desks(config: Config, base_dir: Path) -> tuple[AlarmDesk, IncidentDesk, Callable[[], None]]:
    """The alarm and incident desks alone, for ``vigil alarms`` and ``vigil incidents`` (a running node sends what
    they enqueue within a second); and how to close them."""
    outbox, catalog, paths = open_outbox(config, base_dir)
    clock = outbox.clock
    audit = SqlAuditLog(catalog, audit_anchor_path(paths.catalog_url, paths.root))
    alarms = SqlAlarms(catalog)
    plans = PlanLibrary(PlanFolder(plans_folder(config, base_dir)), audit, clock)
    users = SqlAccounts(catalog)
    desk = AlarmDesk(alarms, catalog, outbox, audit, clock, known_user=lambda name: users.user(name) is not None)
    incidents = IncidentDesk(SqlIncidents(catalog), alarms, catalog, plans, audit, clock)
    return desk, incidents, catalog.close


class PublishingCatalog(SqlCatalog):
    """The catalog that also publishes every event it records on the bus, whichever use case recorded it
    (recorder, retention, analysis), once the row is written."""

    def __init__(self, url: str, bus: EventBus) -> None:
        super().__init__(url)
        self.bus = bus

    def add_event(
        self,
        type_: str,
        start_us: int,
        description: str,
        *,
        camera_id: str | None = None,
        stream: str | None = None,
        end_us: int | None = None,
        data: dict[str, Any] | None = None,
        zone: str | None = None,
        labels: Sequence[str] = (),
        score: float | None = None,
    ) -> int:
        event_id = super().add_event(
            type_,
            start_us,
            description,
            camera_id=camera_id,
            stream=stream,
            end_us=end_us,
            data=data,
            zone=zone,
            labels=labels,
            score=score,
        )
        self._publish(event_id, "opened" if end_us is None else "recorded")
        return event_id

    def end_event(
        self,
        event_id: int,
        end_us: int,
        description: str | None = None,
        *,
        labels: Sequence[str] | None = None,
        score: float | None = None,
    ) -> None:
        super().end_event(event_id, end_us, description, labels=labels, score=score)
        self._publish(event_id, "closed")

    def _publish(self, event_id: int, change: str) -> None:
        record = self.event(event_id)
        if record is not None:
            self.bus.publish(EventPublished(record, change))


def camera_analysis_for(job: AnalysisJob, link: DetectionLink | None) -> CameraAnalysis:
    """The analyser of one camera, built inside its analysis worker (a top-level function: it is pickled by
    name when the worker process is spawned)."""
    settings = AnalysisSettings(fps=job.fps, motion=job.motion, faults=job.faults)
    return CameraAnalysis(
        job.camera_id,
        job.stream,
        settings,
        job.motion_mask,
        tz=ZoneInfo(job.timezone),
        detection=link,
        rules=job.rules,
        report_objects=job.report_objects,
        model_input=job.model_input,
    )


@dataclass(frozen=True)
class MaintenanceTools:
    register: EquipmentRegister
    tickets: TicketDesk
    availability: AvailabilityDesk
    close: Callable[[], None]


def open_maintenance(config: Config, base_dir: Path) -> MaintenanceTools:
    """The register, the ticket desk and availability alone, for ``vigil equipment``, ``vigil tickets`` and
    ``vigil availability`` (a running node sends what they enqueue within a second, and verifies what they resolve)."""
    outbox, catalog, paths = open_outbox(config, base_dir)
    clock = outbox.clock
    audit = SqlAuditLog(catalog, audit_anchor_path(paths.catalog_url, paths.root))
    files = MaintenanceFiles(paths.maintenance)
    register = EquipmentRegister(SqlEquipment(catalog), files, audit, clock, config.maintenance.documents_max_bytes)
    register.sync(config, config.maintenance.node_id)
    settings = TicketSettings.of(config)
    users = SqlAccounts(catalog)
    store = SqlTickets(catalog)
    desk = TicketDesk(
        store,
        SqlEquipment(catalog),
        files,
        audit,
        clock,
        lambda: settings,
        outbox,
        SqlAlarms(catalog),
        known_user=lambda name: users.user(name) is not None,
    )
    availability = AvailabilityDesk(SqlHistory(catalog), lambda: config, register.graph, catalog, store, clock)
    return MaintenanceTools(register, desk, availability, catalog.close)


def destruction_desks(
    config: Callable[[], Config],
    paths: Paths,
    catalog: SqlCatalog,
    store: SegmentStore,
    audit: SqlAuditLog,
    clock: Clock,
) -> tuple[DeletionDesk, Certificates]:
    """Early deletions (two people) and destruction certificates signed with the site key (ADR 0017)."""
    requests = SqlDeletionRequests(catalog)
    desk = DeletionDesk(requests, catalog, store, SqlLegalHolds(catalog), audit, clock, config)
    signer = SiteKey(site_key_path(paths.catalog_url, paths.root))
    certificates = Certificates(
        catalog, requests, signer, StagedPackage, verifier_source, clock, config, paths.certificates
    )
    return desk, certificates


def node_files(config: Config, config_file: Path) -> NodeFiles:
    """Where a node keeps what a backup holds (ADR 0018), from its configuration and its file's folder."""
    base = config_file.parent
    paths = Paths.of(config, base)
    if not paths.catalog_url.startswith("sqlite:///"):
        raise InvalidRequest(
            "backups copy a SQLite catalog; back up a PostgreSQL catalog with pg_dump (storage.catalog_url)"
        )
    folders = {
        "config/history/": base / HISTORY_DIR,
        "plans/": plans_folder(config, base),
        "evidence/": paths.evidence,
        "certificates/": paths.certificates,
        "maintenance/": paths.maintenance,
    }
    return NodeFiles(
        config_file,
        Path(paths.catalog_url.removeprefix("sqlite:///")),
        audit_anchor_path(paths.catalog_url, paths.root),
        site_key_path(paths.catalog_url, paths.root),
        folders,
    )


def backups_of(
    config: Callable[[], Config], config_file: Path, paths: Paths, tiers: Mapping[str, Tier], clock: Clock
) -> Backups:
    """Scheduled backups of the node's own files to ``storage.backup.tier`` (ADR 0018)."""
    import shutil

    key = SiteKey(site_key_path(paths.catalog_url, paths.root))

    def stage(folder: Path, with_key: bool) -> list[BackupFile]:
        folder.mkdir(parents=True, exist_ok=True)
        phrase = os.environ.get(config().storage.backup.passphrase_env) if with_key else None
        return stage_files(node_files(config(), config_file), key, phrase, folder)

    return Backups(
        stage,
        lambda folder: shutil.rmtree(folder, ignore_errors=True),
        key,
        tiers,
        clock,
        config,
        paths.cache / "backups",
        lambda: os.environ.get(config().storage.backup.passphrase_env) or None,
    )


def restore_source(endpoint: str | None, bucket: str | None, prefix: str, folder: str | None) -> Tier:
    """The tier a fresh machine restores from: an S3 bucket (keys from VIGIL_S3_ACCESS_KEY and
    VIGIL_S3_SECRET_KEY) or a folder."""
    if (folder is None) == (endpoint is None):
        raise InvalidRequest("give either --folder, or --endpoint and --bucket")
    if folder is not None:
        return LocalTier("backup", Path(folder).resolve())
    if not bucket:
        raise InvalidRequest("--bucket: the bucket the backups are in")
    doc = {"name": "backup", "kind": "s3", "endpoint": endpoint, "bucket": bucket, "prefix": prefix}
    from pydantic import ValidationError

    try:
        return s3_tier_of(S3TierConfig.model_validate(doc))
    except ValidationError as exc:
        raise InvalidRequest(f"the backup store: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from None

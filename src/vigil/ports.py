"""Ports: what use cases need from the outside world, as Protocols. Adapters implement them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vigil.domain.alarms import Alarm, AlarmHistoryEntry, Suppression
from vigil.domain.audit import AuditAction, AuditEntry, AuditHead
from vigil.domain.authority import AuthorityRequest, RequestState
from vigil.domain.availability import GapSpan, Span
from vigil.domain.degradation import QualityMeasures, QualitySample
from vigil.domain.disk_health import DiskReport
from vigil.domain.early_deletion import DeletionRequest, DeletionState
from vigil.domain.equipment import Document, Equipment, EquipmentHistoryEntry
from vigil.domain.evidence import PackageRecord
from vigil.domain.holds import LegalHold
from vigil.domain.incidents import Incident, IncidentHistoryEntry, IncidentItem, Note, StepTick
from vigil.domain.inspections import Inspection, InspectionState
from vigil.domain.notifications import Attempt, NewNotification, Notification
from vigil.domain.privacy import Masks, PictureTreatment
from vigil.domain.records import (
    EventRecord,
    GrantRecord,
    HealthRow,
    LedgerEntry,
    SessionRecord,
    TokenRecord,
    UserRecord,
    WallGroup,
)
from vigil.domain.reports import Message
from vigil.domain.retention import StoredSegment
from vigil.domain.segment import Gap, GapCause, Segment, SegmentInfo
from vigil.domain.tickets import Ticket, TicketHistoryEntry
from vigil.domain.tiers import CopyState, SegmentCopy


class Clock(Protocol):
    def now_us(self) -> int:
        """Wall-clock time, UTC microseconds."""
        ...


class SystemClock:
    def now_us(self) -> int:
        return time.time_ns() // 1000


class Catalog(Protocol):
    """The catalog of segments, gaps, events and their review marks, deletions and health (``storage.catalog``)."""

    def add_segment(self, info: SegmentInfo) -> Segment: ...
    def segments(
        self, camera_id: str, stream: str, start_us: int | None = None, end_us: int | None = None
    ) -> list[Segment]: ...
    def all_segments(self) -> list[Segment]: ...
    def deleting_segments(self) -> list[Segment]: ...
    def segment(self, segment_id: int) -> Segment | None: ...
    def last_segment(self, camera_id: str, stream: str) -> Segment | None: ...
    def retention_view(self) -> list[StoredSegment]: ...
    def total_bytes(self) -> int:
        """Bytes of footage on the hot disk (segments released to a tier cost it nothing)."""
        ...

    def bytes_per_second(self, since_us: int) -> dict[str, float]: ...
    def mark_deleting(self, segment_id: int) -> bool:
        """False (and nothing marked) when an active legal hold overlaps the segment."""
        ...

    def remove_segment(
        self, seg: Segment, now_us: int, rule: str, actor: str, reason: str, tiers: Sequence[str] = ("hot",)
    ) -> LedgerEntry: ...
    def ledger(self, limit: int | None = None) -> list[LedgerEntry]: ...
    def ledger_hashes(self) -> set[str]: ...
    def ledger_between(self, start_us: int, end_us: int) -> list[LedgerEntry]: ...
    def deletions(self, camera_id: str, stream: str, start_us: int, end_us: int) -> list[LedgerEntry]: ...
    def open_gap(self, camera_id: str, stream: str, start_us: int, cause: GapCause, detail: str = "") -> None: ...
    def open_gap_of(self, camera_id: str, stream: str) -> Gap | None: ...
    def close_gap(self, camera_id: str, stream: str, end_us: int) -> Gap | None: ...
    def gaps(self, camera_id: str, stream: str, start_us: int, end_us: int) -> list[Gap]: ...
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
    ) -> int: ...
    def end_event(
        self,
        event_id: int,
        end_us: int,
        description: str | None = None,
        *,
        labels: Sequence[str] | None = None,
        score: float | None = None,
    ) -> None: ...
    def open_event(self, type_: str, camera_id: str | None = None) -> EventRecord | None: ...
    def open_events(self, types: Sequence[str]) -> list[EventRecord]: ...
    def event(self, event_id: int) -> EventRecord | None: ...
    def events(
        self,
        camera_id: str | None = None,
        types: Sequence[str] | None = None,
        start_us: int | None = None,
        end_us: int | None = None,
        limit: int = 100,
        offset: int = 0,
        text: str | None = None,
        label: str | None = None,
        zone: str | None = None,
        *,
        camera_ids: Sequence[str] | None = None,
        include_node_events: bool = True,
        before: tuple[int, int] | None = None,
        unreviewed_by: str | None = None,
    ) -> list[EventRecord]: ...
    def mark_reviewed(self, event_id: int, username: str, at_us: int) -> bool: ...
    def unmark_reviewed(self, event_id: int, username: str) -> bool: ...
    def reviewed_ids(self, event_ids: Sequence[int], username: str) -> set[int]: ...
    def upsert_health(self, row: HealthRow) -> None: ...
    def health(self) -> list[HealthRow]: ...


@dataclass(frozen=True, slots=True)
class DiskUsage:
    total_bytes: int
    used_bytes: int
    free_bytes: int


class SegmentStore(Protocol):
    """The segment files (``vigil.storage.segment_store``). Paths are relative to the storage root."""

    def absolute(self, relpath: str) -> Path: ...
    def size(self, relpath: str) -> int | None: ...
    def sha256(self, relpath: str) -> str: ...
    def delete(self, relpath: str) -> None: ...
    def segment_files(self, under: str | None = None) -> list[str]: ...
    def part_files(self, under: str | None = None) -> list[str]: ...
    def usage(self) -> DiskUsage: ...
    def local(self, seg: Segment) -> Path:
        """A local file to read the segment from, on whichever tier holds it (ADR 0016)."""
        ...

    def erase(self, seg: Segment) -> list[str]:
        """Delete the segment from every tier that holds it; the tiers it was deleted from (``hot`` first)."""
        ...


class TieredStore(SegmentStore, Protocol):
    """The segment store of a node with tiers (``vigil.storage.tiered_files``): the scrub also reads copies."""

    def good_copy(self, seg: Segment, besides: str) -> tuple[Path, str] | None:
        """A local file holding the segment whole (its SHA-256 checked now) from anywhere but tier ``besides``
        (``hot``: the hot disk), and where it came from; None when there is none."""
        ...

    def restore_hot(self, seg: Segment, source: Path) -> None:
        """Put a good copy back as the segment's hot file (its SHA-256 checked first)."""
        ...


class Tier(Protocol):
    """A storage tier beside the hot disk (``storage.s3_tier``, ``storage.local_tier``): whole segments by key."""

    name: str
    kind: str

    def where(self) -> str: ...
    def check(self) -> None: ...
    def put(self, key: str, source: Path, *, locked_until_us: int | None = None) -> None: ...
    def sha256(self, key: str) -> str | None: ...
    def fetch(self, key: str, dest: Path) -> str: ...
    def size(self, key: str) -> int | None: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str = "") -> Iterator[str]: ...
    def lock(self, key: str, until_us: int) -> bool:
        """Keep the object from deletion until then (object lock); False when the tier has none."""
        ...

    def locked_until(self, key: str) -> int | None: ...


class SegmentCopyStore(Protocol):
    """The segments' copies on the tiers, and whether each is still hot (``storage.segment_copies``)."""

    def start(self, segment_id: int, tier: str, key: str, now_us: int) -> SegmentCopy: ...
    def verified(self, copy_id: int, size_bytes: int, now_us: int) -> None: ...
    def mark(self, copy_id: int, state: CopyState, now_us: int, note: str = "") -> None: ...
    def checked(self, copy_id: int, now_us: int) -> None: ...
    def uncopied(
        self,
        tier: str,
        cameras: Sequence[str] | None,
        ended_before_us: int,
        limit: int,
        after_id: int = 0,
        footage: str = "all",
    ) -> list[Segment]: ...
    def releasable(self, limit: int, after_id: int = 0) -> list[tuple[Segment, set[str]]]: ...
    def release(self, segment_id: int) -> bool: ...
    def released_among(self, paths: Iterable[str]) -> list[Segment]: ...
    def classify(self, segment_id: int, event_footage: bool) -> None: ...
    def unclassified(self, ended_before_us: int, limit: int) -> list[Segment]: ...
    def copies(self, segment_id: int) -> list[SegmentCopy]: ...
    def forget(self, segment_id: int) -> None: ...
    def usage(self) -> dict[str, tuple[int, int, int | None]]: ...
    def lag_us(self, tier: str, cameras: Sequence[str], now_us: int, footage: str = "all") -> int: ...
    def scrub_view(self) -> dict[str, tuple[int, int | None]]: ...
    def hot_segments(self) -> list[Segment]: ...
    def hot_least_checked(self, stale_before_us: int, limit: int) -> list[Segment]: ...
    def hot_checked(self, segment_id: int, now_us: int) -> None: ...
    def copies_least_checked(
        self, stale_before_us: int, retry_before_us: int, limit: int
    ) -> list[tuple[SegmentCopy, Segment]]: ...


@dataclass(frozen=True, slots=True)
class SegmentFacts:
    """What reading a segment file tells (``vigil.media.probe``)."""

    codec: str
    width: int
    height: int
    frame_count: int
    duration_us: int


# Read a finished segment file; raises StorageError when it is not a readable segment.
ProbeFn = Callable[[Path], SegmentFacts]
# Salvage a partial file into a clean one at the second path; None when nothing was readable.
SalvageFn = Callable[[Path, Path], SegmentFacts | None]


# A BGR picture of the frame being analysed (numpy, height x width x 3), made only when asked for.
Picture = Callable[[], Any]


@dataclass(frozen=True, slots=True)
class Pictured:
    """A message whose snapshot must be this picture (e.g. the detected frame, boxes already known), not the
    frame being analysed when it is sent."""

    message: Message
    picture: Any  # BGR numpy array


class FrameAnalyser(Protocol):
    """One camera's picture analysis, fed small luminance frames (numpy arrays) with their wall time, and a
    way to get the frame in colour at the detection size when it wants to look for objects."""

    def feed(self, gray: Any, at_us: int, picture: Picture | None = None) -> list[Message | Pictured]: ...

    def collect(self, at_us: int) -> list[Message | Pictured]:
        """Between analysed frames: take what has arrived meanwhile (a detector's reply), so that its events need
        not wait for the next analysed frame."""
        ...

    def stop(self, at_us: int) -> list[Message | Pictured]: ...


# An object the detector found: label, score, and its box x1, y1, x2, y2 in the sent picture's pixels.
Found = tuple[str, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class DetectionReply:
    at_us: int  # the analysed frame's wall time
    found: list[Found]
    picture: Any  # the BGR picture that was looked at (valid until the next submit)
    crop: tuple[int, int, int, int]  # the part of it given to the detector: x1, y1, x2, y2 in pixels
    took_ms: float


class DetectionLink(Protocol):
    """One camera's line to the detector process (``vigil.media.detector_link``). Never blocks for a result:
    a frame is submitted, its reply polled for on a later frame."""

    @property
    def connected(self) -> bool: ...

    @property
    def busy(self) -> bool:
        """A request is out: a new one would be refused."""
        ...

    def submit(self, picture: Any, crop: tuple[int, int, int, int], at_us: int) -> bool:
        """Send the picture to be looked at (only ``crop``); False when a request is still out or the detector
        is unreachable (this frame goes without detection)."""
        ...

    def poll(self) -> DetectionReply | None: ...

    def close(self) -> None: ...


class AccountStore(Protocol):
    """Users, their grants, browser sessions and API tokens (``vigil.storage.accounts``)."""

    def user(self, username: str) -> UserRecord | None: ...
    def users(self) -> list[UserRecord]: ...
    def add_user(self, user: UserRecord) -> None: ...
    def update_user(self, username: str, **values: Any) -> None: ...
    def grants(self, username: str) -> list[GrantRecord]: ...
    def set_grants(self, username: str, grants: Sequence[GrantRecord]) -> None: ...
    def add_session(self, session: SessionRecord) -> None: ...
    def session(self, token_hash: str) -> SessionRecord | None: ...
    def remove_session(self, token_hash: str) -> None: ...
    def remove_sessions(self, username: str) -> None: ...
    def add_token(self, token: TokenRecord) -> None: ...
    def token(self, token_hash: str) -> TokenRecord | None: ...
    def remove_token(self, token_hash: str) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, hashed: str, password: str) -> bool: ...


class AuditLog(Protocol):
    """The append-only, hash-chained audit log (``vigil.storage.audit_log``; ``vigil.domain.audit``)."""

    def append(
        self,
        at_us: int,
        actor: str,
        action: AuditAction | str,
        *,
        camera_id: str | None = None,
        range_start_us: int | None = None,
        range_end_us: int | None = None,
        client: str = "",
        reason: str = "",
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Record one act as the next entry of the chain (InvalidRequest for bad input)."""
        ...

    def entries(
        self,
        actor: str | None = None,
        action: AuditAction | str | None = None,
        camera_id: str | None = None,
        start_us: int | None = None,
        end_us: int | None = None,
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
        *,
        max_seq: int | None = None,
    ) -> list[AuditEntry]:
        """Entries newest first, filtered (``start_us <= at_us < end_us``); ``max_seq`` for stable paging."""
        ...

    def touching(self, camera_ids: Sequence[str], start_us: int, end_us: int) -> list[AuditEntry]:
        """Entries about the footage of these cameras over ``[start_us, end_us)``, oldest first."""
        ...

    def all_in_order(self, batch: int = 1000) -> Iterator[AuditEntry]: ...

    def head(self) -> AuditHead | None:
        """``(seq, hash)`` of the newest entry."""
        ...

    def anchor(self) -> AuditHead | None:
        """The head remembered outside the database; None when there is none (StorageError: unreadable)."""
        ...


class LiveFeed(Protocol):
    """Live video for viewers (``vigil.media.live.LiveHub``): ``async with feed.subscribe(camera, stream) as sub:
    async for message in sub`` gives JSON control messages (text) and fMP4 init segments and fragments (bytes)."""

    def subscribe(
        self, camera_id: str, stream: str, masks: Masks = ()
    ) -> AbstractAsyncContextManager[AsyncIterator[str | bytes]]:
        """With ``masks`` (privacy masks), a stream transcoded with them burned in."""
        ...

    async def close(self, timeout_s: float = 5.0) -> None: ...


class PlaybackStream(Protocol):
    """Recorded video streamed for a player (``vigil.media.recorded_stream``): fragmented MP4 from a keyframe."""

    mime: str  # for MediaSource.addSourceBuffer
    start_us: int  # the wall time of media time 0
    chunks: Iterator[bytes]  # the init segment, then fragments

    def close(self) -> None: ...


class ConfigStore(Protocol):
    """Where the configuration document lives (``vigil.storage.config_file``: ``vigil.yaml``). A revision is an
    opaque string that changes with every write, so that two editors cannot overwrite each other unseen."""

    def read(self) -> tuple[dict[str, Any], str]:
        """The document as plain data (mappings, lists, scalars), and its revision."""
        ...

    def write(self, data: Mapping[str, Any], revision: str) -> str:
        """Replace the document with ``data`` if it is still at ``revision`` (else Conflict); the new revision."""
        ...

    def revision(self) -> str:
        """The revision as it is now (cheap: called often to notice edits made by hand)."""
        ...


class WallGroupStore(Protocol):
    """The live wall's camera groups (``vigil.storage.wall_groups``)."""

    def groups(self, owner: str) -> list[WallGroup]:
        """The owner's own groups and every shared one, by name."""
        ...

    def save(self, group: WallGroup) -> None:
        """Add the group, or replace the owner's group of that name."""
        ...

    def remove(self, owner: str, name: str) -> bool: ...


class LegalHolds(Protocol):
    """Legal holds on footage (``vigil.storage.legal_holds``; ``vigil.domain.holds``). Rows are never deleted."""

    def place(
        self,
        camera_id: str,
        start_us: int,
        end_us: int,
        placed_us: int,
        placed_by: str,
        reason: str,
        package_id: str | None = None,
    ) -> LegalHold: ...

    def lift(self, hold_id: int, lifted_us: int, lifted_by: str, reason: str) -> LegalHold:
        """NotFound for no such hold, Conflict when it was lifted already."""
        ...

    def hold(self, hold_id: int) -> LegalHold | None: ...

    def holds(
        self, *, active_only: bool = True, camera_id: str | None = None, limit: int = 1000, offset: int = 0
    ) -> list[LegalHold]: ...

    def active(self) -> list[LegalHold]: ...

    def covering(self, camera_id: str, start_us: int, end_us: int) -> list[LegalHold]:
        """The active holds on a camera overlapping ``[start_us, end_us)``."""
        ...


class EvidenceRegister(Protocol):
    """The evidence packages exported from this site (``vigil.storage.legal_holds.SqlEvidenceRegister``)."""

    def add(self, record: PackageRecord) -> None: ...
    def package(self, package_id: str) -> PackageRecord | None: ...
    def packages(self, limit: int = 100, offset: int = 0) -> list[PackageRecord]: ...


class Signer(Protocol):
    """The site's Ed25519 signing key (``vigil.storage.site_key``). Signs; never gives its secret away."""

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        ...


@dataclass(frozen=True, slots=True)
class ClipMade:
    start_us: int  # the clip's first frame
    end_us: int
    frame_count: int
    size_bytes: int
    hidden: Mapping[str, int] | None = None  # a redacted clip: what was hidden (faces, heads, plates, people)


class ClipWriter(Protocol):
    """Join recorded segment files, each (path, start_us, end_us), into one MP4 at ``out`` covering
    [start_us, end_us): without re-encoding (``vigil.media.clip.write_clip``), or, with a ``treatment`` that is not
    empty (privacy masks, redaction), every picture treated and encoded again (``vigil.media.reencode``).
    NoFootage when nothing is readable."""

    def __call__(
        self,
        parts: Sequence[tuple[Path, int, int]],
        start_us: int,
        end_us: int,
        out: Path,
        treatment: PictureTreatment | None = None,
    ) -> ClipMade: ...


# A JPEG with a treatment applied (masks filled in, faces blurred ...): the same bytes when the treatment is empty.
PictureTreater = Callable[[bytes, PictureTreatment], bytes]


class PackageBuilder(Protocol):
    """An evidence package being written (``vigil.storage.evidence_package``): files go to a staging folder and
    nothing exists at the package's path until :meth:`publish`."""

    def path(self, relpath: str) -> Path:
        """Where to write the file ``relpath`` (its folder is made)."""
        ...

    def write(self, relpath: str, data: bytes) -> None: ...
    def copy(self, relpath: str, source: Path) -> None: ...

    def describe(self, relpath: str) -> tuple[int, str]:
        """Size in bytes and SHA-256 of a file written."""
        ...

    def names(self) -> list[str]:
        """Every file written so far, sorted."""
        ...

    def publish(self) -> int:
        """Make the package appear at its path, whole (a folder, or a .zip); its size in bytes."""
        ...

    def discard(self) -> None: ...


# Start a package at this path (a name ending in .zip makes a zip, anything else a folder).
PackageFactory = Callable[[Path], PackageBuilder]


class SealedPackage(Protocol):
    """A finished package (folder or .zip) opened to read it and add custody entries."""

    def names(self) -> list[str]: ...
    def read(self, relpath: str) -> bytes: ...

    def append(self, relpath: str, data: bytes) -> None:
        """Add a new file, durably and whole; Conflict when it exists already."""
        ...


class OutboxStore(Protocol):
    """The notification outbox (``vigil.storage.outbox``; ``vigil.domain.notifications``)."""

    def add(self, items: Sequence[NewNotification]) -> None: ...

    def heads(self, channel: str) -> list[Notification]:
        """Each ordering key's oldest pending notification on the channel, with its payload."""
        ...

    def next_pending(self, channel: str, key: str, after_seq: int) -> Notification | None:
        """The key's next pending notification after ``after_seq``, with its payload."""
        ...

    def record_attempt(self, seq: int, attempt: Attempt, next_attempt_us: int) -> None: ...

    def record_attempts(self, items: Sequence[tuple[int, Attempt, int]]) -> None:
        """Several attempts (notification seq, attempt, next attempt) in one transaction."""
        ...

    def expire(self, now_us: int, channel: str | None = None) -> int: ...

    def notification(self, notification_id: str) -> Notification | None: ...

    def notifications(
        self,
        *,
        state: str | None = None,
        channel: str | None = None,
        key: str | None = None,
        event_id: int | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[Notification]: ...

    def attempts(self, seqs: Sequence[int]) -> dict[int, list[Attempt]]: ...

    def retry(self, notification_id: str, now_us: int, expires_us: int) -> Notification: ...

    def prune(self, finished_before_us: int) -> int: ...


class DeletionRequestStore(Protocol):
    """Early deletion requests (``vigil.storage.deletion_requests``; ``vigil.domain.early_deletion``)."""

    def add(self, request: DeletionRequest) -> DeletionRequest: ...
    def update(self, request: DeletionRequest) -> None: ...
    def get(self, request_id: int) -> DeletionRequest: ...
    def requests(
        self, *, state: DeletionState | None = None, limit: int = 100, offset: int = 0
    ) -> list[DeletionRequest]: ...
    def approved_between(self, start_us: int, end_us: int) -> list[DeletionRequest]: ...


class AuthorityRequestStore(Protocol):
    """Requests from authorities (``vigil.storage.authority_requests``; ``vigil.domain.authority``)."""

    def add(self, request: AuthorityRequest) -> AuthorityRequest:
        """Store a new request; the stored one, with its id."""
        ...

    def update(self, request: AuthorityRequest) -> None: ...
    def get(self, request_id: int) -> AuthorityRequest: ...
    def requests(
        self,
        *,
        start_us: int | None = None,
        end_us: int | None = None,
        state: RequestState | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuthorityRequest]: ...


class AlarmStore(Protocol):
    """Alarms, the events folded into them, their history and the suppressions placed at run time
    (``vigil.storage.alarms``; ``vigil.domain.alarms``). Each write is one transaction with its history entry and
    the notifications it sends (so an alarm and its notifications commit together)."""

    def add(
        self,
        alarm: Alarm,
        history: AlarmHistoryEntry,
        notifications: Callable[[Alarm], Sequence[NewNotification]] | None = None,
    ) -> Alarm:
        """Store a new alarm (its ``id`` is given here) linked to its first event, with the notifications
        ``notifications`` makes of the stored alarm (it knows its id), in one transaction."""
        ...

    def update(
        self,
        alarm: Alarm,
        previous: Alarm,
        history: AlarmHistoryEntry,
        notifications: Sequence[NewNotification] = (),
        event_id: int | None = None,
    ) -> Alarm:
        """Store ``alarm`` if the stored row is still ``previous`` (same state and update time; else Conflict),
        with ``event_id`` linked to it when given."""
        ...

    def alarm(self, alarm_id: int) -> Alarm | None: ...

    def alarms(
        self,
        *,
        states: Sequence[str] | None = None,
        camera_ids: Sequence[str] | None = None,
        include_node: bool = True,
        queue: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Alarm]:
        """Alarms in ``states`` on ``camera_ids`` (None: all cameras), in queue order (priority, then oldest) or
        newest first."""
        ...

    def fold_candidates(self, rule: str, camera_id: str | None, since_us: int) -> list[Alarm]:
        """Alarms of ``rule`` on the camera not resolved whose latest event is at or after ``since_us``."""
        ...

    def due(self, now_us: int) -> list[Alarm]:
        """New alarms whose next escalation is due at ``now_us``, oldest first."""
        ...

    def next_due_us(self) -> int | None: ...
    def history(self, alarm_id: int) -> list[AlarmHistoryEntry]: ...
    def event_ids(self, alarm_id: int) -> list[int]: ...
    def alarm_of_event(self, event_id: int) -> int | None: ...

    def batch(self) -> AbstractContextManager[None]:
        """The writes (and reads) of this thread inside are one transaction, committed at its end."""
        ...

    def newest_linked_event_id(self) -> int:
        """The highest event id linked to any alarm (0 when none)."""
        ...

    def add_suppression(self, suppression: Suppression) -> Suppression: ...

    def lift_suppression(self, suppression_id: int, by: str, at_us: int, reason: str) -> Suppression:
        """NotFound for no such suppression, Conflict when it was lifted or had ended already."""
        ...

    def suppression(self, suppression_id: int) -> Suppression | None: ...

    def suppressions(self, *, active_at_us: int | None = None, limit: int = 100, offset: int = 0) -> list[Suppression]:
        """Newest first; with ``active_at_us`` only those not lifted and not ended by then."""
        ...


class IncidentStore(Protocol):
    """Incidents, their items, notes, checklist ticks and history (``vigil.storage.incidents``). Every change is
    one transaction with its history entry."""

    def add(self, incident: Incident, items: Sequence[IncidentItem], history: IncidentHistoryEntry) -> Incident: ...
    def update(self, incident: Incident, history: IncidentHistoryEntry) -> Incident: ...
    def incident(self, incident_id: int) -> Incident | None: ...

    def incidents(self, *, state: str | None = None, limit: int = 100, offset: int = 0) -> list[Incident]: ...

    def add_items(self, incident_id: int, items: Sequence[IncidentItem], history: IncidentHistoryEntry) -> int:
        """Link alarms, events or packages (those linked already are skipped); how many were new. Linked alarms
        get the incident's id."""
        ...

    def items(self, incident_id: int) -> list[IncidentItem]: ...

    def add_note(self, note: Note, first_action_us: int | None) -> Note:
        """Append a note (its id given here); ``first_action_us`` updates the incident's when not None."""
        ...

    def notes(self, incident_id: int) -> list[Note]: ...

    def tick(self, tick: StepTick, first_action_us: int | None) -> StepTick:
        """Record a checklist step done or skipped (Conflict when it was ticked already)."""
        ...

    def ticks(self, incident_id: int) -> list[StepTick]: ...
    def history(self, incident_id: int) -> list[IncidentHistoryEntry]: ...


class PlanStore(Protocol):
    """The emergency plans' YAML texts, one per incident type (``vigil.storage.plan_files``). A revision is an
    opaque string that changes with every write ("" for a type with no file, only a built-in plan)."""

    def texts(self) -> dict[str, tuple[str, str, bool]]:
        """Every plan by incident type: (its YAML text, its revision, whether it is built in)."""
        ...

    def write(self, plan_type: str, text: str, revision: str) -> str:
        """Replace the plan's file if it is still at ``revision`` (else Conflict); the new revision. The previous
        text is kept in the folder's history."""
        ...


class EquipmentStore(Protocol):
    """The equipment register (``vigil.storage.equipment``; ``vigil.domain.equipment``). Each change is one
    transaction with its history entry; updates are compare-and-set on the revision."""

    def get(self, equipment_id: str) -> Equipment | None: ...
    def all(self, *, include_removed: bool = False) -> list[Equipment]: ...
    def seed(self, equipment_id: str) -> dict[str, Any]:
        """A camera's device values from ``vigil.yaml`` as last applied to its record."""
        ...

    def add(self, item: Equipment, entry: EquipmentHistoryEntry, seed: Mapping[str, Any] | None = None) -> Equipment:
        """Conflict when the id is taken."""
        ...

    def update(
        self, item: Equipment, revision: int, entry: EquipmentHistoryEntry, seed: Mapping[str, Any] | None = None
    ) -> Equipment:
        """Conflict unless the stored record is still at ``revision``."""
        ...

    def set_seed(self, equipment_id: str, seed: Mapping[str, Any]) -> None: ...
    def history(self, equipment_id: str, limit: int = 500) -> list[EquipmentHistoryEntry]: ...
    def add_document(self, document: Document, entry: EquipmentHistoryEntry) -> Document: ...
    def documents(self, equipment_id: str, *, include_removed: bool = False) -> list[Document]: ...
    def document(self, document_id: int) -> Document | None: ...
    def remove_document(self, document_id: int, by: str, at_us: int, entry: EquipmentHistoryEntry) -> Document: ...


class TicketStore(Protocol):
    """Maintenance tickets (``vigil.storage.tickets``; ``vigil.domain.tickets``). A ticket's write is one
    transaction with its cameras, linked fault events, history and notifications; updates are compare-and-set on the
    revision."""

    def add(
        self,
        ticket: Ticket,
        history: TicketHistoryEntry,
        event_ids: Sequence[int] = (),
        notifications: Callable[[Ticket], Sequence[NewNotification]] | None = None,
    ) -> Ticket: ...

    def update(
        self,
        ticket: Ticket,
        revision: int,
        history: TicketHistoryEntry | Sequence[TicketHistoryEntry],
        notifications: Sequence[NewNotification] = (),
        event_ids: Sequence[int] = (),
    ) -> Ticket:
        """Conflict unless the stored ticket is still at ``revision``."""
        ...

    def set_pictures(self, ticket_id: int, good: str, fault: str) -> Ticket: ...
    def set_note(self, ticket_id: int, note: str) -> Ticket: ...
    def note(self, entry: TicketHistoryEntry) -> None: ...
    def ticket(self, ticket_id: int) -> Ticket | None: ...
    def tickets(
        self,
        *,
        states: Sequence[str] | None = None,
        camera_id: str | None = None,
        equipment_ids: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        vendor: str | None = None,
        assignee: str | None = None,
        opened_from_us: int | None = None,
        opened_until_us: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Ticket]: ...

    def unverified(self) -> list[Ticket]: ...
    def verified(self) -> list[Ticket]: ...
    def latest(self, equipment_id: str, kind: str) -> Ticket | None: ...
    def ticket_of_event(self, event_id: int) -> int | None: ...
    def linked_events(self, event_ids: Sequence[int]) -> set[int]: ...
    def event_ids(self, ticket_id: int) -> list[int]: ...
    def history(self, ticket_id: int) -> list[TicketHistoryEntry]: ...
    def open_cameras(self, *, assignee: str | None = None, vendor: str | None = None) -> set[str]: ...
    def count(self, states: Sequence[str] | None = None) -> int: ...


class MaintenanceFileStore(Protocol):
    """Documents of the register and pictures of tickets (``vigil.storage.maintenance_files``)."""

    def put_document(self, data: bytes) -> str:
        """Keep the bytes; their SHA-256."""
        ...

    def document(self, sha256: str) -> bytes: ...

    def put_picture(self, ticket_id: int, name: str, jpeg: bytes) -> str:
        """Keep a ticket's picture; its relative path."""
        ...

    def picture(self, relpath: str) -> bytes: ...

    def put_inspection_picture(self, inspection_id: int, jpeg: bytes) -> str:
        """Keep the camera's picture taken when an inspection was done; its relative path."""
        ...

    def put_reference(self, camera_id: str, jpeg: bytes) -> None:
        """Keep the old view of a camera whose device was replaced."""
        ...

    def reference(self, camera_id: str) -> bytes | None: ...


class HistoryReader(Protocol):
    """Cameras' history in bulk, for availability and the health strip (``vigil.storage.history``)."""

    def first_recorded(self) -> dict[str, int]:
        """Each camera's first recorded moment (main stream; deleted footage counts)."""
        ...

    def gaps(self, start_us: int, end_us: int, cameras: Sequence[str] | None = None) -> dict[str, list[GapSpan]]:
        """The main streams' gaps overlapping the period, per camera, oldest first."""
        ...

    def faults(
        self, start_us: int, end_us: int, cameras: Sequence[str] | None = None
    ) -> dict[str, list[tuple[int, int | None]]]:
        """The picture-fault events overlapping the period, per camera."""
        ...

    def windows(self, start_us: int, end_us: int) -> list[tuple[tuple[str, ...], Span]]:
        """Maintenance windows placed at run time overlapping the period: (their cameras, () for all; their span)."""
        ...


class DiskProbe(Protocol):
    """The health of the disk a folder is on (``vigil.storage.smart``)."""

    def probe(self, path: Path) -> DiskReport: ...


class InspectionStore(Protocol):
    """Routine inspections (``vigil.storage.inspections``; ``vigil.domain.inspections``)."""

    def add(self, inspection: Inspection) -> Inspection: ...

    def update(self, inspection: Inspection, expected: InspectionState) -> Inspection:
        """Conflict unless the stored one is still in state ``expected``."""
        ...

    def get(self, inspection_id: int) -> Inspection | None: ...
    def latest(self, name: str, camera_id: str) -> Inspection | None: ...
    def list(self, state: str | None = None, camera_id: str | None = None, limit: int = 500) -> list[Inspection]: ...


class QualitySampleStore(Protocol):
    """The daily picture-quality samples (``vigil.storage.quality``; ``vigil.domain.degradation``)."""

    def add(self, sample: QualitySample) -> bool:
        """False when the camera has one for that day and period already."""
        ...

    def has(self, camera_id: str, day: str, period: str) -> bool: ...
    def samples(self, camera_id: str, since_us: int = 0, limit: int = 1000) -> list[QualitySample]: ...


class PictureQuality(Protocol):
    """A camera's picture quality measured on what it recorded in an hour (``vigil.quality_pictures``)."""

    def measure(
        self, camera_id: str, start_us: int, end_us: int, frames: int
    ) -> tuple[QualityMeasures, int] | None: ...

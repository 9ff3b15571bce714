"""The audit log's entries and their hash chain (pure: no I/O, no clock reads).

Every view of footage, export, login and change of configuration, users or permissions is one
:class:`AuditEntry`. Entries are numbered ``seq`` 1, 2, 3 ... with no gaps, and each carries the hash of the
one before it (``prev_hash``; the first carries :data:`GENESIS_HASH`) and its own ``hash``: the SHA-256 of
:func:`canonical_bytes` of every field but ``hash`` itself (so ``seq`` and ``prev_hash`` are covered too).

What :func:`verify` finds, and what it cannot:

- an entry changed after it was written (its hash no longer matches its fields): ``altered``;
- an entry changed *and* re-hashed: the next entry's ``prev_hash`` no longer matches (``broken_link``);
- entries removed from the start or the middle: a gap in ``seq`` (``missing``); entries out of order;
- entries removed from the *end* leave a shorter chain that is perfectly valid on its own. Only a head
  remembered elsewhere (an :class:`AuditHead` anchor: the ``audit.head`` file the store writes after each
  append, or a head an operator copied off the machine) shows them (``truncated``), and a chain rebuilt from
  some entry on shows as a different hash at the anchor's ``seq`` (``rewritten``).

Limits, honestly: someone who can rewrite the whole database *and* the anchor file can rebuild a consistent
chain with any content, and nothing on this machine will notice. The anchor file raises the bar (two places to
forge, and the store never moves an anchor that disagrees with the database); a head hash copied elsewhere
(printed by ``vigil audit verify``, kept in a ticket, a log server or on paper) raises it further, since no
one on the machine can change that copy. The hash proves integrity relative to an anchor, not authorship:
entries are not signed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from vigil.domain.errors import InvalidRequest

GENESIS_HASH = "0" * 64  # the prev_hash of entry 1
SYSTEM_ACTOR = "system"  # the actor of entries no person caused


class AuditAction(StrEnum):
    """What an entry records. Add members as new kinds of act are audited; stored as their value."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    ACCESS_DENIED = "access_denied"  # a request refused by role or grants (camera, page, media URL)
    LIVE_START = "live_start"
    LIVE_STOP = "live_stop"
    PLAYBACK = "playback"
    SNAPSHOT_VIEW = "snapshot_view"
    EXPORT = "export"  # footage leaving the system: a clip, an evidence package
    CONFIG_CHANGE = "config_change"  # cameras, zones, rules, settings
    USER_CHANGE = "user_change"  # a user added, changed, disabled
    PERMISSION_CHANGE = "permission_change"  # roles and grants
    PASSWORD_CHANGE = "password_change"  # noqa: S105 (a name, not a password)
    TOKEN_CHANGE = "token_change"  # noqa: S105 (API tokens issued or revoked)
    LEGAL_HOLD = "legal_hold"  # placed or lifted
    CUSTODY = "custody"  # an evidence package handed over (a custody entry added)
    AUTHORITY_REQUEST = "authority_request"  # a request from an authority recorded, decided, fulfilled, withdrawn
    FOOTAGE_DELETE = "footage_delete"  # a person deleting footage (retention's own deletions are in the ledger)
    AUDIT_VIEW = "audit_view"  # an auditor searching this log
    AUDIT_EXPORT = "audit_export"  # this log exported
    NOTIFICATION_RETRY = "notification_retry"  # a notification sent again on request
    ALARM = "alarm"  # an alarm acknowledged, assigned or resolved by a person
    ALARM_SUPPRESSION = "alarm_suppression"  # alarms of cameras suppressed (maintenance, disarmed) or the end of it
    INCIDENT = "incident"  # an incident opened, linked, noted, assigned, ticked, closed, reported on
    PLAN_CHANGE = "plan_change"  # an emergency plan written
    EQUIPMENT = "equipment"  # the equipment register changed: a record, its links, a document, a replacement
    TICKET = "ticket"  # a maintenance ticket opened, worked, resolved, closed or reopened by a person


class AuditHead(NamedTuple):
    """The newest entry of a chain as ``(seq, hash)``: what an anchor remembers."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def parse_head(text: str) -> AuditHead:
    """``SEQ:HASH`` (as :class:`AuditHead` prints) back into a head; ValueError when it is not one."""
    seq, sep, digest = text.strip().partition(":")
    if not sep or not seq.isdigit() or int(seq) < 1 or not _is_hash(digest):
        raise ValueError(f"not a head (SEQ:HASH, 64 hex digits): {text!r}")
    return AuditHead(int(seq), digest.lower())


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int  # 1, 2, 3 ... consecutive
    at_us: int  # when it happened, UTC microseconds
    actor: str  # a user name, or "system"
    action: str  # an AuditAction value (kept as text: an entry read back is reported, never refused)
    camera_id: str | None
    range_start_us: int | None  # the stretch of footage viewed or exported
    range_end_us: int | None
    client: str  # the client's address ("cli" for the command line)
    reason: str  # the reason the person gave ("" when none was asked)
    detail: dict[str, Any]  # anything else worth keeping, JSON-able
    prev_hash: str
    hash: str

    def fields(self) -> dict[str, Any]:
        """Every field the hash covers (all but ``hash``)."""
        return {
            "seq": self.seq,
            "at_us": self.at_us,
            "actor": self.actor,
            "action": self.action,
            "camera_id": self.camera_id,
            "range_start_us": self.range_start_us,
            "range_end_us": self.range_end_us,
            "client": self.client,
            "reason": self.reason,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.fields(), "hash": self.hash}

    @property
    def head(self) -> AuditHead:
        return AuditHead(self.seq, self.hash)


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash is taken over: JSON, keys sorted, no whitespace, non-ASCII kept, UTF-8.
    Raises InvalidRequest for what JSON cannot carry exactly (NaN, infinity, lone surrogates, objects)."""
    try:
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise InvalidRequest(f"audit entry: cannot be serialised: {exc}") from exc


def entry_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of :func:`canonical_bytes` of ``fields`` (every field but ``hash``)."""
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def new_entry(
    prev: AuditHead | None,
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
    """The entry that follows ``prev`` (None: the first), hashed. ``detail`` is normalised through JSON, so
    the entry equals the one read back from storage. Raises InvalidRequest for an unknown action, an empty
    actor, a time range that ends before it starts, or a detail JSON cannot carry."""
    try:
        known = AuditAction(action)
    except ValueError:
        raise InvalidRequest(f"audit action: {action!r} is not one of {', '.join(AuditAction)}") from None
    if not actor.strip():
        raise InvalidRequest("audit actor: must not be empty")
    if range_start_us is not None and range_end_us is not None and range_end_us < range_start_us:
        raise InvalidRequest("audit range: ends before it starts")
    try:  # as storage will give it back: keys as strings, tuples as lists
        normal = json.loads(json.dumps(dict(detail or {}), ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"audit detail: cannot be serialised: {exc}") from exc
    fields: dict[str, Any] = {
        "seq": 1 if prev is None else prev.seq + 1,
        "at_us": int(at_us),
        "actor": actor,
        "action": known.value,
        "camera_id": camera_id,
        "range_start_us": range_start_us,
        "range_end_us": range_end_us,
        "client": client,
        "reason": reason,
        "detail": normal,
        "prev_hash": GENESIS_HASH if prev is None else prev.hash,
    }
    return AuditEntry(**fields, hash=entry_hash(fields))


def require_reason(action: AuditAction | str, reason: str, required_for: Collection[str]) -> str:
    """The reason, trimmed; raises InvalidRequest when ``action`` is one that needs a reason and none is given
    (the site decides which: e.g. playback and export)."""
    text = reason.strip()
    if str(action) in required_for and not text:
        raise InvalidRequest(f"reason: a reason is required for {action}")
    return text


# --- verification ------------------------------------------------------------------------------------------
class ProblemKind(StrEnum):
    ALTERED = "altered"  # the entry's fields do not give its hash
    BROKEN_LINK = "broken_link"  # prev_hash is not the hash of the entry before
    MISSING = "missing"  # seq numbers absent from the middle or the start
    OUT_OF_ORDER = "out_of_order"  # a seq at or below one already seen
    TRUNCATED = "truncated"  # the anchor's seq is beyond the newest entry: newest entries removed
    REWRITTEN = "rewritten"  # the entry at the anchor's seq has another hash: the chain was rebuilt
    NO_ANCHOR = "no_anchor"  # entries exist but the anchor does not (or cannot be read)


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int  # the entry concerned (the first of a missing run)
    kind: ProblemKind
    detail: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.kind}: {self.detail}"


@dataclass(slots=True)
class ChainVerifier:
    """Checks a chain one entry at a time, so a long log is streamed, never held. Feed entries in ``seq``
    order with :meth:`check`, then :meth:`finish` against any anchors."""

    problems: list[AuditProblem] = field(default_factory=list)
    checked: int = 0
    last: AuditEntry | None = None
    _seen: dict[int, str] = field(default_factory=dict)  # hashes at the anchors' seqs
    _watch: frozenset[int] = frozenset()

    def watch(self, anchors: Iterable[AuditHead]) -> None:
        self._watch = frozenset(a.seq for a in anchors)

    def check(self, entry: AuditEntry) -> None:
        self.checked += 1
        if entry.seq in self._watch:
            self._seen[entry.seq] = entry.hash
        try:
            expected = entry_hash(entry.fields())
        except InvalidRequest as exc:
            expected = f"({exc.message})"
        if expected != entry.hash:
            self._add(entry.seq, ProblemKind.ALTERED, "its fields do not match its hash: changed after it was written")
        self._check_link(entry)
        if self.last is None or entry.seq > self.last.seq:
            self.last = entry

    def _check_link(self, entry: AuditEntry) -> None:
        last = self.last
        if last is None:
            if entry.seq > 1:
                self._add(1, ProblemKind.MISSING, f"entries 1 to {entry.seq - 1} are missing (removed)")
            elif entry.seq == 1 and entry.prev_hash != GENESIS_HASH:
                self._add(1, ProblemKind.BROKEN_LINK, "the first entry does not start from the genesis hash")
            return
        if entry.seq <= last.seq:
            self._add(entry.seq, ProblemKind.OUT_OF_ORDER, f"comes after seq {last.seq}")
        elif entry.seq > last.seq + 1:
            first, end = last.seq + 1, entry.seq - 1
            run = f"entry {first} is" if first == end else f"entries {first} to {end} are"
            self._add(first, ProblemKind.MISSING, f"{run} missing (removed)")
        elif entry.prev_hash != last.hash:
            self._add(
                entry.seq,
                ProblemKind.BROKEN_LINK,
                f"its prev_hash is not the hash of seq {last.seq}: seq {last.seq} was changed or replaced",
            )

    def finish(self, anchors: Iterable[AuditHead] = ()) -> list[AuditProblem]:
        """The problems found, with those the anchors show (entries removed from the end, a rebuilt chain)."""
        newest = self.last.seq if self.last else 0
        for anchor in anchors:
            if anchor.seq > newest:
                what = "every entry is" if newest == 0 else f"entries after seq {newest} are"
                self._add(
                    newest + 1,
                    ProblemKind.TRUNCATED,
                    f"{what} missing: the head anchor records seq {anchor.seq} (the newest entries were removed)",
                )
            elif anchor.seq in self._seen and self._seen[anchor.seq] != anchor.hash:
                self._add(
                    anchor.seq,
                    ProblemKind.REWRITTEN,
                    f"its hash differs from the head anchor's {anchor.hash[:16]}...: the chain was rebuilt",
                )
        return self.problems

    def _add(self, seq: int, kind: ProblemKind, detail: str) -> None:
        self.problems.append(AuditProblem(seq, kind, detail))


def verify(entries: Iterable[AuditEntry], anchors: Iterable[AuditHead] = ()) -> list[AuditProblem]:
    """Every problem in a chain given in ``seq`` order, checked against the anchors (heads remembered
    elsewhere); an empty list when the chain is intact. See the module docstring for what this can show."""
    heads = list(anchors)
    verifier = ChainVerifier()
    verifier.watch(heads)
    for entry in entries:
        verifier.check(entry)
    return verifier.finish(heads)


def _is_hash(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)

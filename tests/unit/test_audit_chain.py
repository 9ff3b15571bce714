"""The audit log's hash chain as pure functions: what the hash covers, and each kind of damage verify names."""

import dataclasses
import hashlib
import json

import pytest

from vigil.domain.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditEntry,
    AuditHead,
    ProblemKind,
    canonical_bytes,
    entry_hash,
    new_entry,
    parse_head,
    require_reason,
    verify,
)
from vigil.domain.errors import InvalidRequest

T0 = 1_764_000_000_000_000


def chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for k in range(n):
        prev = entries[-1].head if entries else None
        entries.append(
            new_entry(
                prev,
                T0 + k,
                f"user{k % 3}",
                AuditAction.PLAYBACK,
                camera_id="door",
                range_start_us=T0 - 60_000_000,
                range_end_us=T0,
                client="10.0.0.7",
                reason="incident 42",
                detail={"n": k},
            )
        )
    return entries


def rehash(entry: AuditEntry, **changes: object) -> AuditEntry:
    changed = dataclasses.replace(entry, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(changed, hash=entry_hash(changed.fields()))


def kinds(problems):
    return [(p.seq, p.kind) for p in problems]


def test_the_hash_covers_every_field_but_itself_in_a_canonical_form():
    entry = chain(1)[0]
    assert entry.seq == 1 and entry.prev_hash == GENESIS_HASH
    fields = entry.fields()
    assert "hash" not in fields and set(fields) | {"hash"} == {f.name for f in dataclasses.fields(AuditEntry)}
    body = canonical_bytes(fields)
    assert body == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert entry.hash == hashlib.sha256(body).hexdigest()
    for name, value in fields.items():
        other = {**fields, name: "x" if value is None or isinstance(value, int) else None}
        assert entry_hash(other) != entry.hash, f"{name} is not covered"
    assert canonical_bytes({"reason": "门"}) == '{"reason":"门"}'.encode()


def test_an_intact_chain_has_no_problem_even_against_its_head():
    entries = chain(20)
    assert verify(entries) == []
    assert verify(entries, [entries[-1].head, entries[5].head]) == []
    assert verify([]) == []


def test_an_altered_entry_is_named():
    entries = chain(10)
    entries[4] = dataclasses.replace(entries[4], reason="nothing to see")
    assert kinds(verify(entries)) == [(5, ProblemKind.ALTERED)]


def test_an_altered_and_rehashed_entry_breaks_the_next_link():
    entries = chain(10)
    entries[4] = rehash(entries[4], actor="mallory")
    assert kinds(verify(entries)) == [(6, ProblemKind.BROKEN_LINK)]


def test_removed_entries_in_the_middle_and_at_the_start_are_named():
    entries = chain(10)
    problems = verify(entries[2:5] + entries[8:])
    assert kinds(problems) == [(1, ProblemKind.MISSING), (6, ProblemKind.MISSING)]
    assert "entries 1 to 2 are missing" in str(problems[0]) and "entries 6 to 8" in str(problems[1])
    assert "entry 4 is missing" in str(verify(entries[:3] + entries[4:])[0])


def test_entries_out_of_order_are_named():
    entries = chain(5)
    problems = verify([entries[0], entries[2], entries[1], entries[3], entries[4]])
    assert (3, ProblemKind.OUT_OF_ORDER) not in kinds(problems)
    assert (2, ProblemKind.OUT_OF_ORDER) in kinds(problems) and (2, ProblemKind.MISSING) in kinds(problems)


def test_a_first_entry_not_linked_to_genesis_is_named():
    entries = chain(3)
    entries[0] = rehash(entries[0], prev_hash="1" * 64)
    assert (1, ProblemKind.BROKEN_LINK) in kinds(verify(entries))


def test_removing_the_newest_entries_shows_only_against_an_anchor():
    entries = chain(10)
    head = entries[-1].head
    assert verify(entries[:7]) == [], "a shorter chain is valid on its own: the limit the anchor is for"
    problems = verify(entries[:7], [head])
    assert kinds(problems) == [(8, ProblemKind.TRUNCATED)]
    assert "the head anchor records seq 10" in str(problems[0])
    assert kinds(verify([], [head])) == [(1, ProblemKind.TRUNCATED)]


def test_a_rebuilt_chain_shows_against_an_anchor():
    entries = chain(10)
    head = entries[-1].head
    forged = entries[:5]
    for entry in entries[6:]:  # entry 6 dropped, the rest renumbered and re-hashed consistently
        forged.append(new_entry(forged[-1].head, entry.at_us, entry.actor, entry.action, detail=entry.detail))
    assert len(forged) == 9 and verify(forged) == []
    assert kinds(verify(forged, [head])) == [(10, ProblemKind.TRUNCATED)]
    forged.append(new_entry(forged[-1].head, T0 + 99, "mallory", AuditAction.LOGIN))
    assert kinds(verify(forged, [head])) == [(10, ProblemKind.REWRITTEN)]


def test_new_entries_refuse_what_the_log_could_not_keep_exactly():
    with pytest.raises(InvalidRequest, match="not one of"):
        new_entry(None, T0, "alice", "sneak_peek")
    with pytest.raises(InvalidRequest, match="actor"):
        new_entry(None, T0, " ", AuditAction.LOGIN)
    with pytest.raises(InvalidRequest, match="ends before it starts"):
        new_entry(None, T0, "alice", AuditAction.PLAYBACK, range_start_us=T0, range_end_us=T0 - 1)
    with pytest.raises(InvalidRequest, match="serialised"):
        new_entry(None, T0, "alice", AuditAction.EXPORT, detail={"x": float("nan")})
    with pytest.raises(InvalidRequest, match="serialised"):
        new_entry(None, T0, "alice", AuditAction.EXPORT, detail={"x": object()})
    entry = new_entry(None, T0, "alice", "export", detail={"ids": (1, 2), 3: "three"})
    assert entry.action == AuditAction.EXPORT and entry.detail == {"ids": [1, 2], "3": "three"}, "as read back"


def test_heads_print_and_parse():
    head = AuditHead(12, "ab" * 32)
    assert parse_head(str(head)) == head and parse_head(f" 12:{'AB' * 32}\n") == head
    for bad in ("12", "0:" + "ab" * 32, "x:" + "ab" * 32, "12:abc", "12:" + "zz" * 32):
        with pytest.raises(ValueError, match="not a head"):
            parse_head(bad)


def test_a_reason_is_required_only_where_the_site_asks_for_one():
    required = {"playback", "export"}
    assert require_reason(AuditAction.PLAYBACK, "  case 7 ", required) == "case 7"
    assert require_reason(AuditAction.LIVE_START, "", required) == ""
    with pytest.raises(InvalidRequest, match="reason is required for export"):
        require_reason(AuditAction.EXPORT, "   ", required)

"""The pure parts of evidence packages: why footage is missing, how sources link into the hash chain, what a
request must say."""

import pytest

from vigil.domain.errors import InvalidRequest
from vigil.domain.evidence import EvidenceRequest, chain_links, check_request, custody_entry, stamp
from vigil.domain.evidence_gaps import Unusable, explain_gaps
from vigil.domain.records import LedgerEntry
from vigil.domain.segment import Gap, GapCause, Segment
from vigil.domain.timeline import Span

T0 = 1_764_000_000_000_000
S = 1_000_000


def segment(i, start_s, end_s, sha, prev):
    return Segment(
        i, "gate", "main", f"gate/{i}.mp4", T0 + start_s * S, T0 + end_s * S, 100, sha, prev, "h264", 1, 1, 25, False
    )


def deleted(i, start_s, end_s):
    return LedgerEntry(
        i,
        T0 + 99 * S,
        i,
        "gate",
        "main",
        f"gate/{i}.mp4",
        T0 + start_s * S,
        T0 + end_s * S,
        100,
        f"sha{i}",
        "max_age",
        "retention",
        "older than the camera's maximum age",
        None,
        f"entry{i}",
    )


def test_every_hole_is_explained_by_unusable_segments_then_the_ledger_then_recorded_gaps():
    spans = [Span(T0, T0 + 2 * S, 1), Span(T0 + 10 * S, T0 + 12 * S, 1)]
    recorded = [Gap("gate", "main", T0 + 6 * S, T0 + 9 * S, GapCause.TIMEOUT, "no packets for 3 s")]
    ledger = [deleted(3, 2, 3), deleted(4, 3, 4)]
    gone = [Unusable(segment(5, 4, 5, "s5", "sha4"), "missing_file", "its file is gone")]
    gaps = explain_gaps("gate", "main", spans, T0 - S, T0 + 14 * S, recorded, ledger, gone)
    got = [((g.start_us - T0) // S, (g.end_us - T0) // S, g.cause, len(g.segments)) for g in gaps]
    assert got == [
        (-1, 0, "unknown", 0),  # before the first segment: nothing on record
        (2, 4, "deleted", 2),  # two deleted segments in a row: one gap naming both
        (4, 5, "missing_file", 1),
        (5, 10, "timeout", 0),  # the recorded gap overlapping most
        (12, 14, "unknown", 0),
    ]
    assert gaps[1].segments[0]["rule"] == "max_age" and gaps[1].segments[1]["ledger_entry_sha256"] == "entry4"
    assert gaps[1].entry()["start"] == "2025-11-24T16:00:02.000000Z" and gaps[1].entry()["duration_us"] == 2 * S
    assert gaps[3].detail == "no packets for 3 s"


def test_no_holes_no_gaps():
    assert explain_gaps("gate", "main", [Span(T0, T0 + 5 * S, 2)], T0 + S, T0 + 4 * S, [], [deleted(1, 7, 8)]) == []


def test_sources_link_into_the_chain():
    first = segment(1, 0, 2, "a", None)
    second = segment(2, 2, 4, "b", "a")
    after_deletion = segment(4, 6, 8, "d", "c")
    stranger = segment(5, 8, 10, "e", "zzz")
    links = chain_links([first, second, after_deletion, stranger], ledgered={"c"})
    assert links == ["start_of_stream", "previous_source", "deleted_segment", "outside_package"]


def test_a_request_needs_cameras_a_range_a_reason_and_a_recipient():
    good = EvidenceRequest(("gate", " gate", "door"), T0, T0 + 60 * S, " case 7 ", "PC Smith", "alice")
    checked = check_request(good, 6 * 3600 * S)
    assert checked.camera_ids == ("gate", "door") and checked.reason == "case 7"
    for bad, words in [
        (EvidenceRequest((), T0, T0 + S, "r", "p", "a"), "camera"),
        (EvidenceRequest(("gate",), T0, T0, "r", "p", "a"), "after its start"),
        (EvidenceRequest(("gate",), T0, T0 + 7 * 3600 * S, "r", "p", "a"), "longer"),
        (EvidenceRequest(("gate",), T0, T0 + S, "  ", "p", "a"), "reason"),
        (EvidenceRequest(("gate",), T0, T0 + S, "r", "", "a"), "recipient"),
        (EvidenceRequest(("gate",), T0, T0 + S, "r", "p", "a", records={"events": {}}), "records"),
        (EvidenceRequest(("gate",), T0, T0 + S, "r", "p", "a", records={"../x": {}}), "records"),
    ]:
        with pytest.raises(InvalidRequest, match=words):
            check_request(bad, 6 * 3600 * S)


def test_custody_entries_name_both_people_and_times_are_exact():
    entry = custody_entry(2, "ev-1", "handed_over", T0 + 123_456, "alice", "bob", " at the desk ", "ab" * 32, "cd")
    assert entry["at"] == "2025-11-24T16:00:00.123456Z" and entry["note"] == "at the desk"
    with pytest.raises(InvalidRequest, match="named"):
        custody_entry(2, "ev-1", "handed_over", T0, "alice", " ", "", "ab", "cd")
    assert stamp(T0 + 123_456) == "20251124T160000Z"

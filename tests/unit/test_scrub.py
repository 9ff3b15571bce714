"""The scrub on a real SQLite catalog, real files and two folder tiers, with a fake clock: nothing is read before it is
due; a copy damaged on its tier is found, marked, healed from the hot file (or from the other tier when the footage
has left the hot disk) and read back whole; a damaged hot file is put back from a verified copy; a copy with no good
source stays damaged with its fault open and is tried again later; a reader that meets a damaged copy raises the
same fault and the next look heals it; each damaged object is one fault event, ended when healed or deleted."""

from __future__ import annotations

from pathlib import Path

from support.tier_site import DAY, T0, S, Site
from vigil.domain.tiers import CopyState
from vigil.usecases.scrub import RETRY_US
from vigil.usecases.tier_status import tier_states

COPY = {"copies": [{"cameras": ["gate"], "tier": "nas"}]}
BOTH = {"copies": [{"cameras": ["gate"], "tier": "nas"}, {"cameras": ["gate"], "tier": "usb"}]}
LIFE = {"lifecycle": [{"hot_days": 1, "tier": "nas"}], "copies": [{"cameras": ["gate"], "tier": "usb"}]}


def spoil(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))


def storage_faults(site: Site, open_only: bool = False):
    found = site.catalog.open_events(["fault"]) if open_only else site.catalog.events(types=["fault"])
    return [e for e in found if e.data.get("fault") == "storage"]


def test_nothing_is_read_before_it_is_due_then_everything_once(tmp_path: Path) -> None:
    site = Site(tmp_path, COPY)
    seg, _ = site.segment("gate", 0)
    site.clock.now = T0 + 20 * S
    site.mover.tick()
    site.clock.now = T0 + 29 * DAY
    assert site.scrub.tick().bytes_read == 0, "the copy was verified on upload, the file hashed as written"
    site.clock.now = T0 + 31 * DAY
    report = site.scrub.tick()
    assert (report.hot_checked, report.copies_checked, report.bytes_read) == (1, 1, 2 * seg.size_bytes)
    assert not report.damaged and not storage_faults(site)
    assert site.scrub.tick().bytes_read == 0, "read once, not again until every_days later"
    site.clock.now += 5 * DAY
    states = {t.name: t for t in tier_states(site.config, site.copies, site.tiers, site.clock.now, "hot disk", {})}
    assert abs(states["nas"].unchecked_days - 5) < 0.01 and abs(states["hot"].unchecked_days - 5) < 0.01
    site.catalog.close()


def test_a_damaged_copy_is_healed_from_the_hot_file_with_one_fault_event(tmp_path: Path) -> None:
    site = Site(tmp_path, COPY)
    seg, data = site.segment("gate", 0)
    site.clock.now = T0 + 20 * S
    site.mover.tick()
    spoil(site.tiers["nas"].root / seg.path)
    site.clock.now = T0 + 31 * DAY
    report = site.scrub.tick()
    assert report.damaged == [f"nas:{seg.path}"] and report.healed == [f"nas:{seg.path}"]
    assert (site.tiers["nas"].root / seg.path).read_bytes() == data, "written again, whole"
    [copy] = site.copies.copies(seg.id)
    assert copy.state is CopyState.VERIFIED and copy.checked_us == site.clock.now
    [fault] = storage_faults(site)
    assert fault.end_us is not None and "written again from the hot disk" in (fault.description or "")
    assert fault.data["tier"] == "nas" and fault.data["segment_id"] == seg.id and fault.data["camera"] == "gate"
    site.catalog.close()


def test_a_damaged_hot_file_is_put_back_from_a_verified_copy(tmp_path: Path) -> None:
    site = Site(tmp_path, COPY)
    seg, data = site.segment("gate", 0)
    site.clock.now = T0 + 20 * S
    site.mover.tick()
    spoil(site.hot.absolute(seg.path))
    site.clock.now = T0 + 31 * DAY
    report = site.scrub.tick()
    assert report.damaged == [f"hot:{seg.path}"] and report.healed == [f"hot:{seg.path}"]
    assert site.hot.absolute(seg.path).read_bytes() == data
    [fault] = storage_faults(site)
    assert "the hot disk" in fault.description and "put back from tier 'nas'" in (fault.description or "")
    site.catalog.close()


def test_archived_footage_damaged_on_one_tier_is_healed_from_the_other(tmp_path: Path) -> None:
    site = Site(tmp_path, LIFE)
    seg, data = site.segment("gate", 0)
    site.clock.now = T0 + 2 * DAY
    site.mover.tick()
    assert site.seg(seg.id).hot is False and {c.tier for c in site.copies.copies(seg.id)} == {"nas", "usb"}
    (site.tiers["nas"].root / seg.path).unlink()  # lost on the NAS
    site.clock.now = T0 + 40 * DAY
    report = site.scrub.tick()
    assert f"nas:{seg.path}" in report.healed and (site.tiers["nas"].root / seg.path).read_bytes() == data
    assert "missing" in storage_faults(site)[0].description
    site.catalog.close()


def test_a_copy_without_a_good_source_stays_damaged_and_is_tried_again_later(tmp_path: Path) -> None:
    site = Site(tmp_path, COPY)
    seg, _ = site.segment("gate", 0)
    site.clock.now = T0 + 20 * S
    site.mover.tick()
    spoil(site.tiers["nas"].root / seg.path)
    spoil(site.hot.absolute(seg.path))  # both bad: nothing to heal from
    site.clock.now = T0 + 31 * DAY
    report = site.scrub.tick()
    assert report.damaged[0] == f"hot:{seg.path}" and not report.healed
    # (the copy was found damaged while it was fetched to heal the hot file: a fault of its own)
    assert sorted(e.data["tier"] for e in storage_faults(site, open_only=True)) == ["hot", "nas"]
    assert site.copies.copies(seg.id)[0].state is CopyState.DAMAGED
    states = {t.name: t for t in tier_states(site.config, site.copies, site.tiers, site.clock.now, "hot disk", {})}
    assert (states["nas"].damaged, states["usb"].damaged) == (1, 0), "vigil status shows what the scrub found"
    assert states["hot"].unchecked_days == 0 and states["nas"].unchecked_days == 0, "all read back just now"
    site.clock.now += 60 * S
    assert site.scrub.tick().bytes_read == 0, "not read again at once"
    site.clock.now += RETRY_US
    again = site.scrub.tick()
    assert again.copies_checked == 1 and not again.healed and len(storage_faults(site)) == 2, "still one event each"
    assert site.catalog.mark_deleting(seg.id)  # past its days: retention deletes it from every tier
    site.catalog.remove_segment(seg, site.clock.now, "max_age", "retention", "past its days", site.files.erase(seg))
    site.scrub.tick()
    assert not storage_faults(site, open_only=True), "deleted footage is no fault any more"
    site.catalog.close()


def test_a_reader_meeting_a_damaged_copy_raises_the_fault_and_the_next_look_heals_it(tmp_path: Path) -> None:
    site = Site(tmp_path, LIFE)
    seg, data = site.segment("gate", 0)
    site.clock.now = T0 + 2 * DAY
    site.mover.tick()
    first = site.copies.copies(seg.id)[0].tier  # the tier a reader tries first
    spoil(site.tiers[first].root / seg.path)
    assert site.files.local(site.seg(seg.id)).read_bytes() == data, "served from the other tier"
    [fault] = storage_faults(site, open_only=True)
    assert fault.data["tier"] == first
    report = site.scrub.tick()
    assert report.healed == [f"{first}:{seg.path}"] and not storage_faults(site, open_only=True)
    assert (site.tiers[first].root / seg.path).read_bytes() == data
    site.catalog.close()

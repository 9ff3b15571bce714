"""The mover and the tiered reader on a real SQLite catalog, real files and two folder tiers, with a fake clock:
footage leaves the hot disk only after its lifecycle rule's days and a verified copy, and is read back from the tier
(the bytes checked); copy rules copy at once and the lag shows; a damaged copy is never served (the next tier is);
a node stopped between copy and release loses nothing and keeps nothing twice; a tier that fails releases nothing;
event footage and continuous footage follow their own rules; bad tier settings are refused with their path."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from support.tier_site import DAY, T0, S, Site
from vigil.config.loader import parse_config
from vigil.config.tiers import MoverConfig
from vigil.domain.errors import ConfigError, StorageError
from vigil.domain.records import ledger_entry_hash
from vigil.domain.tiers import CopyState
from vigil.storage.local_tier import LocalTier
from vigil.usecases.integrity import run_check
from vigil.usecases.retention import RetentionSweeper
from vigil.wiring import probe_facts

LIFE = {"lifecycle": [{"hot_days": 2, "tier": "nas", "tier_days": 60}], "min_retention_days": 30}


@pytest.fixture
def site(tmp_path: Path):
    s = Site(tmp_path, LIFE)
    yield s
    s.catalog.close()


def test_footage_leaves_the_hot_disk_after_its_days_with_a_verified_copy_and_reads_back(site: Site) -> None:
    old, data = site.segment("gate", 0)
    young, _ = site.segment("yard", 1.5 * 86_400)
    site.clock.now = T0 + 2 * DAY + 20 * S
    report = site.mover.tick()
    assert (report.copied, report.released) == (1, 1) and not report.failed
    moved = site.seg(old.id)
    assert moved.hot is False and not site.hot.absolute(old.path).exists()
    [copy] = site.copies.copies(old.id)
    assert (copy.tier, copy.state, copy.size_bytes) == ("nas", CopyState.VERIFIED, 4096)
    assert (site.tiers["nas"].root / old.path).read_bytes() == data
    assert site.seg(young.id).hot is True and site.copies.copies(young.id) == []
    path = site.files.local(moved)
    assert path.read_bytes() == data and path != site.hot.absolute(old.path)
    assert site.files.local(moved) == path and site.files.fetches == 1, "read again from the cache"
    usage = site.copies.usage()
    assert usage["hot"][:2] == (1, 4096) and usage["nas"][:2] == (1, 4096)


def test_copy_rules_copy_at_once_and_the_lag_shows(tmp_path: Path) -> None:
    site = Site(tmp_path, {"copies": [{"cameras": ["gate"], "tier": "usb"}]})
    first, _ = site.segment("gate", 0)
    site.segment("yard", 0)
    site.clock.now = T0 + 40 * S
    assert site.copies.lag_us("usb", ["gate"], site.clock.now) == 30 * S
    report = site.mover.tick()
    assert report.copied == 1 and report.released == 0, "copied, never released by a copy rule"
    assert site.seg(first.id).hot is True and site.copies.copies(first.id)[0].tier == "usb"
    assert site.copies.lag_us("usb", ["gate"], site.clock.now) == 0
    site.catalog.close()


def test_a_damaged_copy_is_never_served_and_the_next_tier_is(tmp_path: Path) -> None:
    site = Site(tmp_path, {"copies": [{"cameras": ["gate"], "tier": "usb"}], **LIFE})
    seg, data = site.segment("gate", 0)
    site.clock.now = T0 + 3 * DAY
    site.mover.tick()
    assert {c.tier for c in site.copies.copies(seg.id)} == {"nas", "usb"} and site.seg(seg.id).hot is False
    first, second = (c.tier for c in site.copies.copies(seg.id))  # the reader tries them in this order
    (site.tiers[first].root / seg.path).write_bytes(b"\x00" * 10 + data[10:])  # a bit rot on the first tier
    assert site.files.local(site.seg(seg.id)).read_bytes() == data, "read from the second tier instead"
    states = {c.tier: c.state for c in site.copies.copies(seg.id)}
    assert states == {first: CopyState.DAMAGED, second: CopyState.VERIFIED}
    (site.files.cache / seg.path).unlink()
    (site.tiers[second].root / seg.path).unlink()
    with pytest.raises(StorageError, match="cannot be read"):
        site.files.local(site.seg(seg.id))
    site.catalog.close()


def test_stopped_between_copy_and_release_loses_nothing_and_keeps_nothing_twice(site: Site) -> None:
    seg, _data = site.segment("gate", 0)
    site.clock.now = T0 + 3 * DAY
    started = site.copies.start(seg.id, "nas", seg.path, site.clock.now)  # killed during the upload
    assert started.state is CopyState.COPYING and site.seg(seg.id).hot is True
    site.mover.tick()
    [copy] = site.copies.copies(seg.id)
    assert copy.state is CopyState.VERIFIED and copy.id == started.id, "done again, one row"
    # a released segment whose hot file survived (killed between the catalog and the unlink)
    other, _ = site.segment("yard", 0)
    site.mover.copy(other, "nas")
    assert site.copies.release(other.id)
    assert site.hot.absolute(other.path).exists()
    assert site.mover.settle() == 1 and not site.hot.absolute(other.path).exists()
    assert len(site.catalog.segments("yard", "main")) == 1


def test_a_tier_that_fails_releases_nothing(site: Site) -> None:
    seg, data = site.segment("gate", 0)
    site.clock.now = T0 + 3 * DAY
    site.tiers["nas"].root.rename(site.tiers["nas"].root.with_name("gone"))  # the NAS is unmounted
    report = site.mover.tick()
    assert "nas" in report.failed and report.released == 0
    assert site.seg(seg.id).hot is True and site.hot.absolute(seg.path).read_bytes() == data


def test_event_footage_and_continuous_footage_follow_their_own_rules(tmp_path: Path) -> None:
    rules = [
        {"footage": "events", "hot_days": 10, "tier": "usb"},
        {"footage": "continuous", "hot_days": 1, "tier": "nas"},
    ]
    site = Site(tmp_path, {"lifecycle": rules})
    quiet, _ = site.segment("gate", 0)
    busy, _ = site.segment("gate", 100)
    site.catalog.add_event("zone_enter", T0 + 105 * S, "someone", camera_id="gate", end_us=T0 + 106 * S)
    site.clock.now = T0 + 2 * DAY
    site.mover.tick()
    assert site.seg(quiet.id).hot is False and site.copies.copies(quiet.id)[0].tier == "nas"
    assert site.seg(busy.id).hot is True and site.copies.copies(busy.id) == []
    site.clock.now = T0 + 11 * DAY
    site.mover.tick()
    assert site.seg(busy.id).hot is False and site.copies.copies(busy.id)[0].tier == "usb"
    site.catalog.close()


@pytest.mark.parametrize(
    ("storage", "path", "words"),
    [
        ({"lifecycle": [{"hot_days": 1, "tier": "tape"}]}, "storage.lifecycle[0].tier", "no tier named 'tape'"),
        ({"copies": [{"cameras": ["gate"], "tier": "tape"}]}, "storage.copies[0].tier", "no tier named 'tape'"),
        ({"tiers": [{"name": "hot", "kind": "local", "path": "/x"}]}, "storage.tiers[0].name", "is the local disk"),
        (
            {"min_retention_days": 30, "lifecycle": [{"hot_days": 5, "tier": "nas", "tier_days": 10}]},
            "storage.lifecycle",
            "less than its legal minimum of 30 days",
        ),
        ({"tiers": [{"name": "s3", "kind": "s3", "endpoint": "ftp://x", "bucket": "b1b"}]}, "storage.tiers[0]", ""),
        ({"lifecycle": [{"hot_days": "soon", "tier": "nas"}]}, "storage.lifecycle[0].hot_days", ""),
    ],
)
def test_bad_tier_settings_name_their_path(storage: dict, path: str, words: str) -> None:
    doc = {"storage": {"tiers": [{"name": "nas", "kind": "local", "path": "/mnt/nas"}], **storage}}
    with pytest.raises(ConfigError) as err:
        parse_config(doc, "vigil.yaml")
    assert path in str(err.value) and words in str(err.value), str(err.value)


def test_a_full_hot_disk_releases_copied_footage_before_deleting_any(tmp_path: Path) -> None:
    storage = {"copies": [{"cameras": ["gate"], "tier": "usb"}], "max_bytes": 3 * 4096 + 1000, "reserve_free": 0}
    site = Site(tmp_path, {**storage, "max_percent": None, "min_retention_days": 0, "sweep_interval_s": 0.01})
    # room kept for the next writes: 819 B/s measured x (2 x 0.01 s + 1 s of segment) < the 1000 B of slack
    site.config = site.config.model_copy(
        update={"recording": site.config.recording.model_copy(update={"segment_duration_s": 1})}
    )
    gate = [site.segment("gate", i * 10)[0] for i in range(3)]
    yard = [site.segment("yard", i * 10)[0] for i in range(2)]
    site.clock.now = T0 + 60 * S
    site.mover.tick()
    result = RetentionSweeper(site.config, site.catalog, site.files, site.clock, copies=site.copies).sweep()
    assert result.deleted == 0 and result.released == 2, "two copied segments make the room; nothing is lost"
    assert [site.seg(s.id).hot for s in gate] == [False, False, True], "the oldest copied ones went first"
    assert all(site.seg(s.id).hot for s in yard)
    assert site.catalog.total_bytes() == 3 * 4096, "the hot budget counts hot footage only"
    assert site.files.local(site.seg(gate[0].id)).is_file(), "still readable, from its tier"


def test_footage_past_its_lifecycle_rule_is_destroyed_on_every_tier_and_ledgered(site: Site) -> None:
    seg, _ = site.segment("gate", 0)
    site.clock.now = T0 + 3 * DAY
    site.mover.tick()
    assert site.seg(seg.id).hot is False
    site.clock.now = T0 + 62 * DAY + 20 * S
    sweeper = RetentionSweeper(site.config, site.catalog, site.files, site.clock, copies=site.copies)
    assert sweeper.sweep().deleted == 1
    assert site.seg(seg.id) is None and not (site.tiers["nas"].root / seg.path).exists()
    [entry] = site.catalog.ledger()
    assert (entry.rule, entry.tiers) == ("lifecycle", "nas")
    assert entry.entry_sha256 == ledger_entry_hash(entry.prev_entry_sha256, entry.fields()), "the tiers are hashed"
    assert entry.fields()["tiers"] == "nas"


def test_a_lost_hot_disk_is_repaired_from_the_copies(tmp_path: Path) -> None:
    site = Site(tmp_path, {"copies": [{"cameras": ["gate"], "tier": "usb"}]})
    copied, data = site.segment("gate", 0)
    lost, _ = site.segment("yard", 0)
    site.clock.now = T0 + 60 * S
    site.mover.tick()
    shutil.rmtree(tmp_path / "recordings")  # the hot disk dies
    (tmp_path / "recordings").mkdir()
    assert site.files.local(site.seg(copied.id)).read_bytes() == data, "readers fall back to the copy at once"
    report = run_check(site.catalog, site.files, site.clock, probe_facts, repair=True, copies=site.copies)
    found = {f.path: f for f in report.findings}
    assert found[copied.path].repaired and "released" in found[copied.path].detail
    assert site.seg(copied.id).hot is False and site.seg(lost.id) is None
    assert [e.path for e in site.catalog.ledger()] == [lost.path], "the uncopied loss stays on record"
    assert run_check(site.catalog, site.files, site.clock, probe_facts, copies=site.copies).ok


class FlakyTier(LocalTier):
    """A folder tier that refuses the uploads of chosen keys (and records how many ran at once)."""

    def __init__(self, name: str, root: Path, refuse: set[str]) -> None:
        super().__init__(name, root)
        self.refuse, self.running, self.most = refuse, 0, 0
        self._lock = threading.Lock()

    def put(self, key: str, source: Path, *, locked_until_us: int | None = None) -> None:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)
            if key in self.refuse:
                raise StorageError(f"tier {self.name!r}: {key} refused")
            super().put(key, source, locked_until_us=locked_until_us)
        finally:
            with self._lock:
                self.running -= 1


def test_uploads_run_side_by_side_and_a_refused_one_stops_the_look_without_losing_the_others(site: Site) -> None:
    site.config = site.config.model_copy(
        update={"storage": site.config.storage.model_copy(update={"mover": MoverConfig(parallel=4)})}
    )
    made = [site.segment("gate", i * 10) for i in range(10)]
    flaky = FlakyTier("nas", site.tiers["nas"].root, {made[2][0].path})
    site.tiers["nas"] = site.files.tiers["nas"] = site.mover.tiers["nas"] = flaky
    site.clock.now = T0 + 3 * DAY
    report = site.mover.tick()
    assert flaky.most >= 2, "uploads ran side by side"
    assert "refused" in report.failed["nas"] and report.copied == 3, "the rest of the first window was copied"
    hot = {seg.id for seg, _ in made if site.seg(seg.id).hot}
    assert made[2][0].id in hot and len(hot) == 7
    for seg, data in made:
        if seg.id not in hot:
            assert site.files.local(site.seg(seg.id)).read_bytes() == data
    flaky.refuse.clear()
    report = site.mover.tick()
    assert report.copied == 7 and not report.failed and not any(site.seg(s.id).hot for s, _ in made)
    assert all(len(site.copies.copies(s.id)) == 1 for s, _ in made), "each copied once"
    site.mover.stop()

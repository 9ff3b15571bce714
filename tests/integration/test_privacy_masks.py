"""Privacy masks burned into every picture a person without ``view_unmasked`` receives, on a real node's API over
real recorded segments (real files, real PyAV, real SQLite): clips, playback streams, event snapshots, the camera's
picture, evidence packages and the live WebSocket. A person with the permission gets the copied footage."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from support.footage import T0, S, SteppingClock, record_camera
from support.node import TEST_PASSWORD, logged_in, node_config
from support.privacy import MASK, decoded, decoded_bytes, is_masked, jpeg_picture, outside_untouched, shows_footage
from vigil.config.loader import parse_config
from vigil.domain.access import Action, Grant
from vigil.domain.segment import Segment
from vigil.durable_files import sha256_file
from vigil.media.still import keyframe_jpeg
from vigil.media.synthetic import make_synthetic_clip
from vigil.runtime import Vigil
from vigil.verify_package import verify


@dataclass
class Site:
    node: Vigil
    segments: list[Segment]
    event_id: int
    work: Path

    def client(self, username: str, grants: list[Grant]) -> TestClient:
        accounts = self.node.accounts
        accounts.add_user(username, "operator", TEST_PASSWORD, must_change=False)
        accounts.set_grants(username, grants)
        return logged_in(self.node.app(), accounts, username, "operator")

    def audited(self, actor: str, action: str) -> list[dict[str, Any]]:
        return [e.detail for e in self.node.audit.entries(action=action, limit=100) if e.actor == actor]


@pytest.fixture(scope="module")
def camera_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_clip(tmp_path_factory.mktemp("clip") / "gate.mp4", duration_s=6)


@pytest.fixture
def site(tmp_path: Path, camera_clip: Path) -> Iterator[Site]:
    _, path = node_config(tmp_path, {"gate": f"file://{camera_clip}"})
    doc = yaml.safe_load(path.read_text())
    doc["cameras"][0]["privacy_masks"] = [MASK]
    path.write_text(yaml.safe_dump(doc))
    config = parse_config(doc, str(path))
    node = Vigil(config, tmp_path, clock=SteppingClock(T0 + 60 * S))  # never started: its API over the catalog
    segments = record_camera(node.catalog, node.store, camera_clip, tmp_path, "gate", T0)
    shot = node.paths.snapshots / "gate" / "e1.jpg"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(keyframe_jpeg(f"file://{node.store.absolute(segments[0].path)}", "segment"))
    data = {"snapshot": "gate/e1.jpg", "snapshot_sha256": sha256_file(shot)}
    event_id = node.catalog.add_event("motion", T0 + S, "Motion", camera_id="gate", data=data)
    yield Site(node, segments, event_id, tmp_path)
    node.catalog.close()


MASKED = [Grant(camera_id="gate")]
UNMASKED = [Grant(camera_id="gate", actions=frozenset({Action.VIEW_UNMASKED}))]
RANGE = f"start={T0 + S // 2}&end={T0 + 5 * S}"


def test_clips_are_masked_for_an_operator_and_copied_for_one_who_may_view_unmasked(site: Site) -> None:
    olga, ursula = site.client("olga", MASKED), site.client("ursula", UNMASKED)
    masked = olga.get(f"/api/v1/cameras/gate/clip.mp4?{RANGE}")
    plain = ursula.get(f"/api/v1/cameras/gate/clip.mp4?{RANGE}")
    assert masked.status_code == plain.status_code == 200
    masked_frames = decoded_bytes(masked.content, site.work, "masked.mp4")
    plain_frames = decoded_bytes(plain.content, site.work, "plain.mp4")
    assert len(masked_frames) == len(plain_frames) > 50, "the same frames, one re-encoded"
    assert all(is_masked(f) and outside_untouched(f) for f in masked_frames)
    assert all(shows_footage(f) for f in plain_frames)
    assert masked.headers["x-clip-start-us"] == plain.headers["x-clip-start-us"]
    assert olga.get(f"/api/v1/cameras/gate/clip.mp4?{RANGE}").content == masked.content, "cached per mask version"
    assert site.audited("olga", "playback")[0]["masked"] is True
    assert site.audited("ursula", "playback")[0]["masked"] is False


def test_playback_streams_are_re_encoded_with_the_masks_for_an_operator(site: Site) -> None:
    olga, ursula = site.client("olga", MASKED), site.client("ursula", UNMASKED)
    masked = olga.get(f"/api/v1/cameras/gate/playback.mp4?start={T0 + 2 * S}&end={T0 + 5 * S}")
    plain = ursula.get(f"/api/v1/cameras/gate/playback.mp4?start={T0 + 2 * S}&end={T0 + 5 * S}")
    assert masked.status_code == plain.status_code == 200
    assert masked.headers["x-codec"].startswith('video/mp4; codecs="avc1.')
    assert masked.headers["x-stream-start-us"] == plain.headers["x-stream-start-us"] == str(T0 + 2 * S)
    masked_frames = decoded_bytes(masked.content, site.work, "masked.mp4")
    assert len(masked_frames) >= 70 and all(is_masked(f) and outside_untouched(f) for f in masked_frames)
    assert all(shows_footage(f) for f in decoded_bytes(plain.content, site.work, "plain.mp4"))
    assert site.audited("olga", "playback")[0] == {"stream": "main", "what": "stream", "masked": True}


def test_snapshots_and_the_camera_picture_are_masked_for_an_operator(site: Site) -> None:
    olga, ursula = site.client("olga", MASKED), site.client("ursula", UNMASKED)
    shot = olga.get(f"/api/v1/events/{site.event_id}/snapshot.jpg")
    assert shot.status_code == 200 and shot.headers["x-privacy-masked"] == "true"
    assert "x-snapshot-sha256" not in shot.headers, "not the recorded picture: its hash would not match"
    assert is_masked(jpeg_picture(shot.content)) and outside_untouched(jpeg_picture(shot.content))
    original = ursula.get(f"/api/v1/events/{site.event_id}/snapshot.jpg")
    assert shows_footage(jpeg_picture(original.content))
    assert original.content == (site.node.paths.snapshots / "gate" / "e1.jpg").read_bytes()
    picture = olga.get("/api/v1/cameras/gate/picture.jpg")
    assert picture.status_code == 200 and is_masked(jpeg_picture(picture.content))
    assert shows_footage(jpeg_picture(ursula.get("/api/v1/cameras/gate/picture.jpg").content))
    masked_views = site.audited("olga", "snapshot_view")
    assert sorted(d["masked"] for d in masked_views) == [True, True]
    assert all(d["masked"] is False for d in site.audited("ursula", "snapshot_view"))


def test_evidence_is_masked_unless_the_exporter_may_view_unmasked_and_asks_for_the_original(site: Site) -> None:
    olga, ursula = site.client("olga", MASKED), site.client("ursula", UNMASKED)
    body = {"cameras": ["gate"], "start": T0 + S, "end": T0 + 5 * S, "reason": "case 7", "recipient": "PC Smith"}
    refused = olga.post("/api/v1/evidence", json={**body, "unmasked": True})
    assert refused.status_code == 403, "the original pictures need view_unmasked"
    unknown = olga.post("/api/v1/evidence", json={**body, "redact": ["faces", "eyes"]})
    assert unknown.status_code == 400 and "unknown kind 'eyes'" in unknown.json()["error"]["message"]
    masked = olga.post("/api/v1/evidence", json=body)
    original = ursula.post("/api/v1/evidence", json={**body, "unmasked": True})
    assert masked.status_code == original.status_code == 201, masked.text + original.text
    assert masked.json()["masks_applied"] is True and original.json()["masks_applied"] is False
    for made, want_masked in ((masked.json(), True), (original.json(), False)):
        path = Path(site.node.paths.evidence / f"{made['id']}.zip")
        assert verify(path, made["key_fingerprint"]).ok
        out = site.work / made["id"]
        with zipfile.ZipFile(path) as zf:
            zf.extractall(out)
        manifest = json.loads((out / "manifest.json").read_text())
        privacy = manifest["privacy"]["cameras"]["gate"]
        assert privacy["masks_applied"] is want_masked
        assert privacy["masks"] == ([MASK] if want_masked else [])
        frames = [f for clip in manifest["clips"] for f in decoded(out / clip["path"])]
        assert frames and all((is_masked(f) if want_masked else shows_footage(f)) for f in frames)
        shot = jpeg_picture((out / "snapshots" / "gate" / f"event-{site.event_id}.jpg").read_bytes())
        assert is_masked(shot) if want_masked else shows_footage(shot)
        events = json.loads((out / "records" / "events.json").read_text())
        assert events[0]["snapshot_masked"] is want_masked and manifest["problems"] == []
    exports = site.audited("olga", "export")
    assert exports and exports[0]["masked"] is True


def read_live(ws: Any, fragments: int) -> tuple[dict[str, Any], bytes]:
    """The init message, and the init segment with ``fragments`` fragments after it."""
    init = json.loads(ws.receive_text())
    assert init["type"] == "init", init
    data = [ws.receive_bytes() for _ in range(fragments + 1)]
    return init, b"".join(data)


def test_the_live_websocket_sends_a_masked_transcode_to_an_operator_and_the_copy_to_others(site: Site) -> None:
    olga, ursula = site.client("olga", MASKED), site.client("ursula", UNMASKED)
    hub = site.node.live
    with olga.websocket_connect("/api/v1/cameras/gate/live") as ws:
        init, data = read_live(ws, 30)
        assert hub.streams(masked=True) == [("gate", "main")] and hub.streams() == []
        assert hub.viewers("gate", "main", masked=True) == 1
    frames = decoded_bytes(data, site.work, "live-masked.mp4")
    assert len(frames) >= 25 and all(is_masked(f) and outside_untouched(f) for f in frames)
    with ursula.websocket_connect("/api/v1/cameras/gate/live") as ws:
        plain_init, data = read_live(ws, 30)
        assert ("gate", "main") in hub.streams()
    assert all(shows_footage(f) for f in decoded_bytes(data, site.work, "live-plain.mp4"))
    assert (plain_init["width"], plain_init["height"]) == (init["width"], init["height"]) == (640, 360)
    starts = site.audited("olga", "live_start")
    assert starts == [{"stream": "main", "masked": True}]
    assert site.audited("ursula", "live_start") == [{"stream": "main", "masked": False}]

"""A node with analysis on: a camera whose picture goes black gets fault events, readable through the API,
with local times in their descriptions; motion events too; recording goes on meanwhile."""

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from support.node import logged_in, node_config, wait_for
from vigil.runtime import Vigil


def test_picture_faults_and_motion_become_events_in_the_catalog_and_the_api(tmp_path, black_tail_clip):
    config, _ = node_config(
        tmp_path,
        {"yard": f"file://{black_tail_clip}"},
        analysis={"enabled": True},
        site={"timezone": "Asia/Shanghai"},
    )
    vigil = Vigil(config, tmp_path)
    vigil.start()
    try:
        faults = wait_for(
            lambda: [e for e in vigil.catalog.events(camera_id="yard", types=["fault"]) if e.end_us is not None],
            timeout=40,
            what="a black fault that ended",
        )
        client = logged_in(vigil.app(), vigil.accounts)
        listed = client.get("/api/v1/events?camera=yard&type=fault").json()["items"]
        assert listed and listed[0]["type"] == "fault"
        assert faults[0].data["fault"] == "black" and "recovered after" in faults[0].description
        shanghai = datetime.fromtimestamp(faults[0].start_us / 1e6, ZoneInfo("Asia/Shanghai")).strftime("%H:%M:%S")
        assert f"from {shanghai}" in faults[0].description, "times in the site's time zone"
        motion = vigil.catalog.events(camera_id="yard", types=["motion"])
        assert motion, "the moving part of the clip is motion"
        detail = client.get(f"/api/v1/events/{faults[0].id}").json()
        assert detail["event"]["id"] == faults[0].id and detail["segments"], "the footage that covers it"
        assert detail["start_us"] == faults[0].start_us - 5_000_000
        first, last = detail["segments"][0], detail["segments"][-1]
        assert first["start_us"] < faults[0].start_us and last["end_us"] > faults[0].end_us - 2_500_000
        clip = client.get(detail["clip_url"])
        assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
        shot = client.get(f"/api/v1/events/{faults[0].id}/snapshot.jpg")
        assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg"
        assert hashlib.sha256(shot.content).hexdigest() == faults[0].data["snapshot_sha256"]
        assert cv2.imdecode(np.frombuffer(shot.content, np.uint8), cv2.IMREAD_COLOR).shape[1] == 640
        moving = next(e for e in motion if e.data.get("regions"))
        assert client.get(f"/api/v1/events/{moving.id}/snapshot.jpg").status_code == 200
        found = client.get("/api/v1/events?camera=yard&q=recovered").json()["items"]
        assert found and all("recovered" in e["description"] for e in found)
        seg = vigil.catalog.segments("yard", "main")
        now = vigil.clock.now_us() + 1
        line = client.get(f"/api/v1/cameras/yard/timeline?start={seg[0].start_us}&end={now}").json()
        on_line = {e["id"] for e in line["events"]}
        assert faults[0].id in on_line and motion[-1].id in on_line, "events appear on the timeline"
        assert [e["start_us"] for e in line["events"]] == sorted(e["start_us"] for e in line["events"])
        missing = client.get("/api/v1/events/999999")
        assert missing.status_code == 404 and "no event with id 999999" in missing.json()["error"]["message"]
        assert vigil.catalog.segments("yard", "main"), "recording went on"
    finally:
        vigil.stop()
    open_events = [
        e for e in vigil.catalog.events(camera_id="yard") if e.type in ("fault", "motion") and e.end_us is None
    ]
    assert open_events == [], "stopping ends what analysis had open"

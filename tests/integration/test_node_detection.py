"""A node with object detection on real footage (PETS09-S2L1 looped at real-time pace): people become object
events and a line crossing becomes a rule event with its boxes drawn on the snapshot. The detector process and
an analysis worker are killed: each gap is recorded as an event that closes when they are back, and recording
goes on throughout."""

from __future__ import annotations

import hashlib
import os
import signal

import cv2
import numpy as np
import pytest

from support.media import SHARED_DATA, requires_shared_data
from support.node import logged_in, node_config, wait_for
from vigil.runtime import Vigil

pytestmark = [requires_shared_data, pytest.mark.shared_data]
PETS = SHARED_DATA / "pets09-s2l1" / "vtest.avi"


def test_people_lines_and_the_gaps_when_the_detector_or_a_worker_dies(tmp_path, synthetic_clip):
    pets = {
        "id": "plaza",
        "name": "Plaza",
        "record": False,
        "streams": {"main": {"url": f"file://{PETS}"}},
        "analysis": {
            "faults": False,
            "lines": [{"name": "Middle", "points": [[0.5, 0.05], [0.5, 0.95]]}],
            "rules": [{"name": "Crossing", "kind": "line_cross", "line": "Middle"}],
        },
    }
    config, _ = node_config(tmp_path, {"door": f"file://{synthetic_clip}"}, analysis={"enabled": True})
    config = config.model_validate({**config.model_dump(), "cameras": [*config.model_dump()["cameras"], pets]})
    vigil = Vigil(config, tmp_path)
    vigil.start()
    try:
        client = logged_in(vigil.app(), vigil.accounts)
        crossings = wait_for(
            lambda: vigil.catalog.events(camera_id="plaza", types=["line_cross"]), timeout=90, what="a crossing"
        )
        cross = crossings[0]
        assert cross.data["rule"] == "Crossing" and "crossed line 'Middle'" in cross.description
        assert cross.data["boxes"] and cross.data["boxes"][0][0] == "person"
        shot = client.get(f"/api/v1/events/{cross.id}/snapshot.jpg")
        assert shot.status_code == 200
        assert hashlib.sha256(shot.content).hexdigest() == cross.data["snapshot_sha256"]
        picture = cv2.imdecode(np.frombuffer(shot.content, np.uint8), cv2.IMREAD_COLOR)
        _, _, x, y, w, _h = cross.data["boxes"][0]
        height, width = picture.shape[:2]
        edge = picture[round(y * height), round(x * width) : round((x + w) * width)]
        green = (edge[:, 1].astype(int) - np.maximum(edge[:, 0], edge[:, 2]).astype(int)) > 80
        assert green.mean() > 0.5, "the person's box is drawn on the snapshot"
        people = vigil.catalog.events(camera_id="plaza", types=["object"])
        labels = [e.data["labels"] for e in people]
        assert labels.count(["person"]) >= 2, labels
        assert cross.zone == "Middle" and cross.labels == ("person",) and cross.score is not None
        by_zone = client.get("/api/v1/events?camera=plaza&zone=Middle").json()["items"]
        assert by_zone and {e["type"] for e in by_zone} == {"line_cross"}
        by_label = client.get("/api/v1/events?camera=plaza&label=person&type=object").json()["items"]
        assert by_label and all(e["labels"] == ["person"] for e in by_label)

        # The detector dies: a gap in detection opens, and closes once the restarted detector is up.
        (detector_pid,) = vigil.detector.pids
        os.kill(detector_pid, signal.SIGKILL)
        gap = wait_for(
            lambda: [e for e in vigil.catalog.events(types=["analysis"]) if e.data.get("key") == "detector:down"],
            what="the detector gap",
        )[0]
        assert gap.camera_id is None and "exit code -9" in gap.description
        closed = wait_for(lambda: (e := vigil.catalog.event(gap.id)) and e.end_us and e, timeout=60, what="back")
        assert "back at" in closed.description
        before = len(vigil.catalog.events(camera_id="plaza", types=["object"]))
        wait_for(lambda: len(vigil.catalog.events(camera_id="plaza", types=["object"])) > before, timeout=60)

        # An analysis worker dies: each of its cameras gets a gap that ends when its stream is analysed again.
        recorded = len(vigil.catalog.segments("door", "main"))
        for pid in vigil.analysers.pids:
            os.kill(pid, signal.SIGKILL)
        gaps = wait_for(
            lambda: [e for e in vigil.catalog.events(types=["analysis"]) if e.data.get("key") == "analysis:down"],
            what="analysis gaps",
        )
        assert {g.camera_id for g in gaps} <= {"door", "plaza"} and gaps
        wait_for(lambda: all((e := vigil.catalog.event(g.id)) and e.end_us for g in gaps), timeout=60)
        wait_for(lambda: len(vigil.catalog.segments("door", "main")) > recorded + 1, what="recording goes on")
    finally:
        vigil.stop()

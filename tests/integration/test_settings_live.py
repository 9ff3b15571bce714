"""Settings changed while a real node records (real worker processes, real files, real SQLite, vigil.yaml on
disk): a camera added through the API starts recording, one changed restarts alone while the others go on
untouched, one removed stops with a gap that says why, and vigil.yaml edited by hand is put in force."""

import shutil

import pytest

from support.node import logged_in, node_config, wait_for
from vigil.config.loader import load_config
from vigil.domain.audit import AuditAction
from vigil.runtime import Vigil
from vigil.storage.config_file import YamlConfigFile


@pytest.fixture
def node(tmp_path, synthetic_clip):
    config, path = node_config(tmp_path, {"door": f"file://{synthetic_clip}", "yard": f"file://{synthetic_clip}"})
    vigil = Vigil(config, tmp_path, config_store=YamlConfigFile(path), config_source=str(path))
    vigil.start()
    yield vigil, path, synthetic_clip
    vigil.stop()


def segments(node, camera):
    return node.catalog.segments(camera, "main")


def pid_of(node, camera):
    for worker in node.supervisor._workers:
        if any(s.camera_id == camera for s in worker.specs) and worker.process is not None:
            return worker.process.pid
    return None


def test_cameras_added_changed_and_removed_take_effect_without_a_restart(node):
    vigil, path, clip = node
    wait_for(lambda: len(segments(vigil, "door")) >= 2 and len(segments(vigil, "yard")) >= 2, what="both recording")
    door_pid = pid_of(vigil, "door")
    client = logged_in(vigil.app(), vigil.accounts)

    # add a camera: it records within seconds, in a worker of its own; door's worker is not touched
    body = {"camera": {"name": "Gate", "location": "North", "streams": {"main": {"url": f"file://{clip}"}}}}
    answer = client.put("/api/v1/settings/cameras/gate", json={**body, "reason": "new camera"})
    assert answer.status_code == 200, answer.text
    wait_for(lambda: len(segments(vigil, "gate")) >= 1, what="the new camera recording")
    assert [c.id for c in load_config(path).cameras] == ["door", "yard", "gate"]
    assert pid_of(vigil, "door") == door_pid

    # change yard's register data only: nothing restarts
    yard = client.get("/api/v1/settings/cameras/yard").json()
    yard["camera"]["device"] = {"model": "DS-2CD2143", "serial": "E1234"}
    assert client.put("/api/v1/settings/cameras/yard", json=yard).status_code == 200
    assert vigil.config.camera("yard").device.serial == "E1234"

    # disable door: its recording stops with a 'disabled' gap; yard and gate go on
    door = client.get("/api/v1/settings/cameras/door").json()
    door["camera"]["enabled"] = False
    assert client.put("/api/v1/settings/cameras/door", json=door).status_code == 200
    gap = wait_for(lambda: vigil.catalog.open_gap_of("door", "main"), what="door's gap")
    assert gap.cause == "disabled" and gap.start_us == segments(vigil, "door")[-1].end_us
    count = len(segments(vigil, "door"))
    yard_before = len(segments(vigil, "yard"))
    wait_for(lambda: len(segments(vigil, "yard")) >= yard_before + 2, what="yard going on")
    assert len(segments(vigil, "door")) == count

    # enable it again: it records again and the gap closes where footage resumes
    door = client.get("/api/v1/settings/cameras/door").json()
    door["camera"]["enabled"] = True
    assert client.put("/api/v1/settings/cameras/door", json=door).status_code == 200
    wait_for(lambda: len(segments(vigil, "door")) > count, what="door recording again")
    closed = wait_for(lambda: vigil.catalog.gaps("door", "main", gap.start_us, gap.start_us + 10**12))
    assert closed[0].end_us == segments(vigil, "door")[count].start_us

    # remove the new camera: its stream stops; the removal is in the file and the audit log
    assert client.delete("/api/v1/settings/cameras/gate?reason=test over").status_code == 204
    wait_for(lambda: vigil.catalog.open_gap_of("gate", "main"), what="gate's gap")
    assert [c.id for c in load_config(path).cameras] == ["door", "yard"]
    entries = vigil.audit.entries(action=AuditAction.CONFIG_CHANGE)
    assert [(e.camera_id, e.detail["change"]) for e in reversed(entries)] == [
        ("gate", "added"),
        ("yard", "changed"),
        ("door", "changed"),
        ("door", "changed"),
        ("gate", "removed"),
    ]
    assert entries[-1].reason == "new camera" and entries[0].reason == "test over"


def test_a_url_change_restarts_only_that_camera(node):
    vigil, path, clip = node
    wait_for(lambda: len(segments(vigil, "door")) >= 2 and len(segments(vigil, "yard")) >= 2, what="recording")
    client = logged_in(vigil.app(), vigil.accounts)
    pid = pid_of(vigil, "yard")
    assert pid == pid_of(vigil, "door")  # one worker records both
    yard = client.get("/api/v1/settings/cameras/yard").json()
    moved = path.parent / "moved.mp4"
    shutil.copyfile(clip, moved)
    yard["camera"]["streams"]["main"]["url"] = f"file://{moved}"
    assert client.put("/api/v1/settings/cameras/yard", json=yard).status_code == 200
    gap = wait_for(lambda: next(iter(vigil.catalog.gaps("yard", "main", 0, 10**18)), None), what="yard's restart gap")
    assert gap.cause == "reconfigured"
    wait_for(lambda: gap.end_us is not None or vigil.catalog.open_gap_of("yard", "main") is None, what="resumed")
    assert not vigil.catalog.gaps("door", "main", segments(vigil, "door")[0].end_us, 10**18), "door went on untouched"
    assert pid_of(vigil, "yard") == pid  # the worker was told, not restarted
    resumed = wait_for(lambda: [s for s in segments(vigil, "yard") if s.start_us >= gap.start_us], what="yard again")
    assert vigil.catalog.gaps("yard", "main", 0, 10**18)[0].end_us == resumed[0].start_us


def test_a_hand_edit_is_put_in_force_and_a_broken_one_is_reported(node):
    vigil, path, _ = node
    client = logged_in(vigil.app(), vigil.accounts)
    path.write_text(path.read_text().replace("name: Door", "name: Front door"))
    wait_for(lambda: vigil.config.camera("door").name == "Front door", timeout=10, what="the hand edit in force")
    assert client.get("/api/v1/cameras/door").json()["name"] == "Front door"
    path.write_text(path.read_text().replace("name: Front door", "nmae: Front door"))
    settings = wait_for(lambda: client.get("/api/v1/settings").json()["problem"], timeout=10, what="a problem")
    assert "cameras[0].nmae: unknown key" in settings
    assert vigil.config.camera("door").name == "Front door"  # the last good configuration stays
    assert vigil.supervisor.pids  # and recording goes on


def test_legal_holds_still_bind_retention_after_a_settings_change(tmp_path, synthetic_clip):
    """The retention sweeper is rebuilt when the settings change; its plan must still skip held footage, so the
    size rule deletes the oldest footage that is not held (rather than failing on the held one and freeing
    nothing)."""
    from support.footage import T0, record_camera

    config, path = node_config(tmp_path, {"door": f"file://{synthetic_clip}"})
    node = Vigil(config, tmp_path, config_store=YamlConfigFile(path), config_source=str(path))
    try:
        segs = record_camera(node.catalog, node.store, synthetic_clip, tmp_path, "door", T0)
        assert len(segs) >= 3
        node.holds.place("door", segs[0].start_us, segs[0].end_us, T0, "ana", "case 17")
        budget = sum(s.size_bytes for s in segs) - 1  # one segment must go
        path.write_text(path.read_text().replace("storage:", f"storage:\n  max_bytes: {budget}\n  reserve_free: 0", 1))
        assert node.settings.reload()
        result = node.sweeper.sweep()
        left = [s.id for s in node.catalog.segments("door", "main")]
        assert left == [segs[0].id, *[s.id for s in segs[2:]]], "the oldest unheld segment went"
        assert result.deleted == 1
    finally:
        node.catalog.close()


def test_notifications_name_a_camera_added_in_the_settings(tmp_path, monkeypatch):
    """Events are routed and worded with the cameras in force: a camera added while running is named in its
    notifications (the receiver is down: the notification waits in the outbox, which is what is read here)."""
    import json

    from support.notify import SECRET, SECRET_ENV, webhook_channel

    monkeypatch.setenv(SECRET_ENV, SECRET)
    channels = [webhook_channel("http://127.0.0.1:9/nobody-listens")]
    config, path = node_config(tmp_path, {}, notifications={"channels": channels, "routes": [{"channel": "hook"}]})
    node = Vigil(config, tmp_path, config_store=YamlConfigFile(path), config_source=str(path))
    try:
        camera = {"name": "Loading dock", "streams": {"main": {"url": "rtsp://10.0.0.9/s"}}, "record": False}
        node.settings.save_camera("ana", "dock", camera)
        now = node.clock.now_us()
        event_id = node.catalog.add_event("line_cross", now, "A person crossed", camera_id="dock", end_us=now)
        (summary,) = node.outbox.store.notifications(event_id=event_id)
        doc = json.loads(node.outbox.store.notification(summary.id).payload)
        assert doc["event"]["camera"] == "Loading dock"
    finally:
        node.catalog.close()

"""Changing cameras while Vigil runs (usecases.settings) over a real vigil.yaml and a real audit log: validation
with the path of the bad key, secrets never shown and never lost, conflicts, the audit trail, hand edits."""

import pytest

from vigil.config.in_force import ConfigInForce
from vigil.config.loader import load_config
from vigil.domain.audit import AuditAction
from vigil.domain.errors import ConfigError, Conflict, InvalidRequest, NotFound
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.config_file import YamlConfigFile
from vigil.usecases.camera_documents import changed_keys, shown, with_secrets
from vigil.usecases.settings import SettingsEditor, restart_needed

TEXT = """\
site: {name: HQ}
security: {require_reason_for: []}
cameras:
  - id: gate   # north fence
    name: Gate
    streams:
      main: {url: "rtsp://admin:s3cret@10.0.0.5/stream1"}
      sub: {url: "rtsp://10.0.0.5/stream2", username: admin, password: "pa:ss/word"}
"""
YARD = {"name": "Yard", "location": "Behind the depot", "streams": {"main": {"url": "rtsp://10.0.0.7/s"}}}


class Clock:
    def now_us(self) -> int:
        return 1_764_000_000_000_000


@pytest.fixture
def setup(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(TEXT)
    catalog = SqlCatalog(sqlite_url(tmp_path / "vigil.db"))
    audit = SqlAuditLog(catalog, tmp_path / "audit.head")
    in_force = ConfigInForce(load_config(path))
    changes = []
    in_force.listen(lambda old, new: changes.append((old, new)))
    editor = SettingsEditor(YamlConfigFile(path), in_force, audit, Clock(), source=str(path))
    yield editor, in_force, audit, path, changes
    catalog.close()


def config_changes(audit):
    return [e for e in audit.entries(action=AuditAction.CONFIG_CHANGE)]


def test_no_password_is_ever_shown(setup):
    editor, *_ = setup
    cameras, _ = editor.cameras()
    text = repr(cameras)
    assert "s3cret" not in text and "pa:ss" not in text
    streams = cameras[0]["streams"]
    assert streams["main"]["url"] == "rtsp://admin:***@10.0.0.5/stream1"
    assert streams["sub"]["password_set"] is True and "password" not in streams["sub"]


def test_a_camera_saved_as_shown_keeps_its_passwords(setup):
    editor, in_force, audit, path, changes = setup
    doc = editor.camera("gate")
    camera = {**doc.camera, "name": "North gate"}
    editor.save_camera("ana", "gate", camera, revision=doc.revision, reason="renamed", client="10.0.0.9")
    cfg = load_config(path)
    gate = cfg.camera("gate")
    assert gate.name == "North gate"
    assert gate.streams.main.open_url() == "rtsp://admin:s3cret@10.0.0.5/stream1"
    assert gate.streams.sub.password.get_secret_value() == "pa:ss/word"
    assert "# north fence" in path.read_text()
    assert in_force.current.camera("gate").name == "North gate" and len(changes) == 1
    (entry,) = config_changes(audit)
    assert (entry.actor, entry.camera_id, entry.reason, entry.client) == ("ana", "gate", "renamed", "10.0.0.9")
    assert entry.detail == {"camera": "gate", "change": "changed", "keys": ["name"]}


def test_a_new_password_is_stored_and_its_change_audited_without_the_value(setup):
    editor, _, audit, path, _ = setup
    doc = editor.camera("gate")
    camera = doc.camera
    camera["streams"]["sub"]["password"] = "n3w-secret"
    editor.save_camera("ana", "gate", camera)
    assert load_config(path).camera("gate").streams.sub.password.get_secret_value() == "n3w-secret"
    (entry,) = config_changes(audit)
    assert entry.detail["keys"] == ["streams.sub.password"]
    assert "n3w-secret" not in repr(entry)


def test_password_null_removes_it_and_a_changed_url_with_a_hidden_password_is_refused(setup):
    editor, _, _, path, _ = setup
    camera = editor.camera("gate").camera
    camera["streams"]["sub"]["password"] = None
    camera["streams"]["main"]["url"] = "rtsp://admin:***@10.0.0.99/stream1"
    with pytest.raises(InvalidRequest, match=r"streams\.main\.url: the password in the URL is hidden"):
        editor.save_camera("ana", "gate", camera)
    camera["streams"]["main"]["url"] = "rtsp://10.0.0.99/stream1"
    editor.save_camera("ana", "gate", camera)
    gate = load_config(path).camera("gate")
    assert gate.streams.sub.password is None and gate.streams.main.url == "rtsp://10.0.0.99/stream1"


def test_adding_and_removing_a_camera(setup):
    editor, in_force, audit, path, changes = setup
    editor.save_camera("ana", "yard", YARD)
    assert [c.id for c in load_config(path).cameras] == ["gate", "yard"]
    assert in_force.current.camera("yard").location == "Behind the depot"
    editor.remove_camera("ana", "yard", reason="moved to the new site")
    assert [c.id for c in in_force.current.cameras] == ["gate"]
    assert [(e.detail["change"], e.reason) for e in reversed(config_changes(audit))] == [
        ("added", ""),
        ("removed", "moved to the new site"),
    ]
    assert len(changes) == 2
    with pytest.raises(NotFound):
        editor.remove_camera("ana", "yard")


@pytest.mark.parametrize(
    ("camera", "expected"),
    [
        ({**YARD, "nmae": "typo"}, "camera 'yard': 1 problem(s) in the configuration:\n  - nmae: unknown key"),
        ({**YARD, "streams": {"main": {"url": "http://x/y"}}}, "streams.main.url: must start with rtsp://"),
        (
            {**YARD, "analysis": {"zones": [{"name": "Dock", "points": [[0, 0], [1, 1]]}]}},
            "analysis.zones[0]: zone 'Dock': a polygon needs at least 3 points",
        ),
        (
            {**YARD, "analysis": {"rules": [{"name": "R", "kind": "zone_enter", "zone": "Nowhere"}]}},
            "no zone named 'Nowhere'",
        ),
        ({"name": "No streams"}, "streams: required key is missing"),
    ],
)
def test_a_bad_camera_is_refused_with_the_path_of_the_bad_key_and_nothing_changes(setup, camera, expected):
    editor, in_force, audit, path, changes = setup
    before = path.read_text()
    with pytest.raises(ConfigError) as info:
        editor.save_camera("ana", "yard", camera)
    assert expected in info.value.message
    assert path.read_text() == before and not changes and not config_changes(audit)
    assert in_force.current.camera("yard") is None


def test_the_id_cannot_be_changed(setup):
    editor, *_ = setup
    with pytest.raises(InvalidRequest, match="ids cannot be changed"):
        editor.save_camera("ana", "gate", {**editor.camera("gate").camera, "id": "gate2"})


def test_a_stale_revision_is_a_conflict(setup):
    editor, _, _, path, _ = setup
    doc = editor.camera("gate")
    editor.save_camera("bo", "yard", YARD)  # someone else saved meanwhile
    with pytest.raises(Conflict, match="changed meanwhile"):
        editor.save_camera("ana", "gate", {**doc.camera, "name": "Lost update"}, revision=doc.revision)
    assert "Lost update" not in path.read_text()


def test_saving_what_is_there_writes_nothing_to_the_audit_log(setup):
    editor, _, audit, _, _ = setup
    doc = editor.camera("gate")
    editor.save_camera("ana", "gate", doc.camera, revision=doc.revision)
    assert not config_changes(audit)


def test_a_reason_is_required_where_the_site_says_so(setup):
    editor, _, _, path, _ = setup
    path.write_text(TEXT.replace("require_reason_for: []", "require_reason_for: [config_change]"))
    assert editor.reload()
    with pytest.raises(InvalidRequest, match="reason: a reason is required"):
        editor.save_camera("ana", "yard", YARD)
    editor.save_camera("ana", "yard", YARD, reason="new camera at the depot")


def test_a_hand_edit_is_put_in_force_and_audited(setup):
    editor, in_force, audit, path, changes = setup
    assert not changes
    assert not editor.reload()  # nothing changed
    path.write_text(TEXT.replace("name: Gate", "name: Gate (by hand)"))
    assert editor.reload()
    assert in_force.current.camera("gate").name == "Gate (by hand)"
    (entry,) = config_changes(audit)
    assert entry.actor == "system" and entry.detail["keys"] == ["cameras.gate"]
    assert not editor.reload()


def test_a_broken_hand_edit_keeps_the_last_good_configuration(setup):
    editor, in_force, _, path, changes = setup
    path.write_text(TEXT.replace("name: Gate", "nmae: Gate"))
    assert not editor.reload()
    assert "cameras[0].nmae: unknown key" in editor.problem
    assert in_force.current.camera("gate").name == "Gate" and not changes
    path.write_text(TEXT.replace("name: Gate", "name: Fixed"))
    assert editor.reload()
    assert editor.problem is None and in_force.current.camera("gate").name == "Fixed"


def test_settings_that_need_a_restart_are_named(setup):
    editor, in_force, _, path, _ = setup
    path.write_text(TEXT.replace("site: {name: HQ}", "site: {name: HQ, timezone: Asia/Shanghai}\nserver: {port: 9}"))
    editor.reload()
    assert editor.restart_pending == ["server", "site.timezone"]
    assert restart_needed(in_force.current, in_force.current) == []


def test_documents_helpers():
    doc = {"id": "a", "streams": {"main": {"url": "rtsp://u:p@h/s", "password": "x"}}}
    assert shown(doc)["streams"]["main"] == {"url": "rtsp://u:***@h/s", "password_set": True}
    assert with_secrets(shown(doc), doc) == doc
    assert changed_keys({"a": 1, "b": {"c": [1]}}, {"a": 1, "b": {"c": [2]}, "d": 0}) == ["b.c", "d"]

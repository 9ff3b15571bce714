"""vigil.yaml written back by the console: comments, order and untouched keys survive; writes are atomic,
kept in a history, and refused when the file changed on disk meanwhile."""

import os

import pytest

from vigil.config.loader import load_config
from vigil.domain.errors import ConfigError, Conflict, StorageError
from vigil.storage.config_file import HISTORY_DIR, YamlConfigFile, revision_of

TEXT = """\
# Head office cameras (kept by the facilities team)
site: {name: Head office, timezone: Asia/Shanghai}
storage:
  root: recordings   # the big disk
  min_retention_days: 30
cameras:
  # the gate camera was replaced in 2025
  - id: gate
    name: Main gate
    streams:
      main: {url: "rtsp://10.0.0.5/stream1", username: admin, password_env: GATE_PASSWORD}
    analysis:
      zones:
        - name: Dock   # loading dock
          points: [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]]
  - id: hall
    name: Hall
    streams:
      main: {url: "rtsp://10.0.0.6/stream1"}
"""


@pytest.fixture
def file(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(TEXT)
    return YamlConfigFile(path)


def test_read_gives_plain_data_and_the_hash_of_the_bytes(file):
    data, revision = file.read()
    assert revision == revision_of(TEXT.encode())
    assert data["cameras"][0]["analysis"]["zones"][0]["points"][2] == [0.9, 0.9]
    assert type(data["cameras"]) is list and type(data["site"]) is dict


def test_a_change_keeps_comments_order_and_untouched_keys(file):
    data, revision = file.read()
    data["cameras"][0]["name"] = "North gate"
    data["cameras"][0]["analysis"]["zones"].append({"name": "Road", "points": [[0, 0], [0.2, 0], [0.2, 0.2]]})
    data["cameras"].append({"id": "yard", "name": "Yard", "streams": {"main": {"url": "rtsp://10.0.0.7/s"}}})
    new_revision = file.write(data, revision)
    text = file.path.read_text()
    assert new_revision == revision_of(text.encode()) != revision
    for comment in ("# Head office cameras", "# the big disk", "# the gate camera was replaced", "# loading dock"):
        assert comment in text
    assert text.index("site:") < text.index("storage:") < text.index("cameras:")
    assert "name: North gate" in text and "id: yard" in text
    cfg = load_config(file.path)  # still a valid config, read by the ordinary loader
    assert [c.id for c in cfg.cameras] == ["gate", "hall", "yard"]
    assert [z.name for z in cfg.cameras[0].analysis.zones] == ["Dock", "Road"]
    assert cfg.cameras[0].streams.main.password_env == "GATE_PASSWORD"


def test_removing_a_camera_keeps_the_others_comments(file):
    data, revision = file.read()
    data["cameras"] = [c for c in data["cameras"] if c["id"] != "hall"]
    file.write(data, revision)
    text = file.path.read_text()
    assert "id: hall" not in text and "# loading dock" in text


def test_a_write_after_a_hand_edit_is_refused_and_changes_nothing(file):
    data, revision = file.read()
    file.path.write_text(TEXT.replace("Main gate", "Gate (edited by hand)"))
    data["cameras"][0]["name"] = "From the console"
    with pytest.raises(Conflict, match="changed on disk"):
        file.write(data, revision)
    assert "edited by hand" in file.path.read_text()


def test_every_write_keeps_the_previous_text(file):
    for name in ("One", "Two", "Three"):
        data, revision = file.read()
        data["site"]["name"] = name
        file.write(data, revision)
    history = file.history()
    assert len(history) == 3
    assert history[0].read_text() == TEXT
    assert "name: Two" in history[-1].read_text()
    assert (file.path.parent / HISTORY_DIR).is_dir()


def test_a_failed_write_leaves_the_file_as_it_was(file, tmp_path):
    data, revision = file.read()
    data["site"]["name"] = "Never written"
    (tmp_path / f".vigil.yaml.{os.getpid()}.tmp").mkdir()  # the temporary file cannot be made, even by root
    with pytest.raises(StorageError, match="not changed"):
        file.write(data, revision)
    assert file.path.read_text() == TEXT


def test_the_file_mode_is_kept(file):
    file.path.chmod(0o600)
    data, revision = file.read()
    data["site"]["name"] = "Private"
    file.write(data, revision)
    assert file.path.stat().st_mode & 0o777 == 0o600
    assert not list(file.path.parent.glob(".vigil.yaml.*.tmp"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("cameras: [unclosed", "not valid YAML"), ("- just\n- a list\n", "top level must be a mapping")],
)
def test_a_broken_file_is_a_clear_error(tmp_path, text, expected):
    path = tmp_path / "vigil.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        YamlConfigFile(path).read()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        YamlConfigFile(tmp_path / "nope.yaml").read()
    assert YamlConfigFile(tmp_path / "nope.yaml").revision() == ""

import pytest

from vigil.config import load_config, parse_config
from vigil.domain.errors import ConfigError


def cam(**over):
    base = {"id": "gate", "name": "Gate", "streams": {"main": {"url": "rtsp://10.0.0.5/s1"}}}
    base.update(over)
    return base


def error_of(data):
    with pytest.raises(ConfigError) as info:
        parse_config(data, "vigil.yaml")
    return info.value.message


def test_a_full_config_validates():
    cfg = parse_config(
        {
            "site": {"name": "HQ", "timezone": "Asia/Shanghai"},
            "storage": {"root": "/srv/vigil", "max_bytes": "2TB", "max_percent": 85, "min_retention_days": 30},
            "cameras": [
                cam(device={"model": "X", "serial": "S1", "installed": "2024-05-01"}, retention={"max_age_days": 90})
            ],
        }
    )
    assert cfg.storage.max_bytes == 2 * 10**12
    assert cfg.cameras[0].device.installed.isoformat() == "2024-05-01"
    assert cfg.min_days_for(cfg.cameras[0]) == 30


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"cameras": [cam(bogus=1)]}, "cameras[0].bogus: unknown key"),
        ({"storag": {}}, "storag: unknown key"),
        ({"cameras": [cam(streams={"main": {"url": "http://x/y"}})]}, "cameras[0].streams.main.url: must start with"),
        ({"cameras": [cam(streams={"main": {"url": "rtsp:///nohost"}})]}, "has no host"),
        ({"cameras": [cam(id="Bad Id!")]}, "cameras[0].id"),
        ({"cameras": [cam(), cam()]}, "used twice"),
        ({"cameras": [cam(name=None)]}, "cameras[0].name"),
        ({"cameras": [{"id": "x", "name": "X"}]}, "cameras[0].streams: required key is missing"),
        ({"storage": {"max_bytes": "lots"}}, "storage.max_bytes: not a size"),
        ({"storage": {"max_percent": 150}}, "storage.max_percent"),
        ({"site": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
        ({"cameras": [cam(retention={"max_age_days": 7})]}, "shorter than the legal minimum of 30 days"),
        ({"recording": {"segment_duration_s": 0}}, "recording.segment_duration_s"),
    ],
)
def test_bad_values_name_the_key(data, expected):
    assert expected in error_of(data)


def test_top_level_must_be_a_mapping():
    assert "must be a mapping" in error_of(["a"])


def test_passwords_are_never_shown(monkeypatch):
    c = parse_config({"cameras": [cam(streams={"main": {"url": "rtsp://admin:hunter2@cam/s"}})]}).cameras[0]
    assert "hunter2" not in c.streams.main.display_url()
    assert "hunter2" not in repr(c)
    c2 = parse_config(
        {"cameras": [cam(streams={"main": {"url": "rtsp://cam/s", "username": "u", "password": "p@ss:w"}})]}
    ).cameras[0]
    assert "p@ss" not in repr(c2) and "p@ss" not in c2.streams.main.display_url()
    assert c2.streams.main.open_url() == "rtsp://u:p%40ss%3Aw@cam/s"
    monkeypatch.setenv("GATE_PW", "s3cret")
    c3 = parse_config(
        {"cameras": [cam(streams={"main": {"url": "rtsp://cam:554/s", "username": "u", "password_env": "GATE_PW"}})]}
    ).cameras[0]
    assert c3.streams.main.open_url() == "rtsp://u:s3cret@cam:554/s"
    monkeypatch.delenv("GATE_PW")
    with pytest.raises(ValueError, match="GATE_PW is not set"):
        c3.streams.main.open_url()


def test_loader_reports_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras: [\n  - id: x\n    name: : :\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(binary)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_config(empty).cameras == []

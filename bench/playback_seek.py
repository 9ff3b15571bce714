"""Playback seek: from a seek to the first new frame shown, in Debian's Chromium on the console's playback page.

A Vigil node records a simulated RTSP camera (synthetic 640x360 25 fps H.264, 1 s keyframes), the console is
served by uvicorn, and Playwright logs in and opens playback. Measured, each from the action to the first frame
the browser presents for it (``requestVideoFrameCallback``):

- ``seek``: a seek inside what the player has buffered (``video.currentTime = x``), random targets;
- ``jump``: a jump on the timeline to another moment: the page opens a new playback stream
  (``playback.mp4``: the segments remuxed into fragments as they are sent, ADR 0011), with its permission check and
  audit entry, and seeks to the moment;
- ``baseline``: the same in-buffer seeks on an MP4 clip of the same footage served as a plain static file with no
  login (the browser's own cost of seeking), so ``seek_ratio`` is what Vigil adds;
- ``jump_clip``: the same jumps the way playback worked before the stream: a faststart MP4 of the 10 minutes from
  the moment (``clip.mp4``, made whole before its first byte) in a bare video element, seeked to the moment.

``server`` (no browser): time to the first fragment of a playback stream against time to a finished clip, for
windows of 1, 5 and 10 minutes (``--quick``: 1 and 5) of 1080p H.264 at about 5 Mb/s (a 20 s synthetic segment
laid end to end): the clip's cost grows with the window, the stream's does not.

Goal (issue 4): under 300 ms from a seek to the first new frame. Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from vigil.config.loader import parse_config
from vigil.domain.access import Grant
from vigil.domain.timeutil import iso_from_us
from vigil.media.simulator import RtspSimulator, free_tcp_port
from vigil.media.synthetic import make_synthetic_clip
from vigil.runtime import Vigil

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
PASSWORD = "bench password 123"

SEEK = """async ([selector, target]) => {
  const video = document.querySelector(selector);
  video.pause();
  const t0 = performance.now();
  return await new Promise((resolve) => {
    const done = (now, meta) => {
      if (Math.abs(meta.mediaTime - target) < 0.2) resolve(now - t0);
      else video.requestVideoFrameCallback(done);
    };
    video.requestVideoFrameCallback(done);
    video.currentTime = target;
  });
}"""


@contextmanager
def serve(app: Any) -> Iterator[str]:
    port = free_tcp_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


JUMP_CLIP = """async ([url, target]) => {
  const video = document.getElementById("v");
  const t0 = performance.now();
  const head = await fetch(url, { headers: { Range: "bytes=0-0" }, credentials: "include" });
  const clipStart = Number(head.headers.get("X-Clip-Start-Us")) / 1e6;
  return await new Promise((resolve) => {
    video.addEventListener("loadedmetadata", () => {
      const done = () => resolve(performance.now() - t0);
      video.requestVideoFrameCallback(done);
      video.currentTime = Math.max(0, target - clipStart);
    }, { once: true });
    video.src = url;
  });
}"""


def jump_by_clip(bare: Any, base: str, page: Any, first: int, last: int, rng: random.Random) -> float:
    """The old jump: a faststart clip of 10 minutes from the moment, made whole, loaded and seeked (ms)."""
    at = int(rng.uniform(first + 1e6, max(first + 2e6, last - 3e6)))
    url = f"{base}/api/v1/cameras/door/clip.mp4?start={at}&end={at + 600_000_000}"
    bare.goto(base + "/static/app.css")  # same origin as the API: the session cookie goes with the fetch
    bare.context.add_cookies(page.context.cookies())
    bare.set_content('<video id="v" muted></video>')
    result: float = bare.evaluate(JUMP_CLIP, [url, at / 1e6])
    return result


def server_part(minutes: list[int]) -> dict[str, Any]:
    """Time to the first fragment of a stream against time to a finished clip, per window length."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support.segments import cut_segments
    from vigil.media.clip import ClipPart, write_clip
    from vigil.media.recorded_stream import open_playback

    cache = Path(__file__).resolve().parents[1] / ".vigil-cache" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    source = cache / "synthetic-1080p-20s.mp4"
    if not source.is_file():
        make_synthetic_clip(source, width=1920, height=1080, fps=25, duration_s=20, gop_s=2, bitrate_kbps=5000, noise=8)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        (segment,) = cut_segments(source, Path(tmp) / "seg", 60, 0)
        seg_us = segment.end_us - segment.start_us
        for m in minutes:
            count = round(m * 60_000_000 / seg_us)
            base = 1_800_000_000_000_000
            parts = [ClipPart(segment.path, base + i * seg_us, base + (i + 1) * seg_us) for i in range(count)]
            start, end = base + 1_000_000, base + count * seg_us
            t0 = time.perf_counter()
            stream = open_playback(parts, start, end)
            chunks = iter(stream.chunks)
            next(chunks), next(chunks)  # the init and the first fragment
            stream_ms = (time.perf_counter() - t0) * 1000
            stream.close()
            t0 = time.perf_counter()
            made = write_clip(parts, start, end, Path(tmp) / f"clip{m}.mp4")
            clip_ms = (time.perf_counter() - t0) * 1000
            out[f"{m}min"] = {
                "bytes": made.size_bytes,
                "stream_first_fragment_ms": round(stream_ms, 1),
                "clip_ms": round(clip_ms, 1),
                "ratio": round(clip_ms / stream_ms, 1),
            }
            made.path.unlink()
    print(f"server: {out}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short recording and fewer seeks (under a minute)")
    args = parser.parse_args()
    record_s, seeks, jumps = (16, 15, 4) if args.quick else (60, 60, 12)
    from playwright.sync_api import sync_playwright

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = make_synthetic_clip(work / "clip.mp4", duration_s=6.0, gop_s=1.0)
        simulator = RtspSimulator({"door": clip}, log_path=work / "rtsp.log")
        simulator.start()
        doc = {
            "storage": {"root": "recordings", "min_retention_days": 0},
            "recording": {"segment_duration_s": 4},
            "analysis": {"enabled": False},
            "cameras": [{"id": "door", "name": "Door", "streams": {"main": {"url": simulator.url("door")}}}],
        }
        (work / "vigil.yaml").write_text(yaml.safe_dump(doc))
        node = Vigil(parse_config(doc, str(work / "vigil.yaml")), work)
        node.start()
        try:
            time.sleep(record_s)
            segs = node.catalog.segments("door", "main")
            first, last = segs[0].start_us, segs[-1].end_us
            node.accounts.add_user("bench", "operator", PASSWORD, must_change=False)
            node.accounts.set_grants("bench", [Grant()])
            (node.paths.cache / "clips").mkdir(parents=True, exist_ok=True)
            static = FastAPI()
            static.mount("/files", StaticFiles(directory=str(node.paths.cache / "clips")), name="files")
            with (
                serve(node.app()) as base,
                serve(static) as plain,
                sync_playwright() as playwright,
            ):
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(base + "/login")
                page.fill("#username", "bench")
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(lambda url: "/login" not in url)
                start = first + 1_000_000
                page.goto(f"{base}/playback?camera=door&at={iso_from_us(start)}")
                ready = "() => { const v = document.querySelector('#players video'); return v && v.readyState >= 2; }"
                page.wait_for_function(ready, timeout=20_000)
                duration = page.evaluate("() => document.querySelector('#players video').duration")
                span = max(1.0, min(duration, (last - start) / 1e6) - 0.5)
                targets = [round(rng.uniform(0.2, span), 2) for _ in range(seeks)]
                vigil_ms = [page.evaluate(SEEK, ["#players video", x]) for x in targets]
                # the same footage as one MP4 file, served plainly, in a bare video element
                name = node.make_clip("door", "main", start, last).path.name
                bare = browser.new_page()
                bare.set_content(f'<video id="v" muted src="{plain}/files/{name}"></video>')
                bare.wait_for_function("() => document.getElementById('v').readyState >= 2", timeout=20_000)
                baseline_ms = [bare.evaluate(SEEK, ["#v", x]) for x in targets]
                # jumps on the timeline: a new clip for a moment outside the loaded one
                jump_ms = []
                for _ in range(jumps):
                    at = iso_from_us(int(rng.uniform(first + 1e6, max(first + 2e6, last - 3e6))))
                    page.evaluate("() => document.querySelector('#players video').dataset.old = '1'")
                    page.fill("#day", at[:10])
                    page.fill("#time", at[11:19])
                    t0 = time.monotonic()
                    page.click("#playback-form button[type=submit]")
                    page.wait_for_function(
                        "() => { const v = document.querySelector('#players video');"
                        " return v && !v.dataset.old && v.readyState >= 2 && !v.seeking && v.currentTime > 0; }",
                        timeout=20_000,
                        polling=5,
                    )
                    jump_ms.append((time.monotonic() - t0) * 1000)
                clip_ms = [jump_by_clip(bare, base, page, first, last, rng) for _ in range(jumps)]
                browser.close()
        finally:
            node.stop()
            simulator.stop()
    result = {
        "bench": "playback_seek",
        "quick": args.quick,
        "recorded_s": round((last - first) / 1e6, 1),
        "seeks": len(vigil_ms),
        "seek_p50_ms": round(statistics.median(vigil_ms), 1),
        "seek_p95_ms": round(percentile(vigil_ms, 0.95), 1),
        "baseline_p50_ms": round(statistics.median(baseline_ms), 1),
        "baseline_p95_ms": round(percentile(baseline_ms, 0.95), 1),
        "seek_ratio_p50": round(statistics.median(vigil_ms) / max(0.1, statistics.median(baseline_ms)), 2),
        "jumps": len(jump_ms),
        "jump_p50_ms": round(statistics.median(jump_ms), 1),
        "jump_p95_ms": round(percentile(jump_ms, 0.95), 1),
        "jump_clip_p50_ms": round(statistics.median(clip_ms), 1),
        "jump_clip_p95_ms": round(percentile(clip_ms, 0.95), 1),
        "server": server_part([1, 5] if args.quick else [1, 5, 10]),
        "goal_ms": 300,
    }
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

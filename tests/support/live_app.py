"""A test-only web app for the live player: one page, ``live.js`` and a WebSocket fed by a real LiveHub.

The page plays ``/live/<camera>/<stream>`` with ``playLive`` and records, in ``window.live``: the player's
states, and for every frame the browser presents its media time and the wall-clock time it was shown. The
WebSocket records when each fragment was sent (wall clock) and its decode time, so a test can tell how long
a frame took from the server to the screen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, HTMLResponse

from vigil.media.fmp4 import fragment_info, timescale
from vigil.media.live import LiveHub, LiveLimits
from vigil.media.simulator import free_tcp_port

LIVE_JS = Path(__file__).resolve().parents[2] / "src" / "vigil" / "web" / "static" / "live.js"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>live test</title>
<style>body { margin: 0; display: flex; flex-wrap: wrap; } video { width: 320px; height: 180px; }</style></head>
<body>
<canvas id="canvas" width="160" height="90"></canvas>
<script type="module">
import { playLive } from "/static/live.js";
// ?camera=cam&stream=main plays one tile (id "video"); &tiles=16 plays cam01..cam16, one tile each;
// &names=a,b,c plays those cameras. Tiles of cameras named clock* read the time written in each frame they show
// (vigil.media.clock_code's blocks) into tile.glass: milliseconds from the frame's making to its display.
const params = new URLSearchParams(location.search);
const camera = params.get("camera") || "cam", stream = params.get("stream") || "main";
const count = Number(params.get("tiles") || 1);
const names = params.get("names") ? params.get("names").split(",") : null;
const t0 = performance.now();
const reader = document.createElement("canvas");
reader.width = 320; reader.height = 180;
const readerContext = reader.getContext("2d", { willReadFrequently: true });
function writtenMs(video, shownMs) {
  readerContext.drawImage(video, 0, 0, 320, 180);
  const rows = [readerContext.getImageData(0, 10, 320, 1).data, readerContext.getImageData(0, 30, 320, 1).data];
  let value = 0;
  for (let i = 0; i < 32; i++) {
    const x = (i * 10 + 5) * 4;
    const bit = rows[0][x] > 128, inverse = rows[1][x] > 128;
    if (bit === inverse) return null;
    value = value * 2 + (bit ? 1 : 0);
  }
  const wrap = 2 ** 32;
  let full = shownMs - (shownMs % wrap) + value;
  if (full - shownMs > wrap / 2) full -= wrap; else if (shownMs - full > wrap / 2) full += wrap;
  return full;
}
window.tiles = [];
for (let i = 0; i < (names ? names.length : count); i++) {
  const name = names ? names[i] : count > 1 ? camera + String(i + 1).padStart(2, "0") : camera;
  const video = document.createElement("video");
  if (i === 0) video.id = "video";
  document.body.append(video);
  const tile = { name, states: [], frames: [], glass: [], unread: 0, video };
  window.tiles.push(tile);
  tile.player = playLive(video, `ws://${location.host}/live/${name}/${stream}`, {
    onState: (state, detail, info) => tile.states.push({ state, detail, atMs: performance.now() - t0, ...info }),
  });
  const frame = (now, metadata) => {
    tile.frames.push({ mediaTime: metadata.mediaTime, shownAtMs: Date.now() + (now - performance.now()) });
    if (name.startsWith("clock")) {
      const shownMs = performance.timeOrigin + metadata.expectedDisplayTime;
      const written = writtenMs(video, shownMs);
      if (written === null) tile.unread += 1; else tile.glass.push(shownMs - written);
    }
    video.requestVideoFrameCallback(frame);
  };
  video.requestVideoFrameCallback(frame);
}
window.live = window.tiles[0];
window.player = window.tiles[0].player;
window.snapshot = () => {
  const video = document.getElementById("video");
  const canvas = document.getElementById("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let min = 255, max = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const luma = (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
    min = Math.min(min, luma); max = Math.max(max, luma);
  }
  return { min, max, width: video.videoWidth, height: video.videoHeight, currentTime: video.currentTime };
};
</script>
</body></html>
"""


@dataclass
class SentLog:
    """Per connection: the track's timescale, and (decode time in seconds, wall-clock time sent) per fragment."""

    fragments: list[tuple[float, float]] = field(default_factory=list)
    ticks: int = 0


def make_app(resolve: Callable[[str, str], str], limits: LiveLimits, sent: SentLog) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.hub = LiveHub(resolve, limits)
        yield
        await app.state.hub.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/static/live.js")
    async def script() -> FileResponse:
        return FileResponse(LIVE_JS, media_type="text/javascript")

    @app.websocket("/live/{camera_id}/{stream}")
    async def live(websocket: WebSocket, camera_id: str, stream: str) -> None:
        await websocket.accept()
        hub: LiveHub = websocket.app.state.hub
        try:
            async with hub.subscribe(camera_id, stream) as subscription:
                async for message in subscription:
                    if isinstance(message, str):
                        await websocket.send_text(message)
                        continue
                    await websocket.send_bytes(message)
                    record(sent, message)
        except WebSocketDisconnect:
            pass

    return app


def record(sent: SentLog, message: bytes) -> None:
    if message[4:8] == b"ftyp":
        sent.ticks = timescale(message)
    elif message[4:8] == b"moof" and sent.ticks:
        sent.fragments.append((fragment_info(message).decode_time / sent.ticks, time.time()))


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free port of 127.0.0.1; yields its base URL."""
    port = free_tcp_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="live-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test web server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)

// Live view player: fragmented MP4 over a WebSocket into Media Source Extensions (docs/adr/0006-live-view.md).
//
// What the server sends (vigil.media.live):
//   text   {"type":"init","codec":"video/mp4; codecs=\"avc1.64001f\"","width":640,"height":360}
//   binary the init segment (ftyp + moov), then fragments (moof + mdat) starting at a keyframe
//   text   {"type":"error","message":"..."}   the server lost the camera and is retrying
//   text   {"type":"init",...} again           the stream restarted: a new MediaSource and SourceBuffer
//
// Usage:
//   import { playLive } from "/static/live.js";
//   const player = playLive(video, "wss://host/api/v1/cameras/cam/live", { onState: (state, detail, info) => ... });
//   player.close();
//
// onState(state, detail, info): detail is a short text to show (or ""), info an object of figures.
//   "connecting"   info {retryInMs} when it is a reconnection after a back-off
//   "waiting"      info {reason: "starting"} (a stream began, no frame shown yet) or {reason: "stalled", sinceMs}
//   "playing"      info {firstFrameMs} (from opening the WebSocket) at the first frame of each stream
//   "error"        detail: the server's message (it keeps retrying the camera) or the browser's refusal
//   "unsupported"  detail: the codec this browser cannot play
//   "closed"

const DEFAULTS = {
  onState: () => {},
  maxLagS: 0.8, // further behind the newest frame than this: jump forward
  targetLagS: 0.15, // where a jump lands, behind the newest buffered frame
  keepS: 10, // buffered video kept behind the playhead
  reconnectInitialMs: 500,
  reconnectMaxMs: 10000,
  stallMs: 4000, // no video for this long: "waiting" {reason: "stalled"}
};

export function playLive(video, wsUrl, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  let socket = null;
  let media = null; // { source, buffer, url, queue, codec, shown }: one per stream
  let closed = false;
  let retryMs = opts.reconnectInitialMs;
  let retryTimer = 0;
  let connectedAt = 0;
  let lastDataAt = 0;
  let stalled = false;
  const watchdog = setInterval(check, 1000);

  video.muted = true; // autoplay without a gesture needs a muted video
  video.playsInline = true;
  video.autoplay = true;

  function state(name, detail = "", info = {}) {
    try {
      opts.onState(name, detail, info);
    } catch (error) {
      console.error("live view: onState failed", error);
    }
  }

  function connect() {
    if (closed) return;
    connectedAt = performance.now();
    const ws = new WebSocket(wsUrl);
    ws.binaryType = "arraybuffer";
    socket = ws;
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      if (typeof event.data === "string") {
        control(JSON.parse(event.data));
      } else if (media) {
        media.queue.push(new Uint8Array(event.data));
        lastDataAt = performance.now();
        pump(media);
      }
    };
    ws.onclose = () => {
      if (ws !== socket) return;
      socket = null;
      retry();
    };
  }

  function retry() {
    if (closed) return;
    state("connecting", "", { retryInMs: retryMs });
    retryTimer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, opts.reconnectMaxMs);
  }

  function control(message) {
    if (message.type === "init") {
      retryMs = opts.reconnectInitialMs;
      start(message.codec);
    } else if (message.type === "error") {
      state("error", String(message.message || ""));
    }
  }

  // --- one MediaSource per stream (a new init replaces it) -------------------------------------------------
  function start(codec) {
    teardown();
    if (!window.MediaSource || !MediaSource.isTypeSupported(codec)) {
      state("unsupported", codec, { codec });
      return;
    }
    const source = new MediaSource();
    const m = { source, buffer: null, url: URL.createObjectURL(source), queue: [], codec, shown: false };
    media = m;
    source.addEventListener(
      "sourceopen",
      () => {
        if (media !== m) return;
        URL.revokeObjectURL(m.url);
        m.buffer = source.addSourceBuffer(codec);
        m.buffer.mode = "segments";
        m.buffer.addEventListener("updateend", () => {
          chase(m);
          pump(m);
        });
        pump(m);
      },
      { once: true },
    );
    video.src = m.url;
    state("waiting", "", { reason: "starting", codec });
    watchFirstFrame(m);
  }

  function teardown() {
    const m = media;
    media = null;
    if (!m) return;
    m.queue = [];
    if (m.source.readyState === "open") {
      try {
        m.source.endOfStream();
      } catch {
        // a buffer still updating: the MediaSource is dropped anyway
      }
    }
    URL.revokeObjectURL(m.url);
  }

  function pump(m) {
    const buffer = m.buffer;
    if (media !== m || !buffer || buffer.updating || m.source.readyState !== "open") return;
    if (trim(m, opts.keepS)) return; // updateend comes back here
    if (!m.queue.length) return;
    const chunk = m.queue.length === 1 ? m.queue[0] : concat(m.queue);
    m.queue = [];
    try {
      buffer.appendBuffer(chunk);
    } catch (error) {
      if (error.name === "QuotaExceededError") {
        m.queue.unshift(chunk);
        trim(m, 1);
      } else {
        state("error", `the browser refused the video: ${error.message}`);
        teardown();
        if (socket) socket.close(); // reconnect: the server starts again with an init and a keyframe
      }
    }
  }

  // Remove what lies more than keepS behind the playhead (in steps of 2 s, not at every fragment).
  function trim(m, keepS) {
    const ranges = m.buffer.buffered;
    if (!ranges.length) return false;
    const until = video.currentTime - keepS;
    if (ranges.start(0) >= until - (keepS > 1 ? 2 : 0)) return false;
    m.buffer.remove(0, until);
    return true;
  }

  // Stay at the live edge: jump when the playhead falls behind or sits in an older range (after a skip).
  function chase(m) {
    if (media !== m) return;
    const ranges = m.buffer.buffered;
    if (!ranges.length) return;
    const last = ranges.length - 1;
    const start = ranges.start(last);
    const end = ranges.end(last);
    const now = video.currentTime;
    if (now < start || end - now > opts.maxLagS) {
      video.currentTime = Math.max(start, end - opts.targetLagS);
    }
    if (video.paused) video.play().catch(() => {});
  }

  function watchFirstFrame(m) {
    const shown = () => {
      if (media !== m || m.shown) return;
      m.shown = true;
      stalled = false;
      state("playing", "", { firstFrameMs: Math.round(performance.now() - connectedAt) });
    };
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(shown);
    else video.addEventListener("playing", shown, { once: true });
  }

  function check() {
    const m = media;
    if (!m || !m.buffer) return;
    if (!m.buffer.updating) chase(m);
    const silentMs = performance.now() - lastDataAt;
    if (lastDataAt && silentMs > opts.stallMs && !stalled) {
      stalled = true;
      state("waiting", "", { reason: "stalled", sinceMs: Math.round(silentMs) });
    } else if (stalled && silentMs < opts.stallMs) {
      stalled = false;
      state("playing");
    }
  }

  function close() {
    if (closed) return;
    closed = true;
    clearTimeout(retryTimer);
    clearInterval(watchdog);
    const ws = socket;
    socket = null;
    if (ws) ws.close();
    teardown();
    video.removeAttribute("src");
    video.load();
    state("closed");
  }

  state("connecting");
  connect();
  return { close };
}

function concat(chunks) {
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

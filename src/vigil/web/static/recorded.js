// Playback player: recorded video streamed as fragmented MP4 (GET /api/v1/cameras/ID/playback.mp4, ADR 0011) into
// Media Source Extensions. The server starts at the keyframe at or before the moment asked for and makes the
// stream as it is read, so the first frame comes after one fragment, however long the range. Media time 0 is the
// wall time in X-Stream-Start-Us; a gap in the recording is a gap in media time, stepped over here.
//
//   const player = playRecorded(video, url);
//   const { startMs } = await player.ready;   // rejects with the server's message (refused, no footage...)
//   player.close();
//
// Reading is paced by the playhead: at most aheadS seconds are buffered ahead of it, and what lies more than
// behindS behind it is removed, so an hour-long range costs the browser no more memory than a minute.

import { ApiError } from "./common.js";

const DEFAULTS = { aheadS: 30, behindS: 30 };

export function playRecorded(video, url, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const abort = new AbortController();
  let closed = false;
  let source = null;
  let buffer = null;
  const stepper = setInterval(stepOverGap, 250);
  video.addEventListener("waiting", stepOverGap);

  const ready = (async () => {
    const res = await fetch(url, { credentials: "same-origin", signal: abort.signal });
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      const err = data.error || {};
      throw new ApiError(res.status, err.kind || "error", err.message || res.statusText);
    }
    const codec = res.headers.get("X-Codec") || "";
    const startMs = Number(res.headers.get("X-Stream-Start-Us")) / 1000;
    if (!window.MediaSource || !MediaSource.isTypeSupported(codec)) {
      abort.abort();
      throw new ApiError(415, "unsupported", `this browser cannot play ${codec}`);
    }
    source = new MediaSource();
    const opened = new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
    video.src = URL.createObjectURL(source);
    await opened;
    URL.revokeObjectURL(video.src);
    buffer = source.addSourceBuffer(codec);
    buffer.mode = "segments";
    pump(res.body.getReader());
    return { startMs, codec };
  })();
  ready.catch(() => {});

  async function pump(reader) {
    try {
      for (;;) {
        while (!closed && ahead() > opts.aheadS) await sleep(250);
        if (closed) return;
        const { value, done } = await reader.read();
        if (closed) return;
        if (done) break;
        await append(value);
      }
      await idle();
      if (!closed && source.readyState === "open") source.endOfStream();
    } catch (error) {
      if (!closed && error.name !== "AbortError") console.warn("playback stream stopped:", error);
    }
  }

  async function append(chunk) {
    for (;;) {
      await idle();
      await trim();
      try {
        buffer.appendBuffer(chunk);
        return;
      } catch (error) {
        if (error.name !== "QuotaExceededError") throw error;
        await sleep(500); // the buffer is full: wait for the playhead to move on, then trim and retry
      }
    }
  }

  async function trim() {
    const until = video.currentTime - opts.behindS;
    if (buffer.buffered.length && buffer.buffered.start(0) < until - 2) {
      buffer.remove(0, until);
      await idle();
    }
  }

  function idle() {
    if (!buffer || !buffer.updating) return Promise.resolve();
    return new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true }));
  }

  // Seconds buffered ahead of the playhead, in the range that holds it (or the next one).
  function ahead() {
    if (!buffer) return 0;
    const ranges = buffer.buffered;
    const now = video.currentTime;
    for (let i = 0; i < ranges.length; i++) if (ranges.end(i) > now) return ranges.end(ranges.length - 1) - now;
    return 0;
  }

  // The playhead sits where nothing was recorded: go on at the next recorded moment.
  function stepOverGap() {
    if (!buffer || closed) return;
    const ranges = buffer.buffered;
    const now = video.currentTime;
    for (let i = 0; i < ranges.length; i++) {
      if (now >= ranges.start(i) && now < ranges.end(i) - 0.05) return;
      if (ranges.start(i) > now) {
        video.currentTime = ranges.start(i) + 0.001;
        return;
      }
    }
  }

  function close() {
    if (closed) return;
    closed = true;
    clearInterval(stepper);
    video.removeEventListener("waiting", stepOverGap);
    abort.abort();
    video.removeAttribute("src");
    video.load();
  }

  return { ready, close };
}

// Seek to media time `t` once the stream has a frame to show, and again if the browser lost the seek (Chromium
// sometimes drops a seek made while the first fragments are being appended); resolves when there.
export async function seekTo(video, t, tries = 3) {
  if (video.readyState < 2) await new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
  for (let i = 0; i < tries; i++) {
    video.currentTime = t;
    await new Promise((resolve) => video.addEventListener("seeked", resolve, { once: true }));
    if (Math.abs(video.currentTime - t) < 0.1) return;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

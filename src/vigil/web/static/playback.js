// Playback: a day's timeline per camera (recorded spans, gaps, events) in the site's time zone; click it or pick
// a time to play from there; step to the previous or next event; tick several cameras to play them in step.
// Recorded video is streamed from the chosen moment (recorded.js); a download is one MP4 clip of 10 minutes.
import { $, api, askReason, el, page, t, formatUs, formatTimeUs } from "./common.js";
import { playRecorded, seekTo } from "./recorded.js";
import { drawStrip } from "./strip.js";
import { dateOf, instantOf, timeOf } from "./zoned.js";

const WINDOW_MS = 10 * 60 * 1000; // a download covers 10 minutes from the chosen moment
const STREAM_MS = 3 * 3600 * 1000; // a stream plays on for up to 3 hours (then the timeline picks the next moment)
const DAY_MS = 86400 * 1000;
let cameras = [];
let timelines = {}; // camera id -> timeline of the day
let playing = null; // { startMs, players: [{ id, video }] }
let reason = null; // asked once per page when the site requires one

const params = new URLSearchParams(location.search);
const chosen = () => [...document.querySelectorAll("#camera-picks input:checked")].map((i) => i.value);
const dayStart = () => instantOf($("day").value);

async function needReason() {
  if (!(page.reasons || []).includes("playback") || reason !== null) return true;
  const given = askReason(t("playback"));
  if (given === null || !given.trim()) return false;
  reason = given.trim();
  return true;
}

function mediaUrl(kind, id, startMs, endMs, download = false) {
  const q = new URLSearchParams({ start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() });
  if (reason) q.set("reason", reason);
  if (download) q.set("download", "true");
  return `/api/v1/cameras/${encodeURIComponent(id)}/${kind}?${q}`;
}
const clipUrl = (id, startMs, endMs, download = false) => mediaUrl("clip.mp4", id, startMs, endMs, download);

async function loadTimelines() {
  const start = dayStart();
  timelines = {};
  await Promise.all(chosen().map(async (id) => {
    try {
      timelines[id] = await api(`/api/v1/cameras/${encodeURIComponent(id)}/timeline?start=${start * 1000}&end=${(start + DAY_MS) * 1000}`);
    } catch (err) { timelines[id] = { error: err.message, spans: [], gaps: [], events: [] }; }
  }));
  drawTimelines();
  drawStrips(start);
}

async function drawStrips(start) {
  // each chosen camera's health strip for the day (faults, maintenance, tickets), for those who may see health
  const strips = await Promise.all(chosen().map(async (id) => {
    const box = el("div", { className: "strips" });
    box.dataset.camera = id;
    try {
      drawStrip(box, await api(`/api/v1/cameras/${encodeURIComponent(id)}/health-strip?start=${start * 1000}&end=${(start + DAY_MS) * 1000}`));
    } catch (err) { return null; }
    const cam = cameras.find((c) => c.id === id);
    return el("details", {}, el("summary", { className: "muted small", textContent: t("Health of %(camera)s", { camera: cam ? cam.name : id }) }), box);
  }));
  $("health-strips").replaceChildren(...strips.filter(Boolean));
}

function drawTimelines() {
  const start = dayStart();
  const at = (us) => `${Math.min(100, Math.max(0, ((us / 1000 - start) / DAY_MS) * 100))}%`;
  const width = (a, b) => `${Math.max(0.15, ((b - a) / 1000 / DAY_MS) * 100)}%`;
  const rows = chosen().map((id) => {
    const tl = timelines[id] || { spans: [], gaps: [], events: [] };
    const bar = el("div", { className: "bar", title: t("Click to play from there") });
    bar.dataset.camera = id;
    // gaps first: a short recording stays visible over a long gap beside it
    for (const g of tl.gaps) bar.append(Object.assign(el("div", { className: "gap", title: g.cause }), { style: `left:${at(g.start_us)};width:${width(g.start_us, g.end_us)}` }));
    for (const s of tl.spans) bar.append(Object.assign(el("div", { className: "span" }), { style: `left:${at(s.start_us)};width:${width(s.start_us, s.end_us)}` }));
    for (const e of tl.events.filter((e) => e.type !== "motion")) {
      const tick = el("div", { className: "tick", title: `${formatTimeUs(e.start_us)} ${e.type}` });
      tick.style.left = at(e.start_us);
      tick.addEventListener("click", (ev) => { ev.stopPropagation(); playFrom(e.start_us / 1000 - 3000); });
      bar.append(tick);
    }
    if (playing) {
      const cur = el("div", { className: "cursor" });
      cur.style.left = at(currentMs() * 1000);
      bar.append(cur);
    }
    bar.addEventListener("click", (ev) => {
      const box = bar.getBoundingClientRect();
      playFrom(start + ((ev.clientX - box.left) / box.width) * DAY_MS);
    });
    const cam = cameras.find((c) => c.id === id);
    return el("div", { className: "timeline-row" }, el("span", { className: "tl-name", textContent: cam ? cam.name : id }), bar,
      tl.error ? el("span", { className: "error", textContent: tl.error }) : null);
  });
  const hours = el("div", { className: "hours" }, ...[0, 3, 6, 9, 12, 15, 18, 21].map((h) => el("span", { textContent: `${String(h).padStart(2, "0")}:00` })));
  $("timelines").replaceChildren(...rows, hours);
}

function currentMs() {
  if (!playing || !playing.players.length) return 0;
  const lead = playing.players[0];
  return lead.clipStartMs + lead.video.currentTime * 1000;
}

async function playFrom(ms) {
  if (!(await needReason())) return;
  const ids = chosen();
  $("player-error").hidden = true;
  if (!ids.length) { $("player-error").textContent = t("Tick at least one camera."); $("player-error").hidden = false; return; }
  $("day").value = dateOf(ms);
  $("time").value = timeOf(ms);
  if (playing) for (const p of playing.players) if (p.player) p.player.close();
  const players = [];
  const boxes = [];
  for (const id of ids) {
    const video = el("video", { controls: ids.length === 1, muted: true, playsInline: true });
    video.dataset.camera = id;
    const cam = cameras.find((c) => c.id === id);
    const note = el("p", { className: "error" });
    players.push({ id, video, note, clipStartMs: ms });
    boxes.push(el("figure", { className: "player" }, video, el("figcaption", { textContent: cam ? cam.name : id }), note));
  }
  $("players").replaceChildren(...boxes);
  $("download").href = clipUrl(ids[0], ms, ms + WINDOW_MS, true);
  playing = { startMs: ms, players };
  // a stream starts at the keyframe at or before `ms` (the instant of its media time 0 comes in
  // X-Stream-Start-Us): each player seeks to `ms` in it and plays
  await Promise.all(players.map(async (p) => {
    p.player = playRecorded(p.video, mediaUrl("playback.mp4", p.id, ms, ms + STREAM_MS));
    try {
      p.clipStartMs = (await p.player.ready).startMs;
      p.video.dataset.startMs = String(p.clipStartMs); // the wall time of media time 0 (read by tests too)
    } catch (err) { p.note.textContent = err.message; return; }
    await seekTo(p.video, Math.max(0, (ms - p.clipStartMs) / 1000)); // once the first fragments are in
    p.video.play().catch(() => {});
  }));
  if (players.length > 1) startSync();
  drawTimelines();
  history.replaceState(null, "", `?camera=${ids.join(",")}&at=${new Date(ms).toISOString()}`);
}

let syncTimer = null;
function startSync() {
  clearInterval(syncTimer);
  syncTimer = setInterval(() => {
    if (!playing || playing.players.length < 2) return;
    const [lead, ...rest] = playing.players;
    for (const p of rest) {
      if (Math.abs(p.video.currentTime - lead.video.currentTime) > 0.3) p.video.currentTime = lead.video.currentTime;
      if (lead.video.paused !== p.video.paused) (lead.video.paused ? p.video.pause() : p.video.play().catch(() => {}));
    }
  }, 250);
}

async function stepEvent(direction) {
  const ids = chosen();
  if (!ids.length) return;
  const now = playing ? currentMs() : instantOf($("day").value, $("time").value);
  const q = new URLSearchParams({ limit: "1", camera: ids[0] });
  if (direction < 0) q.set("end", new Date(now - 4000).toISOString());
  else q.set("start", new Date(now + 4000).toISOString());
  try {
    let found;
    if (direction < 0) {
      found = (await api(`/api/v1/events?${q}`)).items[0];
    } else {
      q.set("limit", "200");
      const items = (await api(`/api/v1/events?${q}`)).items.filter((e) => e.start_us / 1000 > now + 3000 && e.type !== "motion");
      found = items[items.length - 1];
    }
    if (found) playFrom(found.start_us / 1000 - 3000);
    else { $("player-error").textContent = t("No more events that way."); $("player-error").hidden = false; }
  } catch (err) { $("player-error").textContent = err.message; $("player-error").hidden = false; }
}

$("playback-form").addEventListener("submit", (ev) => { ev.preventDefault(); playFrom(instantOf($("day").value, $("time").value)); });
$("day").addEventListener("change", loadTimelines);
$("prev-event").addEventListener("click", () => stepEvent(-1));
$("next-event").addEventListener("click", () => stepEvent(1));
$("download").addEventListener("click", (ev) => {
  if (!playing) { ev.preventDefault(); return; }
  if ((page.reasons || []).includes("export")) {
    const why = askReason(t("export"));
    if (!why || !why.trim()) { ev.preventDefault(); return; }
    const url = new URL($("download").href, location.href);
    url.searchParams.set("reason", why.trim());
    $("download").href = url.toString();
  }
});
setInterval(() => { if (playing) { $("clock").textContent = formatUs(currentMs() * 1000); drawTimelines(); } }, 1000);

(async () => {
  const listed = await api("/api/v1/cameras?limit=1000");
  cameras = listed.items.filter((c) => c.may.includes("playback"));
  const wanted = (params.get("camera") || "").split(",").filter(Boolean);
  const boxes = cameras.map((c, i) => {
    const box = el("input", { type: "checkbox", value: c.id, checked: wanted.length ? wanted.includes(c.id) : i === 0 });
    box.addEventListener("change", loadTimelines);
    return el("label", { className: "check" }, box, ` ${c.name}`);
  });
  $("camera-picks").append(...boxes);
  if (!cameras.length) $("camera-picks").append(el("p", { className: "muted", textContent: t("You may not play back any camera.") }));
  const at = params.get("at") ? new Date(params.get("at")).getTime() : Date.now() - 120000;
  $("day").value = dateOf(at);
  $("time").value = timeOf(at);
  await loadTimelines();
  if (params.get("at") && wanted.length) playFrom(at);
})();

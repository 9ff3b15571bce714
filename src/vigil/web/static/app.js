// Vigil's minimal console: camera status, a timeline bar with events, a player for a chosen range, and the
// latest events with their snapshots (each plays its footage).
const tz = document.body.dataset.timezone || "UTC";
const fmt = new Intl.DateTimeFormat("en-GB", { timeZone: tz, dateStyle: "short", timeStyle: "medium" });
const $ = (id) => document.getElementById(id);
let cameraNames = {};

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

async function getJson(url) {
  const res = await fetch(url);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
  return body;
}

async function refreshCameras() {
  try {
    const cams = await getJson("/api/cameras");
    const tbody = $("cameras").querySelector("tbody");
    tbody.replaceChildren();
    const select = $("camera");
    const chosen = select.value;
    if (select.options.length !== cams.length) {
      select.replaceChildren(...cams.map((c) => new Option(c.name, c.id)));
      if (chosen) select.value = chosen;
      $("ev-camera").replaceChildren(new Option("All cameras", ""), ...cams.map((c) => new Option(c.name, c.id)));
      cameraNames = Object.fromEntries(cams.map((c) => [c.id, c.name]));
    }
    for (const c of cams) {
      const h = c.health || {};
      const tr = document.createElement("tr");
      tr.dataset.camera = c.id;
      tr.append(
        cell(c.name), cell(c.location || c.site, "muted"),
        cell((h.state || "unknown").replace("_", " "), "state " + (h.state || "")),
        cell(h.fps ? h.fps.toFixed(1) : "–"), cell(h.bitrate_kbps ? `${Math.round(h.bitrate_kbps)} kb/s` : "–"),
        cell(h.keyframe_interval_s ? `${h.keyframe_interval_s.toFixed(1)} s` : "–"),
        cell(h.last_packet ? fmt.format(new Date(h.last_packet)) : "–", "muted"),
      );
      const play = document.createElement("button");
      play.textContent = "Last 2 min";
      play.addEventListener("click", () => { select.value = c.id; setRange(120); playChosen(); });
      const td = document.createElement("td");
      td.append(play);
      tr.append(td);
      tbody.append(tr);
    }
    const st = await getJson("/api/status");
    $("capacity").textContent = st.summary;
    $("capacity").className = st.ok ? "muted" : "error";
  } catch (err) {
    $("capacity").textContent = `Cannot reach Vigil: ${err.message}`;
  }
}

function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:` +
    `${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function setRange(seconds) {
  const end = new Date(Date.now() - 5000);
  $("end").value = toLocalInput(end);
  $("start").value = toLocalInput(new Date(end.getTime() - seconds * 1000));
}

function clipUrl() {
  const start = new Date($("start").value).toISOString();
  const end = new Date($("end").value).toISOString();
  return `/api/cameras/${encodeURIComponent($("camera").value)}/clip.mp4?start=${start}&end=${end}`;
}

async function drawTimeline() {
  const end = Date.now(), start = end - 3600e3;
  const bar = $("timeline");
  try {
    const t = await getJson(`/api/cameras/${encodeURIComponent($("camera").value)}/timeline?start=${start * 1000}&end=${end * 1000}`);
    const at = (us) => `${((us / 1000 - start) / 3600e3) * 100}%`;
    const spans = t.spans.map((s) => {
      const div = document.createElement("div");
      div.className = "span";
      div.style.left = at(s.start_us);
      div.style.width = `${Math.max(0.2, ((s.end_us - s.start_us) / 1000 / 3600e3) * 100)}%`;
      return div;
    });
    const ticks = (t.events || []).filter((e) => e.type !== "motion").map((e) => {
      const tick = document.createElement("div");
      tick.className = "tick";
      tick.style.left = at(e.start_us);
      tick.title = e.description;
      tick.addEventListener("click", () => playEvent(e.id));
      return tick;
    });
    bar.replaceChildren(...spans, ...ticks);
  } catch (err) { bar.replaceChildren(); }
}

async function playChosen() {
  const url = clipUrl();
  $("download").href = url;
  $("player-error").hidden = true;
  const res = await fetch(url, { method: "GET", headers: { Range: "bytes=0-0" } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    $("player-error").textContent = body.error ? body.error.message : res.statusText;
    $("player-error").hidden = false;
    return;
  }
  const video = $("video");
  video.src = url;
  video.play().catch(() => {});
  drawTimeline();
}

async function playEvent(id) {
  const detail = await getJson(`/api/events/${id}`);
  $("camera").value = detail.event.camera_id;
  $("start").value = toLocalInput(new Date(detail.start_us / 1000));
  $("end").value = toLocalInput(new Date(detail.end_us / 1000));
  await playChosen();
  $("video").scrollIntoView({ behavior: "smooth", block: "center" });
}

async function refreshEvents() {
  const params = new URLSearchParams({ limit: "24" });
  for (const [key, id] of [["camera", "ev-camera"], ["type", "ev-type"], ["label", "ev-label"], ["q", "ev-q"]]) {
    if ($(id).value.trim()) params.set(key, $(id).value.trim());
  }
  const list = $("events");
  try {
    const events = await getJson(`/api/events?${params}`);
    if (!events.length) { list.replaceChildren(Object.assign(document.createElement("li"), { className: "muted", textContent: "No events." })); return; }
    list.replaceChildren(...events.map((e) => {
      const li = document.createElement("li");
      if (e.data && e.data.snapshot) {
        const img = document.createElement("img");
        img.src = `/api/events/${e.id}/snapshot.jpg`;
        img.alt = e.description;
        img.loading = "lazy";
        li.append(img);
      }
      const text = document.createElement("div");
      const head = document.createElement("div");
      head.className = "muted";
      const labels = (e.labels || []).join(", ");
      head.textContent = `${fmt.format(new Date(e.start_us / 1000))} · ${cameraNames[e.camera_id] || e.camera_id || "node"} · ${e.type}` +
        (e.zone ? ` · ${e.zone}` : "") + (labels ? ` · ${labels}` : "") + (e.score ? ` · ${e.score.toFixed(2)}` : "");
      const desc = document.createElement("div");
      desc.textContent = e.description;
      text.append(head, desc);
      if (e.camera_id) {
        const play = document.createElement("button");
        play.textContent = "Play";
        play.addEventListener("click", () => playEvent(e.id));
        text.append(play);
      }
      li.append(text);
      return li;
    }));
  } catch (err) {
    list.replaceChildren(Object.assign(document.createElement("li"), { className: "error", textContent: err.message }));
  }
}

$("player-form").addEventListener("submit", (ev) => { ev.preventDefault(); playChosen(); });
$("events-form").addEventListener("submit", (ev) => { ev.preventDefault(); refreshEvents(); });
$("camera").addEventListener("change", drawTimeline);
// A link can open playback directly: #camera=ID&last=SECONDS, or #camera=ID&start=ISO&end=ISO
function fromLink() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.get("camera")) return false;
  $("camera").value = params.get("camera");
  if (params.get("start") && params.get("end")) {
    $("start").value = toLocalInput(new Date(params.get("start")));
    $("end").value = toLocalInput(new Date(params.get("end")));
  } else {
    setRange(Number(params.get("last")) || 120);
  }
  playChosen();
  return true;
}

setRange(120);
refreshCameras().then(() => { if (!fromLink()) drawTimeline(); refreshEvents(); });
setInterval(refreshCameras, 5000);
setInterval(refreshEvents, 10000);
setInterval(drawTimeline, 30000);

// Vigil's minimal console: camera status, a timeline bar and a player for a chosen range.
const tz = document.body.dataset.timezone || "UTC";
const fmt = new Intl.DateTimeFormat("en-GB", { timeZone: tz, dateStyle: "short", timeStyle: "medium" });
const $ = (id) => document.getElementById(id);

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
    bar.replaceChildren(...t.spans.map((s) => {
      const div = document.createElement("div");
      div.className = "span";
      div.style.left = `${((s.start_us / 1000 - start) / 3600e3) * 100}%`;
      div.style.width = `${Math.max(0.2, ((s.end_us - s.start_us) / 1000 / 3600e3) * 100)}%`;
      return div;
    }));
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

$("player-form").addEventListener("submit", (ev) => { ev.preventDefault(); playChosen(); });
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
refreshCameras().then(() => { if (!fromLink()) drawTimeline(); });
setInterval(refreshCameras, 5000);
setInterval(drawTimeline, 30000);

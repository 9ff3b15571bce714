// Events: search with filters, snapshots, mark reviewed (per user), open the clip; new events arrive live.
import { $, api, askReason, el, page, t, formatUs } from "./common.js";
import { instantOfLocalInput } from "./zoned.js";

let cameraNames = {};
let cursor = null;
let reason = null;

const typeNames = {
  object: t("Object"), line_cross: t("Line crossed"), zone_enter: t("Zone entered"), zone_exit: t("Zone left"),
  loiter: t("Loitering"), crowd: t("Crowd"), left_behind: t("Left behind"), removed: t("Removed"), motion: t("Motion"),
  fault: t("Picture fault"), camera_offline: t("Camera offline"),
};

function query() {
  const q = new URLSearchParams({ limit: "24" });
  for (const [key, id] of [["camera", "ev-camera"], ["type", "ev-type"], ["label", "ev-label"], ["zone", "ev-zone"], ["q", "ev-q"]]) {
    if ($(id).value.trim()) q.set(key, $(id).value.trim());
  }
  if ($("ev-start").value) q.set("start", new Date(instantOfLocalInput($("ev-start").value)).toISOString());
  if ($("ev-end").value) q.set("end", new Date(instantOfLocalInput($("ev-end").value)).toISOString());
  if ($("ev-unreviewed").checked) q.set("unreviewed", "true");
  return q;
}

function card(e) {
  const li = el("li");
  li.dataset.event = e.id;
  if (e.reviewed) li.classList.add("reviewed");
  if (e.data && e.data.snapshot) {
    li.append(el("img", { src: `/api/v1/events/${e.id}/snapshot.jpg`, alt: e.description, loading: "lazy" }));
  }
  const labels = (e.labels || []).join(", ");
  const head = el("div", { className: "muted", textContent: [formatUs(e.start_us), cameraNames[e.camera_id] || e.camera_id || t("whole node"),
    typeNames[e.type] || e.type, e.zone, labels, e.score ? e.score.toFixed(2) : null].filter(Boolean).join(" · ") });
  const body = el("div", {}, head, el("div", { textContent: e.description }));
  const actions = el("div", { className: "actions" });
  if (e.camera_id && page.may.includes("playback")) {
    const play = el("button", { type: "button", textContent: t("Open clip") });
    play.addEventListener("click", () => openClip(e));
    actions.append(play);
  }
  const mark = el("button", { type: "button", className: "quiet", textContent: e.reviewed ? t("Reviewed ✓") : t("Mark reviewed") });
  mark.addEventListener("click", async () => {
    const done = li.classList.contains("reviewed");
    await api(`/api/v1/events/${e.id}/review`, { method: done ? "DELETE" : "PUT" });
    li.classList.toggle("reviewed", !done);
    mark.textContent = done ? t("Mark reviewed") : t("Reviewed ✓");
  });
  actions.append(mark);
  body.append(actions);
  li.append(body);
  return li;
}

async function search(more = false) {
  const q = query();
  if (more && cursor) q.set("cursor", cursor);
  const list = $("events");
  try {
    const got = await api(`/api/v1/events?${q}`);
    cursor = got.next_cursor;
    const cards = got.items.map(card);
    if (more) list.append(...cards);
    else list.replaceChildren(...(cards.length ? cards : [el("li", { className: "muted", textContent: t("No events.") })]));
    $("more").hidden = !cursor;
  } catch (err) {
    list.replaceChildren(el("li", { className: "error", textContent: err.message }));
  }
}

async function openClip(e) {
  if ((page.reasons || []).includes("playback") && reason === null) {
    const given = askReason(t("playback"));
    if (!given || !given.trim()) return;
    reason = given.trim();
  }
  const detail = await api(`/api/v1/events/${e.id}`);
  const dialog = $("clip-dialog");
  $("clip-title").textContent = `${cameraNames[e.camera_id] || e.camera_id} · ${formatUs(e.start_us)} · ${e.description}`;
  $("clip-error").hidden = true;
  const video = $("clip");
  if (!detail.clip_url) {
    $("clip-error").textContent = t("Nothing was recorded at that time.");
    $("clip-error").hidden = false;
    video.removeAttribute("src");
  } else {
    const url = detail.clip_url + (reason ? `&reason=${encodeURIComponent(reason)}` : "");
    try {
      await api(url, { raw: true, headers: { Range: "bytes=0-0" } });
      video.src = url;
      video.play().catch(() => {});
    } catch (err) { $("clip-error").textContent = err.message; $("clip-error").hidden = false; }
  }
  dialog.showModal();
}

function listen() {
  const source = new EventSource("/api/v1/events/stream");
  source.addEventListener("event", (msg) => {
    const { change, event } = JSON.parse(msg.data);
    if (change === "closed" || $("ev-unreviewed").checked || event.type === "motion") return;
    const q = query();
    const filtered = ["camera", "type", "label", "zone", "q", "start", "end"].some((k) => q.has(k));
    if (filtered) { $("live-note").textContent = t("New events: search again to see them."); return; }
    const list = $("events");
    if (list.querySelector(`[data-event="${event.id}"]`)) return;
    list.querySelector("li.muted")?.remove();
    list.prepend(card(event));
  });
  source.onerror = () => { $("live-note").textContent = t("Live updates paused; retrying…"); };
  source.onopen = () => { $("live-note").textContent = t("Live"); };
}

$("events-form").addEventListener("submit", (ev) => { ev.preventDefault(); $("live-note").textContent = ""; search(); });
$("more").addEventListener("click", () => search(true));
$("clip-dialog").addEventListener("close", () => $("clip").pause());

(async () => {
  const cams = (await api("/api/v1/cameras?limit=1000")).items.filter((c) => c.may.includes("events"));
  cameraNames = Object.fromEntries(cams.map((c) => [c.id, c.name]));
  $("ev-camera").append(...cams.map((c) => new Option(c.name, c.id)));
  const wanted = new URLSearchParams(location.search).get("camera");
  if (wanted) $("ev-camera").value = wanted;
  await search();
  listen();
})();

// The alarm desk: the queue of open alarms (most urgent priority first, then oldest), kept current by the live
// event stream; a new or escalated alarm beeps (WebAudio, no sound file) and shows a desktop notification when the
// browser allows it. The chosen alarm shows its camera live and recorded at the alarm's moment side by side, and is
// acknowledged with the "a" key (r resolves, i opens an incident, arrow keys choose).
import { $, api, askReason, el, formatUs, page, t } from "./common.js";
import { playLive } from "./live.js";
import { playRecorded } from "./recorded.js";

const OPEN = ["new", "acknowledged", "assigned"];
const BEFORE_MS = 10_000; // recorded video starts this long before the alarm's latest event
const AFTER_MS = 60_000;
let alarms = [];
let cursor = null;
let chosen = null; // the chosen alarm's id
let cameraNames = {};
let players = { live: null, recorded: null, camera: null };
let reason = null;
let audio = null;

const stateNames = {
  new: t("New"), acknowledged: t("Acknowledged"), assigned: t("Assigned"), resolved: t("Resolved"), suppressed: t("Suppressed"),
};
const changeNames = {
  raised: t("raised"), folded: t("another event"), acknowledged: t("acknowledged"), assigned: t("assigned"),
  resolved: t("resolved"), escalated: t("escalated"), suppressed: t("suppressed"), linked: t("added to an incident"),
};

// --- alerts: a beep and a desktop notification ------------------------------------------------------------------
export function beep(priority) {
  if (!window.AudioContext) return false;
  audio = audio || new AudioContext();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  const count = priority <= 1 ? 3 : priority === 2 ? 2 : 1;
  const start = audio.currentTime + 0.02;
  for (let k = 0; k < count; k += 1) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.type = "square";
    tone.frequency.value = priority <= 1 ? 988 : 784;
    gain.gain.setValueAtTime(0.0001, start + k * 0.3);
    gain.gain.exponentialRampToValueAtTime(0.2, start + k * 0.3 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + k * 0.3 + 0.2);
    tone.connect(gain).connect(audio.destination);
    tone.start(start + k * 0.3);
    tone.stop(start + k * 0.3 + 0.22);
  }
  document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
  return true;
}

function desktopNotice(alarm, change) {
  if (!("Notification" in window) || Notification.permission !== "granted") return false;
  const title = change === "escalated" ? t("Escalated: %(title)s", { title: alarm.title }) : alarm.title;
  const notice = new Notification(title, { body: alarm.text, tag: `vigil-alarm-${alarm.id}` });
  notice.onclick = () => { window.focus(); choose(alarm.id); };
  document.body.dataset.notices = String(Number(document.body.dataset.notices || 0) + 1);
  return true;
}

async function enableAlerts() {
  audio = audio || (window.AudioContext ? new AudioContext() : null);
  if (audio) await audio.resume().catch(() => {});
  if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
  showAlertState();
}

function showAlertState() {
  const sound = audio && audio.state === "running";
  const desk = "Notification" in window && Notification.permission === "granted";
  $("alerts-on").textContent = sound && desk ? t("Sound and desktop alerts on") : t("Turn on sound and desktop alerts");
}

// --- the queue ----------------------------------------------------------------------------------------------------
function view() { return $("alarm-view").value; }

function query() {
  const q = new URLSearchParams({ limit: "100" });
  if (view() === "queue") q.set("order", "queue");
  else { q.set("state", view()); q.set("order", "newest"); }
  return q;
}

async function load(more = false) {
  const q = query();
  if (more && cursor) q.set("cursor", cursor);
  try {
    const got = await api(`/api/v1/alarms?${q}`);
    alarms = more ? alarms.concat(got.items) : got.items;
    cursor = got.next_cursor;
    $("alarm-more").hidden = !cursor;
    render();
    if (!chosen && alarms.length) choose(alarms[0].id);
  } catch (err) { $("alarm-note").textContent = err.message; }
}

function sortQueue() {
  if (view() === "queue") alarms.sort((a, b) => a.priority - b.priority || a.created_us - b.created_us || a.id - b.id);
  else alarms.sort((a, b) => b.created_us - a.created_us);
}

function render() {
  sortQueue();
  const items = alarms.map((a) => {
    const li = el("li", { tabIndex: -1 });
    li.dataset.alarm = a.id;
    li.dataset.state = a.state;
    li.classList.toggle("chosen", a.id === chosen);
    const count = a.event_count > 1 ? ` ×${a.event_count}` : "";
    li.append(
      el("span", { className: `prio p${a.priority}`, textContent: `P${a.priority}` }),
      el("div", {},
        el("strong", { textContent: a.title + count }),
        el("div", { className: "muted", textContent: [formatUs(a.created_us), stateNames[a.state] || a.state,
          a.assigned_to ? t("assigned to %(who)s", { who: a.assigned_to }) : a.acknowledged_by,
          a.escalation_level ? t("escalated %(n)s×", { n: a.escalation_level }) : null].filter(Boolean).join(" · ") })),
    );
    li.addEventListener("click", () => choose(a.id));
    return li;
  });
  $("alarm-queue").replaceChildren(...(items.length ? items : [el("li", { className: "muted", textContent: t("No alarms.") })]));
  const newCount = alarms.filter((a) => a.state === "new").length;
  document.title = (newCount ? `(${newCount}) ` : "") + document.title.replace(/^\(\d+\) /, "");
}

function upsert(alarm) {
  const wanted = view() === "queue" ? OPEN.includes(alarm.state) : alarm.state === view();
  alarms = alarms.filter((a) => a.id !== alarm.id);
  if (wanted) alarms.push(alarm);
  render();
  if (chosen === alarm.id) showDetail(alarm, false);
  if (!chosen && wanted) choose(alarm.id);
}

// --- the chosen alarm ---------------------------------------------------------------------------------------------
function current() { return alarms.find((a) => a.id === chosen); }

async function choose(id) {
  chosen = id;
  render();
  const a = current();
  if (a) showDetail(a, true);
  $(`alarm-queue`).querySelector(`[data-alarm="${id}"]`)?.scrollIntoView({ block: "nearest" });
}

function showDetail(a, freshPlayers) {
  $("alarm-detail").hidden = false;
  $("ad-title").textContent = a.title;
  const where = a.camera_id ? cameraNames[a.camera_id] || a.camera_id : t("whole node");
  $("ad-facts").textContent = [`#${a.id}`, `P${a.priority}`, a.rule, where, formatUs(a.created_us), stateNames[a.state] || a.state,
    a.event_count > 1 ? t("%(n)s events", { n: a.event_count }) : null, a.suppressed_by].filter(Boolean).join(" · ");
  $("ad-text").textContent = a.text;
  const open = OPEN.includes(a.state);
  $("ad-ack").disabled = a.state !== "new";
  for (const id of ["ad-assign", "ad-resolve"]) $(id).disabled = !open;
  $("ad-ticket").hidden = !a.camera_id;
  $("ad-error").textContent = "";
  if (freshPlayers) play(a);
  history(a.id);
}

async function history(id) {
  try {
    const got = await api(`/api/v1/alarms/${id}`);
    $("ad-history").replaceChildren(...got.history.map((h) => el("li", {
      textContent: `${formatUs(h.at_us)} · ${h.actor} · ${changeNames[h.change] || h.change}` +
        (h.detail && Object.keys(h.detail).length ? ` · ${Object.entries(h.detail).map(([k, v]) => `${k}: ${v}`).join(", ")}` : ""),
    })));
  } catch (err) { $("ad-history").replaceChildren(el("li", { className: "error", textContent: err.message })); }
}

function stopPlayers() {
  players.live?.close();
  players.recorded?.close();
  players = { live: null, recorded: null, camera: null };
}

function play(a) {
  if (!a.camera_id) { stopPlayers(); return; }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  if (players.camera !== a.camera_id) {
    players.live?.close();
    players.live = playLive($("ad-live"), `${scheme}://${location.host}/api/v1/cameras/${encodeURIComponent(a.camera_id)}/live`, {
      onState: (state, detail) => {
        $("ad-live").dataset.state = state;
        $("ad-live-state").textContent = state === "playing" ? t("Live") : `${t("Live")}: ${detail || state}`;
      },
    });
  }
  players.recorded?.close();
  players.camera = a.camera_id;
  if ((page.reasons || []).includes("playback") && reason === null) {
    const given = askReason(t("playback"));
    reason = given && given.trim() ? given.trim() : null;
  }
  const at = a.last_event_us / 1000;
  const q = new URLSearchParams({ start: new Date(at - BEFORE_MS).toISOString(), end: new Date(at + AFTER_MS).toISOString() });
  if (reason) q.set("reason", reason);
  const video = $("ad-recorded");
  players.recorded = playRecorded(video, `/api/v1/cameras/${encodeURIComponent(a.camera_id)}/playback.mp4?${q}`);
  players.recorded.ready.then(({ startMs }) => {
    video.currentTime = Math.max(0, (at - BEFORE_MS / 2 - startMs) / 1000);
    video.dataset.state = "playing";
    $("ad-rec-state").textContent = t("Recorded at %(when)s", { when: formatUs(a.last_event_us) });
    video.play().catch(() => {});
  }).catch((err) => { video.dataset.state = "error"; $("ad-rec-state").textContent = err.message; });
}

async function act(path, body) {
  const a = current();
  if (!a) return;
  try {
    upsert(await api(`/api/v1/alarms/${a.id}/${path}`, { method: "POST", body }));
    $("alarm-note").textContent = "";
  } catch (err) { $("ad-error").textContent = err.message; }
}

const acknowledge = () => { if (current()?.state === "new") act("acknowledge"); };
const resolve = () => act("resolve", { outcome: $("ad-outcome").value, note: $("ad-note").value.trim() });

function assign() {
  const who = window.prompt(t("Give this alarm to (user name):"), page.user);
  if (who && who.trim()) act("assign", { to: who.trim() });
}

async function openIncident() {
  const a = current();
  if (!a) return;
  try {
    const type = $("ad-type").value;
    const made = await api("/api/v1/incidents", { method: "POST", body: { type, title: a.title, alarms: [a.id] } });
    location.assign(`/incidents?id=${made.incident.id}`);
  } catch (err) { $("ad-error").textContent = err.message; }
}

async function openTicket() {
  const a = current();
  if (!a || !a.camera_id) return;
  try {
    const title = `${t("From alarm #%(id)s", { id: a.id })}: ${a.title}`.slice(0, 200);
    const made = await api("/api/v1/tickets", { method: "POST", body: { equipment_id: a.camera_id, title,
      source: "alarm", source_ref: `alarm:${a.id}`, note: $("ad-note").value.trim() } });
    location.assign(`/maintenance?id=${made.id}`);
  } catch (err) { $("ad-error").textContent = err.message; }
}

function move(step) {
  if (!alarms.length) return;
  const at = alarms.findIndex((a) => a.id === chosen);
  const next = Math.min(alarms.length - 1, Math.max(0, (at < 0 ? 0 : at) + step));
  choose(alarms[next].id);
}

document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ["INPUT", "SELECT", "TEXTAREA"].includes(ev.target.tagName)) return;
  const keys = { a: acknowledge, r: resolve, i: openIncident, ArrowDown: () => move(1), j: () => move(1), ArrowUp: () => move(-1), k: () => move(-1) };
  if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
});

// --- suppressions ---------------------------------------------------------------------------------------------------
async function loadSuppressions() {
  try {
    const got = await api("/api/v1/suppressions");
    $("suppressions").replaceChildren(...got.items.map((s) => {
      const lift = el("button", { type: "button", className: "quiet", textContent: t("Lift") });
      lift.addEventListener("click", async () => {
        const why = window.prompt(t("Why lift it now?"));
        if (!why || !why.trim()) return;
        await api(`/api/v1/suppressions/${s.id}/lift`, { method: "POST", body: { reason: why.trim() } }).catch((err) => { $("alarm-note").textContent = err.message; });
        loadSuppressions();
      });
      const cams = s.cameras.length ? s.cameras.map((c) => cameraNames[c] || c).join(", ") : t("every camera");
      const until = s.end_us ? formatUs(s.end_us) : t("until lifted");
      return el("li", { textContent: `${s.kind === "disarm" ? t("Disarmed") : t("Maintenance")}: ${cams} · ${until} · ${s.placed_by}: ${s.reason} ` }, lift);
    }));
    if (!got.items.length) $("suppressions").replaceChildren(el("li", { className: "muted", textContent: t("None.") }));
  } catch (err) { $("suppressions").replaceChildren(el("li", { className: "error", textContent: err.message })); }
}

$("suppress-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const minutes = Number($("sup-minutes").value || 60);
  const camera = $("sup-camera").value;
  const body = { kind: $("sup-kind").value, cameras: camera ? [camera] : [], reason: $("sup-reason").value.trim(),
    end: new Date(Date.now() + minutes * 60_000).toISOString() };
  try {
    await api("/api/v1/suppressions", { method: "POST", body });
    $("sup-reason").value = "";
    loadSuppressions();
  } catch (err) { $("alarm-note").textContent = err.message; }
});

// --- live updates ---------------------------------------------------------------------------------------------------
function listen() {
  const source = new EventSource("/api/v1/events/stream");
  source.addEventListener("alarm", (msg) => {
    const { change, alarm } = JSON.parse(msg.data);
    upsert(alarm);
    if (change === "raised" || change === "escalated") {
      beep(alarm.priority);
      desktopNotice(alarm, change);
    }
  });
  source.onerror = () => { $("alarm-note").textContent = t("Live updates paused; retrying…"); };
  source.onopen = () => { $("alarm-note").textContent = ""; document.body.dataset.live = "yes"; load(); };
}

$("ad-ack").addEventListener("click", acknowledge);
$("ad-resolve").addEventListener("click", resolve);
$("ad-assign").addEventListener("click", assign);
$("ad-incident").addEventListener("click", openIncident);
$("ad-ticket").addEventListener("click", openTicket);
$("alarm-more").addEventListener("click", () => load(true));
$("alarm-view").addEventListener("change", () => { chosen = null; stopPlayers(); $("alarm-detail").hidden = true; load(); });
$("alerts-on").addEventListener("click", enableAlerts);

(async () => {
  const cams = (await api("/api/v1/cameras?limit=1000")).items.filter((c) => c.may.includes("events"));
  cameraNames = Object.fromEntries(cams.map((c) => [c.id, c.name]));
  $("sup-camera").append(...(page.role === "admin" ? [new Option(t("Every camera"), "")] : []), ...cams.map((c) => new Option(c.name, c.id)));
  const plans = (await api("/api/v1/plans").catch(() => ({ items: [] }))).items.filter((p) => p.valid);
  $("ad-type").append(...plans.map((p) => new Option(p.title, p.type)), new Option(t("Other"), "other"));
  showAlertState();
  await load();
  loadSuppressions();
  listen();
})();

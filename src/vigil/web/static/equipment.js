// Equipment: the register with status, availability over 30 days, open tickets and warranty; one record with its
// health strip, fields (saved with the revision shown), documents, tickets and history; a camera's device replaced,
// then the new view compared with the old one while the installer aims it.
import { $, api, el, formatUs, may, page, t } from "./common.js";
import { KINDS, STATES } from "./ticket_words.js";
import { drawStrip } from "./strip.js";

const EQ_KINDS = { camera: t("Camera"), node: t("Vigil node"), disk: t("Disk"), switch: t("Switch"), port_group: t("Port group"),
  power: t("Power supply or UPS"), recorder: t("Third-party recorder"), other: t("Other") };
const STATUS = { recording: t("recording"), offline: t("offline"), fault: t("fault"), maintenance: t("maintenance"),
  ok: t("ok"), removed: t("removed"), not_running: t("not running"), unknown: t("unknown") };
const FIELDS = [["location", t("Location")], ["model", t("Model")], ["serial", t("Serial")], ["firmware", t("Firmware")],
  ["ip", t("IP address")], ["mac", t("MAC address")], ["vendor", t("Vendor")], ["vendor_contact", t("Vendor contact")],
  ["installer_contact", t("Installer contact")], ["installed", t("Installed (YYYY-MM-DD)")], ["warranty_end", t("Warranty until (YYYY-MM-DD)")],
  ["lens", t("Lens")], ["fov_deg", t("Field of view (degrees)")], ["mount_height_m", t("Mounting height (m)")],
  ["depends_on", t("Depends on (id@port, ...)")], ["notes", t("Notes")]];
const NUMBERS = new Set(["fov_deg", "mount_height_m"]);
const working = may("maintenance");
let current = null;
let matching = null;

const links = (e) => e.depends_on.map((d) => (d.port ? `${d.equipment_id}@${d.port}` : d.equipment_id)).join(", ");
const share = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(2)}%`);

async function list() {
  const end = new Date(), start = new Date(end.getTime() - 30 * 86400000);
  try {
    const [got, avail] = await Promise.all([api("/api/v1/equipment"),
      api(`/api/v1/availability?start=${start.toISOString()}&end=${end.toISOString()}&each=true`).catch(() => ({ items: [] }))]);
    const recording = {};
    for (const a of avail.items) if (a.subject.startsWith("camera:")) recording[a.subject.slice(7)] = a.whole.recording_share;
    if (avail.items.length === 1 && avail.items[0].cameras.length === 1) recording[avail.items[0].cameras[0]] = avail.items[0].whole.recording_share;
    const today = new Date().toISOString().slice(0, 10);
    $("register").querySelector("tbody").replaceChildren(...got.items.map((e) => {
      const tr = el("tr", {}, el("td", {}, el("a", { href: `#${e.id}`, textContent: e.id })), el("td", { textContent: EQ_KINDS[e.kind] || e.kind }),
        el("td", { textContent: e.name }), el("td", { className: `state ${e.status}`, textContent: STATUS[e.status] || e.status }),
        el("td", { textContent: e.kind === "camera" ? share(recording[e.id]) : "" }), el("td", { textContent: e.open_tickets || "" }),
        el("td", { textContent: e.model }), el("td", { textContent: e.serial }),
        el("td", { className: e.warranty_end && e.warranty_end < today ? "warn" : "", textContent: e.warranty_end }),
        el("td", { textContent: links(e) }));
      tr.dataset.equipment = e.id;
      tr.dataset.status = e.status;
      tr.addEventListener("click", () => show(e.id));
      return tr;
    }));
  } catch (err) { $("eq-note").textContent = err.message; }
}

async function show(id) {
  let got;
  try { got = await api(`/api/v1/equipment/${encodeURIComponent(id)}`); } catch (err) { $("eq-note").textContent = err.message; return; }
  const e = current = got.equipment;
  history.replaceState(null, "", `/equipment#${id}`);
  $("record").hidden = false;
  $("record").dataset.equipment = e.id;
  $("record").dataset.revision = e.revision;
  $("eq-title").textContent = `${e.name} (${e.id})`;
  $("eq-facts").textContent = [EQ_KINDS[e.kind] || e.kind, STATUS[e.status] || e.status, e.site,
    got.upstream.length ? t("needs %(list)s", { list: got.upstream.join(", ") }) : "",
    got.dependents.length ? t("needed by %(list)s", { list: got.dependents.join(", ") }) : "",
    t("revision %(n)s, %(who)s", { n: e.revision, who: e.updated_by })].filter(Boolean).join(" · ");
  form(e);
  $("eq-docs").replaceChildren(...(got.documents.length ? got.documents.map((d) => el("li", {},
    el("a", { href: `/api/v1/equipment/${encodeURIComponent(e.id)}/documents/${d.id}`, textContent: d.name }),
    el("span", { className: "muted", textContent: ` ${d.content_type} · ${Math.ceil(d.size_bytes / 1024)} KB · ${d.added} · ${d.added_by}` })))
    : [el("li", { className: "muted", textContent: t("None yet.") })]));
  $("eq-tickets").replaceChildren(...(got.tickets.length ? got.tickets.map((k) => el("li", {},
    el("a", { href: `/maintenance?id=${k.id}`, textContent: `#${k.id} ${k.title}` }),
    el("span", { className: "muted", textContent: ` · ${STATES[k.state] || k.state} · ${KINDS[k.kind] || k.kind} · ${formatUs(k.opened_us)}` })))
    : [el("li", { className: "muted", textContent: t("None.") })]));
  $("eq-history").replaceChildren(...got.history.map((h) => el("tr", {}, el("td", { textContent: formatUs(h.at_us) }),
    el("td", { textContent: h.actor }), el("td", { textContent: h.change }),
    el("td", { className: "detail", textContent: Object.entries(h.detail.fields || {}).map(([k, [a, b]]) => `${k}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`).join("; ")
      + (h.detail.reason ? ` (${h.detail.reason})` : "") }))));
  const camera = e.kind === "camera";
  $("eq-replace-part").hidden = !camera;
  $("eq-strip").replaceChildren();
  $("eq-availability").textContent = "";
  $("eq-quality-part").hidden = !camera;
  if (camera) await Promise.all([strip(e.id), quality(e.id)]);
  if (!camera) stopMatching();
}

function form(e) {
  const inputs = FIELDS.map(([key, label]) => {
    const value = key === "depends_on" ? links(e) : (e[key] ?? "");
    const input = el("input", { id: `eq-f-${key}`, value: String(value), size: key === "notes" ? 40 : 16, disabled: !working });
    input.dataset.original = String(value);
    return el("label", {}, label, input);
  });
  const save = el("button", { type: "submit", textContent: t("Save"), hidden: !working });
  $("eq-form").replaceChildren(...inputs, save);
}

async function saveForm(ev) {
  ev.preventDefault();
  const values = {};
  for (const [key] of FIELDS) {
    const input = $(`eq-f-${key}`);
    if (input.value === input.dataset.original) continue;
    if (key === "depends_on") values.depends_on = input.value.split(",").map((s) => s.trim()).filter(Boolean);
    else if (NUMBERS.has(key)) values[key] = input.value.trim() === "" ? null : Number(input.value);
    else values[key] = input.value;
  }
  if (!Object.keys(values).length) { $("eq-result").textContent = t("Nothing changed."); return; }
  try {
    await api(`/api/v1/equipment/${encodeURIComponent(current.id)}`, { method: "PATCH", body: { revision: current.revision, values } });
    await show(current.id);
    await list();
    $("eq-result").textContent = t("Saved.");
    $("eq-result").className = "";
  } catch (err) {
    $("eq-result").textContent = err.message;
    $("eq-result").className = "error";
  }
}

async function strip(camera) {
  const days = Number($("eq-span").value);
  const end = new Date(), start = new Date(end.getTime() - days * 86400000);
  const span = `start=${start.toISOString()}&end=${end.toISOString()}`;
  try {
    const [got, avail] = await Promise.all([api(`/api/v1/cameras/${encodeURIComponent(camera)}/health-strip?${span}`),
      api(`/api/v1/availability?${span}&camera=${encodeURIComponent(camera)}`)]);
    drawStrip($("eq-strip"), got);
    const w = avail.items[0].whole;
    $("eq-availability").textContent = t("%(rec)s recording, %(ok)s healthy picture, %(n)s outage(s), unplanned down %(down)s min, planned %(planned)s min",
      { rec: share(w.recording_share), ok: share(w.healthy_share), n: w.outages, down: Math.round(w.unplanned_down_s / 60), planned: Math.round(w.planned_down_s / 60) });
  } catch (err) { $("eq-availability").textContent = err.message; }
}

const METRICS = { sharpness: t("sharpness"), contrast: t("contrast"), brightness: t("brightness"), noise: t("noise"), cast: t("colour cast") };
const PERIODS = { day: t("by day"), night: t("by night") };

function spark(values, baseline, bad) {
  // one figure's daily samples as a line, its baseline dashed; red when it has declined
  const ns = "http://www.w3.org/2000/svg", w = 180, h = 36;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("class", bad ? "spark bad" : "spark");
  const all = baseline === undefined ? values : [...values, baseline];
  const lo = Math.min(...all), hi = Math.max(...all), span = hi - lo || 1;
  const y = (v) => (hi === lo ? h / 2 : h - 3 - ((v - lo) / span) * (h - 6)).toFixed(1);
  const x = (i) => (values.length > 1 ? (i * (w - 4)) / (values.length - 1) + 2 : w / 2).toFixed(1);
  if (baseline !== undefined) {
    const line = document.createElementNS(ns, "line");
    for (const [k, v] of [["x1", 0], ["x2", w], ["y1", y(baseline)], ["y2", y(baseline)]]) line.setAttribute(k, v);
    line.setAttribute("class", "base");
    svg.append(line);
  }
  const path = document.createElementNS(ns, "polyline");
  path.setAttribute("points", values.map((v, i) => `${x(i)},${y(v)}`).join(" "));
  svg.append(path);
  return svg;
}

async function quality(camera) {
  let got;
  try { got = await api(`/api/v1/cameras/${encodeURIComponent(camera)}/quality`); } catch (err) { $("eq-quality-note").textContent = err.message; return; }
  const bad = new Set(got.findings.map((f) => `${f.period}:${f.metric}`));
  const rows = [];
  for (const period of Object.keys(PERIODS)) {
    const samples = got.samples.filter((s) => s.period === period).slice(-90);
    if (!samples.length) continue;
    for (const metric of Object.keys(METRICS)) {
      const base = got.baselines[period]?.[metric];
      const last = samples[samples.length - 1][metric];
      const fig = (v) => Number(v.toPrecision(3));
      const row = el("div", { className: "spark-row" }, el("span", { textContent: `${PERIODS[period]}: ${METRICS[metric]}` }),
        spark(samples.map((s) => s[metric]), base, bad.has(`${period}:${metric}`)),
        el("span", { className: "muted", textContent: base === undefined ? `${fig(last)}` : t("%(now)s (usual %(base)s)", { now: fig(last), base: fig(base) }) }));
      row.dataset.metric = `${period}:${metric}`;
      row.classList.toggle("declined", bad.has(`${period}:${metric}`));
      rows.push(row);
    }
  }
  $("eq-quality").replaceChildren(...rows);
  const days = new Set(got.samples.map((s) => s.day)).size;
  $("eq-quality-note").textContent = !got.samples.length ? t("No daily check yet: the camera is measured once a day and once a night on what it recorded.")
    : got.findings.length ? got.findings.map((f) => f.text).join("; ")
    : Object.keys(got.baselines).length ? t("%(n)s days measured; nothing has declined against the camera's own baseline (dashed).", { n: days })
    : t("%(n)s days measured; the baseline is still being taken.", { n: days });
}

async function upload(ev) {
  ev.preventDefault();
  const file = $("eq-file").files[0];
  if (!file) return;
  const res = await fetch(`/api/v1/equipment/${encodeURIComponent(current.id)}/documents?name=${encodeURIComponent(file.name)}`,
    { method: "POST", body: file, headers: { "X-CSRF-Token": page.csrf, "Content-Type": "application/octet-stream" }, credentials: "same-origin" });
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    $("eq-result").textContent = (data.error || {}).message || res.statusText;
    $("eq-result").className = "error";
    return;
  }
  $("eq-file").value = "";
  $("eq-result").textContent = t("Kept.");
  $("eq-result").className = "";
  await show(current.id);
}

async function replace(ev) {
  ev.preventDefault();
  const device = {};
  for (const key of ["model", "serial", "firmware"]) if ($(`rp-${key}`).value.trim()) device[key] = $(`rp-${key}`).value.trim();
  const body = { device, reason: $("rp-reason").value.trim(), revision: current.revision };
  if ($("rp-ticket").value) body.ticket_id = Number($("rp-ticket").value);
  try {
    await api(`/api/v1/cameras/${encodeURIComponent(current.id)}/replace`, { method: "POST", body });
    await show(current.id);
    startMatching(current.id);
  } catch (err) { $("eq-result").textContent = err.message; $("eq-result").className = "error"; }
}

const VERDICTS = { restored: t("the view is as it was"), adjust: t("aim it again, or accept the moved shapes"), no_match: t("not the same view") };

async function matchOnce(camera) {
  try {
    const m = await api(`/api/v1/cameras/${encodeURIComponent(camera)}/view-match`);
    $("view-match").hidden = false;
    $("view-match").dataset.verdict = m.verdict;
    $("vm-verdict").textContent = VERDICTS[m.verdict] || m.verdict;
    $("vm-verdict").className = `state ${m.verdict === "restored" ? "recording" : m.verdict === "adjust" ? "not_running" : "offline"}`;
    $("vm-figures").textContent = m.matched ? t("Shift %(x)s% across, %(y)s% down; rotation %(r)s°; zoom ×%(z)s; %(o)s% of the old view in sight (%(n)s features)",
      { x: (100 * m.shift_x).toFixed(1), y: (100 * m.shift_y).toFixed(1), r: m.rotation_deg.toFixed(1), z: m.zoom.toFixed(3), o: (100 * m.overlap).toFixed(0), n: m.inliers }) : m.reason;
    $("vm-old").src = `/api/v1/cameras/${encodeURIComponent(camera)}/old-view.jpg`;
    $("vm-now").src = `/api/v1/cameras/${encodeURIComponent(camera)}/picture.jpg?t=${Date.now()}`;
    $("vm-accept").hidden = !(may("admin") && m.verdict === "adjust" && Object.keys(m.proposed).length);
    $("vm-accept").onclick = () => accept(camera, m);
  } catch (err) {
    $("view-match").hidden = err.status === 404;
    $("vm-figures").textContent = err.message;
  }
}

function startMatching(camera) {
  stopMatching();
  matchOnce(camera);
  matching = setInterval(() => matchOnce(camera), 3000);
}

function stopMatching() { if (matching) clearInterval(matching); matching = null; }

async function accept(camera, m) {
  try {
    const doc = await api(`/api/v1/settings/cameras/${encodeURIComponent(camera)}`);
    const c = { ...doc.camera };
    const analysis = { ...(c.analysis || {}) };
    for (const key of ["zones", "lines", "motion_mask"]) if (m.proposed[key]) analysis[key] = m.proposed[key];
    c.analysis = analysis;
    if (m.proposed.privacy_masks) c.privacy_masks = m.proposed.privacy_masks;
    delete c.id;
    await api(`/api/v1/settings/cameras/${encodeURIComponent(camera)}`, { method: "PUT",
      body: { camera: c, revision: doc.revision, reason: t("device replaced: shapes moved to the new view") } });
    $("vm-result").textContent = t("Saved. The change is in force.");
  } catch (err) { $("vm-result").textContent = err.message; }
}

for (const node of document.querySelectorAll(".works")) node.hidden = !working;
$("eq-form").addEventListener("submit", saveForm);
$("eq-span").addEventListener("change", () => { if (current && current.kind === "camera") strip(current.id); });
$("eq-upload").addEventListener("submit", upload);
$("eq-replace").addEventListener("submit", replace);
$("eq-new").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const made = await api("/api/v1/equipment", { method: "POST", body: { id: $("eq-new-id").value.trim(), kind: $("eq-new-kind").value, name: $("eq-new-name").value.trim() } });
    $("eq-new-id").value = $("eq-new-name").value = "";
    await list();
    await show(made.id);
  } catch (err) { $("eq-note").textContent = err.message; }
});
await list();
if (location.hash.length > 1) {
  const id = decodeURIComponent(location.hash.slice(1));
  await show(id);
  if (current && current.kind === "camera") {
    api(`/api/v1/cameras/${encodeURIComponent(id)}/view-match`).then(() => startMatching(id)).catch(() => {});
  }
}
document.body.dataset.ready = "yes";

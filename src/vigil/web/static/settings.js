// Settings (admins): the cameras of vigil.yaml, edited while Vigil runs. A camera is loaded as the file has it
// (never with a password), changed in the form, and saved whole; the server checks it like the file at start-up
// and answers with the path of any bad key. Fields the form does not show are kept as they are.
import { $, api, el, t } from "./common.js";
import { RuleEditor } from "./rules.js";
import { ShapeEditor } from "./shapes.js";

const shapes = new ShapeEditor();
const rules = new RuleEditor(shapes);
shapes.changed = () => rules.refresh();
let revision = null;
let current = null; // the camera document being edited (null: a new camera)
let cameras = [];

function result(text, bad = false) { $("form-result").textContent = text; $("form-result").className = bad ? "error" : "muted"; }
const value = (id) => $(id).value.trim();
const set = (obj, key, v) => { if (v === "" || v === null || v === undefined) delete obj[key]; else obj[key] = v; };
const number = (id) => (value(id) === "" ? null : Number(value(id)));
// Write a setting only when it differs from its default or was written already (vigil.yaml stays short).
const choose = (obj, key, v, dflt) => { if (v !== dflt || key in obj) obj[key] = v; };

async function load(select) {
  const settings = await api("/api/v1/settings");
  revision = settings.revision;
  cameras = settings.cameras;
  $("file-problem").hidden = !settings.problem;
  $("file-problem").textContent = settings.problem ? t("%(file)s has a problem, so the last good settings stay in force: %(problem)s", { file: settings.source, problem: settings.problem }) : "";
  $("restart-pending").hidden = !settings.restart_pending.length;
  $("restart-pending").textContent = t("Changed, in force after a restart: %(keys)s", { keys: settings.restart_pending.join(", ") });
  const items = cameras.map((c) => {
    const link = el("a", { href: `#${c.id}`, textContent: c.name || c.id });
    const state = c.enabled === false ? t("disabled") : c.record === false ? t("not recorded") : "";
    return el("li", { className: c.id === select ? "current" : "" }, link, el("span", { className: "muted", textContent: ` ${c.id} ${state}` }));
  });
  $("camera-list").replaceChildren(...items);
  if (select !== undefined) edit(select);
}

function streamRow(name) { return document.querySelector(`.stream-row[data-stream="${name}"]`); }

function fillStream(name, s) {
  const row = streamRow(name);
  row.querySelector(".s-url").value = s?.url || "";
  row.querySelector(".s-username").value = s?.username || "";
  row.querySelector(".s-password").value = "";
  row.querySelector(".s-password").placeholder = s?.password_set ? t("(unchanged)") : "";
  row.querySelector(".s-password-env").value = s?.password_env || "";
  row.querySelector(".s-remove-password").checked = false;
  row.querySelector(".s-remove-password").parentElement.hidden = !s?.password_set;
}

function edit(id) {
  current = cameras.find((c) => c.id === id) || null;
  const c = current || { enabled: true, record: true, streams: { main: {} } };
  for (const li of $("camera-list").children) li.className = li.querySelector("a").hash === `#${id}` ? "current" : "";
  $("camera-form").hidden = false;
  $("form-title").textContent = current ? t("Camera %(name)s", { name: c.name || c.id }) : t("New camera");
  $("f-id").value = c.id || "";
  $("f-id").disabled = Boolean(current);
  $("f-name").value = c.name || "";
  $("f-site").value = c.site || "";
  $("f-location").value = c.location || "";
  $("f-enabled").checked = c.enabled !== false;
  $("f-record").checked = c.record !== false;
  fillStream("main", c.streams?.main);
  fillStream("sub", c.streams?.sub);
  $("f-has-sub").checked = Boolean(c.streams?.sub);
  streamRow("sub").hidden = !c.streams?.sub;
  const d = c.device || {};
  $("f-model").value = d.model || ""; $("f-serial").value = d.serial || ""; $("f-installed").value = d.installed || ""; $("f-notes").value = d.notes || "";
  $("f-max-age").value = c.retention?.max_age_days ?? ""; $("f-min-days").value = c.retention?.min_days ?? "";
  const a = c.analysis || {};
  $("f-analysis").checked = a.enabled !== false; $("f-analysis-stream").value = a.stream || "auto";
  $("f-motion").checked = a.motion !== false; $("f-faults").checked = a.faults !== false;
  $("f-detect").checked = a.detect !== false; $("f-object-events").checked = a.object_events !== false;
  shapes.load(a, c.privacy_masks);
  rules.load(a.rules);
  $("delete-camera").hidden = !current;
  $("f-reason").value = "";
  result("");
  picture();
}

function picture() {
  const img = $("picture");
  img.removeAttribute("src");
  if (!current) { img.alt = t("Save the camera first; its picture then appears here."); return; }
  img.alt = t("Loading a picture of the camera…");
  img.src = `/api/v1/cameras/${encodeURIComponent(current.id)}/picture.jpg?t=${Date.now()}`;
  img.onerror = () => { img.alt = t("No picture of this camera could be read (is it online?). Shapes can still be drawn."); shapes.fit(); };
}

function streamValue(name, before) {
  const row = streamRow(name);
  const out = structuredClone(before || {});
  delete out.password_set;
  set(out, "url", row.querySelector(".s-url").value.trim());
  set(out, "username", row.querySelector(".s-username").value.trim());
  set(out, "password_env", row.querySelector(".s-password-env").value.trim());
  const typed = row.querySelector(".s-password").value;
  if (typed) out.password = typed;
  else if (row.querySelector(".s-remove-password").checked || out.password_env) out.password = null;
  return out;
}

// The camera document from the form, on top of what was loaded (so keys the form does not show are kept).
function document_() {
  const c = structuredClone(current || {});
  set(c, "name", value("f-name")); set(c, "site", value("f-site")); set(c, "location", value("f-location"));
  choose(c, "enabled", $("f-enabled").checked, true); choose(c, "record", $("f-record").checked, true);
  c.streams = { ...(c.streams || {}), main: streamValue("main", c.streams?.main) };
  if ($("f-has-sub").checked) c.streams.sub = streamValue("sub", c.streams.sub); else delete c.streams.sub;
  const device = { ...(c.device || {}) };
  set(device, "model", value("f-model")); set(device, "serial", value("f-serial"));
  set(device, "installed", value("f-installed")); set(device, "notes", value("f-notes"));
  if (Object.keys(device).length) c.device = device; else delete c.device;
  const retention = { ...(c.retention || {}) };
  set(retention, "max_age_days", number("f-max-age")); set(retention, "min_days", number("f-min-days"));
  if (Object.keys(retention).length) c.retention = retention; else delete c.retention;
  const a = { ...(c.analysis || {}) };
  choose(a, "enabled", $("f-analysis").checked, true); choose(a, "stream", $("f-analysis-stream").value, "auto");
  choose(a, "motion", $("f-motion").checked, true); choose(a, "faults", $("f-faults").checked, true);
  choose(a, "detect", $("f-detect").checked, true); choose(a, "object_events", $("f-object-events").checked, true);
  const drawn = { ...shapes.value(), rules: rules.value() };
  for (const [key, list] of Object.entries(drawn)) if (list.length || key in a) a[key] = list;
  if (Object.keys(a).length) c.analysis = a; else delete c.analysis;
  const privacy = shapes.privacyValue();
  if (privacy.length || "privacy_masks" in c) c.privacy_masks = privacy;
  delete c.id;
  return c;
}

async function save(ev) {
  ev.preventDefault();
  const id = current ? current.id : value("f-id");
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id)) { result(t("Id: lower-case letters, digits, '-' and '_' (e.g. gate-2)."), true); return; }
  if (!current && cameras.some((c) => c.id === id)) { result(t("A camera with this id exists already."), true); return; }
  try {
    const body = { camera: document_(), revision, reason: value("f-reason") || null };
    await api(`/api/v1/settings/cameras/${encodeURIComponent(id)}`, { method: "PUT", body });
    await load(id);
    result(t("Saved. The change is in force."));
  } catch (err) {
    result(err.status === 409 ? `${err.message}` : t("Not saved: %(problem)s", { problem: err.message }), true);
  }
}

async function remove() {
  if (!current || !window.confirm(t("Remove camera %(name)s? Its recordings stay until retention deletes them.", { name: current.name || current.id }))) return;
  const q = new URLSearchParams({ revision });
  if (value("f-reason")) q.set("reason", value("f-reason"));
  try {
    await api(`/api/v1/settings/cameras/${encodeURIComponent(current.id)}?${q}`, { method: "DELETE" });
    $("camera-form").hidden = true;
    location.hash = "";
    await load();
  } catch (err) {
    result(t("Not removed: %(problem)s", { problem: err.message }), true);
  }
}

$("camera-form").addEventListener("submit", save);
$("delete-camera").addEventListener("click", remove);
$("new-camera").addEventListener("click", () => { location.hash = ""; edit(null); });
$("reload-picture").addEventListener("click", picture);
$("f-has-sub").addEventListener("change", () => { streamRow("sub").hidden = !$("f-has-sub").checked; });
window.addEventListener("hashchange", () => { if (location.hash) edit(decodeURIComponent(location.hash.slice(1))); });
load(location.hash ? decodeURIComponent(location.hash.slice(1)) : undefined).catch((err) => result(err.message, true));

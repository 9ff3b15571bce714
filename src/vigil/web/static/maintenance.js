// Maintenance: the ticket queue (nearest deadline first), one ticket with its pictures, deadlines, Vigil's
// verification, history and the acts on it. Every act sends the revision shown: a ticket changed meanwhile is
// refused (conflict) and shown again as it is now.
import { $, api, el, formatUs, may, t } from "./common.js";
import { KINDS, STATES } from "./ticket_words.js";

const WORK = { cleaned: t("cleaned"), refocused: t("refocused"), cabling: t("cabling"), power: t("power"),
  firmware: t("firmware"), reconfigured: t("reconfigured"), replaced: t("replaced"), rebooted: t("rebooted"),
  none_needed: t("none needed"), other: t("other") };
const CHANGES = { opened: t("opened"), reopened: t("reopened"), seen_again: t("fault seen again"), camera_added: t("camera added"),
  acknowledged: t("acknowledged"), assigned: t("assigned"), started: t("work started"), waiting: t("waiting"),
  resolved: t("resolved"), fault_cleared: t("fault cleared"), verified: t("verified"), not_verified: t("not verified"),
  closed: t("closed"), edited: t("edited"), note: t("note"), overdue: t("overdue"), window: t("maintenance window") };

let chosen = null;
let current = null;
const working = may("maintenance");

function due(ticket) {
  const parts = [];
  if (ticket.respond_due_us && !ticket.responded_us) parts.push(t("respond by %(when)s", { when: formatUs(ticket.respond_due_us) }));
  if (ticket.restore_due_us && !ticket.resolved_us && !["verified", "closed"].includes(ticket.state)) parts.push(t("restore by %(when)s", { when: formatUs(ticket.restore_due_us) }));
  if (ticket.overdue.length) parts.push(t("overdue"));
  return parts.join(" · ");
}

async function list() {
  const view = $("t-view").value;
  const q = new URLSearchParams({ limit: "200" });
  if (view === "all") { q.set("state", Object.keys(STATES).join(",")); q.set("order", "newest"); }
  else if (view !== "queue") { q.set("state", view); q.set("order", "newest"); }
  try {
    const got = await api(`/api/v1/tickets?${q}`);
    const items = got.items.map((k) => {
      const li = el("li", {}, el("span", { className: `prio p${k.priority}`, textContent: `P${k.priority}` }),
        el("div", {}, el("strong", { textContent: `#${k.id} ${k.title}` }),
          el("div", { className: "muted", textContent: [KINDS[k.kind] || k.kind, STATES[k.state] || k.state, k.assignee || k.vendor, due(k)].filter(Boolean).join(" · ") })));
      li.dataset.ticket = k.id;
      li.dataset.state = k.state;
      li.classList.toggle("chosen", k.id === chosen);
      li.addEventListener("click", () => show(k.id));
      return li;
    });
    $("tickets").replaceChildren(...(items.length ? items : [el("li", { className: "muted", textContent: t("No tickets.") })]));
    document.body.dataset.tickets = String(got.items.length);
  } catch (err) { $("t-note").textContent = err.message; }
}

async function show(id) {
  chosen = id;
  history.replaceState(null, "", `/maintenance?id=${id}`);
  for (const li of $("tickets").children) li.classList.toggle("chosen", Number(li.dataset.ticket) === id);
  let got;
  try { got = await api(`/api/v1/tickets/${id}`); } catch (err) { $("t-note").textContent = err.message; return; }
  const k = current = got.ticket;
  $("ticket").hidden = false;
  $("ticket").dataset.state = k.state;
  $("ticket").dataset.revision = k.revision;
  $("tk-title").textContent = `#${k.id} ${k.title}`;
  $("tk-facts").textContent = [KINDS[k.kind] || k.kind, `P${k.priority}`, STATES[k.state] || k.state, k.equipment_id,
    k.cameras.length ? t("cameras: %(list)s", { list: k.cameras.join(", ") }) : "",
    t("opened %(when)s by %(who)s", { when: formatUs(k.opened_us), who: k.opened_by }),
    k.first_seen_us ? t("fault since %(when)s", { when: formatUs(k.first_seen_us) }) : "",
    k.fault_cleared_us ? t("fault cleared %(when)s", { when: formatUs(k.fault_cleared_us) }) : "",
    k.assignee ? t("person: %(who)s", { who: k.assignee }) : "", k.vendor ? t("vendor: %(who)s", { who: k.vendor }) : ""].filter(Boolean).join(" · ");
  $("tk-deadlines").textContent = due(k);
  $("tk-verify").textContent = k.state === "resolved" ? t("Vigil is checking that the picture stays healthy.") : (k.verify_note || "");
  $("tk-detail").textContent = k.detail;
  $("tk-vendor-ref").value = k.vendor_ref;
  for (const which of ["good", "fault"]) {
    const img = $(`tk-${which}`);
    const has = which === "good" ? k.has_good_picture : k.has_fault_picture;
    img.closest("figure").hidden = !has;
    if (has) img.src = `/api/v1/tickets/${k.id}/pictures/${which}?r=${k.revision}`;
  }
  const open = ["open", "acknowledged", "in_progress", "waiting"].includes(k.state);
  $("tk-ack").hidden = k.state !== "open";
  $("tk-start").hidden = !open || k.state === "in_progress";
  $("tk-wait").hidden = !open || k.state === "waiting";
  $("tk-assign").hidden = !open && k.state !== "resolved";
  $("tk-resolve").hidden = !open;
  $("tk-close").hidden = k.state !== "verified";
  $("tk-reopen").hidden = open;
  $("tk-history").replaceChildren(...got.history.map((h) => el("tr", {}, el("td", { textContent: formatUs(h.at_us) }),
    el("td", { textContent: h.actor }), el("td", { textContent: CHANGES[h.change] || h.change }),
    el("td", { className: "detail", textContent: Object.entries(h.detail).filter(([, v]) => v !== "" && v !== null && !(Array.isArray(v) && !v.length))
      .map(([key, v]) => (key.endsWith("_us") && typeof v === "number" ? `${key.slice(0, -3)}: ${formatUs(v)}` : `${key}: ${Array.isArray(v) ? v.join(", ") : v}`)).join("; ") }))));
  $("tk-error").textContent = "";
}

async function act(path, body = {}) {
  if (!current) return;
  try {
    await api(`/api/v1/tickets/${current.id}${path}`, { method: path ? "POST" : "PATCH", body: { revision: current.revision, ...body } });
    await Promise.all([show(current.id), list()]);
  } catch (err) {
    await show(current.id);
    $("tk-error").textContent = err.message;
  }
}

async function equipmentChoices() {
  try {
    const got = await api("/api/v1/equipment");
    $("t-new-equipment").replaceChildren(...got.items.map((e) => new Option(`${e.name} (${e.id})`, e.id)));
  } catch (err) { /* the register is not readable: no opening by hand */ }
  $("t-new-kind").replaceChildren(...Object.entries(KINDS).map(([v, label]) => new Option(label, v)));
  $("t-new-kind").value = "other";
  $("tk-work").replaceChildren(...Object.entries(WORK).map(([v, label]) => el("label", { className: "check" },
    el("input", { type: "checkbox", value: v, name: "work" }), label)));
}

let inspection = null;

async function inspections() {
  try {
    const got = await api("/api/v1/inspections?state=due");
    $("inspections").replaceChildren(...(got.items.length ? got.items.map((i) => {
      const li = el("li", {}, el("div", {}, el("strong", { textContent: `${i.name} · ${i.camera_id}` }),
        el("div", { className: i.overdue ? "warn" : "muted", textContent: (i.overdue ? `${t("overdue")} · ` : "") + t("due %(when)s", { when: formatUs(i.due_us) }) })));
      li.dataset.inspection = i.id;
      if (working) li.addEventListener("click", () => inspect(i));
      return li;
    }) : [el("li", { className: "muted", textContent: t("None due.") })]));
  } catch (err) { $("inspections").replaceChildren(); }
}

function inspect(i) {
  inspection = i;
  $("inspection").hidden = false;
  $("inspection").dataset.inspection = i.id;
  $("in-title").textContent = `${i.name} · ${i.camera_id}`;
  $("in-picture").src = `/api/v1/inspections/${i.id}/current.jpg?t=${Date.now()}`;
  $("in-error").textContent = "";
  $("in-items").replaceChildren(...i.items.map((item, k) => el("tr", {}, el("td", { textContent: item }),
    el("td", {}, el("label", { className: "check" }, el("input", { type: "radio", name: `in-${k}`, value: "ok", checked: true }), t("ok"))),
    el("td", {}, el("label", { className: "check" }, el("input", { type: "radio", name: `in-${k}`, value: "bad" }), t("not ok"))),
    el("td", {}, el("input", { id: `in-note-${k}`, size: 24, maxLength: 2000, placeholder: t("what is wrong") })))));
}

async function inspectionDone(ev) {
  ev.preventDefault();
  const answers = inspection.items.map((item, k) => ({ item, ok: document.querySelector(`input[name="in-${k}"]:checked`).value === "ok",
    note: $(`in-note-${k}`).value.trim() }));
  try {
    const done = await api(`/api/v1/inspections/${inspection.id}/done`, { method: "POST", body: { answers } });
    $("inspection").hidden = true;
    $("inspection").dataset.done = String(done.id);
    await Promise.all([inspections(), list()]);
    if (done.ticket_id) await show(done.ticket_id);
  } catch (err) { $("in-error").textContent = err.message; }
}

function wire() {
  $("inspection").addEventListener("submit", inspectionDone);
  for (const node of document.querySelectorAll(".works")) node.hidden = !working;
  $("t-view").addEventListener("change", list);
  $("t-new").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const made = await api("/api/v1/tickets", { method: "POST", body: { equipment_id: $("t-new-equipment").value,
        kind: $("t-new-kind").value, title: $("t-new-title").value.trim(), note: $("t-new-note").value.trim() } });
      $("t-new-title").value = $("t-new-note").value = "";
      await list();
      await show(made.id);
    } catch (err) { $("t-note").textContent = err.message; }
  });
  $("tk-ack").addEventListener("click", () => act("/acknowledge"));
  $("tk-start").addEventListener("click", () => act("/start"));
  $("tk-wait").addEventListener("click", () => act("/wait", { why: window.prompt(t("What does it wait for?")) || "" }));
  $("tk-close").addEventListener("click", () => act("/close"));
  $("tk-reopen").addEventListener("click", () => { const why = window.prompt(t("Why is it reopened?")); if (why) act("/reopen", { why }); });
  $("tk-assign").addEventListener("submit", (e) => { e.preventDefault(); act("/assign", { assignee: $("tk-assignee").value.trim(), vendor: $("tk-vendor").value.trim() }); });
  $("tk-resolve").addEventListener("submit", (e) => {
    e.preventDefault();
    const work = [...$("tk-work").querySelectorAll("input:checked")].map((i) => i.value);
    const minutes = $("tk-minutes").value ? Number($("tk-minutes").value) : null;
    act("/resolve", { work_done: work, parts: $("tk-parts").value.split(",").map((p) => p.trim()).filter(Boolean),
      time_spent_min: minutes, note: $("tk-resolve-note").value.trim() });
  });
  $("tk-ref").addEventListener("submit", (e) => { e.preventDefault(); act("", { vendor_ref: $("tk-vendor-ref").value.trim() }); });
  $("tk-window").addEventListener("submit", async (e) => {
    e.preventDefault();
    const start = new Date(), end = new Date(start.getTime() + Number($("tk-window-min").value) * 60000);
    try {
      await api(`/api/v1/tickets/${current.id}/window`, { method: "POST", body: { start: start.toISOString(), end: end.toISOString() } });
      await show(current.id);
    } catch (err) { $("tk-error").textContent = err.message; }
  });
  $("tk-note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await api(`/api/v1/tickets/${current.id}/notes`, { method: "POST", body: { text: $("tk-note").value } }); $("tk-note").value = ""; await show(current.id); }
    catch (err) { $("tk-error").textContent = err.message; }
  });
  const end = new Date(), start = new Date(end.getTime() - 90 * 86400000);
  $("t-csv").href = `/api/v1/tickets.csv?start=${start.toISOString()}&end=${end.toISOString()}`;
}

wire();
equipmentChoices();
await Promise.all([list(), inspections()]);
const wanted = Number(new URLSearchParams(location.search).get("id"));
if (wanted) await show(wanted);
document.body.dataset.ready = "yes";
setInterval(() => { list(); if (current && !document.querySelector("#ticket input:focus, #ticket textarea:focus")) show(current.id); }, 5000);

// Incidents: the list, one incident with its facts and durations, its checklist ticked step by step, notes (never
// edited: a correction is a new note), people, alarms added, the report (HTML, PDF), its evidence package, closing.
import { $, api, el, formatUs, t } from "./common.js";

let chosen = null;
let cursor = null;
let plans = [];

const duration = (s) => (s === null || s === undefined ? "-" : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

async function list(more = false) {
  const q = new URLSearchParams({ limit: "50" });
  if ($("inc-state").value) q.set("state", $("inc-state").value);
  if (more && cursor) q.set("cursor", cursor);
  try {
    const got = await api(`/api/v1/incidents?${q}`);
    cursor = got.next_cursor;
    $("inc-more").hidden = !cursor;
    const items = got.items.map((i) => {
      const li = el("li", {}, el("span", { className: `prio sev-${i.severity}`, textContent: i.severity }),
        el("div", {}, el("strong", { textContent: `#${i.id} ${i.title}` }),
          el("div", { className: "muted", textContent: `${i.type} · ${formatUs(i.opened_us)} · ${i.state}` })));
      li.dataset.incident = i.id;
      li.classList.toggle("chosen", i.id === chosen);
      li.addEventListener("click", () => show(i.id));
      return li;
    });
    if (more) $("incidents").append(...items);
    else $("incidents").replaceChildren(...(items.length ? items : [el("li", { className: "muted", textContent: t("No incidents.") })]));
  } catch (err) { $("inc-note").textContent = err.message; }
}

async function show(id) {
  chosen = id;
  history.replaceState(null, "", `/incidents?id=${id}`);
  for (const li of $("incidents").children) li.classList.toggle("chosen", Number(li.dataset.incident) === id);
  let got;
  try { got = await api(`/api/v1/incidents/${id}`); } catch (err) { $("inc-note").textContent = err.message; return; }
  const i = got.incident;
  $("incident").hidden = false;
  $("i-title").textContent = `#${i.id} ${i.title}`;
  $("i-facts").textContent = [i.type, i.severity, i.place, got.cameras.join(", "), t("opened %(when)s by %(who)s", { when: formatUs(i.opened_us), who: i.opened_by }),
    i.state === "closed" ? t("closed %(when)s by %(who)s: %(outcome)s", { when: formatUs(i.closed_us), who: i.closed_by, outcome: i.outcome }) : t("open")].filter(Boolean).join(" · ");
  const d = i.durations_s;
  $("i-durations").textContent = t("To acknowledge: %(a)s · to first action: %(b)s · to close: %(c)s",
    { a: duration(d.to_acknowledge_s), b: duration(d.to_first_action_s), c: duration(d.to_close_s) });
  $("i-html").href = `/api/v1/incidents/${id}/report.html`;
  $("i-pdf").href = `/api/v1/incidents/${id}/report.pdf`;
  $("i-people-names").value = i.assigned.join(", ");
  $("i-ticket").hidden = !got.cameras.length;
  $("i-ticket-camera").replaceChildren(...got.cameras.map((c) => new Option(c, c)));
  $("i-plan").textContent = i.plan_title ? `(${i.plan_title})` : t("(no plan for this type)");
  const closed = i.state === "closed";
  $("i-checklist").replaceChildren(...got.checklist.map((s) => {
    const contacts = s.contacts.map((c) => `${c.name} ${c.phone}`.trim()).join("; ");
    const li = el("li", { className: `step ${s.status}` }, el("div", {}, el("strong", { textContent: s.text }),
      el("div", { className: "muted", textContent: [s.who, contacts && t("call: %(who)s", { who: contacts })].filter(Boolean).join(" · ") })));
    li.dataset.step = s.index;
    if (s.status === "open" && !closed) {
      const done = el("button", { type: "button", textContent: t("Done") });
      done.addEventListener("click", () => tick(s.index, "done"));
      const skip = el("button", { type: "button", className: "quiet", textContent: t("Skip") });
      skip.addEventListener("click", () => tick(s.index, "skipped", window.prompt(t("Why is this step not needed?")) || ""));
      li.append(el("div", { className: "actions" }, done, skip));
    } else if (s.status !== "open") {
      li.append(el("div", { className: "muted tick", textContent: `${s.status === "done" ? "✓" : "–"} ${formatUs(s.at_us)} · ${s.by}${s.note ? ` · ${s.note}` : ""}` }));
    }
    return li;
  }));
  $("i-notes").replaceChildren(...got.notes.map((n) => el("li", { textContent: `#${n.id} ${formatUs(n.at_us)} · ${n.author}: ${n.text}` +
    (n.corrects ? ` ${t("(corrects note %(n)s)", { n: n.corrects })}` : "") })));
  $("i-corrects").replaceChildren(new Option("-", ""), ...got.notes.map((n) => new Option(`#${n.id}`, n.id)));
  $("i-evidence").replaceChildren(...(got.evidence.length ? got.evidence.map((p) => el("li", {}, el("a", { href: `/api/v1/evidence/${p}/package.zip`, textContent: p })))
    : [el("li", { className: "muted", textContent: t("None yet.") })]));
  $("i-timeline").replaceChildren(...got.timeline.map((e) => el("tr", {}, el("td", { textContent: formatUs(e.at_us) }),
    el("td", { textContent: e.actor }), el("td", { textContent: e.what }), el("td", { className: "detail", textContent: e.text }))));
  $("i-close").querySelector("button[type=submit]").hidden = closed;
  $("i-outcome").disabled = closed;
  $("i-reopen").hidden = !closed;
  $("i-error").textContent = "";
}

async function call(path, method, body) {
  try {
    const out = await api(`/api/v1/incidents/${chosen}${path}`, { method, body });
    await show(chosen);
    return out;
  } catch (err) { $("i-error").textContent = err.message; return null; }
}

const tick = (step, status, note = "") => call(`/checklist/${step}`, "POST", { status, note });

$("i-note-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const corrects = $("i-corrects").value ? Number($("i-corrects").value) : null;
  if (await call("/notes", "POST", { text: $("i-note").value, corrects })) $("i-note").value = "";
});
$("i-people").addEventListener("submit", (ev) => {
  ev.preventDefault();
  call("/people", "PUT", { users: $("i-people-names").value.split(",").map((s) => s.trim()).filter(Boolean) });
});
$("i-link").addEventListener("submit", (ev) => { ev.preventDefault(); call("/links", "POST", { alarms: [Number($("i-link-alarm").value)] }); });
$("i-close").addEventListener("submit", (ev) => { ev.preventDefault(); call("/close", "POST", { outcome: $("i-outcome").value }).then(() => list()); });
$("i-reopen").addEventListener("click", () => {
  const why = window.prompt(t("Why reopen it?"));
  if (why && why.trim()) call("/reopen", "POST", { reason: why.trim() }).then(() => list());
});
$("i-ticket").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const camera = $("i-ticket-camera").value;
  const title = `${t("From incident #%(id)s", { id: chosen })}: ${$("i-title").textContent.replace(/^#\d+ /, "")}`.slice(0, 200);
  try {
    const made = await api("/api/v1/tickets", { method: "POST", body: { equipment_id: camera, title, source: "incident",
      source_ref: `incident:${chosen}` } });
    location.assign(`/maintenance?id=${made.id}`);
  } catch (err) { $("i-error").textContent = err.message; }
});
$("i-export").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("i-error").textContent = t("Exporting…");
  const made = await call("/evidence", "POST", { reason: $("i-ex-reason").value, recipient: $("i-ex-recipient").value });
  if (made) $("i-error").textContent = t("Evidence package %(id)s made.", { id: made.id });
});
$("new-incident").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const made = await api("/api/v1/incidents", { method: "POST", body: { type: $("new-type").value, title: $("new-title").value, place: $("new-place").value } });
    $("new-title").value = "";
    await list();
    show(made.incident.id);
  } catch (err) { $("inc-note").textContent = err.message; }
});
$("inc-state").addEventListener("change", () => list());
$("inc-more").addEventListener("click", () => list(true));

(async () => {
  plans = (await api("/api/v1/plans").catch(() => ({ items: [] }))).items.filter((p) => p.valid);
  $("new-type").append(...plans.map((p) => new Option(p.title, p.type)), new Option(t("Other"), "other"));
  const wanted = Number(new URLSearchParams(location.search).get("id"));
  await list();
  if (wanted) show(wanted);
})();

// Evidence: export signed packages of chosen cameras and times (placing legal holds), the packages made, the
// requests from authorities (recorded, approved or refused, fulfilled as a package) with the report of a period,
// and the legal holds. Each part shows only to those whose role allows it (data-needs on the sections).
import { $, api, askReason, el, formatUs, may, page, t } from "./common.js";
import { dateOf, instantOf, instantOfLocalInput, localInputOf } from "./zoned.js";

let cameras = [];
const STATES = { received: t("received"), approved: t("approved"), refused: t("refused"), fulfilled: t("fulfilled"), withdrawn: t("withdrawn") };
const iso = (inputId) => new Date(instantOfLocalInput($(inputId).value)).toISOString();
const span = (startUs, endUs) => `${formatUs(startUs)} – ${formatUs(endUs)}`;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
// A status line; data-state (busy, done, error) says where the act stands, whatever the language.
function say(id, text, bad = false, busy = false) {
  $(id).textContent = text;
  $(id).className = bad ? "error" : "muted";
  $(id).dataset.state = bad ? "error" : busy ? "busy" : "done";
}
const row = (...cells) => el("tr", {}, ...cells.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", { textContent: String(c ?? "") }))));

function picks(fieldset, list) {
  fieldset.append(...list.map((c) => el("label", { className: "check" }, el("input", { type: "checkbox", value: c.id }), c.name)));
}
const picked = (fieldset) => [...fieldset.querySelectorAll("input:checked")].map((i) => i.value);

async function loadPackages() {
  const got = await api("/api/v1/evidence?limit=200");
  $("packages").querySelector("tbody").replaceChildren(...got.items.map((p) => {
    const link = el("a", { href: p.download_url, textContent: t("Download") });
    link.addEventListener("click", (ev) => {
      if ((page.reasons || []).includes("export")) {
        const why = askReason(t("export"));
        if (!why) { ev.preventDefault(); return; }
        link.href = `${p.download_url}?reason=${encodeURIComponent(why)}`;
      }
    });
    return row(p.id, formatUs(p.created_us), p.requested_by, p.recipient, p.reason, p.cameras.join(", "),
      span(p.start_us, p.end_us), mb(p.size_bytes), p.gap_count, link);
  }));
}

async function exportPackage(ev) {
  ev.preventDefault();
  const body = {
    cameras: picked($("ex-cameras")), start: iso("ex-start"), end: iso("ex-end"), reason: $("ex-reason").value.trim(),
    recipient: $("ex-recipient").value.trim(), include_events: $("ex-events").checked,
  };
  if (!body.cameras.length) { say("ex-result", t("Tick at least one camera."), true); return; }
  say("ex-result", t("Exporting… (a long range takes minutes)"), false, true);
  try {
    const made = await api("/api/v1/evidence", { method: "POST", body });
    say("ex-result", t("Package %(id)s made: %(size)s, %(gaps)s gap(s) named in its manifest.", { id: made.id, size: mb(made.size_bytes), gaps: made.gap_count }));
    loadPackages();
    if (may("audit")) loadHolds();
  } catch (err) { say("ex-result", err.message, true); }
}

function requestActions(r) {
  const box = el("span", { className: "actions" });
  if (!may("admin")) return box;
  const act = (label, path, ask) => {
    const b = el("button", { type: "button", className: "quiet", textContent: label });
    b.addEventListener("click", async () => {
      let reason = "";
      if (ask) { reason = window.prompt(ask); if (reason === null) return; }
      try { await api(`/api/v1/authority-requests/${r.id}/${path}`, { method: "POST", body: path === "fulfil" ? undefined : { reason } }); }
      catch (err) { say("rp-result", err.message, true); }
      loadRequests(); loadPackages(); loadHolds();
    });
    box.append(b);
  };
  if (r.state === "received") {
    act(t("Approve"), "approve", null);
    act(t("Refuse"), "refuse", t("Why is it refused?"));
  }
  if (r.state === "approved") act(t("Fulfil (export)"), "fulfil", null);
  if (r.state === "received" || r.state === "approved") act(t("Withdraw"), "withdraw", t("Why is it withdrawn?"));
  return box;
}

async function loadRequests() {
  const got = await api("/api/v1/authority-requests?limit=200");
  $("requests").querySelector("tbody").replaceChildren(...got.items.map((item) => {
    const r = item.request;
    const state = el("span", { className: item.overdue ? "error" : "", textContent: (STATES[r.state] || r.state) + (item.overdue ? ` · ${t("overdue")}` : "") });
    if (r.package_id) state.append(el("span", { className: "muted", textContent: ` ${r.package_id}` }));
    return row(r.id, formatUs(r.received_us), `${r.authority} (${r.officer}${r.officer_id ? ", " + r.officer_id : ""})`,
      `${r.legal_basis}${r.reference ? " · " + r.reference : ""}`, r.camera_ids.join(", "), span(r.start_us, r.end_us),
      r.deadline_us ? formatUs(r.deadline_us) : "", state, requestActions(r));
  }));
}

async function recordRequest(ev) {
  ev.preventDefault();
  const body = {
    authority: $("rq-authority").value, officer: $("rq-officer").value, officer_id: $("rq-officer-id").value,
    contact: $("rq-contact").value, legal_basis: $("rq-basis").value, reference: $("rq-reference").value,
    kind: $("rq-kind").value, cameras: picked($("rq-cameras")), start: iso("rq-start"), end: iso("rq-end"),
    deadline: $("rq-deadline").value ? iso("rq-deadline") : null,
  };
  try {
    const made = await api("/api/v1/authority-requests", { method: "POST", body });
    say("rq-result", t("Request %(id)s recorded.", { id: made.id }));
    for (const id of ["rq-authority", "rq-officer", "rq-officer-id", "rq-contact", "rq-basis", "rq-reference"]) $(id).value = "";
    loadRequests();
  } catch (err) { say("rq-result", err.message, true); }
}

function reportQuery() {
  const start = new Date(instantOf($("rp-start").value)).toISOString();
  const end = new Date(instantOf($("rp-end").value) + 86400000).toISOString();
  return new URLSearchParams({ start, end });
}

async function report(ev) {
  ev.preventDefault();
  try {
    const r = await api(`/api/v1/authority-requests/report?${reportQuery()}`);
    const states = Object.entries(r.by_state).map(([k, v]) => `${STATES[k] || k} ${v}`).join(", ") || "–";
    say("rp-result", t("%(n)s request(s): %(states)s; overdue %(overdue)s; answered late %(late)s; median days to decide %(decide)s, to fulfil %(fulfil)s.",
      { n: r.count, states, overdue: r.overdue, late: r.answered_late, decide: r.days_to_decide_median ?? "–", fulfil: r.days_to_fulfil_median ?? "–" }));
  } catch (err) { say("rp-result", err.message, true); }
}

async function loadHolds() {
  const got = await api("/api/v1/holds?limit=200");
  $("holds").querySelector("tbody").replaceChildren(...got.items.map((h) => {
    const lift = el("button", { type: "button", className: "quiet", textContent: t("Lift"), hidden: !may("admin") });
    lift.addEventListener("click", async () => {
      const reason = window.prompt(t("Why is the hold lifted?"));
      if (!reason) return;
      try { await api(`/api/v1/holds/${h.id}/lift`, { method: "POST", body: { reason } }); loadHolds(); }
      catch (err) { say("hd-result", err.message, true); }
    });
    return row(h.camera_id, span(h.start_us, h.end_us), formatUs(Date.parse(h.placed) * 1000), h.placed_by, h.reason, h.package_id || "", lift);
  }));
}

async function placeHold(ev) {
  ev.preventDefault();
  const body = { camera: $("hd-camera").value, start: iso("hd-start"), end: iso("hd-end"), reason: $("hd-reason").value };
  try { await api("/api/v1/holds", { method: "POST", body }); say("hd-result", t("Hold placed.")); loadHolds(); }
  catch (err) { say("hd-result", err.message, true); }
}

(async () => {
  for (const section of document.querySelectorAll("[data-needs]")) section.hidden = !may(section.dataset.needs);
  const listed = await api("/api/v1/cameras?limit=1000");
  cameras = listed.items;
  const now = Date.now();
  for (const [start, end] of [["ex-start", "ex-end"], ["rq-start", "rq-end"], ["hd-start", "hd-end"]]) {
    $(start).value = localInputOf(now - 3600000);
    $(end).value = localInputOf(now);
  }
  $("rp-start").value = dateOf(now - 30 * 86400000);
  $("rp-end").value = dateOf(now);
  $("rp-csv").addEventListener("click", () => { $("rp-csv").href = `/api/v1/authority-requests/report.csv?${reportQuery()}`; });
  picks($("ex-cameras"), cameras.filter((c) => c.may.includes("export")));
  picks($("rq-cameras"), cameras);
  $("hd-camera").replaceChildren(...cameras.map((c) => new Option(c.name, c.id)));
  $("export-form").addEventListener("submit", exportPackage);
  $("request-form").addEventListener("submit", recordRequest);
  $("report-form").addEventListener("submit", report);
  $("hold-form").addEventListener("submit", placeHold);
  if (may("export")) loadPackages().catch((err) => say("ex-result", err.message, true));
  if (may("audit")) {
    loadRequests().catch((err) => say("rp-result", err.message, true));
    loadHolds().catch((err) => say("hd-result", err.message, true));
  }
})();

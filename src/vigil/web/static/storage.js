// Storage: the tiers (use, days kept against required, copy lag, the scrub's findings), the node's backups, and the
// early deletions (an admin asks with a reason; an auditor who is someone else approves or refuses; the asker may
// cancel). Each part shows only to those whose role allows it (data-needs on the sections).
import { $, api, el, formatUs, formatIso, may, page, t } from "./common.js";
import { instantOfLocalInput, localInputOf } from "./zoned.js";

const STATES = { pending: t("waiting for an auditor"), approved: t("approved, deleted"), refused: t("refused"), cancelled: t("cancelled") };
const gb = (bytes) => `${(bytes / 1e9).toFixed(2)} GB`;
const days = (d) => (d === null || d === undefined ? "–" : d.toFixed(1));
const iso = (inputId) => new Date(instantOfLocalInput($(inputId).value)).toISOString();
const row = (...cells) => el("tr", {}, ...cells.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", { textContent: String(c ?? "") }))));
function say(id, text, bad = false) {
  $(id).textContent = text;
  $(id).className = bad ? "error" : "muted";
  $(id).dataset.state = bad ? "error" : "done";
}

async function loadTiers() {
  const got = await api("/api/v1/storage/tiers");
  $("tiers").querySelector("tbody").replaceChildren(...got.items.map((tier) => {
    const lag = tier.copy_lags.map((l) => t("%(cameras)s: %(s)s s", { cameras: l.cameras.join(", "), s: l.lag_s.toFixed(0) })).join("; ") || "–";
    const state = el("span", { className: tier.problem || tier.short ? "error" : "", textContent: tier.problem || (tier.short ? t("short of the days required") : t("ok")) });
    const damaged = el("span", { className: tier.damaged ? "error" : "", textContent: String(tier.damaged) });
    return row(tier.name, tier.kind, tier.where, tier.segments, gb(tier.size_bytes), days(tier.days_kept), days(tier.days_required),
      lag, t("%(d)s days ago", { d: tier.unchecked_days.toFixed(1) }), damaged, state);
  }));
}

async function loadBackups() {
  let b;
  try { b = await api("/api/v1/storage/backups"); } catch (err) { say("backups", err.message, true); return; }
  if (!b.tier) { say("backups", t("This node makes no backups (storage.backup.tier is not set).")); return; }
  const newest = b.names.length ? b.names[b.names.length - 1] : null;
  const when = (name) => formatIso(`${name.slice(0, 4)}-${name.slice(4, 6)}-${name.slice(6, 8)}T${name.slice(9, 11)}:${name.slice(11, 13)}:${name.slice(13, 15)}Z`);
  const key = b.with_key ? t("with the site key, sealed") : t("without the site key: no passphrase is set");
  const text = newest
    ? t("Every %(h)s h to tier %(tier)s, %(key)s. Newest: %(when)s; %(n)s kept.", { h: b.every_hours, tier: b.tier, key, when: when(newest), n: b.names.length })
    : t("Every %(h)s h to tier %(tier)s, %(key)s. None made yet.", { h: b.every_hours, tier: b.tier, key });
  say("backups", b.problem ? `${text} ${t("The last one failed: %(why)s", { why: b.problem })}` : text, Boolean(b.problem));
  $("backup-list").replaceChildren(
    ...[...b.names].reverse().map((n) => el("li", { textContent: `${n} · ${when(n)}` })),
    ...b.incomplete.map((n) => el("li", { className: "error", textContent: `${n} · ${t("incomplete: never restored")}` })),
  );
}

function actions(item) {
  const r = item.request;
  const box = el("span", { className: "actions" });
  if (r.state !== "pending") return box;
  const act = (label, path, ask) => {
    const b = el("button", { type: "button", className: "quiet", textContent: label });
    b.addEventListener("click", async () => {
      let note = "";
      if (ask) { note = window.prompt(ask); if (note === null) return; }
      try { await api(`/api/v1/storage/deletions/${r.id}/${path}`, { method: "POST", body: { note } }); }
      catch (err) { say("dl-result", err.message, true); }
      loadDeletions(); loadTiers();
    });
    box.append(b);
  };
  if (page.role === "auditor" && r.requested_by !== page.user) {
    act(t("Approve and delete"), "approve", t("What did you check?"));
    act(t("Refuse"), "refuse", t("Why is it refused?"));
  }
  if (may("admin") && r.requested_by === page.user) act(t("Cancel"), "cancel", null);
  return box;
}

async function loadDeletions() {
  const got = await api("/api/v1/storage/deletions?limit=200");
  $("deletions").querySelector("tbody").replaceChildren(...got.items.map((item) => {
    const r = item.request;
    return row(r.id, formatIso(r.requested), r.requested_by, r.camera_id, `${formatIso(r.start)} – ${formatIso(r.end)}`, r.reason,
      STATES[r.state] || r.state, r.approved_by || r.decided_by || "", r.state === "approved" ? t("%(n)s segment(s)", { n: r.segments }) : "", actions(item));
  }));
}

async function ask(ev) {
  ev.preventDefault();
  const body = { camera: $("dl-camera").value, start: iso("dl-start"), end: iso("dl-end"), reason: $("dl-reason").value.trim() };
  try {
    const made = await api("/api/v1/storage/deletions", { method: "POST", body });
    say("dl-result", t("Request %(id)s made: an auditor must approve it.", { id: made.id }));
    $("dl-reason").value = "";
    loadDeletions();
  } catch (err) { say("dl-result", err.message, true); }
}

(async () => {
  for (const section of document.querySelectorAll("[data-needs]")) section.hidden = !may(section.dataset.needs);
  loadTiers().catch((err) => say("backups", err.message, true));
  loadBackups();
  if (may("audit")) loadDeletions().catch((err) => say("dl-result", err.message, true));
  if (may("admin")) {
    const listed = await api("/api/v1/cameras?limit=1000");
    $("dl-camera").replaceChildren(...listed.items.map((c) => new Option(c.name, c.id)));
    const now = Date.now();
    $("dl-start").value = localInputOf(now - 3600000);
    $("dl-end").value = localInputOf(now);
    $("deletion-form").addEventListener("submit", ask);
  }
})();

// The audit log: search by user, act, camera, words and time; export what is found as CSV.
import { $, api, el, t, formatUs } from "./common.js";
import { instantOfLocalInput } from "./zoned.js";

const ACTS = ["login", "login_failed", "logout", "access_denied", "live_start", "live_stop", "playback", "snapshot_view",
  "export", "config_change", "user_change", "permission_change", "password_change", "token_change", "legal_hold",
  "custody", "authority_request", "footage_delete", "audit_view", "audit_export", "notification_retry", "alarm",
  "alarm_suppression", "incident", "plan_change", "equipment", "ticket"];
let cursor = null;

function filters() {
  const q = new URLSearchParams();
  for (const [key, id] of [["actor", "au-actor"], ["action", "au-action"], ["camera", "au-camera"], ["q", "au-q"]]) {
    if ($(id).value.trim()) q.set(key, $(id).value.trim());
  }
  if ($("au-start").value) q.set("start", new Date(instantOfLocalInput($("au-start").value)).toISOString());
  if ($("au-end").value) q.set("end", new Date(instantOfLocalInput($("au-end").value)).toISOString());
  return q;
}

async function search(more = false) {
  const q = filters();
  $("au-export").href = `/api/v1/audit/export?format=csv&${q}`;
  q.set("limit", "100");
  if (more && cursor) q.set("cursor", cursor);
  const body = $("audit").querySelector("tbody");
  try {
    const got = await api(`/api/v1/audit?${q}`);
    cursor = got.next_cursor;
    const rows = got.items.map((e) => {
      const span = e.range_start ? `${formatUs(Date.parse(e.range_start) * 1000)} – ${formatUs(Date.parse(e.range_end) * 1000)}` : "";
      const tr = el("tr");
      tr.dataset.action = e.action;
      for (const [text, cls] of [[e.seq, "muted"], [formatUs(e.at_us), ""], [e.actor, ""], [e.action, `act ${e.action}`],
        [e.camera_id || "", ""], [span, "muted"], [e.client, "muted"], [e.reason, ""], [JSON.stringify(e.detail), "muted detail"]]) {
        tr.append(el("td", { textContent: String(text), className: cls }));
      }
      return tr;
    });
    if (more) body.append(...rows); else body.replaceChildren(...rows);
    if (!rows.length && !more) body.replaceChildren(el("tr", {}, el("td", { colSpan: 9, className: "muted", textContent: t("Nothing found.") })));
    $("au-more").hidden = !cursor;
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colSpan: 9, className: "error", textContent: err.message })));
  }
}

$("au-action").append(...ACTS.map((a) => new Option(a, a)));
$("audit-form").addEventListener("submit", (ev) => { ev.preventDefault(); search(); });
$("au-more").addEventListener("click", () => search(true));
search();

// Users and permissions (admins): roles, disabling, password resets, and grants per camera or site.
import { $, api, el, page, t } from "./common.js";
import { instantOfLocalInput, localInputOf } from "./zoned.js";

const roles = { admin: t("Administrator"), operator: t("Operator"), viewer: t("Viewer"), auditor: t("Auditor"), technician: t("Technician") };
let editing = null;

function result(id, text, bad = false) { $(id).textContent = text; $(id).className = bad ? "error" : ""; }

async function load() {
  const users = (await api("/api/v1/users")).items;
  const rows = users.map((u) => {
    const role = el("select", {}, ...Object.entries(roles).map(([v, label]) => new Option(label, v)));
    role.value = u.role;
    role.disabled = u.username === page.user;
    role.addEventListener("change", async () => {
      try { await api(`/api/v1/users/${u.username}`, { method: "PATCH", body: { role: role.value } }); result("user-result", t("Saved.")); }
      catch (err) { result("user-result", err.message, true); role.value = u.role; }
    });
    const where = u.role === "admin" ? t("all") : u.grants.map((g) => g.camera_id || (g.site ? `${t("site")} ${g.site}` : t("all"))).join(", ") || t("none");
    const grants = el("button", { type: "button", className: "quiet", textContent: t("Permissions…") });
    grants.addEventListener("click", () => editGrants(u));
    const toggle = el("button", { type: "button", className: "quiet", textContent: u.disabled ? t("Enable") : t("Disable") });
    toggle.disabled = u.username === page.user;
    toggle.addEventListener("click", async () => {
      await api(`/api/v1/users/${u.username}`, { method: "PATCH", body: { disabled: !u.disabled } });
      load();
    });
    const reset = el("button", { type: "button", className: "quiet", textContent: t("Reset password") });
    reset.addEventListener("click", async () => {
      const got = await api(`/api/v1/users/${u.username}/password`, { method: "POST" });
      result("user-result", t("One-time password for %(user)s: %(password)s", { user: got.username, password: got.password }));
    });
    const status = u.disabled ? t("disabled") : u.must_change_password ? t("must change password") : t("active");
    const tr = el("tr", {}, el("td", { textContent: u.username }), el("td", {}, role), el("td", { textContent: where }),
      el("td", { textContent: status, className: u.disabled ? "error" : "muted" }), el("td", {}, grants, toggle, reset));
    tr.dataset.user = u.username;
    return tr;
  });
  $("users").querySelector("tbody").replaceChildren(...rows);
}

function grantRow(g = {}) {
  const input = (value, size, placeholder) => el("input", { value: value || "", size, placeholder });
  const from = el("input", { type: "datetime-local", step: 1, value: g.history_from ? localInputOf(Date.parse(g.history_from)) : "" });
  const until = el("input", { type: "datetime-local", step: 1, value: g.history_until ? localInputOf(Date.parse(g.history_until)) : "" });
  const remove = el("button", { type: "button", className: "quiet", textContent: "✕" });
  const tr = el("tr", {}, el("td", {}, input(g.camera_id, 10, t("camera id"))), el("td", {}, input(g.site, 10, t("site"))),
    el("td", {}, input((g.actions || []).join(","), 14, "playback,export,view_unmasked")), el("td", {}, from), el("td", {}, until), el("td", {}, remove));
  remove.addEventListener("click", () => tr.remove());
  return tr;
}

function editGrants(user) {
  editing = user.username;
  $("grants-title").textContent = t("Permissions of %(user)s", { user: user.username });
  $("grants").querySelector("tbody").replaceChildren(...user.grants.map(grantRow));
  result("grants-result", "");
  $("grants-dialog").showModal();
}

$("add-grant").addEventListener("click", () => $("grants").querySelector("tbody").append(grantRow()));
$("save-grants").addEventListener("click", async () => {
  const grants = [...$("grants").querySelectorAll("tbody tr")].map((tr) => {
    const [camera, site, actions, from, until] = [...tr.querySelectorAll("input")].map((i) => i.value.trim());
    return {
      camera_id: camera || null, site: site || null, actions: actions ? actions.split(",").map((a) => a.trim()).filter(Boolean) : [],
      history_from: from ? new Date(instantOfLocalInput(from)).toISOString() : null,
      history_until: until ? new Date(instantOfLocalInput(until)).toISOString() : null,
    };
  });
  try {
    await api(`/api/v1/users/${editing}/grants`, { method: "PUT", body: grants });
    result("grants-result", t("Saved."));
    load();
  } catch (err) { result("grants-result", err.message, true); }
});

$("add-user").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const got = await api("/api/v1/users", { method: "POST", body: { username: $("new-name").value.trim(), role: $("new-role").value } });
    result("user-result", t("One-time password for %(user)s: %(password)s", { user: got.username, password: got.password }));
    $("new-name").value = "";
    load();
  } catch (err) { result("user-result", err.message, true); }
});

load();

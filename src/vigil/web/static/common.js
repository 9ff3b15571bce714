// What every console page shares: the page's data, translations, API calls with the CSRF token, times in the
// site's time zone, and the header (capacity, log out).
export const page = JSON.parse(document.getElementById("vigil-page").textContent);
const messages = JSON.parse(document.getElementById("vigil-messages").textContent);

// t("...") translates a message; "%(name)s" placeholders are filled from `values`.
export function t(message, values = {}) {
  const text = messages[message] || message;
  return text.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

export const $ = (id) => document.getElementById(id);
const locale = page.language === "zh" ? "zh-CN" : "en-GB";
export const timeZone = page.timezone || "UTC";
const dateTime = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: "short", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(locale, { timeZone, timeStyle: "medium" });
export const formatUs = (us) => dateTime.format(new Date(us / 1000));
export const formatTimeUs = (us) => timeOnly.format(new Date(us / 1000));
export const formatIso = (iso) => dateTime.format(new Date(iso));

export class ApiError extends Error {
  constructor(status, kind, message) { super(message); this.status = status; this.kind = kind; }
}

// Calls the API; state-changing requests carry the session's CSRF token. A lost session goes to the login.
export async function api(path, { method = "GET", body, raw = false, headers: extra = {} } = {}) {
  const headers = { Accept: "application/json", ...extra };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = page.csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  if (res.status === 401 && page.user) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    const err = data.error || {};
    throw new ApiError(res.status, err.kind || "error", err.message || res.statusText);
  }
  if (raw || res.status === 204) return res;
  return res.json();
}

export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export const may = (action) => (page.may || []).includes(action);

// "Reason" prompt for acts the site audits with a reason; returns null when the user cancels.
export function askReason(what) {
  const reason = window.prompt(t("Reason for %(what)s (written to the audit log):", { what }));
  return reason === null ? null : reason.trim();
}

async function header() {
  const out = $("logout");
  if (out) {
    out.addEventListener("click", async () => {
      try { await api("/api/v1/session", { method: "DELETE" }); } catch (err) { /* already ended */ }
      location.assign("/login");
    });
  }
  const cap = $("capacity");
  if (cap && may("health")) {
    try {
      const st = await api("/api/v1/status");
      cap.textContent = st.ok ? t("Storage OK") : t("Storage short: %(summary)s", { summary: st.summary });
      cap.title = st.summary;
      cap.className = st.ok ? "muted" : "error";
    } catch (err) { cap.textContent = ""; }
  }
}

header();

import { $, api, t } from "./common.js";

const next = new URLSearchParams(location.search).get("next") || "/";
// the page asked for, with its #fragment (kept by the browser across the redirect to this page)
const safeNext = (next.startsWith("/") && !next.startsWith("//") ? next : "/") + location.hash;

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = $("login-error");
  error.hidden = true;
  try {
    const me = await api("/api/v1/session", { method: "POST", body: { username: $("username").value, password: $("password").value } });
    location.assign(me.must_change_password ? "/account" : safeNext);
  } catch (err) {
    error.textContent = err.status === 429 ? err.message : t("Wrong user name or password.");
    error.hidden = false;
    $("password").select();
  }
});

for (const link of document.querySelectorAll("[data-lang]")) {
  link.addEventListener("click", (ev) => {
    ev.preventDefault();
    document.cookie = `vigil_lang=${link.dataset.lang}; path=/; SameSite=Strict; max-age=31536000`;
    location.reload();
  });
}

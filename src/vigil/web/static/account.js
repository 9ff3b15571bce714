import { $, api, page, t } from "./common.js";

const roles = { admin: t("Administrator"), operator: t("Operator"), viewer: t("Viewer"), auditor: t("Auditor"), technician: t("Technician") };
$("role-line").textContent = t("%(user)s · role: %(role)s", { user: page.user, role: roles[page.role] || page.role });

$("password-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const result = $("password-result");
  result.className = "";
  if ($("new").value !== $("again").value) {
    result.textContent = t("The two new passwords differ.");
    result.className = "error";
    return;
  }
  try {
    await api("/api/v1/me/password", { method: "POST", body: { current: $("current").value, new: $("new").value } });
    result.textContent = t("Password changed. Log in again with the new one.");
    setTimeout(() => location.assign("/login"), 1200);
  } catch (err) {
    result.textContent = err.message;
    result.className = "error";
  }
});

$("language-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  await api("/api/v1/me", { method: "PATCH", body: { language: $("language").value } });
  location.reload();
});

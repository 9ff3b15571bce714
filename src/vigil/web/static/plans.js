// The emergency plans editor (admins): each plan's YAML, saved only when it is a valid plan (the server says what is
// wrong, with the key's path); the previous version is kept beside the file.
import { $, api, el, t } from "./common.js";

let plans = [];
let chosen = null;

async function load() {
  plans = (await api("/api/v1/plans?limit=1000")).items;
  $("plans").replaceChildren(...plans.map((p) => {
    const li = el("li", {}, el("div", {}, el("strong", { textContent: p.title || p.type }),
      el("div", { className: p.valid ? "muted" : "error", textContent: [p.type, p.built_in ? t("built in") : t("edited"),
        p.valid ? t("%(n)s steps", { n: p.steps.length }) : t("not valid")].join(" · ") })));
    li.dataset.plan = p.type;
    li.classList.toggle("chosen", p.type === chosen?.type);
    li.addEventListener("click", () => choose(p));
    return li;
  }));
}

function choose(p) {
  chosen = p;
  $("plan-title").textContent = `${p.title || p.type} (${p.type})`;
  $("plan-text").value = p.text;
  $("plan-result").textContent = p.problem || "";
  $("plan-result").className = p.problem ? "error" : "muted";
  for (const li of $("plans").children) li.classList.toggle("chosen", li.dataset.plan === p.type);
}

$("plan-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!chosen) return;
  try {
    const saved = await api(`/api/v1/plans/${encodeURIComponent(chosen.type)}`, {
      method: "PUT", body: { text: $("plan-text").value, revision: chosen.revision, reason: $("plan-reason").value },
    });
    await load();
    choose(saved);
    $("plan-result").className = "muted";
    $("plan-result").textContent = t("Saved.");
  } catch (err) {
    $("plan-result").className = "error";
    $("plan-result").textContent = err.message;
  }
});

$("new-plan").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const type = $("new-plan-type").value.trim();
  if (!type) return;
  choose({ type, title: "", text: `type: ${type}\ntitle: ${type}\nseverity: high\nsteps:\n  - text: ...\n    who: operator\n`, revision: "", problem: "" });
});

load();

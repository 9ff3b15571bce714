// The rules of one camera as a table: what a rule watches for, where (a zone or a line drawn above), which
// objects, and when it is armed (one weekly schedule; more can be written in vigil.yaml and are kept as they are).
import { $, el, t } from "./common.js";

const KINDS = {
  zone_enter: t("enters a zone"), zone_exit: t("leaves a zone"), line_cross: t("crosses a line"),
  loiter: t("stays in a zone"), crowd: t("a crowd in a zone"), left_behind: t("an object left behind"),
  removed: t("an object removed"),
};
const DIRECTIONS = { both: t("both ways"), left_to_right: t("left to right"), right_to_left: t("right to left") };
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES = [t("Mo"), t("Tu"), t("We"), t("Th"), t("Fr"), t("Sa"), t("Su")];
const select = (options, value) => {
  const node = el("select", {}, ...Object.entries(options).map(([v, label]) => new Option(label, v)));
  node.value = value;
  return node;
};

export class RuleEditor {
  constructor(shapes) {
    this.shapes = shapes; // the ShapeEditor: the zones and lines a rule can name
    this.rows = [];
    $("add-rule").addEventListener("click", () => {
      const zone = shapes.names("zone")[0];
      this.add({ name: `${t("Rule")} ${this.rows.length + 1}`, kind: zone ? "zone_enter" : "line_cross", labels: ["person"] });
    });
  }

  load(rules) {
    this.rows = [];
    $("rules").querySelector("tbody").replaceChildren();
    for (const rule of rules || []) this.add(rule);
  }

  // Zones or lines were renamed, added or removed: offer the new names.
  refresh() { for (const row of this.rows) row.places(); }

  add(rule) {
    const r = structuredClone(rule);
    const name = el("input", { value: r.name || "", size: 14 });
    const kind = select(KINDS, r.kind || "zone_enter");
    const place = el("select");
    const labels = el("input", { value: (r.labels || ["person"]).join(", "), size: 12 });
    const direction = select(DIRECTIONS, r.direction || "both");
    const seconds = el("input", { type: "number", min: 0, step: "any", value: r.min_s ?? 0, size: 4 });
    const count = el("input", { type: "number", min: 2, step: 1, value: r.min_count ?? 2, size: 3 });
    const schedules = r.schedule || [];
    const armed = el("span", { className: "schedule" });
    const days = DAYS.map((d, i) => {
      const box = el("input", { type: "checkbox", checked: !schedules.length || schedules[0].days?.includes(d) !== false && (schedules[0].days || DAYS).includes(d) });
      armed.append(el("label", { className: "check day" }, box, DAY_NAMES[i]));
      return box;
    });
    const start = el("input", { type: "time", value: schedules[0]?.start || "00:00" });
    const end = el("input", { type: "time", value: schedules[0]?.end === "24:00" ? "" : schedules[0]?.end || "" });
    armed.append(start, el("span", { textContent: "–" }), end);
    if (schedules.length > 1) armed.replaceChildren(el("span", { className: "muted", textContent: t("%(n)s schedules (edit them in vigil.yaml)", { n: schedules.length }) }));
    const remove = el("button", { type: "button", className: "quiet", textContent: t("Delete") });
    const tr = el("tr", {}, ...[name, kind, place, labels, direction, seconds, count, armed, remove].map((c) => el("td", {}, c)));
    const row = {
      places: () => {
        const wantLine = kind.value === "line_cross";
        const names = this.shapes.names(wantLine ? "line" : "zone");
        const current = place.value || (wantLine ? r.line : r.zone) || "";
        const options = [...(wantLine || !["left_behind", "removed"].includes(kind.value) ? [] : [["", t("anywhere")]]), ...names.map((n) => [n, n])];
        if (current && !names.includes(current)) options.push([current, `${current} (${t("missing")})`]);
        place.replaceChildren(...options.map(([v, label]) => new Option(label, v)));
        place.value = options.some(([v]) => v === current) ? current : options[0]?.[0] ?? "";
        direction.disabled = !wantLine;
        seconds.disabled = !["loiter", "crowd", "left_behind", "removed"].includes(kind.value);
        count.disabled = kind.value !== "crowd";
      },
      value: () => {
        const out = { ...r, name: name.value.trim(), kind: kind.value };
        delete out.zone; delete out.line;
        if (kind.value === "line_cross") out.line = place.value; else if (place.value) out.zone = place.value;
        out.labels = labels.value.split(",").map((s) => s.trim()).filter(Boolean);
        if (kind.value === "line_cross") out.direction = direction.value; else delete out.direction;
        if (!seconds.disabled) out.min_s = Number(seconds.value || 0); else delete out.min_s;
        if (!count.disabled) out.min_count = Number(count.value || 2); else delete out.min_count;
        if (schedules.length <= 1) {
          const chosen = DAYS.filter((_, i) => days[i].checked);
          const always = chosen.length === 7 && (start.value || "00:00") === "00:00" && !end.value;
          if (always) delete out.schedule;
          else out.schedule = [{ days: chosen, start: start.value || "00:00", end: end.value || "24:00" }];
        }
        return out;
      },
    };
    kind.addEventListener("change", () => row.places());
    remove.addEventListener("click", () => { tr.remove(); this.rows = this.rows.filter((x) => x !== row); });
    row.places();
    this.rows.push(row);
    $("rules").querySelector("tbody").append(tr);
  }

  value() { return this.rows.map((row) => row.value()); }
}

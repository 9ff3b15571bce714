// Zones, lines, motion masks and privacy masks drawn on a picture of the camera. Points are fractions of the picture
// (0-1 from the top left), as in vigil.yaml. Click to add points; a zone or mask ends on its first point, Enter or
// Finish; a line ends at its second point; Escape cancels; drag a corner to move it. Privacy masks belong to the
// camera (cameras[].privacy_masks: burned into what people without view_unmasked see), the rest to its analysis.
import { $, el, t } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const KINDS = { zone: t("Zone"), line: t("Line"), mask: t("Motion mask"), privacy: t("Privacy mask") };
const UNNAMED = new Set(["mask", "privacy"]);
const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
const svg = (tag, attrs = {}) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};

export class ShapeEditor {
  constructor() {
    this.shapes = []; // {kind, name, points}
    this.drawing = null;
    this.width = 1000;
    this.height = 562;
    const overlay = $("overlay");
    overlay.addEventListener("click", (ev) => this.click(ev));
    document.addEventListener("keydown", (ev) => {
      if (!this.drawing) return;
      if (ev.key === "Escape") this.stop(false);
      if (ev.key === "Enter") { ev.preventDefault(); this.stop(true); }
    });
    for (const button of document.querySelectorAll("[data-draw]")) {
      button.addEventListener("click", () => this.start(button.dataset.draw));
    }
    $("finish-shape").addEventListener("click", () => this.stop(true));
    $("picture").addEventListener("load", () => this.fit());
  }

  load(analysis, privacyMasks) {
    const a = analysis || {};
    this.shapes = [
      ...(a.zones || []).map((z) => ({ kind: "zone", name: z.name, points: z.points })),
      ...(a.lines || []).map((l) => ({ kind: "line", name: l.name, points: l.points })),
      ...(a.motion_mask || []).map((points) => ({ kind: "mask", name: "", points })),
      ...(privacyMasks || []).map((points) => ({ kind: "privacy", name: "", points })),
    ];
    this.drawing = null;
    this.render();
  }

  // The shapes as the analysis section of vigil.yaml has them.
  value() {
    const of = (kind) => this.shapes.filter((s) => s.kind === kind);
    return {
      zones: of("zone").map((s) => ({ name: s.name, points: s.points })),
      lines: of("line").map((s) => ({ name: s.name, points: s.points })),
      motion_mask: of("mask").map((s) => s.points),
    };
  }

  // The privacy masks, as cameras[].privacy_masks has them.
  privacyValue() { return this.shapes.filter((s) => s.kind === "privacy").map((s) => s.points); }

  names(kind) { return this.shapes.filter((s) => s.kind === kind && s.name).map((s) => s.name); }

  fit() {
    const img = $("picture");
    if (img.naturalWidth) this.height = Math.round((this.width * img.naturalHeight) / img.naturalWidth);
    $("overlay").setAttribute("viewBox", `0 0 ${this.width} ${this.height}`);
    this.render();
  }

  start(kind) {
    const taken = new Set(this.names(kind));
    let n = 1;
    while (taken.has(`${KINDS[kind]} ${n}`)) n += 1;
    this.drawing = { kind, name: UNNAMED.has(kind) ? "" : `${KINDS[kind]} ${n}`, points: [] };
    $("finish-shape").hidden = kind === "line";
    $("draw-hint").textContent = kind === "line" ? t("Click the two ends of the line.") : t("Click the corners; click the first corner again or press Enter to finish.");
    this.render();
  }

  stop(keep) {
    const d = this.drawing;
    this.drawing = null;
    $("finish-shape").hidden = true;
    $("draw-hint").textContent = "";
    if (keep && d && d.points.length >= (d.kind === "line" ? 2 : 3)) this.shapes.push(d);
    this.render();
    this.changed?.();
  }

  at(ev) {
    const box = $("overlay").getBoundingClientRect();
    return [round((ev.clientX - box.left) / box.width), round((ev.clientY - box.top) / box.height)];
  }

  click(ev) {
    const d = this.drawing;
    if (!d) return;
    const p = this.at(ev);
    const first = d.points[0];
    if (d.kind !== "line" && d.points.length >= 3 && Math.hypot((p[0] - first[0]) * this.width, (p[1] - first[1]) * this.height) < 14) {
      this.stop(true);
      return;
    }
    d.points.push(p);
    if (d.kind === "line" && d.points.length === 2) { this.stop(true); return; }
    this.render();
  }

  render() {
    const overlay = $("overlay");
    const scale = ([x, y]) => `${x * this.width},${y * this.height}`;
    const nodes = [];
    const all = this.drawing ? [...this.shapes, this.drawing] : this.shapes;
    all.forEach((s, index) => {
      const pts = s.points.map(scale).join(" ");
      const cls = `shape ${s.kind}${s === this.drawing ? " drawing" : ""}`;
      const open = s.kind === "line" || s === this.drawing;
      nodes.push(svg(open ? "polyline" : "polygon", { points: pts, class: cls }));
      if (s.name && s.points.length) {
        const [x, y] = s.points[0];
        const label = svg("text", { x: x * this.width + 6, y: y * this.height - 6, class: `label ${s.kind}` });
        label.textContent = s.name;
        nodes.push(label);
      }
      s.points.forEach((p, k) => {
        const dot = svg("circle", { cx: p[0] * this.width, cy: p[1] * this.height, r: 7, class: `handle ${s.kind}` });
        if (s !== this.drawing) this.draggable(dot, index, k);
        nodes.push(dot);
      });
    });
    overlay.replaceChildren(...nodes);
    this.table();
  }

  draggable(dot, index, k) {
    dot.addEventListener("pointerdown", (ev) => {
      if (this.drawing) return;
      ev.preventDefault();
      dot.setPointerCapture(ev.pointerId);
      const move = (e) => { this.shapes[index].points[k] = this.at(e); this.render(); };
      const up = () => { dot.removeEventListener("pointermove", move); this.changed?.(); };
      dot.addEventListener("pointermove", move);
      dot.addEventListener("pointerup", up, { once: true });
    });
  }

  table() {
    const rows = this.shapes.map((s, index) => {
      const name = el("input", { value: s.name, size: 16, disabled: UNNAMED.has(s.kind) });
      name.addEventListener("change", () => { s.name = name.value.trim(); this.render(); this.changed?.(); });
      const remove = el("button", { type: "button", className: "quiet", textContent: t("Delete") });
      remove.addEventListener("click", () => { this.shapes.splice(index, 1); this.render(); this.changed?.(); });
      const points = s.points.map(([x, y]) => `${x},${y}`).join("  ");
      return el("tr", {}, el("td", { textContent: KINDS[s.kind] }), el("td", {}, name),
        el("td", { textContent: points, className: "muted small" }), el("td", {}, remove));
    });
    $("shapes").querySelector("tbody").replaceChildren(...rows);
  }
}

// A camera's health strip: recording and gaps (with their cause), picture faults by kind, maintenance windows and
// tickets over a period, one row each (shared by the equipment and playback pages).
import { el, formatUs, t } from "./common.js";
import { KINDS } from "./ticket_words.js";

const ROWS = [["health", t("Recording")], ["fault", t("Faults")], ["maintenance", t("Maintenance")], ["ticket", t("Tickets")]];

export function drawStrip(container, strip) {
  const span = strip.end_us - strip.start_us;
  const at = (us) => `${(100 * (Math.max(us, strip.start_us) - strip.start_us)) / span}%`;
  const width = (a, b) => `${Math.max(0.15, (100 * (Math.min(b, strip.end_us) - Math.max(a, strip.start_us))) / span)}%`;
  const bars = {};
  const rows = ROWS.map(([key, label]) => {
    const bar = el("div", { className: "bar strip" });
    bar.dataset.track = key;
    bars[key] = bar;
    return el("div", { className: "timeline-row" }, el("span", { className: "tl-name", textContent: label }), bar);
  });
  for (const p of strip.pieces) {
    const track = p.track === "recording" || p.track === "gap" ? "health" : p.track;
    const cls = { recording: "span", gap: "gap", fault: "fault", maintenance: "maint", ticket: "ticket" }[p.track];
    const words = p.track === "fault" || p.track === "ticket" ? KINDS[p.label] || p.label : p.label;
    const title = `${words ? `${words}: ` : ""}${formatUs(p.start_us)} – ${formatUs(p.end_us)}${p.ref && p.track === "ticket" ? ` (#${p.ref})` : ""}`;
    const piece = Object.assign(el("div", { className: cls, title }), { style: `left:${at(p.start_us)};width:${width(p.start_us, p.end_us)}` });
    piece.dataset.track = p.track;
    if (bars[track]) bars[track].append(piece);
  }
  container.replaceChildren(...rows);
  container.dataset.pieces = String(strip.pieces.length);
}

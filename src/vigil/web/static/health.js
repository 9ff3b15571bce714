// Health: every stream the user may see, with its state, rates and open faults; refreshed every 5 s.
import { $, api, el, t, formatIso } from "./common.js";

const states = { recording: t("recording"), offline: t("offline"), not_running: t("not running"), disabled: t("disabled") };

async function refresh() {
  try {
    const [health, cams, faults] = await Promise.all([
      api("/api/v1/health"), api("/api/v1/cameras?limit=1000"),
      api("/api/v1/events?limit=500&type=fault").catch(() => ({ items: [] })),
    ]);
    const names = Object.fromEntries(cams.items.map((c) => [c.id, c.name]));
    const open = {};
    for (const e of faults.items) if (e.end_us === null && e.camera_id) (open[e.camera_id] ||= []).push(e.description);
    const rows = health.items.map((h) => {
      const tr = el("tr");
      tr.dataset.camera = h.camera_id;
      const cell = (text, cls = "") => el("td", { textContent: text, className: cls });
      tr.append(
        cell(names[h.camera_id] || h.camera_id), cell(h.stream, "muted"),
        cell(states[h.state] || h.state, `state ${h.state}`), cell(h.since ? formatIso(h.since) : "–", "muted"),
        cell(h.fps ? h.fps.toFixed(1) : "–"), cell(h.bitrate_kbps ? `${Math.round(h.bitrate_kbps)} kb/s` : "–"),
        cell(h.keyframe_interval_s ? `${h.keyframe_interval_s.toFixed(1)} s` : "–"),
        cell(h.last_packet ? formatIso(h.last_packet) : "–", "muted"),
        cell((open[h.camera_id] || []).join("; ") || (h.error || ""), open[h.camera_id] ? "error" : "muted"),
      );
      return tr;
    });
    $("health").querySelector("tbody").replaceChildren(...rows);
    const st = await api("/api/v1/status").catch(() => null);
    if (st) { $("storage").textContent = st.summary; $("storage").className = st.ok ? "muted" : "error"; }
  } catch (err) {
    $("storage").textContent = err.message;
  }
}

refresh();
setInterval(refresh, 5000);

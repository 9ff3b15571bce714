// The live wall: the cameras the user may watch, in a 1/2x2/3x3/4x4 grid, each playing live video (fMP4 over a
// WebSocket into Media Source Extensions, no transcoding). Click a tile to enlarge it. Groups (named sets of
// cameras with a layout) are kept on the server: the user's own, and shared ones an admin offers to everyone.
import { $, api, el, may, page, t } from "./common.js";
import { playLive } from "./live.js";

const oldGroupsKey = `vigil.groups.${page.user}`; // groups this browser kept before they moved to the server
const layoutKey = `vigil.layout.${page.user}`;
let cameras = [];
let groups = []; // from /api/v1/wall/groups
const tiles = new Map(); // camera id -> { figure, player }
let enlarged = null;

const groupKey = (g) => `${g.owner}/${g.name}`;
const currentGroup = () => groups.find((g) => groupKey(g) === $("group").value);

function wsUrl(id) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/api/v1/cameras/${encodeURIComponent(id)}/live`;
}

function shown() {
  const group = currentGroup();
  const byId = Object.fromEntries(cameras.map((c) => [c.id, c]));
  const chosen = group ? group.cameras.map((id) => byId[id]).filter(Boolean) : cameras;
  return enlarged ? chosen.filter((c) => c.id === enlarged) : chosen.slice(0, Number($("layout").value));
}

// live.js states: connecting, waiting, playing, error (detail: the message), unsupported (detail: the codec), closed
function stateText(state, detail = "") {
  const text = {
    connecting: t("Connecting…"), waiting: t("Waiting for video…"), playing: "", error: t("No live video"),
    closed: t("Closed"), unsupported: t("This browser cannot play this camera's video"),
  }[state] ?? "";
  return (state === "error" || state === "unsupported") && detail ? `${text}: ${detail}` : text;
}

function makeTile(cam) {
  const figure = $("tile-template").content.firstElementChild.cloneNode(true);
  figure.dataset.camera = cam.id;
  figure.querySelector(".name").textContent = cam.name;
  figure.querySelector(".where").textContent = cam.location || cam.site;
  const video = figure.querySelector("video");
  const stateLine = figure.querySelector(".tile-state");
  const player = playLive(video, wsUrl(cam.id), {
    onState: (state, detail) => {
      figure.dataset.state = state;
      stateLine.textContent = stateText(state, detail || "");
    },
  });
  figure.addEventListener("click", () => {
    enlarged = enlarged ? null : cam.id;
    render();
  });
  return { figure, player };
}

function render() {
  const want = shown();
  const ids = new Set(want.map((c) => c.id));
  for (const [id, tile] of tiles) {
    if (!ids.has(id)) { tile.player.close(); tile.figure.remove(); tiles.delete(id); }
  }
  const wall = $("wall");
  wall.dataset.layout = enlarged ? "1" : $("layout").value;
  for (const cam of want) {
    if (!tiles.has(cam.id)) tiles.set(cam.id, makeTile(cam));
    wall.append(tiles.get(cam.id).figure); // keeps the order of the list
  }
  $("wall-note").textContent = cameras.length > want.length && !enlarged
    ? t("%(shown)s of %(total)s cameras shown", { shown: want.length, total: cameras.length }) : "";
  if (!cameras.length) wall.replaceChildren(el("p", { className: "muted", textContent: t("You may not watch any camera.") }));
}

async function refreshStatus() {
  try {
    const [health, events] = await Promise.all([
      api("/api/v1/health"),
      page.may.includes("events") ? api("/api/v1/events?limit=200") : Promise.resolve({ items: [] }),
    ]);
    const state = Object.fromEntries(health.items.filter((h) => h.stream === "main").map((h) => [h.camera_id, h.state]));
    const open = {};
    for (const e of events.items) if (e.end_us === null && e.camera_id) (open[e.camera_id] ||= []).push(e);
    for (const [id, tile] of tiles) {
      tile.figure.querySelector(".dot").className = `dot ${state[id] || "unknown"}`;
      tile.figure.querySelector(".dot").title = state[id] || "";
      const alerts = tile.figure.querySelector(".alerts");
      const list = (open[id] || []).filter((e) => e.type !== "motion");
      alerts.textContent = list.length ? `⚠ ${list[0].description}${list.length > 1 ? ` (+${list.length - 1})` : ""}` : "";
    }
  } catch (err) { /* the next refresh tries again */ }
}

async function loadGroups(select) {
  groups = (await api("/api/v1/wall/groups")).items;
  const chosen = select ?? $("group").value;
  const label = (g) => (g.mine ? g.name : `${g.name} (${g.owner})`) + (g.shared ? ` · ${t("shared")}` : "");
  $("group").replaceChildren(new Option(t("All my cameras"), ""), ...groups.map((g) => new Option(label(g), groupKey(g))));
  $("group").value = groups.some((g) => groupKey(g) === chosen) ? chosen : "";
  const group = currentGroup();
  $("delete-group").hidden = !(group && (group.mine || may("admin")));
}

// Groups this browser kept before they were kept on the server are saved there once.
async function moveOldGroups() {
  const old = JSON.parse(localStorage.getItem(oldGroupsKey) || "null");
  if (!old) return;
  const ids = new Set(cameras.map((c) => c.id));
  for (const [name, list] of Object.entries(old)) {
    const kept = list.filter((id) => ids.has(id));
    if (kept.length) await api(`/api/v1/wall/groups/${encodeURIComponent(name)}`, { method: "PUT", body: { cameras: kept, layout: Number($("layout").value) } }).catch(() => null);
  }
  localStorage.removeItem(oldGroupsKey);
}

function editGroup() {
  const group = currentGroup();
  const picked = new Set(group ? group.cameras : shown().map((c) => c.id));
  $("group-name").value = group && group.mine ? group.name : "";
  $("group-layout").value = group ? String(group.layout) : $("layout").value;
  $("group-shared").checked = Boolean(group && group.shared);
  $("group-shared").parentElement.hidden = !may("admin");
  $("group-cameras").replaceChildren(...cameras.map((c) => el("label", { className: "check" },
    el("input", { type: "checkbox", value: c.id, checked: picked.has(c.id) }), c.name)));
  $("group-result").textContent = "";
  $("group-dialog").showModal();
}

async function saveGroup(ev) {
  ev.preventDefault();
  const name = $("group-name").value.trim();
  const ids = [...$("group-cameras").querySelectorAll("input:checked")].map((i) => i.value);
  try {
    const body = { cameras: ids, layout: Number($("group-layout").value), shared: $("group-shared").checked };
    const saved = await api(`/api/v1/wall/groups/${encodeURIComponent(name)}`, { method: "PUT", body });
    $("group-dialog").close();
    await loadGroups(groupKey(saved));
    $("layout").value = String(saved.layout);
    enlarged = null;
    render();
  } catch (err) {
    $("group-result").textContent = err.message;
  }
}

$("layout").value = localStorage.getItem(layoutKey) || "4";
$("layout").addEventListener("change", () => { localStorage.setItem(layoutKey, $("layout").value); enlarged = null; render(); });
$("group").addEventListener("change", () => {
  enlarged = null;
  const group = currentGroup();
  $("delete-group").hidden = !(group && (group.mine || may("admin")));
  if (group) $("layout").value = String(group.layout);
  render();
});
$("save-group").addEventListener("click", editGroup);
$("group-form").addEventListener("submit", saveGroup);
$("group-cancel").addEventListener("click", () => $("group-dialog").close());
$("delete-group").addEventListener("click", async () => {
  const group = currentGroup();
  if (!group || !window.confirm(t("Delete the group %(name)s?", { name: group.name }))) return;
  const q = group.mine ? "" : `?owner=${encodeURIComponent(group.owner)}`;
  await api(`/api/v1/wall/groups/${encodeURIComponent(group.name)}${q}`, { method: "DELETE" });
  await loadGroups("");
  render();
});

(async () => {
  const listed = await api("/api/v1/cameras?limit=1000");
  cameras = listed.items.filter((c) => c.enabled && c.may.includes("live"));
  await moveOldGroups();
  await loadGroups();
  render();
  refreshStatus();
  setInterval(refreshStatus, 5000);
})();

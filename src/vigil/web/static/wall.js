// The live wall: the cameras the user may watch, in a 1/2x2/3x3/4x4 grid, each playing live video (fMP4 over a
// WebSocket into Media Source Extensions, no transcoding). Click a tile to enlarge it; groups are saved per user
// in this browser.
import { $, api, el, page, t } from "./common.js";
import { playLive } from "./live.js";

const groupsKey = `vigil.groups.${page.user}`;
const layoutKey = `vigil.layout.${page.user}`;
let cameras = [];
const tiles = new Map(); // camera id -> { figure, player }
let enlarged = null;

const loadGroups = () => JSON.parse(localStorage.getItem(groupsKey) || "{}");

function wsUrl(id) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/api/v1/cameras/${encodeURIComponent(id)}/live`;
}

function shown() {
  const group = loadGroups()[$("group").value];
  const chosen = group ? cameras.filter((c) => group.includes(c.id)) : cameras;
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

function fillGroups() {
  const groups = loadGroups();
  const chosen = $("group").value;
  $("group").replaceChildren(new Option(t("All my cameras"), ""), ...Object.keys(groups).sort().map((g) => new Option(g, g)));
  $("group").value = groups[chosen] ? chosen : "";
  $("delete-group").hidden = !$("group").value;
}

$("layout").value = localStorage.getItem(layoutKey) || "4";
$("layout").addEventListener("change", () => { localStorage.setItem(layoutKey, $("layout").value); enlarged = null; render(); });
$("group").addEventListener("change", () => { enlarged = null; $("delete-group").hidden = !$("group").value; render(); });
$("save-group").addEventListener("click", () => {
  const name = window.prompt(t("Name of the group:"));
  if (!name) return;
  const groups = loadGroups();
  groups[name.trim()] = shown().map((c) => c.id);
  localStorage.setItem(groupsKey, JSON.stringify(groups));
  fillGroups();
  $("group").value = name.trim();
});
$("delete-group").addEventListener("click", () => {
  const groups = loadGroups();
  delete groups[$("group").value];
  localStorage.setItem(groupsKey, JSON.stringify(groups));
  fillGroups();
  render();
});

(async () => {
  const listed = await api("/api/v1/cameras?limit=1000");
  cameras = listed.items.filter((c) => c.enabled && c.may.includes("live"));
  fillGroups();
  render();
  refreshStatus();
  setInterval(refreshStatus, 5000);
})();

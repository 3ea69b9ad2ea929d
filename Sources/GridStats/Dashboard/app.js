// GridBus dashboard: plain JavaScript, no build step, nothing from a CDN. Reads /api/v1 and
// follows /api/v1/stream (server-sent events) to refresh when the numbers move.
"use strict";

const key = new URLSearchParams(location.hash.slice(1)).get("key");  // #key=… for a deployment with API keys
const headers = key ? { Authorization: "Bearer " + key } : {};
const state = { grids: null, updates: 0, refreshing: null };

function day(offset) {
  const date = new Date(Date.now() + offset * 86400000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(date);  // yyyy-mm-dd
}

async function api(path) {
  const response = await fetch(path, { headers });
  if (!response.ok) throw new Error(path + " answered " + response.status);
  return response.json();
}

function percent(value) { return value == null ? "—" : (value * 100).toFixed(1) + "%"; }
function minutes(seconds) { return seconds == null ? "—" : (seconds / 60).toFixed(1) + " min"; }
function element(tag, attributes, text) {
  const node = document.createElementNS(tag === "svg" || ["path", "g", "polyline", "text", "line"].includes(tag) ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function summary(today, open) {
  const tiles = [
    ["reports today", today.reports], ["registered", today.registered], ["closed", today.closed],
    ["on-time closure", percent(today.onTimeClosureRate)], ["open past deadline", open.overdueOpen],
    ["timely dispatch", percent(today.timelyDispatchRate)], ["notifications sent", percent(today.notificationSuccessRate)],
  ];
  const box = document.getElementById("summary");
  box.replaceChildren(...tiles.map(([label, value]) => {
    const tile = element("div", { class: "tile" });
    tile.append(element("b", {}, String(value ?? 0)), document.createTextNode(label));
    return tile;
  }));
}

function colourScale(values, higherIsBetter) {
  const max = Math.max(1e-9, ...values.filter((v) => v != null));
  return (value) => {
    if (value == null) return "#d9dee5";
    const share = Math.min(1, value / max);
    const bad = higherIsBetter ? 1 - share : share;
    return `hsl(${120 - 120 * bad}, 60%, ${75 - 30 * bad}%)`;
  };
}

function drawMap(byGrid) {
  const svg = document.getElementById("map");
  const features = state.grids.features;
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  const rings = (geometry) => geometry.type === "Polygon" ? [geometry.coordinates[0]] : geometry.coordinates.map((polygon) => polygon[0]);
  for (const feature of features) for (const ring of rings(feature.geometry)) for (const [x, y] of ring) {
    minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  }
  const width = 1000, height = 1000 * (maxY - minY) / Math.max(1e-9, maxX - minX);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const measure = document.getElementById("colour").value;
  const values = Object.values(byGrid).map((row) => row[measure]);
  const colour = colourScale(values, measure === "onTimeClosureRate");
  const group = element("g");
  for (const feature of features) {
    const id = feature.properties.id || feature.id;
    const d = rings(feature.geometry).map((ring) => "M" + ring.map(([x, y]) => `${((x - minX) / (maxX - minX) * width).toFixed(1)},${((maxY - y) / (maxY - minY) * height).toFixed(1)}`).join("L") + "Z").join("");
    const row = byGrid[id];
    const path = element("path", { d, fill: colour(row ? row[measure] : null), "data-grid": id });
    path.append(element("title", {}, `${id}: ${row ? (measure.endsWith("Rate") ? percent(row[measure]) : row[measure]) : "no cases"}`));
    group.append(path);
  }
  svg.replaceChildren(group);
  document.getElementById("legend").replaceChildren(...[0, 0.5, 1].map((share) => {
    const item = element("span");
    item.append(element("i", { style: `background:${colour(share * Math.max(1e-9, ...values.filter((v) => v != null)))}` }), document.createTextNode(share === 0 ? "low" : share === 1 ? "high" : ""));
    return item;
  }));
}

function drawTrend(byDay) {
  const svg = document.getElementById("trend");
  const days = []; for (let offset = -29; offset <= 0; offset++) days.push(day(offset));
  const rows = Object.fromEntries(byDay.map((row) => [row.key, row]));
  const series = [["reports", "#1e6fd9"], ["closed", "#2e9d5b"], ["escalations", "#d9534f"]];
  const max = Math.max(1, ...byDay.flatMap((row) => series.map(([name]) => row[name])));
  const width = 600, height = 200, left = 30;
  svg.setAttribute("viewBox", `0 0 ${width} ${height + 20}`);
  const nodes = [element("line", { x1: left, y1: height, x2: width, y2: height, stroke: "#999" }), element("text", { x: 0, y: 12, "font-size": 11 }, String(max))];
  series.forEach(([name, colour], index) => {
    const points = days.map((d, i) => `${left + i * (width - left) / 29},${height - (rows[d] ? rows[d][name] : 0) / max * (height - 10)}`).join(" ");
    nodes.push(element("polyline", { points, fill: "none", stroke: colour, "stroke-width": 2, class: "series", "data-series": name }));
    nodes.push(element("text", { x: left + 10 + index * 110, y: height + 16, fill: colour, "font-size": 12 }, name));
  });
  svg.replaceChildren(...nodes);
}

function drawCategories(rows) {
  document.querySelector("#categories tbody").replaceChildren(...rows.sort((a, b) => b.reports - a.reports).map((row) => {
    const tr = element("tr");
    for (const cell of [row.key || "(unknown)", row.reports, row.registered, percent(row.closureRate), percent(row.onTimeClosureRate), minutes(row.acknowledgeMeanSeconds), row.escalations]) tr.append(element("td", {}, String(cell)));
    return tr;
  }));
}

function drawRanking(rows) {
  document.getElementById("ranking").replaceChildren(...rows.slice(0, 20).map((row) => element("li", {}, `${row.key} — ${percent(row.value)} (${row.sample})`)));
  if (!rows.length) document.getElementById("ranking").replaceChildren(element("li", {}, "no grid has enough closed cases yet"));
}

function drawEmergencies(periods) {
  const open = periods.filter((period) => !period.endedAt);
  const banner = document.getElementById("emergency");
  banner.hidden = open.length === 0;
  banner.textContent = open.length ? "EMERGENCY MODE: " + open.map((p) => p.place + (p.reason ? ` (${p.reason})` : "")).join(", ") : "";
}

async function refresh() {
  const from = day(-29), to = day(0);
  const [today, byGrid, byDay, byCategory, ranking, emergencies, now] = await Promise.all([
    api(`/api/v1/indicators?from=${to}&to=${to}`), api(`/api/v1/indicators?by=grid&from=${from}&to=${to}`),
    api(`/api/v1/indicators?by=day&from=${from}&to=${to}`), api(`/api/v1/indicators?by=category&from=${from}&to=${to}`),
    api(`/api/v1/ranking?by=grid&indicator=onTimeClosureRate&from=${from}&to=${to}`), api(`/api/v1/emergencies`),
    api(`/api/v1/indicators?from=${from}&to=${to}`),
  ]);
  summary(today.rows[0] || {}, now.rows[0] || { overdueOpen: 0 });
  state.byGrid = Object.fromEntries(byGrid.rows.map((row) => [row.key, row]));
  drawMap(state.byGrid);
  drawTrend(byDay.rows);
  drawCategories(byCategory.rows);
  drawRanking(ranking.ranking);
  drawEmergencies(emergencies.emergencies);
  document.getElementById("asof").textContent = "as of " + new Date().toLocaleTimeString();
  document.body.dataset.ready = "true";
}

function scheduleRefresh() {
  if (state.refreshing) return;
  state.refreshing = setTimeout(() => { state.refreshing = null; refresh().catch(report); }, 300);
}

function report(error) { document.getElementById("asof").textContent = String(error); console.warn(error); }

async function start() {
  state.grids = await api("/api/v1/grids");
  document.getElementById("colour").addEventListener("change", () => drawMap(state.byGrid || {}));
  await refresh();
  const stream = new EventSource("/api/v1/stream" + (key ? "?api_key=" + encodeURIComponent(key) : ""));
  const live = document.getElementById("live");
  stream.onopen = () => { live.className = "on"; live.textContent = "● live"; };
  stream.onerror = () => { live.className = "off"; live.textContent = "● reconnecting"; };
  stream.addEventListener("changed", () => {
    state.updates += 1;
    document.getElementById("updates").textContent = String(state.updates);
    scheduleRefresh();
  });
}

start().catch(report);

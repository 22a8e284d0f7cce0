// The dashboard's staffing section: for the dashboard's days, agents required by Erlang C against agents online
// per interval, the forecast week after them, the targets used, and every interval as a CSV download.
import { api } from "./api.js";
import { $, clear, h } from "./dom.js";
import { csvText, download } from "./tables.js";
import { formatNumber, formatPercent, onLocaleChange, t } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const COLUMNS = ["start", "channel", "team", "offered", "aht_seconds", "required_agents", "online_agents", "forecast"];
const SERIES = [["required", "#d62728"], ["online", "#1f77b4"], ["forecastRequired", "#9467bd"]];
const PAD = { left: 40, right: 12, top: 26, bottom: 28 };

let requested = 0;
let shown = null;

function node(name, attributes, text) {
  const element = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// Per interval start: agents required (summed over channels and teams: each is its own queue), agents online
// (each team once), and the agents the forecast week requires.
export function perInterval(intervals) {
  const byStart = new Map();
  for (const row of intervals) {
    const point = byStart.get(row.start) || { start: row.start, required: null, online: null, forecastRequired: null,
      teams: new Set() };
    if (row.offered === null) {
      point.forecastRequired = (point.forecastRequired || 0) + row.required_agents;
    } else {
      point.required = (point.required || 0) + row.required_agents;
      if (!point.teams.has(row.team)) {
        point.teams.add(row.team);
        point.online = (point.online || 0) + (row.online_agents || 0);
      }
    }
    byStart.set(row.start, point);
  }
  return [...byStart.values()].sort((a, b) => (a.start < b.start ? -1 : 1));
}

function chart(svg, points) {
  svg.replaceChildren();
  const width = Number(svg.getAttribute("width")), height = Number(svg.getAttribute("height"));
  const top = Math.max(1, ...points.flatMap((p) => [p.required, p.online, p.forecastRequired].filter((v) => v !== null)));
  const y = (value) => height - PAD.bottom - value / top * (height - PAD.top - PAD.bottom);
  const span = width - PAD.left - PAD.right;
  const x = (index) => PAD.left + (points.length > 1 ? index * span / (points.length - 1) : span / 2);
  for (const value of [0, Math.round(top / 2), top]) {
    svg.append(node("line", { x1: PAD.left, y1: y(value), x2: width - PAD.right, y2: y(value),
      stroke: value ? "#e5e7eb" : "#999" }));
    svg.append(node("text", { x: PAD.left - 6, y: y(value) + 4, "text-anchor": "end", "font-size": 11,
      fill: "#64748b" }, formatNumber(value)));
  }
  SERIES.forEach(([name, color], number) => {
    const coordinates = points.map((p, index) => (p[name] === null ? null : `${x(index)},${y(p[name])}`))
      .filter(Boolean);
    if (coordinates.length) {
      svg.append(node("polyline", { points: coordinates.join(" "), fill: "none", stroke: color, "stroke-width": 1.5,
        "data-series": name }));
    }
    svg.append(node("text", { x: PAD.left + number * 150, y: 14, fill: color, "font-size": 12 },
      t(`staffing.series.${name}`)));
  });
  if (points.length) {
    const label = (p) => p.start.slice(0, 16).replace("T", " ");
    svg.append(node("text", { x: x(0), y: height - 8, "font-size": 11, fill: "#64748b" }, label(points[0])));
    svg.append(node("text", { x: x(points.length - 1), y: height - 8, "font-size": 11, fill: "#64748b",
      "text-anchor": "end" }, label(points[points.length - 1])));
  }
}

function render(report, start, end) {
  shown = { report, start, end };
  const points = perInterval(report.intervals);
  chart($("#staffing-chart"), points);
  const peak = Math.max(0, ...points.map((p) => p.required || 0));
  const short = points.filter((p) => p.required !== null && p.online !== null && p.online < p.required).length;
  $("#staffing-summary").textContent = t("staffing.summary", { peak, short, count: points.length });
  clear($("#staffing-targets")).append(...report.targets.map((target) => h("li", { dataset: { channel: target.channel } },
    t("staffing.target", { channel: target.channel, level: formatPercent(target.service_level),
      seconds: target.answer_seconds, occupancy: formatPercent(target.max_occupancy) }))));
  $("#staffing-csv").hidden = false;
  $("#staffing-csv").onclick = () => download(`staffing_${report.interval_minutes}min_${start}_${end}.csv`,
    csvText(COLUMNS, report.intervals));
}

export async function loadStaffing() {
  const start = $("#dash-from").value, end = $("#dash-to").value, error = $("#staffing-error");
  error.textContent = "";
  if (!start || !end || end < start) {
    error.textContent = t("dashboard.badRange");
    return;
  }
  const query = new URLSearchParams({ start, end, interval_minutes: $("#staffing-interval").value });
  for (const [name, input] of [["channel", "#staffing-channel"], ["team", "#staffing-team"]]) {
    if ($(input).value.trim()) query.set(name, $(input).value.trim());
  }
  const ticket = ++requested;
  $("#staffing").dataset.state = "loading";
  try {
    const report = await api(`/reports/staffing?${query}`);
    if (ticket !== requested) return;
    render(report, start, end);
    $("#staffing").dataset.state = "ready";
  } catch (err) {
    if (ticket !== requested) return;
    error.textContent = err.message;
    $("#staffing").dataset.state = "error";
  }
}

export function mountStaffing() {
  $("#staffing-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadStaffing();
  });
  onLocaleChange(() => shown && render(shown.report, shown.start, shown.end));
}

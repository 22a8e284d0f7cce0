// The supervisors' dashboard inside the inbox: KPIs for a date range (recomputed by the server from the
// timeline), trend lines per day, bars per channel, and every table with a CSV download.
import { api } from "./api.js";
import { $, clear, h } from "./dom.js";
import { bars, trend } from "./charts.js";
import { table } from "./tables.js";
import { mountStaffing } from "./staffing.js";
import { formatDate, formatDuration, formatNumber, formatPercent, label, t } from "./i18n.js";
import { renderService } from "./service.js";
import { loadNotifications, rerenderNotifications } from "./notifications.js";

const DIMENSIONS = ["day", "channel", "team", "intent"];
const KPI_COLUMNS = ["cases", "contained", "containment_rate", "handed_off", "handoff_rate", "handoffs",
  "handoff_reasons", "avg_bot_turns_before_handoff", "avg_bot_seconds_before_handoff", "avg_queue_wait_seconds",
  "abandoned_in_queue", "queue_abandonment_rate", "avg_first_response_seconds", "avg_handle_seconds", "resolved",
  "first_contact_resolutions", "fcr_rate", "recontacts", "recontact_rate", "sla_attainment", "sla_spread",
  "csat_bot_only", "csat_assisted", "csat_bot_only_responses", "csat_assisted_responses", "reasked", "reask_rate",
  "overflowed", "overflow_rate", "overflow_choices"];

let loaded = false;
let requested = 0;
let shown = null;  // the last report on screen, drawn again when the agent changes language

function isoDay(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

const percent = formatPercent;

function summary(total, commitments) {
  const tiles = [["cases", formatNumber(total.cases)], ["containment", percent(total.containment_rate)],
    ["handoffRate", percent(total.handoff_rate)], ["fcr", percent(total.fcr_rate)],
    ["recontacts", percent(total.recontact_rate)], ["reasks", percent(total.reask_rate)],
    ["abandoned", percent(total.queue_abandonment_rate)], ["overflowed", percent(total.overflow_rate)],
    ["firstResponse", total.avg_first_response_seconds === null ? "–" : formatDuration(total.avg_first_response_seconds)],
    ["commitments", commitments ? t("dashboard.kept", { rate: percent(commitments.kept_on_time_rate),
      kept: commitments.kept_on_time, due: commitments.due - commitments.pending }) : "–"]];
  return tiles.map(([key, value]) => h("div", { class: "tile" }, h("span", { class: "muted" }, t(`dashboard.tile.${key}`)),
    h("strong", { dataset: { kpi: key } }, String(value))));
}

function render(report, start, end) {
  shown = { report, start, end };
  $("#dash-period").textContent = t("dashboard.period", { start: formatDate(start), end: formatDate(end), count: report.total.cases });
  clear($("#dash-summary")).append(...summary(report.total, report.commitments));
  trend($("#dash-trend"), report.day.map((row) => formatDate(row.day)), [
    { name: t("dashboard.series.containment"), values: report.day.map((row) => row.containment_rate) },
    { name: t("dashboard.series.handoffRate"), values: report.day.map((row) => row.handoff_rate) },
    { name: t("dashboard.series.fcr"), values: report.day.map((row) => row.fcr_rate) },
  ]);
  bars($("#dash-reasks"), report.channel.map((row) => [row.channel, row.reask_rate]));
  bars($("#dash-containment"), report.channel.map((row) => [row.channel, row.containment_rate]));
  bars($("#dash-sla"), Object.entries(report.total.sla_attainment));
  const overflowed = report.total.overflowed;  // what overflowed customers chose, as shares of them
  bars($("#dash-overflow"), Object.entries(report.total.overflow_choices)
    .map(([choice, count]) => [choice, overflowed ? count / overflowed : null, label("dashboard.overflowChoice", choice)]));
  const suffix = `${start}_${end}`;
  const tables = clear($("#dash-tables"));
  tables.append(table({ name: "total", title: t("dashboard.table.total"), columns: KPI_COLUMNS, rows: [report.total],
    filename: `kpis_total_${suffix}.csv` }));
  for (const dimension of DIMENSIONS) {
    tables.append(table({ name: dimension, title: t(`dashboard.table.${dimension}`), columns: [dimension, ...KPI_COLUMNS],
      rows: report[dimension],
      filename: `kpis_by_${dimension}_${suffix}.csv` }));
  }
  renderService(report.service, suffix);
}

export async function loadDashboard() {
  const start = $("#dash-from").value, end = $("#dash-to").value, error = $("#dash-error");
  error.textContent = "";
  if (!start || !end || end < start) {
    error.textContent = t("dashboard.badRange");
    return;
  }
  const ticket = ++requested;  // a slower, older answer must not overwrite a newer range
  $("#dashboard-view").dataset.state = "loading";
  try {
    const report = await api(`/reports/kpis?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`);
    if (ticket !== requested) return;
    render(report, start, end);
    $("#dashboard-view").dataset.state = "ready";
    $("#dashboard-view").dataset.range = `${start}/${end}`;
    loadNotifications(start, end);  // its own request: the counts per template
  } catch (err) {
    if (ticket !== requested) return;
    error.textContent = err.message;
    $("#dashboard-view").dataset.state = "error";
  }
}

export function mountDashboard() {
  const today = new Date();
  $("#dash-to").value = isoDay(today);
  $("#dash-from").value = isoDay(new Date(today.getTime() - 29 * 86400000));
  $("#dash-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadDashboard();
  });
  mountStaffing();
}

export async function openDashboard() {
  if (!loaded) {
    loaded = true;
    await loadDashboard();
  }
}

// After a language change: the report on screen in the new language (no new request).
export function rerenderDashboard() {
  if (shown) render(shown.report, shown.start, shown.end);
  rerenderNotifications();
}

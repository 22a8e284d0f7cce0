// The supervisors' dashboard inside the inbox: KPIs for a date range (recomputed by the server from the
// timeline), trend lines per day, bars per channel, and every table with a CSV download.
import { api } from "./api.js";
import { $, clear, h } from "./dom.js";
import { bars, trend } from "./charts.js";
import { table } from "./tables.js";

const DIMENSIONS = [["day", "By day"], ["channel", "By channel"], ["team", "By team"], ["intent", "By intent"]];
const KPI_COLUMNS = ["cases", "contained", "containment_rate", "handed_off", "handoff_rate", "handoffs",
  "handoff_reasons", "avg_bot_turns_before_handoff", "avg_bot_seconds_before_handoff", "avg_queue_wait_seconds",
  "abandoned_in_queue", "queue_abandonment_rate", "avg_first_response_seconds", "avg_handle_seconds", "resolved",
  "first_contact_resolutions", "fcr_rate", "recontacts", "recontact_rate", "sla_attainment", "sla_spread",
  "csat_bot_only", "csat_assisted", "csat_bot_only_responses", "csat_assisted_responses", "reasked", "reask_rate",
  "overflowed", "overflow_rate", "overflow_choices"];

let loaded = false;
let requested = 0;

function isoDay(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

function summary(total, commitments) {
  const tiles = [["Cases", total.cases], ["Containment", percent(total.containment_rate)],
    ["Handoff rate", percent(total.handoff_rate)], ["FCR", percent(total.fcr_rate)],
    ["Recontacts", percent(total.recontact_rate)], ["Re-asks", percent(total.reask_rate)],
    ["Abandoned in queue", percent(total.queue_abandonment_rate)], ["Overflowed", percent(total.overflow_rate)],
    ["First response", total.avg_first_response_seconds === null ? "–" : `${total.avg_first_response_seconds} s`],
    ["Commitments kept on time", commitments ? `${percent(commitments.kept_on_time_rate)} (${commitments.kept_on_time}/${commitments.due - commitments.pending})` : "–"]];
  return tiles.map(([label, value]) => h("div", { class: "tile" }, h("span", { class: "muted" }, label),
    h("strong", { dataset: { kpi: label } }, String(value))));
}

function render(report, start, end) {
  $("#dash-period").textContent = `${start} – ${end} · ${report.total.cases} cases`;
  clear($("#dash-summary")).append(...summary(report.total, report.commitments));
  trend($("#dash-trend"), report.day.map((row) => row.day), [
    { name: "containment", values: report.day.map((row) => row.containment_rate) },
    { name: "handoff rate", values: report.day.map((row) => row.handoff_rate) },
    { name: "FCR", values: report.day.map((row) => row.fcr_rate) },
  ]);
  bars($("#dash-reasks"), report.channel.map((row) => [row.channel, row.reask_rate]));
  bars($("#dash-containment"), report.channel.map((row) => [row.channel, row.containment_rate]));
  bars($("#dash-sla"), Object.entries(report.total.sla_attainment));
  const overflowed = report.total.overflowed;  // what overflowed customers chose, as shares of them
  bars($("#dash-overflow"), Object.entries(report.total.overflow_choices)
    .map(([choice, count]) => [choice, overflowed ? count / overflowed : null]));
  const suffix = `${start}_${end}`;
  const tables = clear($("#dash-tables"));
  tables.append(table({ name: "total", title: "Total", columns: KPI_COLUMNS, rows: [report.total],
    filename: `kpis_total_${suffix}.csv` }));
  for (const [dimension, title] of DIMENSIONS) {
    tables.append(table({ name: dimension, title, columns: [dimension, ...KPI_COLUMNS], rows: report[dimension],
      filename: `kpis_by_${dimension}_${suffix}.csv` }));
  }
}

export async function loadDashboard() {
  const start = $("#dash-from").value, end = $("#dash-to").value, error = $("#dash-error");
  error.textContent = "";
  if (!start || !end || end < start) {
    error.textContent = "Pick a start day on or before the end day.";
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
}

export async function openDashboard() {
  if (!loaded) {
    loaded = true;
    await loadDashboard();
  }
}

// The dashboard's Service section (README: Service KPIs): durable containment beside raw, service level, ASA,
// AHT, occupancy, one-contact resolution, why customers left, a table per channel and per agent, and the SLA
// spread between channels day by day. Text only, like the rest of the dashboard.
import { $, clear, h } from "./dom.js";
import { trend } from "./charts.js";
import { table } from "./tables.js";
import { formatDate, formatDuration, formatPercent, t } from "./i18n.js";

const CHANNEL_COLUMNS = ["channel", "cases", "containment_rate", "durable_containment_rate", "offered", "answered",
  "answered_in_target", "short_abandons", "service_level", "asa_seconds", "aht_seconds", "resolved",
  "one_contact_resolutions", "one_contact_resolution_rate", "frustration", "saturation", "short", "within_target"];
const AGENT_COLUMNS = ["name", "agent_id", "handle_seconds", "online_seconds", "occupancy"];

function seconds(value) {
  return value === null || value === undefined ? "–" : formatDuration(value);
}

function tiles(total, occupancy) {
  const left = total.abandonment;
  return [
    ["durable", t("dashboard.service.durableValue", { durable: formatPercent(total.durable_containment_rate),
      raw: formatPercent(total.containment_rate) })],
    ["serviceLevel", formatPercent(total.service_level)], ["asa", seconds(total.asa_seconds)],
    ["aht", seconds(total.aht_seconds)], ["occupancy", formatPercent(occupancy.occupancy)],
    ["oneContact", formatPercent(total.one_contact_resolution_rate)],
    ["abandonment", t("dashboard.service.abandonValue", { frustration: left.frustration,
      saturation: left.saturation, short: left.short, within: left.within_target })],
  ].map(([key, value]) => h("div", { class: "tile" },
    h("span", { class: "muted" }, t(`dashboard.service.tile.${key}`)), h("strong", { dataset: { kpi: key } }, value)));
}

export function renderService(service, suffix) {
  clear($("#dash-service-summary")).append(...tiles(service.total, service.occupancy));
  trend($("#dash-spread"), service.trend.map((row) => formatDate(row.day)), [
    { name: t("dashboard.service.series.serviceLevel"), values: service.trend.map((row) => row.spread) },
    { name: t("dashboard.service.series.firstResponse"), values: service.trend.map((row) => row.first_response_spread) },
  ]);
  const flat = (row) => ({ ...row, ...row.abandonment });
  const total = t("dashboard.service.total");
  clear($("#dash-service-tables")).append(
    table({ name: "service", title: t("dashboard.service.table.channel"), columns: CHANNEL_COLUMNS,
      rows: [...service.channel.map(flat), { ...flat(service.total), channel: total }],
      filename: `service_by_channel_${suffix}.csv` }),
    table({ name: "occupancy", title: t("dashboard.service.table.agents"), columns: AGENT_COLUMNS,
      rows: [...service.occupancy.agents, { ...service.occupancy, name: total, agent_id: "" }],
      filename: `occupancy_by_agent_${suffix}.csv` }));
}

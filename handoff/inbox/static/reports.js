// The supervisors' dashboard and the designers' review list. All text goes in as textContent.
import {bars, trend} from "/inbox/static/charts.js";

const TAGS = ["correct", "should have been contained", "late handoff", "wrong team"];
let csrf = null;
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const headers = {"Content-Type": "application/json"};
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(`/inbox/api${path}`, {credentials: "same-origin", ...options, headers});
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

function element(name, text, attributes = {}) {
  const made = document.createElement(name);
  if (text !== undefined && text !== null) made.textContent = String(text);
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
  return made;
}

function cellText(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function csv(columns, rows) {
  const quote = (value) => `"${cellText(value).replaceAll('"', '""')}"`;
  return [columns.map(quote).join(","), ...rows.map((row) => columns.map((c) => quote(row[c])).join(","))].join("\n");
}

function table(name, columns, rows, extra) {
  const wrapper = element("div", null, {"data-table": name});
  const download = element("button", `CSV: ${name}`, {type: "button", "data-csv": name});
  download.addEventListener("click", () => {
    const link = element("a", null, {download: `${name}.csv`});
    link.href = URL.createObjectURL(new Blob([csv(columns, rows)], {type: "text/csv"}));
    link.click();
  });
  const grid = element("table");
  const head = element("tr");
  columns.forEach((column) => head.appendChild(element("th", column)));
  if (extra) head.appendChild(element("th", ""));
  grid.appendChild(head);
  rows.forEach((row) => {
    const line = element("tr");
    columns.forEach((column) => line.appendChild(element("td", cellText(row[column]))));
    if (extra) line.appendChild(extra(row));
    grid.appendChild(line);
  });
  wrapper.append(element("h3", name), download, grid);
  return wrapper;
}

const KPI_COLUMNS = ["cases", "containment_rate", "handoff_rate", "handoffs", "avg_bot_turns_before_handoff",
  "avg_bot_seconds_before_handoff", "avg_queue_wait_seconds", "queue_abandonment_rate", "avg_first_response_seconds",
  "avg_handle_seconds", "fcr_rate", "recontact_rate", "sla_attainment", "sla_spread", "csat_bot_only", "csat_assisted"];

async function loadKpis() {
  const report = await api(`/reports/kpis?start=${$("r-from").value}&end=${$("r-to").value}`);
  trend($("r-trend"), report.day.map((row) => row.day), [
    {name: "containment", values: report.day.map((row) => row.containment_rate)},
    {name: "handoff rate", values: report.day.map((row) => row.handoff_rate)},
    {name: "FCR", values: report.day.map((row) => row.fcr_rate)},
  ]);
  bars($("r-bars"), Object.entries(report.total.sla_attainment));
  const tables = $("r-tables");
  tables.replaceChildren(table("total", KPI_COLUMNS, [report.total]));
  for (const dimension of ["day", "channel", "team", "intent"]) {
    tables.appendChild(table(`by ${dimension}`, [dimension, ...KPI_COLUMNS], report[dimension]));
  }
}

function reviewControls(row) {
  const cell = element("td");
  const select = element("select", null, {"data-review": row.id});
  TAGS.forEach((tag) => select.appendChild(element("option", tag, {value: tag})));
  const note = element("input", null, {placeholder: "note", "data-note": row.id});
  const save = element("button", "Tag", {type: "button", "data-tag": row.id});
  save.addEventListener("click", async () => {
    await api(`/transitions/${row.id}/review`, {method: "POST", body: JSON.stringify({tag: select.value, note: note.value})});
    await loadTransitions();
  });
  cell.append(select, note, save);
  return cell;
}

async function loadTransitions() {
  const rows = (await api("/transitions")).map((row) => ({
    ...row, last_turns: row.last_turns.map((turn) => `${turn.actor}: ${turn.text}`).join(" | ")}));
  $("r-transitions").replaceChildren(table("transitions", ["id", "case_id", "direction", "channel", "team", "reason",
    "intent", "confidence", "last_turns", "summary", "slots", "waiting_seconds", "outcome", "review_tag", "review_note"],
    rows, reviewControls));
}

function labelControls(row) {
  const cell = element("td");
  const intent = element("input", null, {placeholder: "intent", "data-intent": row.id});
  const save = element("button", "Save", {type: "button", "data-save": row.id});
  const dismiss = element("button", "Dismiss", {type: "button", "data-dismiss": row.id});
  const send = async (body) => {
    await api(`/nlu-samples/${row.id}`, {method: "POST", body: JSON.stringify(body)});
    await loadSamples();
  };
  save.addEventListener("click", () => send({intent: intent.value.trim()}));
  dismiss.addEventListener("click", () => send({dismiss: true}));
  cell.append(intent, save, dismiss);
  return cell;
}

async function loadSamples() {
  const rows = await api("/nlu-samples");
  $("r-samples").replaceChildren(table("samples", ["id", "source", "text", "language", "predicted_intent",
    "confidence", "review_tag", "status"], rows, labelControls));
}

async function start(agent) {
  $("r-login").hidden = true;
  $("r-main").hidden = false;
  $("r-who").textContent = `${agent.name || agent.email} (${agent.role})`;
  const today = new Date(), monthAgo = new Date(Date.now() - 29 * 86400000);
  $("r-from").value = monthAgo.toISOString().slice(0, 10);
  $("r-to").value = today.toISOString().slice(0, 10);
  if (["supervisor", "admin"].includes(agent.role)) {
    $("supervisor").hidden = false;
    $("r-load").addEventListener("click", loadKpis);
    await Promise.all([loadKpis(), loadTransitions()]);
  }
  if (["designer", "admin"].includes(agent.role)) {
    $("designer").hidden = false;
    await loadSamples();
  }
  document.body.dataset.ready = "yes";
}

$("r-login").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const answer = await api("/login", {method: "POST",
      body: JSON.stringify({email: $("r-email").value, password: $("r-password").value})});
    csrf = answer.csrf_token;
    await start(answer.agent);
  } catch (error) {
    $("r-error").textContent = String(error.message);
  }
});

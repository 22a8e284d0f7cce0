// The supervisors' transition review and refused provider items, and the designers' review list (the KPI
// dashboard is a view of /inbox).
// All text goes in as textContent.
import {table} from "/inbox/static/tables.js";
import {setLocale, t} from "/inbox/static/i18n.js";

const TAGS = ["correct", "should have been contained", "late handoff", "wrong team"];  // i18n: values the API stores
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

function reviewControls(row) {
  const cell = element("td");
  const select = element("select", null, {"data-review": row.id});
  TAGS.forEach((tag) => select.appendChild(element("option", t(`reviewTag.${tag.replaceAll(" ", "_")}`), {value: tag})));
  const note = element("input", null, {placeholder: t("reports.note"), "aria-label": t("reports.note"), "data-note": row.id});
  const save = element("button", t("reports.tag"), {type: "button", "data-tag": row.id});
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
  $("r-transitions").replaceChildren(table({name: "transitions", title: t("reports.transitions"), columns: ["id", "case_id",
    "direction", "channel", "team", "reason", "intent", "confidence", "last_turns", "summary", "slots",
    "waiting_seconds", "outcome", "review_tag", "review_note"], rows, extra: reviewControls}));
}

async function loadRefused() {
  const answer = await api("/webhooks/refused");
  $("r-refused").replaceChildren(
    table({name: "refused", title: t("reports.refusedItems", {count: answer.total}), columns: ["id", "received_at", "channel",
      "webhook_id", "path", "error", "raw"], rows: answer.items}),
    table({name: "failing", title: t("reports.failing"), columns: ["id", "received_at", "channel",
      "attempts", "last_error"], rows: answer.failing}));
}

function labelControls(row) {
  const cell = element("td");
  const intent = element("input", null, {placeholder: t("reports.intent"), "aria-label": t("reports.intent"), "data-intent": row.id});
  const save = element("button", t("myPhone.save"), {type: "button", "data-save": row.id});
  const dismiss = element("button", t("commitments.dismiss"), {type: "button", "data-dismiss": row.id});
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
  $("r-samples").replaceChildren(table({name: "samples", title: t("reports.samples"), columns: ["id", "source", "text",
    "language", "predicted_intent", "confidence", "review_tag", "status"], rows, extra: labelControls}));
}

async function start(agent) {
  if (agent.locale) await setLocale(agent.locale);  // the language kept on the agent's profile
  $("r-login").hidden = true;
  $("r-main").hidden = false;
  $("r-who").textContent = t("header.me", {name: agent.name || agent.email, role: t(`role.${agent.role}`)});
  if (["supervisor", "admin"].includes(agent.role)) {
    $("supervisor").hidden = false;
    await loadTransitions();
    await loadRefused();
  }
  if (["designer", "admin"].includes(agent.role)) {
    $("designer").hidden = false;
    await loadSamples();
  }
  document.body.dataset.ready = "yes";
}

setLocale(null);  // the browser's language until the agent logs in

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

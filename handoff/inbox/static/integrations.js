// Admins' integrations page: other systems' tokens (created, listed, revoked) and the webhook delivery log.
// A new token and webhook secret are shown once, right after creation; every text goes in as textContent.
import { api, ApiError, setCsrf } from "./api.js";
import { $, clear, clock, h } from "./dom.js";
import { setLocale, t } from "./i18n.js";

const SCOPES = ["contacts:write", "cases:read", "webhooks", "notifications:send"];  // i18n: values the API stores
const EVENTS = ["case.handed_off", "case.assigned", "case.resolved", "csat.received", "commitment.due"];  // i18n: values the API stores
const state = { integrations: [], oldest: null, filter: "" };

function checkboxes(container, name, values) {
  for (const value of values) {
    container.append(h("label", { class: "check" },
      h("input", { type: "checkbox", name, value }), " ", h("code", {}, value)));
  }
}

function checked(name) {
  return [...document.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
}

function stateOf(row) {
  return row.revoked_at ? t("integrations.revokedAt", { when: clock(row.revoked_at) }) : t("integrations.active");
}

function integrationRow(row) {
  const revoke = row.revoked_at ? "" : h("button", { type: "button", dataset: { revoke: row.id },
    onclick: () => revokeIntegration(row) }, t("integrations.revoke"));
  const rotate = row.revoked_at || !row.webhook_url ? "" : h("button", { type: "button", dataset: { rotate: row.id },
    onclick: () => rotateSecret(row) }, t("integrations.rotate"));
  const webhook = row.webhook_url ? [h("code", {}, row.webhook_url), h("br"), row.webhook_events.join(", ")] : "–";
  return h("tr", { dataset: { integration: row.id }, class: row.revoked_at ? "muted" : "" },
    h("td", {}, row.name), h("td", {}, row.scopes.join(", ")), h("td", {}, h("code", {}, `${row.token_hint}…`)),
    h("td", {}, webhook), h("td", {}, stateOf(row)), h("td", {}, row.last_used_at ? clock(row.last_used_at) : "–"),
    h("td", {}, rotate, " ", revoke));
}

async function loadIntegrations() {
  state.integrations = await api("/integrations");
  $("#integrations-empty").hidden = state.integrations.length > 0;
  clear($("#integrations-rows")).append(...state.integrations.map(integrationRow));
  const select = clear($("#deliveries-integration"));
  select.append(h("option", { value: "" }, t("integrations.all")));
  for (const row of state.integrations) select.append(h("option", { value: row.id }, row.name));
  select.value = state.filter;
}

async function revokeIntegration(row) {
  if (!window.confirm(t("integrations.confirmRevoke", { name: row.name }))) return;
  $("#integrations-error").textContent = "";
  try {
    await api(`/integrations/${encodeURIComponent(row.id)}/revoke`, { method: "POST" });
    await loadIntegrations();
  } catch (err) {
    $("#integrations-error").textContent = err.message;
  }
}

function showOnce(token, secret) {
  $("#integration-token").textContent = token || "";
  $("#integration-token-line").hidden = !token;
  $("#integration-secret").textContent = secret || "";
  $("#integration-secret-line").hidden = !secret;
  $("#integration-created").hidden = false;
}

async function rotateSecret(row) {
  if (!window.confirm(t("integrations.confirmRotate", { name: row.name }))) return;
  $("#integrations-error").textContent = "";
  try {
    const rotated = await api(`/integrations/${encodeURIComponent(row.id)}/secret`, { method: "POST" });
    showOnce(null, rotated.webhook_secret);
  } catch (err) {
    $("#integrations-error").textContent = err.message;
  }
}

async function createIntegration(event) {
  event.preventDefault();
  $("#integration-form-error").textContent = "";
  const body = { name: $("#integration-name").value, scopes: checked("scope"),
    webhook_url: $("#integration-url").value.trim() || null, webhook_events: checked("event") };
  try {
    const created = await api("/integrations", { method: "POST", body });
    showOnce(created.token, created.webhook_secret);
    $("#integration-form").querySelectorAll("input").forEach((input) => {
      if (input.type === "checkbox") input.checked = false; else input.value = "";
    });
    await loadIntegrations();
  } catch (err) {
    $("#integration-form-error").textContent = err.message;
  }
}

function deliveryRow(row) {
  const names = new Map(state.integrations.map((item) => [item.id, item.name]));
  const outcome = row.status === "pending" && row.next_attempt_at
    ? t("integrations.nextAttempt", { when: clock(row.next_attempt_at), error: row.last_error || "" })
    : row.last_error || row.response || "";
  return h("tr", { dataset: { delivery: row.id, status: row.status } },
    h("td", {}, clock(row.created_at)), h("td", {}, names.get(row.integration_id) || row.integration_id),
    h("td", {}, h("code", {}, row.event)), h("td", {}, h("code", {}, row.case_id.slice(0, 8))),
    h("td", {}, t(`integrations.status.${row.status}`)), h("td", {}, String(row.attempts)), h("td", {}, outcome));
}

async function loadDeliveries(older = false) {
  const query = new URLSearchParams();
  if (state.filter) query.set("integration_id", state.filter);
  if (older && state.oldest) query.set("before", String(state.oldest));
  const rows = await api(`/integrations/deliveries?${query}`);
  if (!older) clear($("#deliveries-rows"));
  $("#deliveries-rows").append(...rows.map(deliveryRow));
  if (rows.length) state.oldest = rows[rows.length - 1].id;
  $("#deliveries-empty").hidden = $("#deliveries-rows").children.length > 0;
  $("#deliveries-older").hidden = rows.length < 50;
}

async function start() {
  await setLocale(null);
  let me;
  try {
    me = await api("/me");
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) throw err;
    $("#integrations-refused").textContent = t("integrations.logInFirst");
    $("#integrations-refused").hidden = false;
    return;
  }
  if (me.agent.locale) await setLocale(me.agent.locale);
  setCsrf(me.csrf_token);
  if (me.agent.role !== "admin") {
    $("#integrations-refused").textContent = t("integrations.adminsOnly");
    $("#integrations-refused").hidden = false;
    return;
  }
  $("#integrations-admin").hidden = false;
  checkboxes($("#integration-scopes"), "scope", SCOPES);
  checkboxes($("#integration-events"), "event", EVENTS);
  $("#integration-form").addEventListener("submit", createIntegration);
  $("#deliveries-integration").addEventListener("change", (event) => {
    state.filter = event.target.value;
    loadDeliveries();
  });
  $("#deliveries-refresh").addEventListener("click", () => loadDeliveries());
  $("#deliveries-older").addEventListener("click", () => loadDeliveries(true));
  await loadIntegrations();
  await loadDeliveries();
}

start();

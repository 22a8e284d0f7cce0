// Callbacks: the team's list (windows open now first) with "Call now", the agent's phone or SIP address the call
// rings first, and asking for a callback on the case on screen. Only ever sets text (customer names included).
import { api } from "./api.js";
import { $, clear, clock, h } from "./dom.js";
import { formatNumber, t } from "./i18n.js";

const parts = { openCase: null, currentCase: () => null };

const WINDOWS = ["open", "upcoming", "past"];
const STATUSES = ["requested", "placing", "answered", "no_answer", "busy", "failed", "cancelled"];

function when(item) {
  return `${clock(item.window_start)} – ${clock(item.window_end)} (${WINDOWS.includes(item.window) ? t(`callback.window.${item.window}`) : item.window})`;
}

function row(item) {
  const callNow = h("button", { type: "button", class: "call-now", dataset: { callbackId: item.id } }, t("callback.callNow"));
  callNow.addEventListener("click", () => change(item.id, "place", t("callback.calling")));
  const cancel = h("button", { type: "button", class: "cancel-callback", dataset: { callbackId: item.id } }, t("callback.cancel"));
  cancel.addEventListener("click", () => change(item.id, "cancel", t("callback.cancelled")));
  const open = h("a", { href: "#", class: "callback-case" }, item.customer_name || item.phone);
  open.addEventListener("click", (event) => {
    event.preventDefault();
    if (parts.openCase) parts.openCase(item.case_id);
  });
  return h("li", { class: `callback window-${item.window}`, dataset: { callbackId: item.id } },
    open, h("div", { class: "muted" }, `${item.phone} · ${item.team || t("case.noTeam")} · ${when(item)}`), callNow, cancel);
}

export async function refreshCallbacks() {
  const list = $("#callbacks");
  if (!list) return;
  const items = await api("/callbacks?status=requested");
  clear(list);
  for (const item of items) list.append(row(item));
  $("#callbacks-count").textContent = formatNumber(items.length);
}

// "place" (Call now: Twilio rings the agent's phone, then the customer) or "cancel".
async function change(callbackId, action, done) {
  const error = $("#callbacks-error");
  error.textContent = "";
  try {
    await api(`/callbacks/${encodeURIComponent(callbackId)}/${action}`, { method: "POST" });
    error.textContent = done;
  } catch (err) {
    error.textContent = err.message;
  }
  await refreshCallbacks();
}

async function savePhone(event) {
  event.preventDefault();
  const result = $("#my-phone-result");
  try {
    const agent = await api("/me/phone", { method: "PUT", body: { phone: $("#my-phone").value.trim() || null } });
    $("#my-phone").value = agent.phone || "";
    result.textContent = t(agent.phone ? "myPhone.saved" : "myPhone.cleared");
  } catch (err) {
    result.textContent = err.message;
  }
}

async function requestForCase(event) {
  event.preventDefault();
  const caseId = parts.currentCase();
  const error = $("#callback-error");
  error.textContent = "";
  if (!caseId) return;
  const start = $("#callback-start").value;
  const end = $("#callback-end").value;
  if (!start || !end) {
    error.textContent = t("callback.needWindow");
    return;
  }
  // datetime-local is the agent's local time: sent with its offset, stored in UTC.
  const body = { window_start: new Date(start).toISOString(), window_end: new Date(end).toISOString() };
  const phone = $("#callback-phone").value.trim();
  if (phone) body.phone = phone;
  try {
    const created = await api(`/cases/${encodeURIComponent(caseId)}/callbacks`, { method: "POST", body });
    error.textContent = t("callback.created", {
      status: STATUSES.includes(created.status) ? t(`callback.status.${created.status}`) : created.status, phone: created.phone });
    await refreshCallbacks();
  } catch (err) {
    error.textContent = err.message;
  }
}

// Called once after login: who the agent is (their phone), how to open a case, which case is on screen.
export function mountCallbacks(me, openCase, currentCase) {
  parts.openCase = openCase;
  parts.currentCase = currentCase;
  $("#my-phone").value = me.phone || "";
  $("#my-phone-form").addEventListener("submit", savePhone);
  $("#callback-form").addEventListener("submit", requestForCase);
  return refreshCallbacks();
}

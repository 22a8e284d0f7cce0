// Commitments: the customer's open promises in the side panel (for the next agent), recording one, marking it
// kept or broken, the due alert, and the supervisors' overdue list. Promise text is set as text, never HTML.
import { api } from "./api.js";
import { $, clear, clock, h } from "./dom.js";
import { formatNumber, t } from "./i18n.js";

const when = clock;

function row(item, onSettle) {
  const state = item.overdue ? "overdue" : item.state;
  return h("li", { class: `commitment ${state}`, dataset: { id: String(item.id) } },
    h("span", { class: "commitment-text" }, item.text),
    h("span", { class: "muted" }, ` · ${item.agent_name || "?"} · ${t(item.overdue ? "commitments.dueOverdue" : "commitments.dueAt", { when: when(item.due_at) })} `),
    onSettle ? h("button", { type: "button", class: "kept-btn", onclick: () => onSettle(item, "kept") }, t("commitments.kept")) : null,
    onSettle ? h("button", { type: "button", class: "broken-btn", onclick: () => onSettle(item, "broken") }, t("commitments.broken")) : null);
}

// The panel of the case on screen: open promises of all the customer's cases this agent may read.
export async function showCommitments(view, me, reload) {
  const body = clear($("#commitments-body"));
  const error = $("#commitment-error");
  error.textContent = "";
  let list = [];
  try {
    if (view.customer.id) list = await api(`/commitments?status=open&customer_id=${encodeURIComponent(view.customer.id)}`);
  } catch (err) { error.textContent = err.message; }
  const supervises = ["supervisor", "admin"].includes(me.role);
  const holds = view.case.assignee_id === me.id;
  const settle = async (item, outcome) => {
    try {
      await api(`/commitments/${item.id}/${outcome}`, { method: "POST" });
      await reload();
    } catch (err) { error.textContent = err.message; }
  };
  body.append(list.length
    ? h("ul", { id: "commitment-list" }, list.map((item) => row(item, supervises || holds || item.agent_id === me.id ? settle : null)))
    : h("p", { class: "muted" }, t("commitments.none")));
  const form = $("#commitment-form");
  form.hidden = !(holds || supervises) || !["bot", "queued", "assigned"].includes(view.case.status);
  form.onsubmit = async (event) => {
    event.preventDefault();
    const local = $("#commitment-due").value;
    try {
      await api(`/cases/${encodeURIComponent(view.case.id)}/commitments`, {
        method: "POST", body: { text: $("#commitment-text").value, due_at: local ? new Date(local).toISOString() : "" },
      });
      $("#commitment-text").value = "";
      await reload();
    } catch (err) { error.textContent = err.message; }
  };
}

// A promise came due (pushed once to who promised, the case's holder and its team).
export function commitmentDue(alert, openCase) {
  const box = $("#commitment-alerts");
  box.hidden = false;
  const item = h("p", { class: "commitment-alert" }, `${t("alerts.commitmentDue")}: `, h("q", {}, alert.text), " ",
    h("button", { type: "button", onclick: () => openCase(alert.case_id) }, t("commitments.openCase")), " ",
    h("button", { type: "button", class: "dismiss-alert", onclick: () => dismiss(item) }, t("commitments.dismiss")));
  box.append(item);
}

// Dismissed one by one (its button, or Escape while on it); the box goes when it is empty.
function dismiss(item) {
  const box = $("#commitment-alerts");
  item.remove();
  box.hidden = !box.querySelector(".commitment-alert");
}

export function mountCommitmentAlerts() {
  $("#commitment-alerts").addEventListener("keydown", (e) => {
    const item = e.key === "Escape" && e.target.closest(".commitment-alert");
    if (item) { e.preventDefault(); dismiss(item); }
  });
}

// Supervisors: open promises past their due time, soonest first.
export function renderOverdue(list, openCase) {
  const body = clear($("#overdue-body"));
  for (const item of list || []) {
    body.append(h("tr", {}, h("td", {}, item.customer_name || "—"), h("td", {}, item.text), h("td", {}, item.agent_name || "—"),
      h("td", {}, when(item.due_at)), h("td", {}, h("button", { type: "button", onclick: () => openCase(item.case_id) }, t("commitments.open")))));
  }
  $("#overdue-count").textContent = formatNumber((list || []).length);
}

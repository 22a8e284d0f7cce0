// The dashboard's notifications section (README: Notifications): per template, for the dashboard's days, what
// other systems' notifications did: sent, delivered, read, answered, opt-outs after them and replies that reached
// people, with the total and a CSV download. Text only, like the rest of the dashboard.
import { api } from "./api.js";
import { $, clear } from "./dom.js";
import { table } from "./tables.js";
import { t } from "./i18n.js";

const COLUMNS = ["template", "asked", "sent", "delivered", "read", "customer_answered", "failed", "refused",
  "opt_outs", "reached_people"];

let requested = 0;
let shown = null;

// `answered` is the customer's answer here (a reply or a key on the call), not an agent answering a queue.
const row = (counts) => ({ ...counts, customer_answered: counts.answered });

function render(report, suffix) {
  shown = { report, suffix };
  const total = { ...row(report.total), template: t("dashboard.service.total") };
  clear($("#dash-notifications-table")).append(
    table({ name: "notifications", title: t("dashboard.notifications.table"), columns: COLUMNS,
      rows: [...report.templates.map(row), total], filename: `notifications_by_template_${suffix}.csv` }));
}

export async function loadNotifications(start, end) {
  const error = $("#dash-notifications-error");
  error.textContent = "";
  const ticket = ++requested;
  $("#dash-notifications").dataset.state = "loading";
  try {
    const query = new URLSearchParams({ start, end });
    const report = await api(`/reports/notifications?${query}`);
    if (ticket !== requested) return;
    render(report, `${start}_${end}`);
    $("#dash-notifications").dataset.state = "ready";
  } catch (err) {
    if (ticket !== requested) return;
    error.textContent = err.message;
    $("#dash-notifications").dataset.state = "error";
  }
}

// After a language change: the counts on screen again (no new request).
export function rerenderNotifications() {
  if (shown) render(shown.report, shown.suffix);
}

// The SLA clock of each case in the lists: the same rule as handoff/core/sla_clock.py (a warning in the target's
// last quarter, breached at the due time), recomputed every second so the color changes without a reload.
import { duration, h } from "./dom.js";
import { t } from "./i18n.js";

export const WARNING_SHARE = 0.25;

export function slaState(secondsLeft, targetSeconds) {
  if (secondsLeft <= 0) return "breached";
  if (secondsLeft <= targetSeconds * WARNING_SHARE) return "warning";
  return "ok";
}

function paint(node, now = Date.now()) {
  const left = (Date.parse(node.dataset.due) - now) / 1000;
  const state = slaState(left, Number(node.dataset.target));
  node.className = `sla sla-${state}`;
  node.dataset.state = state;
  node.textContent = state === "breached" ? t("sla.late", { time: duration(-left) }) : t("sla.left", { time: duration(left) });
}

export function slaChip(summary) {
  if (!summary.sla_due_at) return null;
  const node = h("span", { dataset: { due: summary.sla_due_at, target: String(summary.sla_target_seconds) } });
  paint(node);
  return node;
}

export function tickSla() {
  const now = Date.now();
  for (const node of document.querySelectorAll(".sla[data-due]")) paint(node, now);
}

// Routing as agents read it: the decision and its reason on the timeline ("Held for Ana until 10:32"), and the
// "returning customer" card (the previous case, its outcome and agent, its open commitments). Text only.
import { $, clear, clock, h } from "./dom.js";
import { formatDayTime, formatNumber, intlTag, t } from "./i18n.js";

function hhmm(date) {
  return new Intl.DateTimeFormat(intlTag(), { hour: "2-digit", minute: "2-digit" }).format(date);
}

// "Mon 09:00" in the agent's own time zone and language.
export function dayTime(iso) {
  return iso ? formatDayTime(iso) : t("routing.theOpening");
}

const REASONS = ["free_agent", "follow_up_agent", "follow_up_agent_busy", "follow_up_agent_away", "within_target",
  "wait_over_target", "nobody_online", "closed"];
const REACHED = ["template_sent", "template_skipped", "template_unavailable", "window_open", "opted_out"];
const CHOICES = ["wait", "whatsapp", "callback", "assistant"];

const known = (list, value, prefix) => (list.includes(value) ? t(`${prefix}.${value}`) : value);

// The overflowed customer's answer (an `overflow` event) as a sentence.
export function overflowText(event) {
  const choice = (event.payload || {}).choice;
  return t("routing.overflowChoice", { choice: choice ? known(CHOICES, choice, "routing.choice") : "?" });
}

// One routing event of the timeline as a sentence.
export function routingText(event) {
  const p = event.payload || {};
  const who = p.agent_name || t("routing.theAgent");
  const why = p.reason ? known(REASONS, p.reason, "routing.reason") : "";
  const reached = REACHED.includes(p.reached) ? ` · ${t(`routing.reached.${p.reached}`)}` : "";
  switch (p.decision) {
    case "assign":
      return p.reason === "follow_up_agent" ? t("routing.assignedFollowUp", { who }) : t("routing.assigned", { why, who });
    case "hold": {
      const until = event.at && p.hold_seconds ? hhmm(new Date(Date.parse(event.at) + p.hold_seconds * 1000)) : "";
      return until ? t("routing.heldUntil", { who, until }) : t("routing.held", { who });
    }
    case "queue":
      return [t("routing.queued", { why }), p.position ? `#${formatNumber(p.position)}` : null,
        p.wait_seconds ? t("routing.about", { minutes: Math.max(1, Math.round(p.wait_seconds / 60)) }) : null]
        .filter(Boolean).join(" · ");
    case "overflow":
      return t("routing.overflow", { why, offers: (p.offers || []).map((o) => known(CHOICES, o, "routing.choice")).join(", ")
        || t("routing.nothing") });
    case "after_hours":
      return t("routing.afterHoursKept", { when: dayTime(p.opens_at) });
    case "opening":
      return `${t("routing.afterHoursRouted", { when: dayTime(p.opens_at) })}${reached}`;
    default:
      return event.text || t("routing.routed");
  }
}

// The card above the handoff summary: shown only for a returning customer.
export function renderReturning(returning) {
  const card = $("#returning");
  if (!card) return;
  const body = clear($("#returning-body"));
  card.hidden = !returning;
  if (!returning) return;
  const prev = returning.previous_case;
  body.append(h("p", { class: "tag returning" }, t("returning.title")));
  if (prev) {
    const outcome = prev.disposition || prev.outcome || prev.status;
    body.append(h("dl", {},
      h("dt", {}, t("returning.previous")), h("dd", { class: "previous-case-id" }, prev.id),
      h("dt", {}, t("returning.when")), h("dd", {}, `${clock(prev.created_at)}${prev.resolved_at ? ` → ${clock(prev.resolved_at)}` : ""}`),
      h("dt", {}, t("returning.outcome")), h("dd", { class: "previous-outcome" }, outcome || "—"),
      h("dt", {}, t("returning.agent")), h("dd", { class: "previous-agent" }, prev.agent_name || "—"),
      h("dt", {}, t("returning.channel")), h("dd", {}, prev.channel)));
  }
  if (!returning.commitments) return;  // no previous case this agent may read
  body.append(h("h4", {}, t("returning.commitments")),
    returning.commitments.length
      ? h("ul", { class: "previous-commitments" }, returning.commitments.map((c) => h("li", { class: c.overdue ? "overdue" : "" },
        `${c.text} · ${t(c.overdue ? "commitments.dueOverdue" : "commitments.dueAt", { when: clock(c.due_at) })}`)))
      : h("p", { class: "muted" }, t("customer.none")));
}

// Routing as agents read it: the decision and its reason on the timeline ("Held for Ana until 10:32"), and the
// "returning customer" card (the previous case, its outcome and agent, its open commitments). Text only.
import { $, clear, clock, h } from "./dom.js";

function hhmm(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
}

// "Mon 09:00" in the agent's own time zone.
export function dayTime(iso) {
  if (!iso) return "the opening";
  const date = new Date(iso);
  return `${date.toLocaleDateString("en-US", { weekday: "short" })} ${hhmm(date)}`;
}

const REASON = {
  free_agent: "free agent", follow_up_agent: "follow-up agent", follow_up_agent_busy: "follow-up agent busy",
  follow_up_agent_away: "follow-up agent away", within_target: "wait within target",
  wait_over_target: "wait over target", nobody_online: "nobody online", closed: "closed",
};
const REACHED = { template_sent: " · WhatsApp template sent", template_skipped: " · no WhatsApp template (no number or template)",
  template_unavailable: " · WhatsApp template not approved", window_open: " · WhatsApp window open",
  opted_out: " · no WhatsApp template (opted out)" };

const CHOICE = { wait: "wait in line", whatsapp: "continue on WhatsApp", callback: "a callback",
  assistant: "go on with the assistant meanwhile" };

// The overflowed customer's answer (an `overflow` event) as a sentence.
export function overflowText(event) {
  const choice = (event.payload || {}).choice;
  return `Overflow: the customer chose ${CHOICE[choice] || choice || "?"}`;
}

// One routing event of the timeline as a sentence.
export function routingText(event) {
  const p = event.payload || {};
  const who = p.agent_name || "the agent";
  const why = REASON[p.reason] || p.reason || "";
  switch (p.decision) {
    case "assign":
      return p.reason === "follow_up_agent" ? `Routed: follow-up agent (${who})` : `Routed: ${why} (${who})`;
    case "hold": {
      const until = event.at && p.hold_seconds ? hhmm(new Date(Date.parse(event.at) + p.hold_seconds * 1000)) : "";
      return `Held for ${who}${until ? ` until ${until}` : ""}`;
    }
    case "queue":
      return `Queued: ${why}${p.position ? ` · #${p.position}` : ""}${p.wait_seconds ? ` · about ${Math.max(1, Math.round(p.wait_seconds / 60))} min` : ""}`;
    case "overflow":
      return `Overflow: ${why} · offered ${(p.offers || []).join(", ") || "nothing"}`;
    case "after_hours":
      return `After hours: kept for ${dayTime(p.opens_at)}`;
    case "opening":
      return `After hours: routed at ${dayTime(p.opens_at)}${REACHED[p.reached] || ""}`;
    default:
      return event.text || "Routed";
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
  body.append(h("p", { class: "tag returning" }, "Returning customer"));
  if (prev) {
    const outcome = prev.disposition || prev.outcome || prev.status;
    body.append(h("dl", {},
      h("dt", {}, "Previous case"), h("dd", { class: "previous-case-id" }, prev.id),
      h("dt", {}, "When"), h("dd", {}, `${clock(prev.created_at)}${prev.resolved_at ? ` → ${clock(prev.resolved_at)}` : ""}`),
      h("dt", {}, "Outcome"), h("dd", { class: "previous-outcome" }, outcome || "—"),
      h("dt", {}, "Agent"), h("dd", { class: "previous-agent" }, prev.agent_name || "—"),
      h("dt", {}, "Channel"), h("dd", {}, prev.channel)));
  }
  if (!returning.commitments) return;  // no previous case this agent may read
  body.append(h("h4", {}, "Open commitments"),
    returning.commitments.length
      ? h("ul", { class: "previous-commitments" }, returning.commitments.map((c) => h("li", { class: c.overdue ? "overdue" : "" },
        `${c.text} · due ${clock(c.due_at)}${c.overdue ? " · overdue" : ""}`)))
      : h("p", { class: "muted" }, "None"));
}

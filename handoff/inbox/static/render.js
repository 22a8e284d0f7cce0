// Rendering of lists, the case view, the customer panel, the summary and the supervisor panel (text only).
import { $, clear, clock, duration, h, sinceSeconds } from "./dom.js";
import { dayTime, overflowText, routingText } from "./routing.js";
import { channelIcon, hue, initials } from "./icons.js";
import { slaChip } from "./sla.js";
import { formatNumber, formatPercent, label, t } from "./i18n.js";

const ACTORS = ["customer", "bot", "system"];
const CUSTOMER_LANGUAGES = ["es", "en", "pt"];  // operations.yml languages: what a case's language may be

// The language the customer writes in (the case's, followed when it changes), by name in the agent's language.
export function customerLanguage(code) {
  return CUSTOMER_LANGUAGES.includes(code) ? t(`customerLanguage.${code}`) : (code || "?").toUpperCase();
}

// Who the customer is, as text: their name, their handle (a WhatsApp username; the number may be hidden), or both.
export function customerLabel(name, handle, fallback = t("actor.customer")) {
  if (name && handle) return `${name} (${handle})`;
  return name || handle || fallback;
}

function avatar(name, handle) {
  const node = h("span", { class: "avatar", "aria-hidden": "true" }, initials(name, handle));
  node.style.backgroundColor = `hsl(${hue(name || handle)} 70% 86%)`;  // CSSOM: allowed by the page's CSP
  return node;
}

export function caseItem(summary, selectedId, onOpen) {
  const waiting = h("span", { class: "waiting", dataset: { since: summary.queued_at || "" } },
    duration(sinceSeconds(summary.queued_at)));
  const unread = summary.unread || 0;
  const who = customerLabel(summary.customer_name, summary.customer_handle);
  return h("li", {},
    h("button", {
      type: "button", class: `case-item${summary.id === selectedId ? " selected" : ""}`,
      dataset: { caseId: summary.id }, onclick: () => onOpen(summary.id),
      "aria-current": summary.id === selectedId ? "true" : null,
    },
    h("span", { class: "case-line" },
      avatar(summary.customer_name, summary.customer_handle),
      h("span", { class: "who" }, who),
      unread ? h("span", { class: "unread", title: t("list.unread", { count: unread }) }, formatNumber(unread),
        h("span", { class: "visually-hidden" }, ` ${t("list.unreadWord", { count: unread })}`)) : null),
    h("span", { class: "tags" },
      h("span", { class: "tag" }, summary.reason || label("status", summary.status)),
      h("span", { class: "tag channel" }, channelIcon(summary.channel), summary.channel),
      h("span", { class: "tag language", dataset: { language: summary.language || "" },
        title: t("case.writesIn", { language: customerLanguage(summary.language) }) }, (summary.language || "?").toUpperCase()),
      h("span", { class: "tag" }, summary.team || ""),
      summary.returning ? h("span", { class: "tag returning" }, t("list.returning")) : null,
      summary.kept_until ? h("span", { class: "tag kept" }, t("list.afterHours", { when: dayTime(summary.kept_until) })) : null),
    h("span", { class: "case-line" }, waiting, slaChip(summary),
      summary.status === "assigned" && !summary.accepted ? h("span", { class: "tag new" }, t("list.new")) : null)));
}

export function renderList(list, countNode, items, selectedId, onOpen) {
  clear(list);
  countNode.textContent = formatNumber(items.length);
  if (!items.length) list.append(h("li", { class: "muted" }, t("lists.empty")));
  for (const item of items) list.append(caseItem(item, selectedId, onOpen));
}

export function tickWaiting() {
  for (const node of document.querySelectorAll(".waiting[data-since]")) {
    if (node.dataset.since) node.textContent = duration(sinceSeconds(node.dataset.since));
  }
}

function actorLabel(event) {
  if (event.actor.startsWith("agent:")) return event.actor_name || t("actor.agent");
  return ACTORS.includes(event.actor) ? t(`actor.${event.actor}`) : event.actor;
}

function fileSize(bytes) {
  if (!bytes) return "";
  const megabytes = bytes >= 1024 * 1024;
  return ` · ${formatNumber(megabytes ? bytes / 1048576 : Math.ceil(bytes / 1024), { style: "unit",
    unit: megabytes ? "megabyte" : "kilobyte", maximumFractionDigits: 1 })}`;
}

// A customer's file: pictures and sound play in place, anything else is a download link.
function mediaItem(media) {
  if (!media) return null;
  if (!media.url) return h("div", { class: "media muted" }, t("media.unavailable", { why: media.error || t("media.unknown") }));
  const label = `${media.filename || media.mime_type || t("media.file")}${fileSize(media.size)}`;
  const link = h("a", { href: media.url, target: "_blank", rel: "noopener", class: "media-link" }, t("media.open", { label }));
  if (!media.inline) return h("div", { class: "media" }, link);
  const kind = media.mime_type.split("/")[0];
  const player = kind === "image" ? h("img", { src: media.url, alt: label, class: "media-image", loading: "lazy" })
    : h(kind === "video" ? "video" : "audio", { src: media.url, controls: true, preload: "none", class: "media-player" });
  return h("div", { class: "media" }, player, link);
}

// What another system sent first: the template (or free text) and who asked; the message itself follows.
function notificationText(event) {
  const p = event.payload || {};
  const integration = p.integration || "?";
  return p.sent_as === "text" ? t("event.notificationText", { integration })
    : t("event.notification", { template: p.template || "?", integration });
}

export function eventItem(event, currentCaseId) {
  const other = event.case_id !== currentCaseId;
  const kindClass = `event kind-${event.kind} dir-${event.direction} actor-${event.actor.split(":")[0]}`;
  const head = h("div", { class: "event-head" },
    h("span", { class: "actor" }, actorLabel(event)),
    h("span", { class: "muted" }, ` · ${event.channel} · ${clock(event.at)}`),
    other ? h("span", { class: "tag" }, t("event.earlierCase")) : null,
    event.kind === "message" && event.payload && event.payload.template ? h("span", { class: "tag template" }, t("event.template", { name: event.payload.template })) : null,
    event.delivery_status ? h("span", { class: "tag" }, event.delivery_status) : null);
  let body;
  if (event.kind === "handoff") {
    const p = event.payload || {};
    const back = t(p.withdrawn ? "event.returnedBack" : "event.returned");
    body = h("div", { class: "text" }, p.direction === "to_bot" ? back
      : t("event.handedToPeople", { reason: `${p.reason || ""}${p.intent ? ` (${p.intent})` : ""}${p.team ? ` → ${p.team}` : ""}` }));
  } else if (event.kind === "routing") {
    body = h("div", { class: "text" }, routingText(event));
  } else if (event.kind === "overflow") {
    body = h("div", { class: "text" }, overflowText(event));
  } else if (event.kind === "language") {
    const p = event.payload || {};
    body = h("div", { class: "text" }, t("event.languageChanged", { from: customerLanguage(p.from_language), to: customerLanguage(p.to_language) }));
  } else if (event.kind === "notification") {
    body = h("div", { class: "text" }, notificationText(event));
  } else if (event.kind === "assignment") {
    body = h("div", { class: "text" }, t("event.assigned", { name: event.text || "" }));
  } else if (event.kind === "merge" && event.payload && event.payload.merge_id && event.text !== "merge undone") {  // i18n: the server's event text
    body = h("div", { class: "text" }, event.text || "",
      h("button", { type: "button", class: "undo-merge-btn", dataset: { mergeId: event.payload.merge_id } }, t("event.undoMerge")));
  } else {
    body = h("div", { class: "text" }, event.text || "");
  }
  const replies = (event.payload && event.payload.quick_replies) || [];
  return h("li", { class: kindClass, dataset: { eventId: event.id, kind: event.kind, actor: event.actor } },
    head, body, mediaItem(event.media),
    replies.length ? h("div", { class: "muted" }, t("event.buttons", { titles: replies.map((r) => r.title).join(" · ") })) : null);
}

export function renderSummary(handoff, transitions) {
  const body = clear($("#summary-body"));
  if (!handoff) {
    body.append(h("p", { class: "muted" }, t("summary.none")));
    return;
  }
  const slots = Object.entries(handoff.slots || {});
  body.append(
    h("p", { class: "summary-text" }, handoff.summary || "—"),
    h("dl", {},
      h("dt", {}, t("summary.reason")), h("dd", {}, handoff.reason),
      h("dt", {}, t("summary.intent")), h("dd", {}, `${handoff.intent || "—"}${handoff.confidence != null ? ` (${formatPercent(handoff.confidence)})` : ""}`),
      h("dt", {}, t("summary.botTurns")), h("dd", {}, formatNumber(handoff.bot_turns)),
      h("dt", {}, t("summary.team")), h("dd", {}, handoff.team || "—")),
    h("h4", {}, t("summary.collected")),
    slots.length
      ? h("table", { class: "slots" }, h("tbody", {}, slots.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v))))))
      : h("p", { class: "muted" }, t("summary.nothingCollected")),
    h("h4", {}, t("summary.transitions")),
    h("ol", { class: "transitions" }, (transitions || []).map((step) => h("li", {},
      [t(step.direction === "to_bot" ? "summary.toAssistant" : "summary.toPeople"), step.reason, clock(step.queued_at), step.outcome]
        .filter(Boolean).join(" · ")))));
}

const OPEN = ["bot", "queued", "assigned"];
const PRESENCES = ["online", "away", "offline"];
const EVIDENCE = ["told_phone", "told_email", "told_phone_verified", "name_and_order"];

// Suggestions and case merges call back into the app (onMerge, onDismiss, onMergeCase); text is always text.
export function renderCustomer(customer, currentCase = null, actions = {}) {
  const body = clear($("#customer-body"));
  const caseOpen = currentCase && OPEN.includes(currentCase.status);
  const suggestions = customer.suggestions || [];
  body.append(...[  // append() would write a null as the text "null"
    h("p", {}, h("strong", {}, customer.name || customer.handle || t("customer.unknownName")),
      customer.name && customer.handle ? ` · ${customer.handle}` : "", ` · ${(customer.language || "?").toUpperCase()}`),
    h("h4", {}, t("customer.identities")),
    h("ul", {}, customer.identities.map((i) => h("li", {}, `${label("identity", i.kind)}: ${i.value}${i.verified ? " ✓" : ""}`))),
    h("h4", {}, t("customer.facts")),
    h("ul", {}, Object.entries(customer.facts || {}).map(([k, v]) => h("li", {}, `${k}: ${v}`))),
    suggestions.length ? h("h4", {}, t("customer.maybeSame")) : null,
    suggestions.length ? h("ul", { class: "suggestions" }, suggestions.map((s) => h("li", { dataset: { suggestionId: s.id } },
      h("span", {}, `${s.other_name || t("customer.unnamed")} · ${EVIDENCE.includes(s.evidence_kind) ? t(`evidence.${s.evidence_kind}`) : s.evidence_kind}: ${s.evidence_value} `),
      h("button", { type: "button", class: "merge-btn", onclick: () => actions.onMerge && actions.onMerge(s) }, t("customer.merge")),
      h("button", { type: "button", class: "dismiss-btn", onclick: () => actions.onDismiss && actions.onDismiss(s) }, t("customer.notSame"))))) : null,
    h("h4", {}, t("customer.earlierCases")),
    customer.earlier_cases.length
      ? h("ul", {}, customer.earlier_cases.map((c) => h("li", {}, `${clock(c.created_at)} · ${c.channel} · ${label("status", c.status)}${c.disposition ? ` (${c.disposition})` : ""} `,
        caseOpen && OPEN.includes(c.status)
          ? h("button", { type: "button", class: "merge-case-btn", onclick: () => actions.onMergeCase && actions.onMergeCase(c) }, t("customer.mergeCase"))
          : null)))
      : h("p", { class: "muted" }, t("customer.none")),
    h("p", { id: "merge-error", class: "error", role: "alert" })].filter(Boolean));
}

export function renderSupervisor(panel) {
  $("#longest-wait").textContent = duration(panel.longest_wait_seconds);
  const states = panel.agents_by_state || {};
  $("#agents-by-state").textContent = Object.entries(states)
    .map(([k, v]) => `${PRESENCES.includes(k) ? t(`presence.${k}`) : k} ${formatNumber(v)}`).join(" · ");
  const waiting = clear($("#waiting-body"));
  for (const row of panel.waiting) {
    waiting.append(h("tr", {}, h("td", {}, row.team || "—"), h("td", {}, formatNumber(row.waiting)), h("td", {}, duration(row.longest_wait_seconds))));
  }
  const agents = clear($("#agents-body"));
  for (const agent of panel.agents) {
    agents.append(h("tr", {}, h("td", {}, agent.name), h("td", {}, PRESENCES.includes(agent.presence) ? t(`presence.${agent.presence}`) : agent.presence),
      h("td", {}, `${formatNumber(agent.open_cases)}/${formatNumber(agent.capacity)}`)));
  }
}

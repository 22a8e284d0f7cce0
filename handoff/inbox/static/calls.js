// Call cards of the voice channel: direction, time, duration, status, agent, a recording player and the
// transcript. Kept apart from render.js; like everything in the inbox it only ever sets text.
import { $, clear, clock, duration, h } from "./dom.js";
import { t } from "./i18n.js";

function mediaUrl(url) {
  try {
    const parsed = new URL(url, document.baseURI);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch (err) {
    return null;
  }
}

function seconds(value) {
  return typeof value === "number" ? `${Math.floor(value / 60)}:${String(Math.floor(value % 60)).padStart(2, "0")}` : "";
}

export function callCard(call) {
  const media = call.recording_url ? mediaUrl(call.recording_url) : null;
  const segments = call.transcript_segments || [];
  const title = `${t(call.direction === "inbound" ? "calls.incoming" : "calls.outgoing")} · ${call.status}`;
  return h("div", { class: "call-card", dataset: { callId: call.call_id } },
    h("div", { class: "event-head" }, h("strong", {}, title), h("span", { class: "muted" }, ` · ${clock(call.started_at)}`)),
    h("dl", {},
      h("dt", {}, t("calls.duration")), h("dd", {}, duration(call.duration_seconds)),
      h("dt", {}, t("calls.agent")), h("dd", {}, call.agent || "—"),
      h("dt", {}, t(call.direction === "inbound" ? "calls.from" : "calls.to")), h("dd", {}, (call.direction === "inbound" ? call.from : call.to) || "—"),
      call.missed_call_follow_up ? [h("dt", {}, t("calls.followUp")), h("dd", {}, t("calls.whatsapp", { status: call.missed_call_follow_up }))] : null),
    media ? h("audio", { controls: "", preload: "none", src: media }) : h("p", { class: "muted" }, t("calls.noRecording")),
    segments.length
      ? h("ol", { class: "transcript" }, segments.map((s) => h("li", {}, `${seconds(s.start)} ${s.speaker}: ${s.text}`)))
      : call.transcript ? h("p", { class: "transcript text" }, call.transcript) : h("p", { class: "muted" }, t("calls.noTranscript")));
}

// The side panel's list of the customer's calls (the handoff packet an agent reads before answering).
export function renderCalls(calls) {
  const body = clear($("#calls-body"));
  if (!calls.length) body.append(h("p", { class: "muted" }, t("calls.none")));
  for (const call of calls) body.append(callCard(call));
}

// One card per call on the timeline: the call's first event becomes its card, its later events are folded in.
export function mountCallCards(timeline, calls) {
  for (const call of calls) {
    const items = (call.event_ids || [])
      .map((id) => timeline.querySelector(`[data-event-id="${CSS.escape(String(id))}"]`))
      .filter(Boolean);
    if (!items.length) continue;
    const [first, ...rest] = items;
    first.replaceChildren(callCard(call));
    for (const item of rest) item.remove();
  }
}

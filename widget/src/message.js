// One chat message as DOM nodes: customer, assistant or agent text (linkified, never HTML), images, files, buttons.
import { el } from "./dom.js";
import { appendLinkified, safeHttpUrl } from "./safe.js";

function attachmentNode(att, t) {
  if (!att || typeof att !== "object") return null;
  const p = att.payload && typeof att.payload === "object" ? att.payload : {};
  const src = safeHttpUrl(p.src || p.url || p.image);
  if (src && att.type === "image") {
    const img = el("img", { src, alt: p.alt || p.title || p.text || t.image, loading: "lazy" });
    return el("div", { class: "bubble" }, img);
  }
  if (src) {
    const a = el("a", { href: src, target: "_blank", rel: "noopener noreferrer nofollow", text: p.title || t.file });
    return el("div", { class: "bubble" }, a);
  }
  return null;
}

// The message's bubble (with who wrote it for screen readers), or null when it has nothing to show.
export function messageNode(m, { t, lang, agentName }) {
  const actor = m.actor === "customer" || m.actor === "agent" ? m.actor : "bot";
  const who = actor === "customer" ? t.you : actor === "agent" ? m.agent_name || agentName || t.agent : t.assistant;
  const wrap = el("div", { class: `msg ${actor}` });
  wrap.appendChild(el("span", { class: actor === "agent" ? "who" : "who sr-only", text: who }));
  if (m.at) {
    const d = new Date(m.at);
    if (!Number.isNaN(d.getTime())) wrap.title = d.toLocaleString(lang);
  }
  if (m.text != null && m.text !== "") {
    const bubble = el("div", { class: "bubble" });
    appendLinkified(bubble, m.text);
    wrap.appendChild(bubble);
  }
  const attachment = attachmentNode(m.attachment, t);
  if (attachment) wrap.appendChild(attachment);
  return wrap.childNodes.length > 1 ? wrap : null;
}

// The quick-reply buttons of a message, or null; `onChoose(payload, title)` runs once per pressed button.
export function quickReplies(m, t, onChoose) {
  const replies = Array.isArray(m.quick_replies) ? m.quick_replies : Array.isArray(m.buttons) ? m.buttons : [];
  if (!replies.length) return null;
  const group = el("div", { class: "quick-replies", role: "group", "aria-label": t.quickReplies });
  for (const r of replies) {
    if (!r || typeof r !== "object") continue;
    const title = String(r.title != null ? r.title : r.payload != null ? r.payload : "");
    const payload = String(r.payload != null ? r.payload : title);
    if (!title) continue;
    const b = el("button", { type: "button", "data-payload": payload, text: title });
    b.addEventListener("click", () => {
      if (b.disabled) return;
      b.setAttribute("aria-pressed", "true");
      onChoose(payload, title);
    });
    group.appendChild(b);
  }
  return group.childNodes.length ? group : null;
}

import { io } from "socket.io-client";
import { format, stringsFor } from "./i18n.js";
import { el, storageGet, storageSet } from "./dom.js";
import { messageNode, quickReplies } from "./message.js";
import { CSS } from "./styles.js";

const HISTORY_WAIT_MS = 1500; // how long a restored session waits for `history` before sending queued messages
const RETRY_AFTER_REFUSAL_MS = 5000; // the server refused or closed the connection: try again after this
const TYPING_TIMEOUT_MS = 20000; // a typing indicator nobody switched off disappears by itself

export class Widget {
  constructor(config) {
    this.cfg = config;
    this.t = stringsFor(config.lang, config.tone);
    this.sessionId = storageGet(config.storageKey);
    this.socket = null;
    this.confirmed = false; // session_confirm received on the current connection
    this.pending = []; // messages typed while not connected/confirmed, sent in order later
    this.replyGroups = []; // quick-reply groups still clickable
    this.typing = new Map(); // actor -> timer
    this.agentName = null;
    this.unread = 0;
    this.historyTimer = null;
    this.retryTimer = null;
    this.notice = null;
    this.lastSent = null; // the last message emitted, sent again if the server refuses it as unknown_session
    this.isOpen = false;
    this.identityToken = config.identityToken; // sent with the next session_request, then forgotten
  }

  // ---------------------------------------------------------------- DOM
  mount(parent) {
    const t = this.t;
    // A custom element name: page selectors such as `div { ... }` do not match the host.
    this.host = el("handoff-webchat", { "data-handoff-webchat": this.cfg.storageKey, lang: this.cfg.lang });
    this.host.style.setProperty("all", "initial", "important");
    const shadow = this.host.attachShadow({ mode: "open" });
    shadow.appendChild(el("style", { text: CSS }));
    const root = el("div", { class: "root" });
    shadow.appendChild(root);

    this.badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    this.launcherLabel = el("span", { text: t.launcher });
    this.launcher = el(
      "button",
      { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "hw-panel" },
      this.launcherLabel,
      this.badge,
    );
    this.launcherHint = el("span", { class: "sr-only" });
    this.launcher.appendChild(this.launcherHint);

    const titleId = "hw-title";
    this.closeButton = el("button", { type: "button", class: "close", "aria-label": t.close, title: t.close, text: "×" });
    this.status = el("div", { class: "status", role: "status", hidden: true });
    this.log = el("div", {
      class: "log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": this.cfg.title || t.title,
      tabindex: "0",
    });
    this.typingLine = el("div", { class: "typing", role: "status", "aria-live": "polite" });
    this.input = el("textarea", {
      rows: "1",
      placeholder: t.placeholder,
      "aria-label": t.inputLabel,
      maxlength: "4000",
      autocomplete: "off",
    });
    this.sendButton = el("button", { type: "submit", text: t.send });
    this.form = el("form", { class: "composer" }, this.input, this.sendButton);
    this.panel = el(
      "section",
      { id: "hw-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": titleId, hidden: true },
      el("div", { class: "header" }, el("h2", { id: titleId, text: this.cfg.title || t.title }), this.closeButton),
      this.status,
      this.log,
      this.typingLine,
      this.form,
    );
    root.appendChild(this.panel);
    root.appendChild(this.launcher);
    parent.appendChild(this.host);

    this.launcher.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    this.closeButton.addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        this.close();
      }
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.autosize());
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });

    // A returning visitor reconnects at once (agents' replies and history arrive even with the panel closed);
    // a new visitor gets a session only when they open the chat.
    if (this.sessionId) this.connect();
    if (this.cfg.openOnLoad) this.open();
  }

  open() {
    this.isOpen = true;
    this.panel.hidden = false;
    this.host.setAttribute("data-open", "");
    this.launcher.setAttribute("aria-expanded", "true");
    this.setUnread(0);
    this.connect();
    this.scrollToEnd();
    this.input.focus();
  }

  close() {
    this.isOpen = false;
    this.panel.hidden = true;
    this.host.removeAttribute("data-open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.focus();
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 120)}px`;
  }

  setUnread(n) {
    this.unread = n;
    this.badge.hidden = n === 0;
    this.badge.textContent = String(n);
    this.launcherHint.textContent = n ? ` (${format(this.t.unread, { count: n })})` : "";
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  setStatus(text) {
    this.status.hidden = !text;
    this.status.textContent = text || "";
  }

  systemLine(text, isError) {
    this.log.appendChild(el("div", { class: isError ? "system error" : "system", text }));
    this.scrollToEnd();
  }

  clearLog() {
    this.log.textContent = "";
    this.replyGroups = [];
  }

  disableReplies() {
    for (const group of this.replyGroups) {
      for (const b of group.querySelectorAll("button")) b.disabled = true;
    }
    this.replyGroups = [];
  }

  // Renders one message. `m`: {actor, text, quick_replies|buttons, attachment, agent_name, at}.
  renderMessage(m, { withReplies = true } = {}) {
    if (m.actor === "system") {
      if (m.text) this.systemLine(m.text, false);
      return;
    }
    const bubble = messageNode(m, { t: this.t, lang: this.cfg.lang, agentName: this.agentName });
    if (bubble) this.log.appendChild(bubble);
    const group = withReplies ? quickReplies(m, this.t, (payload, title) => this.send(payload, title)) : null;
    if (group) {
      this.log.appendChild(group);
      this.replyGroups.push(group);
    }
    this.scrollToEnd();
  }

  setTyping(actor, on) {
    const prev = this.typing.get(actor);
    if (prev) clearTimeout(prev);
    this.typing.delete(actor);
    if (on) this.typing.set(actor, setTimeout(() => this.setTyping(actor, false), TYPING_TIMEOUT_MS));
    const t = this.t;
    let text = "";
    if (this.typing.has("agent")) text = this.agentName ? format(t.typingAgent, { name: this.agentName }) : t.typingAgentAnon;
    else if (this.typing.size) text = t.typingBot;
    if (this.typingLine.textContent !== text) this.typingLine.textContent = text;
  }

  // ---------------------------------------------------------------- sending
  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.autosize();
    this.send(text, text);
    this.input.focus();
  }

  // `message` goes to the server (a text or a quick reply's /payload); `shown` is the customer's bubble, and
  // travels as `title` so the stored transcript (and the history after a reconnect) shows what they clicked.
  send(message, shown) {
    this.disableReplies();
    this.renderMessage({ actor: "customer", text: shown });
    this.pending.push({ message, shown, id: newMessageId() });
    this.connect();
    this.flush();
  }

  flush() {
    while (this.pending.length && this.socket && this.socket.connected && this.confirmed && this.sessionId) {
      const item = this.pending.shift();
      const data = {
        message: item.message,
        session_id: this.sessionId,
        message_id: item.id, // lets the server ignore a message it already has
        customData: { language: this.cfg.lang },
      };
      if (item.shown !== item.message) data.title = item.shown;
      this.lastSent = item;
      this.socket.emit("user_uttered", data);
    }
  }

  // ---------------------------------------------------------------- connection
  connect() {
    if (this.socket) return;
    const t = this.t;
    if (!this.sessionId) this.setStatus(t.connecting);
    const socket = io(this.cfg.server, {
      path: this.cfg.socketPath,
      transports: ["websocket", "polling"],
      withCredentials: false,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    this.socket = socket;

    socket.on("connect", () => {
      this.confirmed = false;
      this.requestSession();
    });
    socket.on("disconnect", (reason) => {
      this.confirmed = false;
      for (const actor of Array.from(this.typing.keys())) this.setTyping(actor, false);
      if (reason === "io client disconnect") return;
      this.setStatus(t.reconnecting);
      if (reason === "io server disconnect") this.retryLater(); // the server hung up: try again later
    });
    socket.on("connect_error", () => {
      // While `socket.active`, socket.io-client retries with backoff; a refusal by the server does not, so we do.
      if (!socket.active) this.retryLater();
      this.setStatus(this.sessionId ? t.reconnecting : t.connecting);
    });
    socket.on("session_confirm", (data) => this.onSessionConfirm(data));
    socket.on("history", (data) => this.onHistory(data));
    socket.on("bot_uttered", (data) => this.onBotUttered(data));
    socket.on("typing", (data) => {
      if (data && typeof data === "object") this.setTyping(data.actor === "agent" ? "agent" : "bot", !!data.on);
    });
    socket.on("agent_joined", (data) => {
      const name = data && typeof data.name === "string" && data.name ? data.name : this.t.agent;
      this.agentName = name;
      this.systemLine(format(this.t.agentJoined, { name }), false);
    });
    socket.on("error", (data) => this.onServerError(data));
  }

  // Asks for the stored session, with the site's identity token when there is one: the server then joins the
  // session to that customer (and answers with their history), so the token is needed once per page.
  requestSession() {
    const data = { session_id: this.sessionId || null };
    if (this.identityToken) data.identity_token = this.identityToken;
    this.identityToken = null;
    this.socket.emit("session_request", data);
  }

  // The page signed its visitor in: FrontDoor.identify(token). Sent now if connected, else on connecting.
  identify(token) {
    if (typeof token !== "string" || !token) return;
    this.identityToken = token;
    if (this.socket && this.socket.connected) {
      this.confirmed = false; // queued messages wait for the confirmation and the customer's history
      this.requestSession();
    }
  }

  retryLater() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.socket && !this.socket.connected) this.socket.connect();
    }, RETRY_AFTER_REFUSAL_MS);
  }

  onSessionConfirm(data) {
    const id = typeof data === "string" ? data : data && typeof data.session_id === "string" ? data.session_id : null;
    if (!id) return;
    const restored = id === this.sessionId;
    this.sessionId = id;
    storageSet(this.cfg.storageKey, id);
    this.host.setAttribute("data-session-id", id);
    this.setStatus("");
    clearTimeout(this.historyTimer);
    if (restored) {
      this.notice = null;
      // The server sends `history` right after confirming a known session; send queued messages after it.
      this.historyTimer = setTimeout(() => this.onHistoryDone(), HISTORY_WAIT_MS);
    } else {
      // A new session: whatever was on screen belonged to a session the server does not know.
      this.clearLog();
      if (this.notice) this.systemLine(this.notice, true);
      this.notice = null;
      for (const p of this.pending) this.renderMessage({ actor: "customer", text: p.shown });
      this.onHistoryDone();
    }
  }

  onHistory(data) {
    if (!data || typeof data !== "object" || !Array.isArray(data.messages)) return;
    if (data.session_id && data.session_id !== this.sessionId) return;
    this.clearLog();
    const msgs = data.messages;
    msgs.forEach((m, i) => {
      if (!m || typeof m !== "object") return;
      const actor = m.direction === "in" ? "customer" : m.actor || "bot";
      if (actor === "agent" && m.agent_name) this.agentName = m.agent_name;
      // Only the last message's quick replies are still an open question.
      this.renderMessage({ ...m, actor }, { withReplies: i === msgs.length - 1 && actor !== "customer" });
    });
    for (const p of this.pending) this.renderMessage({ actor: "customer", text: p.shown });
    clearTimeout(this.historyTimer);
    this.onHistoryDone();
  }

  onHistoryDone() {
    this.confirmed = true;
    this.flush();
  }

  onBotUttered(data) {
    if (!data || typeof data !== "object") return;
    const actor = data.actor === "agent" ? "agent" : "bot";
    if (actor === "agent" && data.agent_name) this.agentName = data.agent_name;
    this.setTyping(actor, false);
    this.renderMessage({ ...data, actor });
    if (!this.isOpen) this.setUnread(this.unread + 1);
  }

  onServerError(data) {
    const code = data && typeof data === "object" ? data.code : null;
    const errors = this.t.errors;
    if (code === "unknown_session" && this.socket) {
      // The server lost track of this connection's session: ask again with the stored id (the server decides
      // whether it still knows it) and send the refused message again afterwards.
      this.confirmed = false;
      if (this.lastSent) this.pending.unshift(this.lastSent);
      this.lastSent = null;
      this.notice = errors.unknown_session; // shown only if a new session replaces the old one
      this.requestSession();
      return;
    }
    this.systemLine(errors[code] || errors.generic, true);
  }
}

function newMessageId() {
  const c = window.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

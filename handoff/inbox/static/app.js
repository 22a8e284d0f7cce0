// The inbox app: login, live lists over Socket.IO (/inbox namespace), the case view, actions and shortcuts.
import { io } from "./vendor/socket.io.esm.min.js";
import { api, ApiError, setCsrf } from "./api.js";
import { $, clear, h } from "./dom.js";
import { customerLabel, customerLanguage, eventItem, renderCustomer, renderList, renderSummary, renderSupervisor, tickWaiting } from "./render.js";
import { mountCallCards, renderCalls } from "./calls.js";
import { renderReturning } from "./routing.js";
import { mountCallbacks, refreshCallbacks } from "./callbacks.js";
import { mountDashboard, openDashboard, rerenderDashboard } from "./dashboard.js";
import { mountTemplates, showTemplates } from "./templates.js";
import { commitmentDue, mountCommitmentAlerts, renderOverdue, showCommitments } from "./commitments.js";
import { renderConsent } from "./consent.js";
import { mountAlerts, notify } from "./alerts.js";
import { tickSla } from "./sla.js";
import { LOCALES, currentLocale, label, onLocaleChange, setLocale, t } from "./i18n.js";
import { mountSearch } from "./search.js";
import { customerInHash, linkFromCase, mountCustomerPage } from "./customer_page.js";
import { mountContactsImport } from "./contacts_import.js";

const state = { me: null, socket: null, caseId: null, view: null, queue: [], mine: [], refreshTimer: null, seenMine: null,
  live: "connecting", pickedAtLogin: false };

function show(view) {
  $("#login-view").hidden = view !== "login";
  $("#app-view").hidden = view !== "app";
}

async function start() {
  await setLocale(null);  // the browser's language until the agent's profile says otherwise
  try {
    const me = await api("/me");
    await enter(me);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) show("login");
    else throw err;
  }
}

async function enter(me) {
  state.me = me.agent;
  setCsrf(me.csrf_token);
  if (state.pickedAtLogin) await saveLocale(currentLocale());  // chosen on the login page: it goes on the profile
  else if (me.agent.locale && me.agent.locale !== currentLocale()) await setLocale(me.agent.locale);
  show("app");
  showMe();
  const hasInbox = ["agent", "supervisor", "admin"].includes(me.agent.role);
  $("#no-inbox").hidden = hasInbox;
  $("#workspace").hidden = !hasInbox;
  if (!hasInbox) return;
  const supervises = ["supervisor", "admin"].includes(me.agent.role);
  $("#supervisor").hidden = !supervises;
  $("#create-agent").hidden = me.agent.role !== "admin";
  $("#integrations-link").hidden = me.agent.role !== "admin";
  $("#views").hidden = !supervises;
  if (supervises) {
    mountDashboard();
    mountContactsImport();
    if (!customerInHash()) showView(location.hash === "#dashboard" ? "dashboard" : "inbox");
  }
  // Before the first await: a search typed as soon as the page shows must not submit the bare form (a reload).
  mountSearch(openCase);
  const options = await api("/options");
  fillSelect($("#disposition"), options.dispositions);
  fillSelect($("#transfer-team"), options.teams);
  const presence = me.agent.presence === "offline" ? "online" : me.agent.presence;
  $("#presence").value = presence;
  await api("/presence", { method: "POST", body: { presence } });
  connect();
  await refreshLists();
  await mountCallbacks(me.agent, openCase, () => state.caseId);
  if (supervises) await refreshSupervisor();
  await mountCustomerPage({ openCase: (caseId) => { history.pushState(null, "", location.pathname); leaveCustomer(); openCase(caseId); }, leave: leaveCustomer });
}

// Back from the customer page to the view the hash names (supervisors: inbox or dashboard).
function leaveCustomer() {
  $("#customer-view").hidden = true;
  $("#workspace").hidden = false;
  if (["supervisor", "admin"].includes(state.me.role)) showView(location.hash === "#dashboard" ? "dashboard" : "inbox");
}

// Supervisors switch between the inbox and the dashboard; the hash keeps the choice across reloads.
function showView(view) {
  if (!state.me || !["supervisor", "admin"].includes(state.me.role)) return;  // the API refuses them anyway
  const dashboard = view === "dashboard";
  $("#workspace").hidden = dashboard;
  $("#supervisor").hidden = dashboard;
  $("#dashboard-view").hidden = !dashboard;
  for (const tab of document.querySelectorAll("#views [data-view]")) {
    tab.setAttribute("aria-pressed", String(tab.dataset.view === (dashboard ? "dashboard" : "inbox")));
  }
  if (dashboard) openDashboard();
}

function showMe() {
  if (state.me) $("#me").textContent = t("header.me", { name: state.me.name, role: t(`role.${state.me.role}`) });
}

function showLive(key) {
  state.live = key;
  $("#live-state").dataset.state = key;
  $("#live-state").textContent = t(`live.${key}`);
}

// The language switchers (login page and header): each language in its own name; the choice goes on the profile.
function mountLocales() {
  for (const select of document.querySelectorAll(".locale-choice")) {
    clear(select);
    for (const code of LOCALES) select.append(h("option", { value: code, lang: code }, t(`language.${code}`)));
    select.addEventListener("change", async () => {
      await setLocale(select.value);
      if (state.me) await saveLocale(select.value);
      else state.pickedAtLogin = true;
    });
  }
  onLocaleChange((code) => {
    for (const select of document.querySelectorAll(".locale-choice")) {
      for (const option of select.options) option.textContent = t(`language.${option.value}`);  // catalogues loaded now
      select.value = code;
    }
    rerender();
  });
}

async function saveLocale(code) {
  try {
    state.me = (await api("/me/locale", { method: "PUT", body: { locale: code } }));
  } catch (err) {
    $("#action-error").textContent = err.message;
  }
}

// What was built with t() before a language change, built again.
function rerender() {
  showMe();
  showLive(state.live);
  if (!state.me) return;
  renderList($("#queue"), $("#queue-count"), state.queue, state.caseId, openCase);
  renderList($("#mine"), $("#mine-count"), state.mine, state.caseId, openCase);
  if (state.caseId) reloadCase();
  if (!$("#supervisor").hidden) refreshSupervisor();
  refreshCallbacks().catch(() => null);
  rerenderDashboard();
}

function fillSelect(select, values) {
  clear(select);
  for (const value of values) select.append(h("option", { value }, value));
}

function connect() {
  const socket = io("/inbox", { transports: ["websocket", "polling"], withCredentials: true });
  state.socket = socket;
  socket.on("connect", () => {
    showLive("live");
    if (state.caseId) socket.emit("join_case", { case_id: state.caseId });
  });
  socket.on("disconnect", () => showLive("reconnecting"));
  socket.on("connect_error", () => showLive("offline"));
  socket.on("case_updated", (summary) => {
    scheduleRefresh();
    if (summary && summary.id === state.caseId) {
      socket.emit("join_case", { case_id: state.caseId });  // its viewers' room follows who holds it
      reloadCase();
    }
  });
  socket.on("case_event", (data) => {
    if (!data) return;
    const onScreen = data.case_id === state.caseId;
    if (onScreen) appendEvent(data.event);
    const customerWrote = data.event && data.event.actor === "customer" && data.event.kind === "message";
    // Off screen, a case_event reaches this agent as the case's assignee; on screen, only their own case alerts.
    const theirs = !onScreen || state.mine.some((c) => c.id === data.case_id);
    if (customerWrote && onScreen && !document.hidden) markRead(data.case_id);
    else if (customerWrote && theirs) replyAlert(data.case_id, data.event);
    else scheduleRefresh();
  });
  socket.on("panel_changed", () => { if (!$("#supervisor").hidden) refreshSupervisor(); });
  socket.on("commitment_due", (alert) => {
    commitmentDue(alert, openCase);
    notify({ title: t("alerts.commitmentDue"), body: alert.text, caseId: alert.case_id, tag: `commitment:${alert.commitment_id}` });
  });
}

// The case on screen got new customer text while the agent looks at it: read, so no unread count comes back.
async function markRead(caseId) {
  await api(`/cases/${encodeURIComponent(caseId)}/read`, { method: "POST" }).catch(() => null);
  scheduleRefresh();
}

// A customer replied on a case this agent holds (pushes reach the assignee's room), unseen: sound and notification.
function replyAlert(caseId, event) {
  const summary = state.mine.find((c) => c.id === caseId) || state.queue.find((c) => c.id === caseId);
  const who = summary ? customerLabel(summary.customer_name, summary.customer_handle) : t("alerts.aCustomer");
  notify({ title: t("alerts.replyFrom", { who }), body: event.text || t("alerts.attachment"), caseId, tag: `reply:${caseId}` });
  scheduleRefresh();
}

// Cases offered to (assigned to) this agent since the last refresh; none on the first load of the page.
function offerAlerts(mine) {
  const before = state.seenMine;
  state.seenMine = new Set(mine.map((c) => c.id));
  if (!before) return;
  for (const c of mine) {
    if (before.has(c.id)) continue;
    notify({ title: t("alerts.newCase"), body: `${customerLabel(c.customer_name, c.customer_handle)} · ${c.channel}${c.reason ? ` · ${c.reason}` : ""}`,
      caseId: c.id, tag: `offer:${c.id}` });
  }
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refreshLists, 150);
}

async function refreshLists() {
  const [queue, mine] = await Promise.all([api("/queue"), api("/mine")]);
  state.queue = queue;
  state.mine = mine;
  offerAlerts(mine);
  renderList($("#queue"), $("#queue-count"), queue, state.caseId, openCase);
  renderList($("#mine"), $("#mine-count"), mine, state.caseId, openCase);
  refreshCallbacks().catch(() => null);
}

async function refreshSupervisor() {
  const panel = await api("/supervisor");
  renderSupervisor(panel);
  renderOverdue(panel.overdue_commitments, openCase);
}

async function openCase(caseId) {
  if (state.caseId && state.caseId !== caseId && state.socket) state.socket.emit("leave_case", { case_id: state.caseId });
  state.caseId = caseId;
  if (state.socket) state.socket.emit("join_case", { case_id: caseId });
  await reloadCase();  // opening the case reads it (server side): its unread count is zero from now
  for (const c of [...state.queue, ...state.mine]) if (c.id === caseId) c.unread = 0;
  renderList($("#queue"), $("#queue-count"), state.queue, state.caseId, openCase);
  renderList($("#mine"), $("#mine-count"), state.mine, state.caseId, openCase);
}

async function reloadCase() {
  if (!state.caseId) return;
  const view = await api(`/cases/${encodeURIComponent(state.caseId)}`);
  state.view = view;
  $("#case").hidden = false;
  $("#side").hidden = false;
  const c = view.case;
  $("#case-title").textContent = customerLabel(c.customer_name, c.customer_handle);
  $("#case-meta").textContent = [label("status", c.status), c.team || t("case.noTeam"), c.channel,
    customerLanguage(c.language), c.assignee_name].filter(Boolean).join(" · ");
  $("#case-meta").dataset.language = c.language || "";
  $("#case").dataset.status = c.status;
  const timeline = clear($("#timeline"));
  for (const event of view.events) timeline.append(eventItem(event, c.id));
  mountCallCards(timeline, view.calls || []);
  renderCalls(view.calls || []);
  $("#more-history").hidden = !view.more_before;
  timeline.scrollTop = timeline.scrollHeight;
  fillSelect($("#reply-channel"), view.channels.length ? view.channels : [c.channel]);
  $("#reply-channel").value = view.channels.includes(c.channel) ? c.channel : $("#reply-channel").value;
  const canned = clear($("#canned"));
  canned.append(h("option", { value: "" }, "—"));
  for (const item of view.canned) canned.append(h("option", { value: item.text }, item.title));
  renderReturning(view.returning);
  renderSummary(view.handoff, view.transitions);
  renderCustomer(view.customer, c, { onMerge: mergeSuggested, onDismiss: dismissSuggestion, onMergeCase: mergeCase });
  renderConsent(view.customer, c.id, post);
  linkFromCase(view.customer);
  await showCommitments(view, state.me, reloadCase);
  const mineNow = c.assignee_id === state.me.id;
  $("#accept-btn").hidden = mineNow && c.accepted;
  $("#accept-btn").textContent = t(c.status === "bot" ? "actions.takeOver" : "actions.accept");
  showTemplates(c.id);
}

// Merges: the customer of the case on screen stays; the other one (or the other open case) becomes part of it.
function merging(path, body) {
  return post(path, body, $("#merge-error") || $("#action-error"));
}

function mergeSuggested(suggestion) {
  return merging(`/customers/${encodeURIComponent(state.view.customer.id)}/merge`, { other_id: suggestion.other_customer_id });
}

function dismissSuggestion(suggestion) {
  return merging(`/suggestions/${encodeURIComponent(suggestion.id)}/dismiss`, undefined);
}

function mergeCase(other) {
  return merging(`/cases/${encodeURIComponent(state.caseId)}/merge`, { other_id: other.id });
}

function undoMerge(mergeId) {
  return post(`/merges/${encodeURIComponent(mergeId)}/undo`, undefined);
}

async function loadEarlier() {
  const before = state.view && state.view.more_before;
  if (!before) return;
  const older = await api(`/cases/${encodeURIComponent(state.caseId)}?before=${before}`);
  const timeline = $("#timeline");
  const first = timeline.firstChild;
  for (const event of older.events) timeline.insertBefore(eventItem(event, state.caseId), first);
  state.view.more_before = older.more_before;
  $("#more-history").hidden = !older.more_before;
}

function appendEvent(event) {
  const timeline = $("#timeline");
  if (!event || timeline.querySelector(`[data-event-id="${CSS.escape(String(event.id))}"]`)) return;
  timeline.append(eventItem(event, state.caseId));
  timeline.scrollTop = timeline.scrollHeight;
}

// A change to the case on screen (accept, reply, note, transfer, resolve, return).
function act(path, body, errorNode) {
  return post(`/cases/${encodeURIComponent(state.caseId)}/${path}`, body, errorNode);
}

// Any change from the case screen: POST, then the case and the lists again; a refusal is shown in errorNode.
async function post(path, body, errorNode = $("#action-error")) {
  errorNode.textContent = "";
  try {
    const result = await api(path, { method: "POST", body });
    await reloadCase();
    scheduleRefresh();
    return result;
  } catch (err) {
    errorNode.textContent = err.message;
    return null;
  }
}

let typingOn = false;
let typingTimer = null;
function typing(on) {
  if (!state.socket || !state.caseId || typingOn === on) return;
  typingOn = on;
  state.socket.emit("typing", { case_id: state.caseId, on });
}

async function send(event) {
  event.preventDefault();
  const box = $("#reply-text");
  const text = box.value.trim();
  if (!text || !state.caseId) return;
  const note = $("#note-toggle").checked;
  typing(false);
  const result = note
    ? await act("note", { text }, $("#composer-error"))
    : await act("reply", { text, channel: $("#reply-channel").value || null }, $("#composer-error"));
  if (result) box.value = "";
}

function nextCase() {
  const all = [...state.mine, ...state.queue];
  if (!all.length) return;
  const index = all.findIndex((c) => c.id === state.caseId);
  openCase(all[(index + 1) % all.length].id);
}

function wire() {
  $("#timeline").addEventListener("click", (event) => {
    const button = event.target.closest(".undo-merge-btn");
    if (button) undoMerge(button.dataset.mergeId);
  });
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#login-error").textContent = "";
    try {
      const me = await api("/login", { method: "POST", body: { email: $("#login-email").value, password: $("#login-password").value } });
      $("#login-password").value = "";
      await enter(me);
    } catch (err) {
      const known = err instanceof ApiError && [401, 429].includes(err.status);
      $("#login-error").textContent = known ? t(`login.refused.${err.status}`) : err.message;
    }
  });
  $("#logout").addEventListener("click", async () => {
    await api("/logout", { method: "POST" }).catch(() => null);
    if (state.socket) state.socket.disconnect();
    location.reload();
  });
  $("#presence").addEventListener("change", async (e) => {
    await api("/presence", { method: "POST", body: { presence: e.target.value } });
    scheduleRefresh();
  });
  $("#composer").addEventListener("submit", send);
  $("#reply-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) send(e);
    else if (e.key === "Escape") e.target.blur();
  });
  $("#reply-text").addEventListener("input", () => {
    if ($("#note-toggle").checked) return;
    typing(true);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => typing(false), 3000);
  });
  $("#canned").addEventListener("change", (e) => {
    if (e.target.value) $("#reply-text").value = e.target.value;
    e.target.value = "";
    $("#reply-text").focus();
  });
  $("#more-history").addEventListener("click", loadEarlier);
  mountTemplates({ onSent: () => { reloadCase(); scheduleRefresh(); } });
  $("#accept-btn").addEventListener("click", () => act("accept"));
  $("#return-btn").addEventListener("click", () => act("return"));
  $("#resolve-btn").addEventListener("click", () => act("resolve", { disposition: $("#disposition").value }));
  $("#transfer-btn").addEventListener("click", () => act("transfer", { team: $("#transfer-team").value }));
  $("#create-agent").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      email: $("#new-email").value, name: $("#new-name").value, role: $("#new-role").value,
      teams: $("#new-teams").value.split(",").map((t) => t.trim()).filter(Boolean),
      capacity: Number($("#new-capacity").value || 3), password: $("#new-password").value,
    };
    try {
      const agent = await api("/agents", { method: "POST", body });
      $("#create-result").textContent = t("newAgent.created", { email: agent.email });
      $("#new-password").value = "";
      refreshSupervisor();
    } catch (err) {
      $("#create-result").textContent = err.message;
    }
  });
  for (const tab of document.querySelectorAll("#views [data-view]")) {
    tab.addEventListener("click", () => {
      history.replaceState(null, "", tab.dataset.view === "dashboard" ? "#dashboard" : location.pathname);
      showView(tab.dataset.view);
    });
  }
  window.addEventListener("hashchange", () => { if (!customerInHash()) showView(location.hash === "#dashboard" ? "dashboard" : "inbox"); });
  document.addEventListener("keydown", (e) => {
    const target = e.target;
    if (!$("#dashboard-view").hidden || !$("#customer-view").hidden) return;
    if (e.ctrlKey || e.metaKey || e.altKey || (target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    if (e.key === "r" && state.caseId) { e.preventDefault(); $("#reply-text").focus(); }
    else if (e.key === "n") { e.preventDefault(); nextCase(); }
    else if (e.key === "e" && state.caseId) { e.preventDefault(); act("resolve", { disposition: $("#disposition").value }); }
  });
  mountAlerts(openCase);
  mountCommitmentAlerts();
  $("#skip-link").addEventListener("click", (e) => {  // past the top bar to what is shown: cases or dashboard
    const target = ["#workspace", "#customer-view", "#dashboard-view", "#login-form"].map((s) => $(s)).find((n) => n && n.offsetParent !== null);
    if (!target) return;
    e.preventDefault();
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && state.caseId) markRead(state.caseId); });
  setInterval(() => { tickWaiting(); tickSla(); }, 1000);
}

mountLocales();
wire();
start();

// Quality review: reviewers read a whole case (every channel, the assistant's turns) and score it against the
// scorecard; agents read their own scores. Every text goes in as textContent (dom.js).
import { api, ApiError, setCsrf } from "./api.js";
import { $, clear, clock, h } from "./dom.js";
import { table } from "./tables.js";

const LANGS = ["es", "en", "pt"];
const lang = LANGS.find((code) => (navigator.language || "").toLowerCase().startsWith(code)) || "es";
const state = { me: null, week: null, caseId: null };

function isoWeek(date) {
  const day = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  day.setUTCDate(day.getUTCDate() + 4 - (day.getUTCDay() || 7));  // the Thursday decides the ISO year
  const first = new Date(Date.UTC(day.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((day - first) / 86400000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

function score(value, scale) {
  return value === null || value === undefined ? "n/a" : `${value}/${scale}`;
}

function total(value) {
  return value === null || value === undefined ? "–" : `${value}`;
}

function ownReview(review) {
  return h("article", { class: "qa-own card", dataset: { review: review.id, case: review.case_id } },
    h("h3", {}, `${review.week} · ${review.case_id.slice(0, 8)} · `,
      h("strong", { class: "qa-total" }, total(review.total)), review.critical_failed ? " (critical failed)" : ""),
    h("ul", {}, review.criteria.map((c) => h("li", { dataset: { criterion: c.key } },
      `${c.label}${c.critical ? " (critical)" : ""}: `, h("strong", {}, score(c.score, review.scale)),
      c.comment ? h("span", { class: "qa-comment" }, ` — ${c.comment}`) : null))),
    review.comment ? h("p", { class: "qa-overall" }, review.comment) : null,
    h("p", { class: "muted" }, `${review.reviewer_name || review.reviewer_id} · ${clock(review.updated_at)}`));
}

async function loadMine() {
  const reviews = await api(`/qa/mine?lang=${lang}`);
  $("#qa-mine-empty").hidden = reviews.length > 0;
  clear($("#qa-mine-list")).append(...reviews.map(ownReview));
}

function scoreButton(row) {
  return h("td", {}, h("button", { type: "button", dataset: { score: row.case_id },
    onclick: () => openCase(row.case_id, row.agent_id) }, row.reviewed_by_me ? "Score again" : "Score"));
}

async function loadQueue() {
  $("#qa-error").textContent = "";
  try {
    const queue = await api(`/qa/queue?week=${encodeURIComponent(state.week)}`);
    $("#qa-share").textContent = `${Math.round(queue.sample_share * 100)}% of each agent's cases, and every tagged transition`;
    const rows = queue.items.map((item) => ({ ...item, channels: item.channels.join(", "), sources: item.sources.join(", ") }));
    clear($("#qa-queue")).append(table({ name: "qa-queue", title: `Cases to review, ${queue.week} (${rows.length})`,
      columns: ["case_id", "agent_name", "team", "customer_name", "channels", "sources", "reviews"], rows, extra: scoreButton }));
    const trends = await api(`/qa/trends?week=${encodeURIComponent(state.week)}`);
    clear($("#qa-trends")).append(
      table({ name: "qa-agents", title: "Per agent and week", columns: ["week", "agent_name", "reviews", "average"], rows: trends.agents }),
      table({ name: "qa-teams", title: "Per team and week", columns: ["week", "team", "reviews", "average"], rows: trends.teams }));
  } catch (err) {
    $("#qa-error").textContent = err.message;
  }
}

function transcriptItem(event) {
  const who = event.actor === "customer" ? "customer" : event.actor === "bot" ? "assistant" : event.actor_name || event.actor;
  return h("li", { class: `event kind-${event.kind} actor-${event.actor.split(":")[0]}`, dataset: { channel: event.channel } },
    h("span", { class: "tag" }, event.channel), " ", h("span", { class: "muted" }, `${clock(event.at)} · ${who}`), " ",
    h("span", { class: "text" }, event.text || event.kind));
}

function criterionRow(card, criterion, review) {
  const current = review ? review.scores[criterion.key] : undefined;
  const choices = criterion.critical ? [] : [["", "n/a"]];
  for (let value = 0; value <= card.scale; value += 1) choices.push([String(value), String(value)]);
  const select = h("select", { dataset: { criterion: criterion.key }, "aria-label": criterion.label },
    choices.map(([value, text]) => h("option", { value }, text)));
  select.value = current === undefined ? String(card.scale) : current === null ? "" : String(current);
  const comment = h("input", { dataset: { comment: criterion.key }, maxlength: 2000,
    value: review && review.comments[criterion.key] ? review.comments[criterion.key] : "" });
  return h("tr", {}, h("td", {}, criterion.label, criterion.critical ? h("strong", {}, " (critical)") : null,
    h("span", { class: "muted" }, ` ×${criterion.weight}`)), h("td", {}, select), h("td", {}, comment));
}

function renderCase(view, agentId) {
  const mine = view.reviews.find((review) => review.reviewer_id === state.me.id);
  $("#qa-case").hidden = false;
  $("#qa-case-title").textContent = `${view.case.customer_name || "Customer"} · ${view.case.id.slice(0, 8)}`;
  $("#qa-case-meta").textContent = `${view.case.status} · ${view.case.team || "no team"} · channels: ${view.case.channels.join(", ")}`;
  clear($("#qa-transcript")).append(...view.events.map(transcriptItem));
  $("#qa-form").hidden = !view.scorecard;
  if (view.scorecard) {
    $("#qa-card-key").textContent = `${view.scorecard.key} (0–${view.scorecard.scale})`;
    clear($("#qa-criteria")).append(...view.scorecard.criteria.map((c) => criterionRow(view.scorecard, c, mine)));
  }
  clear($("#qa-agent")).append(...view.case.agents.map((a) => h("option", { value: a.id }, a.name || a.id)));
  const chosen = (mine && mine.agent_id) || agentId;
  if (chosen) $("#qa-agent").value = chosen;
  $("#qa-comment").value = mine && mine.comment ? mine.comment : "";
  $("#qa-result").textContent = mine ? `Your total: ${total(mine.total)}` : "";
  const reviews = view.reviews.map((r) => ({ ...r, scores: Object.entries(r.scores).map(([k, v]) => `${k} ${score(v, view.scorecard ? view.scorecard.scale : "?")}`).join(", ") }));
  clear($("#qa-reviews")).append(table({ name: "qa-reviews", title: `Reviews (${reviews.length})`,
    columns: ["reviewer_name", "agent_name", "week", "total", "critical_failed", "scores", "comment"], rows: reviews }));
  const names = Object.fromEntries(view.reviews.map((r) => [r.reviewer_id, r.reviewer_name || r.reviewer_id]));
  const pairs = view.agreement.map((pair) => ({ reviewers: `${names[pair.first_reviewer_id]} / ${names[pair.second_reviewer_id]}`,
    equal: `${pair.equal}/${pair.criteria}`, equal_share: pair.equal_share, total_difference: pair.total_difference }));
  clear($("#qa-agreement")).append(...(pairs.length ? [table({ name: "qa-agreement", title: "Agreement between reviewers",
    columns: ["reviewers", "equal", "equal_share", "total_difference"], rows: pairs })] : []));
}

async function openCase(caseId, agentId) {
  state.caseId = caseId;
  $("#qa-form-error").textContent = "";
  renderCase(await api(`/qa/cases/${encodeURIComponent(caseId)}?lang=${lang}`), agentId);
  $("#qa-case").scrollIntoView();
}

async function save(event) {
  event.preventDefault();
  $("#qa-form-error").textContent = "";
  const scores = {};
  const comments = {};
  document.querySelectorAll("#qa-criteria select").forEach((select) => {
    scores[select.dataset.criterion] = select.value === "" ? null : Number(select.value);
  });
  document.querySelectorAll("#qa-criteria input[data-comment]").forEach((input) => {
    if (input.value.trim()) comments[input.dataset.comment] = input.value;
  });
  try {
    const stored = await api(`/qa/cases/${encodeURIComponent(state.caseId)}/reviews`, { method: "POST",
      body: { scores, comments, comment: $("#qa-comment").value || null, agent_id: $("#qa-agent").value || null } });
    await openCase(state.caseId, stored.agent_id);
    await loadQueue();
  } catch (err) {
    $("#qa-form-error").textContent = err.message;
  }
}

async function start(me) {
  state.me = me.agent;
  setCsrf(me.csrf_token);
  $("#qa-login").hidden = true;
  $("#qa-main").hidden = false;
  $("#qa-who").textContent = `${me.agent.name} (${me.agent.role})`;
  await loadMine();
  if (["supervisor", "admin"].includes(me.agent.role)) {
    $("#qa-reviewer").hidden = false;
    state.week = isoWeek(new Date());
    $("#qa-week").value = state.week;
    await loadQueue();
  }
}

async function boot() {
  $("#qa-week-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.week = $("#qa-week").value;
    loadQueue();
  });
  $("#qa-form").addEventListener("submit", save);
  $("#qa-login").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await start(await api("/login", { method: "POST", body: { email: $("#qa-email").value, password: $("#qa-password").value } }));
    } catch (err) {
      $("#qa-login-error").textContent = err.message;
    }
  });
  try {
    await start(await api("/me"));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) $("#qa-login").hidden = false;
    else throw err;
  }
}

boot();

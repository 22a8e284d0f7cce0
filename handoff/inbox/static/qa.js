// Quality review: reviewers read a whole case (every channel, the assistant's turns) and score it against the
// scorecard; agents read their own scores. Every text goes in as textContent (dom.js).
import { api, ApiError, setCsrf } from "./api.js";
import { $, clear, clock, h } from "./dom.js";
import { currentLocale, formatNumber, setLocale, t } from "./i18n.js";
import { table } from "./tables.js";

const state = { me: null, week: null, caseId: null };

function isoWeek(date) {
  const day = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  day.setUTCDate(day.getUTCDate() + 4 - (day.getUTCDay() || 7));  // the Thursday decides the ISO year
  const first = new Date(Date.UTC(day.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((day - first) / 86400000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

function score(value, scale) {
  return value === null || value === undefined ? t("qa.notApplicable") : `${value}/${scale}`;
}

function total(value) {
  return value === null || value === undefined ? "–" : formatNumber(value, { maximumFractionDigits: 1 });
}

function ownReview(review) {
  return h("article", { class: "qa-own card", dataset: { review: review.id, case: review.case_id } },
    h("h3", {}, `${review.week} · ${review.case_id.slice(0, 8)} · `,
      h("strong", { class: "qa-total" }, total(review.total)), review.critical_failed ? ` ${t("qa.criticalFailed")}` : ""),
    h("ul", {}, review.criteria.map((c) => h("li", { dataset: { criterion: c.key } },
      `${c.label}${c.critical ? ` ${t("qa.critical")}` : ""}: `, h("strong", {}, score(c.score, review.scale)),
      c.comment ? h("span", { class: "qa-comment" }, ` — ${c.comment}`) : null))),
    review.comment ? h("p", { class: "qa-overall" }, review.comment) : null,
    h("p", { class: "muted" }, `${review.reviewer_name || review.reviewer_id} · ${clock(review.updated_at)}`));
}

async function loadMine() {
  const reviews = await api(`/qa/mine?lang=${currentLocale()}`);
  $("#qa-mine-empty").hidden = reviews.length > 0;
  clear($("#qa-mine-list")).append(...reviews.map(ownReview));
}

function scoreButton(row) {
  return h("td", {}, h("button", { type: "button", dataset: { score: row.case_id },
    onclick: () => openCase(row.case_id, row.agent_id) }, t(row.reviewed_by_me ? "qa.scoreAgain" : "qa.score")));
}

async function loadQueue() {
  $("#qa-error").textContent = "";
  try {
    const queue = await api(`/qa/queue?week=${encodeURIComponent(state.week)}`);
    $("#qa-share").textContent = t("qa.share", { share: formatNumber(queue.sample_share, { style: "percent" }) });
    const rows = queue.items.map((item) => ({ ...item, channels: item.channels.join(", "), sources: item.sources.join(", ") }));
    clear($("#qa-queue")).append(table({ name: "qa-queue", title: t("qa.queue.table", { week: queue.week, count: rows.length }),
      columns: ["case_id", "agent_name", "team", "customer_name", "channels", "sources", "reviews"], rows, extra: scoreButton }));
    const trends = await api(`/qa/trends?week=${encodeURIComponent(state.week)}`);
    clear($("#qa-trends")).append(
      table({ name: "qa-agents", title: t("qa.trends.agents"), columns: ["week", "agent_name", "reviews", "average"], rows: trends.agents }),
      table({ name: "qa-teams", title: t("qa.trends.teams"), columns: ["week", "team", "reviews", "average"], rows: trends.teams }));
  } catch (err) {
    $("#qa-error").textContent = err.message;
  }
}

function transcriptItem(event) {
  const who = ["customer", "bot", "system"].includes(event.actor) ? t(`actor.${event.actor}`) : event.actor_name || event.actor;
  return h("li", { class: `event kind-${event.kind} actor-${event.actor.split(":")[0]}`, dataset: { channel: event.channel } },
    h("span", { class: "tag" }, event.channel), " ", h("span", { class: "muted" }, `${clock(event.at)} · ${who}`), " ",
    h("span", { class: "text" }, event.text || event.kind));
}

function criterionRow(card, criterion, review) {
  const current = review ? review.scores[criterion.key] : undefined;
  const choices = criterion.critical ? [] : [["", t("qa.notApplicable")]];
  for (let value = 0; value <= card.scale; value += 1) choices.push([String(value), String(value)]);
  const select = h("select", { dataset: { criterion: criterion.key }, "aria-label": criterion.label },
    choices.map(([value, text]) => h("option", { value }, text)));
  select.value = current === undefined ? String(card.scale) : current === null ? "" : String(current);
  const comment = h("input", { dataset: { comment: criterion.key }, maxlength: 2000,
    value: review && review.comments[criterion.key] ? review.comments[criterion.key] : "" });
  return h("tr", {}, h("td", {}, criterion.label, criterion.critical ? h("strong", {}, ` ${t("qa.critical")}`) : null,
    h("span", { class: "muted" }, ` ×${criterion.weight}`)), h("td", {}, select), h("td", {}, comment));
}

function renderCase(view, agentId) {
  const mine = view.reviews.find((review) => review.reviewer_id === state.me.id);
  $("#qa-case").hidden = false;
  $("#qa-case-title").textContent = `${view.case.customer_name || t("actor.customer")} · ${view.case.id.slice(0, 8)}`;
  $("#qa-case-meta").textContent = t("qa.case.meta", { status: t(`status.${view.case.status}`),
    team: view.case.team || t("case.noTeam"), channels: view.case.channels.join(", ") });
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
  $("#qa-result").textContent = mine ? t("qa.yourTotal", { total: total(mine.total) }) : "";
  const reviews = view.reviews.map((r) => ({ ...r, scores: Object.entries(r.scores).map(([k, v]) => `${k} ${score(v, view.scorecard ? view.scorecard.scale : "?")}`).join(", ") }));
  clear($("#qa-reviews")).append(table({ name: "qa-reviews", title: t("qa.reviews.table", { count: reviews.length }),
    columns: ["reviewer_name", "agent_name", "week", "total", "critical_failed", "scores", "comment"], rows: reviews }));
  const names = Object.fromEntries(view.reviews.map((r) => [r.reviewer_id, r.reviewer_name || r.reviewer_id]));
  const pairs = view.agreement.map((pair) => ({ reviewers: `${names[pair.first_reviewer_id]} / ${names[pair.second_reviewer_id]}`,
    equal: `${pair.equal}/${pair.criteria}`, equal_share: pair.equal_share, total_difference: pair.total_difference }));
  clear($("#qa-agreement")).append(...(pairs.length ? [table({ name: "qa-agreement", title: t("qa.agreement"),
    columns: ["reviewers", "equal", "equal_share", "total_difference"], rows: pairs })] : []));
}

async function openCase(caseId, agentId) {
  state.caseId = caseId;
  $("#qa-form-error").textContent = "";
  renderCase(await api(`/qa/cases/${encodeURIComponent(caseId)}?lang=${currentLocale()}`), agentId);
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
  if (me.agent.locale && me.agent.locale !== currentLocale()) await setLocale(me.agent.locale);
  $("#qa-login").hidden = true;
  $("#qa-main").hidden = false;
  $("#qa-who").textContent = t("header.me", { name: me.agent.name, role: t(`role.${me.agent.role}`) });
  await loadMine();
  if (["supervisor", "reviewer", "admin"].includes(me.agent.role)) {
    $("#qa-reviewer").hidden = false;
    state.week = isoWeek(new Date());
    $("#qa-week").value = state.week;
    await loadQueue();
  }
}

async function boot() {
  await setLocale(null);  // the browser's language until the agent's profile says otherwise
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
      $("#qa-login-error").textContent = [401, 429].includes(err.status) ? t(`login.refused.${err.status}`) : err.message;
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

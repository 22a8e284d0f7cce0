// The search box (customers, cases by id, what customers wrote) and the case list with its filters: both answered
// by the server (GET /inbox/api/search, /inbox/api/cases), only what this agent may read. Text only, never HTML.
import { api } from "./api.js";
import { $, clear, clock, h } from "./dom.js";
import { onLocaleChange, t } from "./i18n.js";

const PAGE = 25;
const CSAT_RANGES = { "": [null, null], low: [1, 2], mid: [3, 3], high: [4, 5] };
let openCase = null;
let cursors = [null];  // the cursor of each page shown so far: [null, page 2's, …]
let pageIndex = 0;

export function mountSearch(open) {
  openCase = open;
  onLocaleChange(() => {  // the filters' options and the rows were built with the former language's words
    filtersLoaded = false;
    if (!$("#case-browser").hidden) showCaseList().catch(() => null);
    if ($("#search-results").childElementCount) search().catch(() => null);
  });
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search().catch((err) => { $("#search-error").textContent = err.message; });
  });
  $("#case-list-open").addEventListener("click", () => showCaseList().catch((err) => {
    $("#case-list-error").textContent = err.message;
  }));
  $("#case-list-close").addEventListener("click", hideCaseList);
  $("#case-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    cursors = [null];
    loadPage().catch((err) => { $("#case-list-error").textContent = err.message; });
  });
  $("#case-list-next").addEventListener("click", () => {
    loadPage(pageIndex + 1).catch((err) => { $("#case-list-error").textContent = err.message; });
  });
  $("#case-list-prev").addEventListener("click", () => {
    loadPage(pageIndex - 1).catch((err) => { $("#case-list-error").textContent = err.message; });
  });
}

function status(name) {
  return t(`status.${name}`);
}

function open(caseId) {
  hideCaseList();
  openCase(caseId);
}

// A merged case's conversation continues on the case it was merged into.
function target(item) {
  return item.merged_into_case_id || item.id || item.case_id;
}

async function search() {
  const q = $("#search-q").value.trim();
  const results = clear($("#search-results"));
  $("#search-error").textContent = "";
  if (q.length < 2) {
    $("#search-error").textContent = t("search.tooShort");
    return;
  }
  const found = await api(`/search?${new URLSearchParams({ q })}`);
  const groups = [
    ["search.customers", found.customers, customerItem],
    ["search.cases", found.cases, caseItem],
    ["search.messages", found.messages, messageItem],
  ];
  let any = false;
  for (const [title, items, render] of groups) {
    if (!items.length) continue;
    any = true;
    results.append(h("h3", {}, t(title)), h("ul", { class: "search-list" }, items.map(render)));
  }
  if (!any) results.append(h("p", { class: "muted", role: "status" }, t("search.nothing")));
}

function customerItem(customer) {
  return h("li", { class: "search-hit", dataset: { customerId: customer.id } },
    h("a", { class: "customer-page-link", href: `#/customers/${customer.id}` },  // the customer page
      h("strong", {}, customer.name || t("customer.unnamed"))),
    h("span", { class: "muted" }, customer.identities.filter((i) => i.kind !== "webchat").map((i) => i.value).join(" · ")),
    customer.cases.length
      ? h("span", { class: "tags" }, customer.cases.map((c) => h("button", {
        type: "button", class: "tag case-link", dataset: { caseId: c.id }, onclick: () => open(c.id),
      }, `${status(c.status)} · ${c.channels.join(", ")} · ${clock(c.created_at)}`)))
      : h("span", { class: "muted" }, t("search.noReadableCase")));
}

function caseItem(c) {
  return h("li", { class: "search-hit" },
    h("button", { type: "button", class: "case-link", dataset: { caseId: c.id }, onclick: () => open(target(c)) },
      `${c.customer_name || t("customer.unnamed")} · ${status(c.status)} · ${c.team || t("case.noTeam")} · ${c.id.slice(0, 8)}`));
}

function messageItem(hit) {
  return h("li", { class: "search-hit" },
    h("button", { type: "button", class: "case-link", dataset: { caseId: hit.case_id }, onclick: () => open(target(hit)) },
      h("strong", {}, hit.customer_name || t("customer.unnamed")),
      h("span", { class: "muted" }, ` ${status(hit.status)} · ${hit.team || t("case.noTeam")} · ${hit.channel} · ${clock(hit.created_at)}`)),
    h("q", { class: "hit-text" }, hit.text || ""));
}

// ---- the case list ----------------------------------------------------------------------------------------------
let filtersLoaded = false;

let hiddenBefore = null;  // the case view's state while the list covers it

async function showCaseList() {
  if ($("#case-browser").hidden) hiddenBefore = { case: $("#case").hidden, side: $("#side").hidden };
  $("#case").hidden = true;
  $("#side").hidden = true;
  $("#case-browser").hidden = false;
  if (!filtersLoaded) {
    const filters = await api("/case-filters");
    fill($("#filter-status"), filters.statuses.map((s) => [s, status(s)]));
    fill($("#filter-team"), filters.teams.map((t) => [t, t]));
    fill($("#filter-channel"), filters.channels.map((c) => [c, c]));
    fill($("#filter-reason"), filters.reasons.map((r) => [r, r]));
    fill($("#filter-agent"), filters.agents.map((a) => [a.id, a.name]));
    filtersLoaded = true;
  }
  cursors = [null];
  await loadPage();
}

function hideCaseList() {
  if ($("#case-browser").hidden) return;
  $("#case-browser").hidden = true;
  if (hiddenBefore) {
    $("#case").hidden = hiddenBefore.case;
    $("#side").hidden = hiddenBefore.side;
  }
}

function fill(select, pairs) {
  clear(select).append(h("option", { value: "" }, t("caseList.any")));
  for (const [value, label] of pairs) select.append(h("option", { value }, label));
}

// A day picked in the agent's calendar, as the instant its midnight is in their time zone.
function localMidnight(day, plusDays = 0) {
  if (!day) return null;
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

function query(cursor) {
  const params = new URLSearchParams({ limit: String(PAGE) });
  for (const [name, id] of [["status", "#filter-status"], ["team", "#filter-team"], ["channel", "#filter-channel"],
    ["reason", "#filter-reason"], ["agent", "#filter-agent"]]) {
    if ($(id).value) params.append(name, $(id).value);
  }
  const from = localMidnight($("#filter-from").value);
  const until = localMidnight($("#filter-to").value, 1);  // the last day picked is included
  if (from) params.set("opened_from", from);
  if (until) params.set("opened_before", until);
  const [low, high] = CSAT_RANGES[$("#filter-csat").value];
  if (low) params.set("csat_min", String(low));
  if (high) params.set("csat_max", String(high));
  if (cursor) params.set("cursor", cursor);
  return params;
}

// Page `index` (0: the first): its cursor is cursors[index]; the next page's is remembered.
async function loadPage(index = 0) {
  $("#case-list-error").textContent = "";
  const page = await api(`/cases?${query(cursors[index])}`);
  pageIndex = index;
  cursors = cursors.slice(0, index + 1);
  if (page.next_cursor) cursors.push(page.next_cursor);
  const first = index * PAGE + 1;
  $("#case-list-total").textContent = page.total
    ? t("caseList.range", { first, last: first + page.items.length - 1, total: page.total }) : t("caseList.none");
  $("#case-list-prev").disabled = index === 0;
  $("#case-list-next").disabled = !page.next_cursor;
  const body = clear($("#case-list-rows"));
  for (const c of page.items) {
    body.append(h("tr", { dataset: { caseId: c.id } },
      h("td", {}, h("button", { type: "button", class: "case-link", onclick: () => open(target(c)) },
        c.customer_name || t("customer.unnamed"))),
      h("td", {}, clock(c.created_at)), h("td", {}, status(c.status)), h("td", {}, c.team || "—"), h("td", {}, c.channel),
      h("td", {}, c.assignee_name || "—"), h("td", {}, c.reason || "—"),
      h("td", {}, c.csat === null ? "—" : String(c.csat)), h("td", { class: "muted" }, c.id.slice(0, 8))));
  }
}

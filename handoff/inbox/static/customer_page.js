// The customer page (#/customers/{id}): identities, facts, WhatsApp consent, every case on every channel with its
// timeline, merges and their undo, suggestions. Reached from a case's customer panel or by its URL; text only.
import { api } from "./api.js";
import { $, clear, clock, h } from "./dom.js";
import { customerLabel, eventItem } from "./render.js";
import { onLocaleChange, t } from "./i18n.js";

const ROUTE = /^#\/customers\/([A-Za-z0-9_-]{1,32})$/;
const OPEN = ["bot", "queued", "assigned"];
const EVIDENCE = ["told_phone", "told_email", "told_phone_verified", "name_and_order"];
const STATUSES = ["bot", "queued", "assigned", "resolved", "abandoned", "merged"];
const page = { id: null, data: null, hooks: null };

// The customer's id in the URL, or null.
export function customerInHash() {
  const match = ROUTE.exec(location.hash);
  return match ? match[1] : null;
}

// hooks: openCase(caseId) shows a case in the inbox; leave() restores the view the app was on.
export function mountCustomerPage(hooks) {
  page.hooks = hooks;
  window.addEventListener("hashchange", route);
  onLocaleChange(() => { if (page.data && !$("#customer-view").hidden) render(page.data); });
  $("#customer-view").addEventListener("click", (event) => {
    const button = event.target.closest(".undo-merge-btn");
    if (button) act(`/merges/${encodeURIComponent(button.dataset.mergeId)}/undo`);
  });
  $("#cp-merge-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const other = $("#cp-merge-other").value.trim();
    if (other) act(`/customers/${encodeURIComponent(page.id)}/merge`, { other_id: other }).then((ok) => {
      if (ok) $("#cp-merge-other").value = "";
    });
  });
  return route();
}

// A link from the case's customer panel to their page.
export function linkFromCase(customer) {
  if (!customer || !customer.id) return;
  $("#customer-body").prepend(h("p", {}, h("a", { id: "customer-page-link", href: `#/customers/${customer.id}` },
    t("customerPage.link"))));
}

async function route() {
  const id = customerInHash();
  const view = $("#customer-view");
  if (!id) {
    if (!view.hidden) {
      view.hidden = true;
      page.id = null;
      page.hooks.leave();
    }
    return;
  }
  for (const other of ["#workspace", "#supervisor", "#dashboard-view"]) $(other).hidden = true;
  view.hidden = false;
  page.id = id;
  await load();
}

async function load() {
  $("#cp-error").textContent = "";
  try {
    page.data = await api(`/customers/${encodeURIComponent(page.id)}/page`);
  } catch (err) {
    page.data = null;
    clear($("#cp-cases"));
    $("#cp-name").textContent = t("customer.title");
    $("#cp-error").textContent = err.message;
    return;
  }
  render(page.data);
}

// A change from the page (merge, undo, dismiss, consent): POST, then the page again; a refusal is shown.
async function act(path, body) {
  $("#cp-error").textContent = "";
  try {
    await api(path, { method: "POST", body });
  } catch (err) {
    $("#cp-error").textContent = err.message;
    return false;
  }
  await load();
  return true;
}

function render(data) {
  const c = data.customer;
  $("#cp-name").textContent = customerLabel(c.name, c.handle, t("customer.unknownName"));
  $("#cp-meta").textContent = t("customerPage.meta", { language: (c.language || "?").toUpperCase(),
    since: clock(c.created_at), id: c.id });
  clear($("#cp-identities")).append(...(c.identities.length ? c.identities.map((i) => h("li", {},
    `${i.kind}: ${i.value} · `, verification(i))) : [none()]));
  const facts = Object.entries(c.facts || {});
  clear($("#cp-facts")).append(...(facts.length
    ? facts.map(([k, v]) => h("li", {}, `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`))
    : [none()]));
  renderConsent(c, data.cases);
  renderMerges(data.merges);
  renderSuggestions(data.suggestions);
  renderCases(data.cases, data.more_cases);
}

function renderConsent(customer, cases) {
  const out = customer.whatsapp_opted_out;
  const on = cases.find((c) => OPEN.includes(c.status)) || cases[0];
  clear($("#cp-consent")).append(
    h("span", { id: "cp-consent-state", dataset: { optedOut: String(out) } },
      out ? t("customerPage.optedOut", { since: clock(customer.whatsapp_opted_out_at) }) : t("customerPage.mayContact"),
      " "),
    on ? h("button", { type: "button", id: "cp-consent-btn",
      onclick: () => act(`/cases/${encodeURIComponent(on.id)}/whatsapp-opt-out`, { opted_out: !out }) },
    out ? t("customerPage.clearOptOut") : t("customerPage.markOptedOut"))
      : h("span", { class: "muted" }, t("customerPage.noCase")));
}

function renderMerges(merges) {
  clear($("#cp-merges")).append(...(merges.length ? merges.map((m) => h("li", { dataset: { mergeId: m.id } },
    m.kind === "cases" ? t("customerPage.casesMerged")
      : t("customerPage.mergedWith", { name: m.other_name || t("customer.unnamed") }),
    ` · ${t("customerPage.mergeBy", { when: clock(m.created_at), actor: m.actor })} `,
    m.undone_at ? h("span", { class: "tag" }, t("customerPage.undone", { when: clock(m.undone_at) }))
      : h("button", { type: "button", class: "undo-merge-btn", dataset: { mergeId: m.id } }, t("event.undoMerge"))))
    : [none()]));
}

function renderSuggestions(suggestions) {
  clear($("#cp-suggestions")).append(...(suggestions.length ? suggestions.map((s) => h("li", {},
    `${s.other_name || t("customer.unnamed")} · `,
    `${EVIDENCE.includes(s.evidence_kind) ? t(`evidence.${s.evidence_kind}`) : s.evidence_kind}: ${s.evidence_value} `,
    h("button", { type: "button", class: "merge-btn",
      onclick: () => act(`/customers/${encodeURIComponent(page.id)}/merge`, { other_id: s.other_customer_id }) },
    t("customer.merge")),
    h("button", { type: "button", class: "dismiss-btn",
      onclick: () => act(`/suggestions/${encodeURIComponent(s.id)}/dismiss`) }, t("customer.notSame"))))
    : [none()]));
}

function caseHead(c) {
  const when = c.resolved_at ? `${clock(c.created_at)} – ${clock(c.resolved_at)}` : clock(c.created_at);
  return h("header", { class: "cp-case-head" },
    h("h3", {}, `${c.channels.join(" · ")} · ${STATUSES.includes(c.status) ? t(`status.${c.status}`) : c.status}`),
    h("span", { class: "muted" }, ` ${c.team || t("case.noTeam")} · ${when}${c.assignee_name ? ` · ${c.assignee_name}` : ""}`
      + `${c.disposition ? ` · ${c.disposition}` : ""}${c.csat != null ? ` · CSAT ${c.csat}` : ""}`,
    c.merged_into_case_id ? ` · ${t("customerPage.continued")}` : "", " "),
    c.status !== "merged" ? h("button", { type: "button", class: "cp-open-case",
      onclick: () => page.hooks.openCase(c.id) }, t("customerPage.openCase")) : null);
}

function renderCases(cases, more) {
  const list = clear($("#cp-cases"));
  if (!cases.length) list.append(h("p", { class: "muted" }, t("customerPage.noCases")));
  for (const c of cases) {
    const timeline = h("ol", { class: "timeline cp-timeline", tabindex: 0,  // it scrolls: reachable by keyboard
      "aria-label": t("customerPage.timeline", { channels: c.channels.join(", ") }) }, c.events.map((e) => eventItem(e, c.id)));
    const earlier = h("button", { type: "button", class: "cp-earlier", hidden: !c.more_before }, t("case.earlier"));
    let before = c.more_before;
    earlier.addEventListener("click", async () => {
      const older = await api(`/customers/${encodeURIComponent(page.id)}/cases/${encodeURIComponent(c.id)}/timeline?before=${before}`);
      timeline.prepend(...older.events.map((e) => eventItem(e, c.id)));
      before = older.more_before;
      earlier.hidden = !before;
    });
    list.append(h("section", { class: "card cp-case", dataset: { caseId: c.id, status: c.status } },
      caseHead(c), earlier, timeline));
  }
  if (more) list.append(h("p", { class: "muted" }, t("customerPage.olderCases")));
}

function none() {
  return h("li", { class: "muted" }, t("customer.none"));
}

function verification(identity) {
  if (!identity.verified) return t("customerPage.notVerified");
  return identity.verified_by ? t("customerPage.verifiedBy", { how: identity.verified_by }) : t("customerPage.verified");
}

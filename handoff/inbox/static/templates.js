// "Send a template" in the reply box once WhatsApp's 24 hours are over: the approved templates (the customer's
// language first), their parameters prefilled from the case, a live preview of what the customer will read
// (text only, never markup), sent with POST /inbox/api/cases/{id}/template.
import { api } from "./api.js";
import { $, clear, h } from "./dom.js";

const state = { caseId: null, requested: null, key: null, offer: null, onSent: () => {} };

// What the customer reads: the approved body with {{1}}, {{2}}… replaced in order, as the service renders it.
export function rendered(template, values) {
  if (!template.body) return `[template ${template.name}] ${values.join(" | ")}`;
  return values.reduce((text, value, index) => text.split(`{{${index + 1}}}`).join(value), template.body);
}

function chosen() {
  const offer = state.offer;
  return offer ? offer.templates[Number($("#template-choice").value)] : null;
}

function values() {
  return [...document.querySelectorAll("#template-params input")].map((input) => input.value.trim());
}

function showPreview() {
  const template = chosen();
  $("#template-preview").textContent = template ? rendered(template, values()) : "";
}

function showParameters() {
  const fields = clear($("#template-params"));
  const template = chosen();
  for (const parameter of template ? template.parameters : []) {
    fields.append(h("label", {}, parameter.name,
      h("input", { type: "text", maxlength: 1024, value: parameter.value, dataset: { parameter: parameter.name },
        oninput: showPreview })));
  }
  showPreview();
}

function fill(offer) {
  const choice = clear($("#template-choice"));
  offer.templates.forEach((template, index) => {
    choice.append(h("option", { value: String(index) }, `${template.name} (${template.language})`));
  });
  $("#template-form").hidden = true;
  $("#template-error").textContent = "";
  showParameters();
}

// Called each time the case on screen is (re)loaded; rebuilds the picker only when its offer changed, so a
// live update does not wipe what the agent is typing.
export async function showTemplates(caseId) {
  state.requested = caseId;
  let offer = null;
  try {
    offer = await api(`/cases/${encodeURIComponent(caseId)}/templates`);
  } catch (_) {
    offer = null;
  }
  if (state.requested !== caseId) return;  // another case was opened meanwhile
  const closed = offer && offer.whatsapp && !offer.window_open;
  const usable = closed && !offer.refusal && offer.templates.length > 0;
  $("#templates").hidden = !closed;
  $("#template-refusal").textContent = closed && offer.refusal ? offer.refusal : "";
  $("#template-open").hidden = !usable;
  if (!usable) {
    $("#template-form").hidden = true;
    state.caseId = caseId;
    state.key = null;
    state.offer = null;
    return;
  }
  const key = JSON.stringify(offer.templates);
  if (state.caseId === caseId && state.key === key) return;
  state.caseId = caseId;
  state.key = key;
  state.offer = offer;
  fill(offer);
}

async function send(event) {
  event.preventDefault();
  const template = chosen();
  if (!template || !state.caseId) return;
  const body = { name: template.name, language: template.language, values: {} };
  for (const input of document.querySelectorAll("#template-params input")) body.values[input.dataset.parameter] = input.value.trim();
  $("#template-error").textContent = "";
  try {
    await api(`/cases/${encodeURIComponent(state.caseId)}/template`, { method: "POST", body });
  } catch (err) {
    $("#template-error").textContent = err.message;
    return;
  }
  $("#template-form").hidden = true;
  state.key = null;  // the next load starts from the case's values again
  state.onSent();
}

export function mountTemplates({ onSent }) {
  state.onSent = onSent;
  $("#template-open").setAttribute("aria-expanded", "false");
  $("#template-open").setAttribute("aria-controls", "template-form");
  $("#template-open").addEventListener("click", () => {
    const opening = $("#template-form").hidden;
    $("#template-form").hidden = !opening;
    $("#template-open").setAttribute("aria-expanded", String(opening));
    if (opening) $("#template-choice").focus();
  });
  $("#template-form").addEventListener("keydown", (e) => {  // Escape closes the picker, back on its button
    if (e.key !== "Escape") return;
    e.preventDefault();
    $("#template-form").hidden = true;
    $("#template-open").setAttribute("aria-expanded", "false");
    $("#template-open").focus();
  });
  $("#template-choice").addEventListener("change", showParameters);
  $("#template-form").addEventListener("submit", send);
}

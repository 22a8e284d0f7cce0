// The customer's WhatsApp opt-out in the customer panel: shown, and marked or cleared by the agent
// (POST /inbox/api/cases/{id}/whatsapp-opt-out). Opted out: the service never writes first on WhatsApp.
import { $, h } from "./dom.js";
import { t } from "./i18n.js";

export function renderConsent(customer, caseId, post) {
  const out = Boolean(customer.whatsapp_opted_out);
  const error = h("span", { class: "error", role: "alert" });
  const toggle = () => post(`/cases/${encodeURIComponent(caseId)}/whatsapp-opt-out`, { opted_out: !out }, error);
  $("#customer-body").append(h("p", { id: "whatsapp-consent", dataset: { optedOut: String(out) } },
    `${t(out ? "consent.optedOut" : "consent.mayContact")} `,
    h("button", { type: "button", id: "whatsapp-consent-btn", onclick: toggle },
      t(out ? "consent.clear" : "consent.mark")),
    " ", error));
}

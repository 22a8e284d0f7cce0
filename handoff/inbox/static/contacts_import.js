// Supervisors import customers from a CSV: a dry run first (counts and every conflicting or invalid row), then
// the import of the same file. POST /inbox/api/contacts/import (multipart: file, dry_run).
import { upload } from "./api.js";
import { $, clear, h } from "./dom.js";
import { t } from "./i18n.js";

const SHOWN = 200;  // problem rows listed on the page; the CLI prints them all

function summary(report) {
  const c = report.counts;
  const head = report.dry_run ? t("contactsImport.dryDone")
    : t("contactsImport.done", { created: report.created, updated: report.updated });
  return t("contactsImport.counts", { head, new: c.new, matched: c.matched, conflict: c.conflict, invalid: c.invalid });
}

function problems(report) {
  const rows = report.rows.filter((r) => r.outcome === "conflict" || r.outcome === "invalid");
  const node = clear($("#import-rows"));
  if (!rows.length) return;
  node.append(h("table", { id: "import-problems" },
    h("caption", {}, rows.length > SHOWN ? t("contactsImport.firstToFix", { shown: SHOWN, total: rows.length })
      : t("contactsImport.toFix")),
    h("thead", {}, h("tr", {}, h("th", {}, t("contactsImport.row")), h("th", {}, t("contactsImport.outcome")),
      h("th", {}, t("contactsImport.why")))),
    h("tbody", {}, rows.slice(0, SHOWN).map((r) => h("tr", { dataset: { row: r.row } }, h("td", {}, String(r.row)),
      h("td", {}, t(`contactsImport.outcomes.${r.outcome}`)), h("td", {}, r.reason || ""))))));
}

async function send(dryRun) {
  const file = $("#import-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  form.append("dry_run", dryRun ? "true" : "false");
  $("#import-result").textContent = dryRun ? t("contactsImport.checking") : t("contactsImport.importing");
  try {
    const report = await upload("/contacts/import", form);
    $("#import-result").textContent = summary(report);
    problems(report);
    $("#import-run").disabled = !dryRun;  // an import follows its own dry run
  } catch (err) {
    $("#import-result").textContent = err.message;
    $("#import-run").disabled = true;
  }
}

export function mountContactsImport() {
  $("#contacts-import").hidden = false;
  $("#import-file").addEventListener("change", () => {
    $("#import-run").disabled = true;
    $("#import-result").textContent = "";
    clear($("#import-rows"));
  });
  $("#contacts-import").addEventListener("submit", (event) => { event.preventDefault(); send(true); });
  $("#import-run").addEventListener("click", () => send(false));
}

// Supervisors import customers from a CSV: a dry run first (counts and every conflicting or invalid row), then
// the import of the same file. POST /inbox/api/contacts/import (multipart: file, dry_run).
import { upload } from "./api.js";
import { $, clear, h } from "./dom.js";

const SHOWN = 200;  // problem rows listed on the page; the CLI prints them all

function summary(report) {
  const c = report.counts;
  const head = report.dry_run ? "Dry run, nothing written" : `Imported: ${report.created} created, ${report.updated} updated`;
  return `${head} · new ${c.new} · matched ${c.matched} · conflict ${c.conflict} · invalid ${c.invalid}`;
}

function problems(report) {
  const rows = report.rows.filter((r) => r.outcome === "conflict" || r.outcome === "invalid");
  const node = clear($("#import-rows"));
  if (!rows.length) return;
  node.append(h("table", { id: "import-problems" },
    h("caption", {}, rows.length > SHOWN ? `First ${SHOWN} of ${rows.length} rows to fix` : "Rows to fix"),
    h("thead", {}, h("tr", {}, h("th", {}, "Row"), h("th", {}, "Outcome"), h("th", {}, "Why"))),
    h("tbody", {}, rows.slice(0, SHOWN).map((r) => h("tr", {}, h("td", {}, String(r.row)), h("td", {}, r.outcome),
      h("td", {}, r.reason || ""))))));
}

async function send(dryRun) {
  const file = $("#import-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  form.append("dry_run", dryRun ? "true" : "false");
  $("#import-result").textContent = dryRun ? "Checking…" : "Importing…";
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

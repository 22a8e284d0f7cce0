// Report tables and their CSV downloads. Cells are set as text only; CSV cells are quoted, and text that a
// spreadsheet would run as a formula (=, +, -, @ at the start, unless it is a number) is prefixed with '.
import { h } from "./dom.js";
import { formatNumber, has, t } from "./i18n.js";

export function cellText(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

// On screen a fraction has the agent's decimal mark (0,13 in Spanish); ids and counts stay as they are; the CSV
// keeps the raw value whatever the language.
function shownText(value) {
  return typeof value === "number" && !Number.isInteger(value) ? formatNumber(value, { maximumFractionDigits: 3 })
    : cellText(value);
}

function csvCell(value) {
  let text = cellText(value);
  if (/^[=+\-@\t\r]/.test(text) && !(typeof value === "number")) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

export function csvText(columns, rows) {
  return [columns.map(csvCell).join(","), ...rows.map((row) => columns.map((c) => csvCell(row[c])).join(","))]
    .join("\r\n") + "\r\n";
}

export function download(filename, text) {
  const link = h("a", { download: filename, hidden: true });
  link.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// name: the data-table/data-csv key; title: the heading; extra(row): an optional last cell (controls).
export function table({ name, title, columns, rows, filename, extra }) {
  const button = h("button", { type: "button", dataset: { csv: name } }, t("table.csv", { title }));
  button.addEventListener("click", () => download(filename || `${name}.csv`, csvText(columns, rows)));
  const head = h("tr", {}, columns.map((column) => h("th", { scope: "col", dataset: { column } }, has(`column.${column}`) ? t(`column.${column}`) : column)), extra ? h("th", {}, "") : null);
  const body = rows.map((row) => h("tr", {},
    columns.map((column) => h("td", {}, shownText(row[column]))), extra ? extra(row) : null));
  return h("section", { class: "report-table", dataset: { table: name } },
    h("h3", {}, title), button,
    // a wide table scrolls sideways inside its region, which the keyboard can reach and scroll
    h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": title },
      h("table", {}, h("thead", {}, head), h("tbody", {}, body))));
}

// The inbox's words and formats: one catalogue per language (i18n/<code>.json, flat dotted keys), the agent's
// choice or else the browser's language; dates, numbers and durations through Intl in that language.
// Customer-facing text (replies, templates) is never translated here: it stays in the customer's language.
export const LOCALES = ["en", "es", "pt"];
const FALLBACK = "en";
const REGION = { en: "en-US", es: "es-MX", pt: "pt-BR" };  // when the browser names no region of the language

let current = FALLBACK;
let messages = {};
let fallback = {};
const listeners = [];
const catalogues = new Map();

// The first of the browser's languages the inbox speaks (es-MX → es, pt-BR → pt), else English.
export function browserLocale(languages = navigator.languages || [navigator.language]) {
  for (const tag of languages || []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LOCALES.includes(base)) return base;
  }
  return FALLBACK;
}

// The BCP 47 tag Intl formats with: the browser's own region of the chosen language if it has one.
export function intlTag(locale = current, languages = navigator.languages || []) {
  const own = (languages || []).find((tag) => String(tag).toLowerCase().split("-")[0] === locale);
  return own || REGION[locale] || locale;
}

async function catalogue(locale) {
  if (!catalogues.has(locale)) {
    catalogues.set(locale, fetch(`/inbox/static/i18n/${locale}.json`, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : {})));
  }
  return catalogues.get(locale);
}

export function currentLocale() {
  return current;
}

// Loads a language (the agent's, or the browser's when null), applies it to the page and tells the listeners.
export async function setLocale(locale) {
  const chosen = LOCALES.includes(locale) ? locale : browserLocale();
  const [own, base] = await Promise.all([catalogue(chosen), catalogue(FALLBACK)]);
  current = chosen;
  messages = own;
  fallback = base;
  document.documentElement.lang = intlTag(chosen);
  applyI18n(document);
  for (const listener of listeners) listener(chosen);
  return chosen;
}

// Called after every language change (a view re-renders what it built with t()).
export function onLocaleChange(listener) {
  listeners.push(listener);
}

// Whether the catalogues name this key (for labels of values the server may add to: a raw value is shown then).
export function has(key) {
  return key in messages || key in fallback;
}

// A value the server names (a status, a kind) in the agent's words: prefix.value, or the value itself when the
// catalogues do not know it yet.
export function label(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : String(value ?? "");
}

function plural(key, vars) {
  if (typeof vars.count !== "number") return key;
  const form = `${key}.${new Intl.PluralRules(intlTag()).select(vars.count)}`;
  return form in messages || form in fallback ? form : `${key}.other`;
}

// The message of key with {name} placeholders filled (numbers in the agent's format); {count} picks a plural
// form (key.one, key.other, …) when the catalogue has them.
export function t(key, vars = {}) {
  const chosen = key in messages || key in fallback ? key : plural(key, vars);
  const text = messages[chosen] ?? fallback[chosen] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in vars)) return whole;
    const value = vars[name];
    return typeof value === "number" ? formatNumber(value) : String(value ?? "");
  });
}

// Static HTML: data-i18n names the key of the text; data-i18n-attr lists attribute:key pairs split by ";".
export function applyI18n(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attribute, key] = pair.split(":").map((part) => part.trim());
      if (attribute && key) node.setAttribute(attribute, t(key));
    }
  }
}

export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(intlTag(), options).format(value);
}

export function formatPercent(share) {
  if (share === null || share === undefined) return "–";
  return new Intl.NumberFormat(intlTag(), { style: "percent", maximumFractionDigits: 0 }).format(share);
}

export function formatDateTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(intlTag(), { dateStyle: "short", timeStyle: "short" }).format(new Date(iso));
}

export function formatDate(value) {
  if (!value) return "";
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00`) : new Date(value);
  return new Intl.DateTimeFormat(intlTag(), { dateStyle: "medium" }).format(date);
}

// A weekday and time, for "back on Monday 09:00".
export function formatDayTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(intlTag(), { weekday: "short", hour: "2-digit", minute: "2-digit" })
    .format(new Date(iso));
}

// Seconds as the agent reads a wait: "4 min 5 s", "2 h 3 min".
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const parts = s < 60 ? { seconds: s }
    : s < 3600 ? { minutes: Math.floor(s / 60), seconds: s % 60 }
      : { hours: Math.floor(s / 3600), minutes: Math.floor((s % 3600) / 60) };
  if (typeof Intl.DurationFormat === "function") return new Intl.DurationFormat(intlTag(), { style: "narrow" }).format(parts);
  return Object.entries(parts).map(([unit, value]) => new Intl.NumberFormat(intlTag(),
    { style: "unit", unit: unit.slice(0, -1), unitDisplay: "narrow" }).format(value)).join(" ");
}

// Everything a customer, the assistant or an agent wrote is put on the page as text nodes, never as HTML.
// Links are the only markup we create, as <a> elements built by hand, for http(s) URLs only.
const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"»]+$/;

export function safeHttpUrl(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    const u = new URL(value, document.baseURI);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (_) {
    return null;
  }
}

// Appends `text` to `parent` as text nodes, turning http(s) URLs into safe links.
export function appendLinkified(parent, text) {
  const s = String(text == null ? "" : text);
  let last = 0;
  URL_RE.lastIndex = 0;
  let m;
  while ((m = URL_RE.exec(s)) !== null) {
    let raw = m[0];
    const trail = raw.match(TRAILING);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    const href = safeHttpUrl(raw);
    if (!href) continue;
    if (m.index > last) parent.appendChild(document.createTextNode(s.slice(last, m.index)));
    const a = document.createElement("a");
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
    a.textContent = raw;
    parent.appendChild(a);
    last = m.index + raw.length;
    URL_RE.lastIndex = last;
  }
  if (last < s.length) parent.appendChild(document.createTextNode(s.slice(last)));
}

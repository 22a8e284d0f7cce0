// Channel icons as inline SVG (no image files, nothing fetched) and a customer's initials.
const NS = "http://www.w3.org/2000/svg";
const PATHS = {
  webchat: ["M4 5h16v10H9l-5 4z"],
  whatsapp: ["M12 3a9 9 0 0 0-7.8 13.5L3 21l4.6-1.2A9 9 0 1 0 12 3z", "M9 8.5c0 3.5 3 6.5 6.5 6.5l1-1.5-2-1-1 1c-1-.5-2-1.5-2.5-2.5l1-1-1-2z"],
  voice: ["M6.6 10.8a15 15 0 0 0 6.6 6.6l2.2-2.2 3.6 1.5V20a1 1 0 0 1-1 1A17 17 0 0 1 3 5a1 1 0 0 1 1-1h3.3l1.5 3.6z"],
};
const FALLBACK = ["M4 4h16v16H4z"];

// Decorative: the channel's name is always written next to it.
export function channelIcon(channel) {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "14");
  svg.setAttribute("height", "14");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `channel-icon channel-${PATHS[channel] ? channel : "other"}`);
  for (const d of PATHS[channel] || FALLBACK) {
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

// Up to two letters of the customer's name (a handle's first letter; "?" for nobody known).
export function initials(name, handle) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (words.length) return words.slice(0, 2).map((w) => Array.from(w)[0].toUpperCase()).join("");
  const plain = String(handle || "").replace(/^[@+]/, "");
  return plain ? Array.from(plain)[0].toUpperCase() : "?";
}

// A stable pastel per customer, so the same person keeps their color down the list.
export function hue(text) {
  let sum = 0;
  for (const ch of String(text || "")) sum = (sum * 31 + ch.codePointAt(0)) % 360;
  return sum;
}

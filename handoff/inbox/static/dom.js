// DOM helpers that only ever set text: customer and agent text is never parsed as HTML.
import { formatDateTime, formatDuration } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function $(selector) {
  return document.querySelector(selector);
}

// A wait in the agent's language (Intl): kept here because every view imports it from the DOM helpers.
export function duration(seconds) {
  return formatDuration(seconds);
}

export function sinceSeconds(iso) {
  return iso ? (Date.now() - Date.parse(iso)) / 1000 : null;
}

export function clock(iso) {
  return formatDateTime(iso);
}

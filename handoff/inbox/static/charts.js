// Plain SVG charts of ratios (0..1, or null when nothing was measured): trend lines over days and bars per
// channel. Labels are set with textContent only; percentages in the agent's language.
import { formatPercent } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#1f77b4", "#d62728", "#2ca02c"];
const PAD = { left: 40, right: 12, top: 26, bottom: 28 };

function node(name, attributes, text) {
  const element = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function frame(svg) {
  svg.replaceChildren();
  const width = Number(svg.getAttribute("width")), height = Number(svg.getAttribute("height"));
  const y = (value) => height - PAD.bottom - value * (height - PAD.top - PAD.bottom);
  for (const share of [0, 0.5, 1]) {
    svg.append(node("line", { x1: PAD.left, y1: y(share), x2: width - PAD.right, y2: y(share),
      stroke: share ? "#e5e7eb" : "#999" }));
    svg.append(node("text", { x: PAD.left - 6, y: y(share) + 4, "text-anchor": "end", "font-size": 11,
      fill: "#64748b" }, formatPercent(share)));
  }
  return { width, height, y };
}

export function trend(svg, labels, series) {
  const { width, height, y } = frame(svg);
  const span = width - PAD.left - PAD.right;
  const x = (index) => PAD.left + (labels.length > 1 ? index * span / (labels.length - 1) : span / 2);
  series.forEach(({ name, values }, number) => {
    const color = COLORS[number % COLORS.length];
    const points = values.map((value, index) => (value === null ? null : `${x(index)},${y(value)}`)).filter(Boolean);
    if (points.length) {
      svg.append(node("polyline", { points: points.join(" "), fill: "none", stroke: color, "stroke-width": 2,
        "data-series": name }));
    }
    svg.append(node("text", { x: PAD.left + number * 120, y: 14, fill: color, "font-size": 12 }, name));
  });
  if (labels.length) {  // the first and the last day (one label when there is one day)
    svg.append(node("text", { x: x(0), y: height - 8, "font-size": 11, fill: "#64748b" }, labels[0]));
    if (labels.length > 1) {
      svg.append(node("text", { x: x(labels.length - 1), y: height - 8, "font-size": 11, fill: "#64748b",
        "text-anchor": "end" }, labels[labels.length - 1]));
    }
  }
}

export function bars(svg, entries) {
  const { width, height, y } = frame(svg);
  const slot = (width - PAD.left - PAD.right) / Math.max(entries.length, 1);
  const barWidth = Math.min(60, slot * 0.6);
  entries.forEach(([label, value, shown], index) => {  // shown: the label in the agent's words (else label)
    const center = PAD.left + slot * (index + 0.5), share = value === null ? 0 : value;
    svg.append(node("rect", { x: center - barWidth / 2, y: y(share), width: barWidth,
      height: y(0) - y(share), fill: "#1f77b4", "data-channel": label }));
    svg.append(node("text", { x: center, y: y(share) - 4, "text-anchor": "middle", "font-size": 11 },
      formatPercent(value)));
    svg.append(node("text", { x: center, y: height - 8, "text-anchor": "middle", "font-size": 12 }, shown || label));
  });
}

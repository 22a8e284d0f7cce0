// Plain SVG charts: trend lines of ratios over days and bars per channel. Values are 0..1 or null.
const NS = "http://www.w3.org/2000/svg";

function node(name, attributes) {
  const element = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function clear(svg) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
}

export function trend(svg, labels, series) {
  clear(svg);
  const width = Number(svg.getAttribute("width")), height = Number(svg.getAttribute("height")), pad = 24;
  const x = (index) => pad + (labels.length > 1 ? index * (width - 2 * pad) / (labels.length - 1) : 0);
  const y = (value) => height - pad - value * (height - 2 * pad);
  svg.appendChild(node("line", {x1: pad, y1: y(0), x2: width - pad, y2: y(0), stroke: "#999"}));
  const colors = ["#1f77b4", "#d62728", "#2ca02c"];
  series.forEach(({name, values}, number) => {
    const points = values.map((value, index) => value === null ? null : `${x(index)},${y(value)}`).filter(Boolean);
    if (points.length) {
      svg.appendChild(node("polyline", {points: points.join(" "), fill: "none", stroke: colors[number % 3],
                                        "stroke-width": 2, "data-series": name}));
    }
    const legend = node("text", {x: pad + number * 180, y: 14, fill: colors[number % 3], "font-size": 12});
    legend.textContent = name;
    svg.appendChild(legend);
  });
}

export function bars(svg, entries) {
  clear(svg);
  const height = Number(svg.getAttribute("height")), pad = 24, barWidth = 60;
  entries.forEach(([label, value], index) => {
    const share = value === null ? 0 : value, top = pad + (1 - share) * (height - 2 * pad);
    svg.appendChild(node("rect", {x: pad + index * (barWidth + 30), y: top, width: barWidth,
                                  height: height - pad - top, fill: "#1f77b4", "data-channel": label}));
    const text = node("text", {x: pad + index * (barWidth + 30), y: height - 6, "font-size": 12});
    text.textContent = `${label} ${value === null ? "–" : Math.round(value * 100) + "%"}`;
    svg.appendChild(text);
  });
}

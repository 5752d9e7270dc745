/* What the two SVG charts share: a round tick step, the drawing's size, the grid and its axis. */

import { svg } from "./dom.js";

/** A round step (1, 2, 2.5 or 5 times a power of ten) that cuts `span` into about `target`. */
export function niceStep(span, target) {
  const raw = span / Math.max(target, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * power) return m * power;
  return 10 * power;
}

/** Size the chart to `width` x `height` user units, scaled down (never up) to fit its box. */
export function sizeChart(chart, width, height) {
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  chart.setAttribute("width", width);
  chart.setAttribute("height", height);
  chart.setAttribute("preserveAspectRatio", "xMinYMin meet");
}

/** Vertical grid lines from `lo` to `hi` every `step`, the zero line marked, tick labels and the
 * axis title below the plot; `tickMarks` adds a short mark under each line. */
export function drawGrid({ lo, hi, step, x, x0, x1, plotTop, plotBottom, digits, title, labelGap, titleGap, tickMarks = false }) {
  const grid = svg("g", { class: "wf-grid" });
  for (let t = lo; t <= hi + step / 2; t += step) {
    const tick = Math.abs(t) < step / 1e6 ? 0 : t;
    const tx = x(tick);
    grid.append(svg("line", { x1: tx, x2: tx, y1: plotTop, y2: plotBottom, class: tick === 0 ? "wf-zero" : "wf-gridline" }));
    if (tickMarks) grid.append(svg("line", { x1: tx, x2: tx, y1: plotBottom, y2: plotBottom + 5, class: "wf-axis" }));
    grid.append(svg("text", { x: tx, y: plotBottom + labelGap, class: "wf-tick", "text-anchor": "middle" }, tick.toFixed(digits)));
  }
  grid.append(svg("line", { x1: x0, x2: x1, y1: plotBottom, y2: plotBottom, class: "wf-axis" }));
  grid.append(svg("text", { x: (x0 + x1) / 2, y: plotBottom + titleGap, class: "wf-axis-title", "text-anchor": "middle" }, title));
  return grid;
}

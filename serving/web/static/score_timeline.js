/* A lead's scores over time (SVG): each score a point with its interval as a bar and its grade
 * above it, oldest left, joined by a line. Scores are probabilities (0 to 100%). */

import { sizeChart } from "./chart_axes.js";
import { clear, svg } from "./dom.js";
import { intervalText, isNumber, pct } from "./format.js";

export function renderTimeline(chart, scoresNewestFirst) {
  clear(chart);
  const points = scoresNewestFirst.filter((s) => s.kind === "score" && isNumber(s.score)).slice().reverse();
  const width = 820;
  const height = 220;
  const left = 48;
  const right = width - 20;
  const top = 24;
  const bottom = height - 40;
  sizeChart(chart, width, height);
  chart.append(svg("title", { id: "timeline-svg-title" }, "The lead's scores over time"));
  const summary = points.length
    ? `${points.length} score${points.length === 1 ? "" : "s"}, from ${pct(points[0].score)} (grade ${points[0].grade}) to ${pct(points[points.length - 1].score)} (grade ${points[points.length - 1].grade}).`
    : "No scores: the lead was not scored (suppressed).";
  chart.append(svg("desc", { id: "timeline-svg-desc" }, summary));
  const y = (p) => bottom - p * (bottom - top);
  const grid = svg("g", { class: "wf-grid" });
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    grid.append(svg("line", { x1: left, x2: right, y1: y(t), y2: y(t), class: "wf-gridline" }));
    grid.append(svg("text", { x: left - 6, y: y(t) + 4, class: "wf-tick", "text-anchor": "end" }, pct(t, 0)));
  }
  chart.append(grid);
  if (!points.length) return;
  const step = points.length > 1 ? (right - left - 40) / (points.length - 1) : 0;
  const x = (i) => (points.length > 1 ? left + 20 + i * step : (left + right) / 2);
  const line = points.map((s, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(s.score).toFixed(1)}`).join(" ");
  chart.append(svg("path", { d: line, class: "tl-line" }));
  const marks = svg("g", { class: "tl-marks" });
  points.forEach((s, i) => {
    const [lo, hi] = Array.isArray(s.interval) ? s.interval : [s.score, s.score];
    marks.append(svg("line", { x1: x(i), x2: x(i), y1: y(lo), y2: y(hi), class: "tl-interval" }));
    const dot = svg("circle", { cx: x(i), cy: y(s.score), r: 5, class: "tl-point", "data-score-id": s.score_id });
    dot.append(svg("title", {}, `${s.created_at}: ${pct(s.score)} (grade ${s.grade}), interval ${intervalText(s.interval)}, model version ${s.model.version}`));
    marks.append(dot);
    marks.append(svg("text", { x: x(i), y: y(hi) - 8, class: "tl-grade", "text-anchor": "middle" }, s.grade));
    marks.append(svg("text", { x: x(i), y: bottom + 18, class: "tl-date", "text-anchor": "middle" }, String(s.created_at).slice(0, 10)));
    marks.append(svg("text", { x: x(i), y: bottom + 32, class: "tl-date", "text-anchor": "middle" }, `v${s.model.version}`));
  });
  chart.append(marks);
}

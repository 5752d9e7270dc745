/* The change between two scores of a lead (SVG waterfall): from the earlier score's margin,
 * the model's part (when the versions differ) and each input's part, largest first, to the
 * later score's margin. The parts add up to the change (log-odds); the API states the rule. */

import { drawGrid, niceStep, sizeChart } from "./chart_axes.js";
import { clear, svg } from "./dom.js";
import { direction, pct, signed } from "./format.js";

const SHOWN = 12; // parts drawn one by one; the rest are grouped

export function renderChangeWaterfall(chart, change) {
  clear(chart);
  const parts = change.parts.map((p) => ({ label: p.label, full: p.text, delta: p.change }));
  if (change.model_part) {
    const m = change.model_part;
    parts.unshift({ label: `Model v${m.from_version} → v${m.to_version}`, full: m.text, delta: m.change, model: true });
  }
  const shown = parts.slice(0, SHOWN);
  const rest = parts.slice(SHOWN);
  if (rest.length) {
    shown.push({ label: `Other ${rest.length} inputs`, full: rest.map((p) => p.full).join("; "), delta: rest.reduce((s, p) => s + p.delta, 0), grouped: true });
  }
  const start = change.from.margin;
  let running = start;
  for (const s of shown) {
    s.from = running;
    running += s.delta;
    s.to = running;
  }
  const end = change.to.margin;
  const width = 820;
  const labelW = 250;
  const valueW = 150;
  const rowH = 26;
  const barH = 16;
  const plotTop = 10;
  const rows = shown.length + 2;
  const plotBottom = plotTop + rows * rowH;
  const height = plotBottom + 46;
  const x0 = labelW + 12;
  const x1 = width - valueW - 8;
  const values = [start, end, ...shown.flatMap((s) => [s.from, s.to])];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.04;
  const step = niceStep(hi - lo + 2 * pad, 6);
  lo = Math.floor((lo - pad) / step) * step;
  hi = Math.ceil((hi + pad) / step) * step;
  const x = (v) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);
  sizeChart(chart, width, height);
  chart.append(svg("title", { id: "change-svg-title" }, "What moved the score between the two scores (log-odds)"));
  chart.append(svg("desc", { id: "change-svg-desc" }, change.summary));
  const digits = step < 0.1 ? 2 : step < 1 ? 1 : 0;
  chart.append(drawGrid({ lo, hi, step, x, x0, x1, plotTop, plotBottom, digits, title: "log-odds", labelGap: 18, titleGap: 38, tickMarks: true }));

  const bars = svg("g", { class: "wf-bars" });
  const rowY = (i) => plotTop + i * rowH;
  const label = (i, text, full, cls = "wf-label") => {
    const node = svg("text", { x: labelW, y: rowY(i) + rowH / 2 + 4, "text-anchor": "end", class: cls }, text.length > 38 ? `${text.slice(0, 37)}…` : text);
    if (full) node.append(svg("title", {}, full));
    bars.append(node);
  };
  const value = (i, text, cls) => bars.append(svg("text", { x: x1 + 10, y: rowY(i) + rowH / 2 + 4, class: cls }, text));
  const total = (i, v, cls) => {
    const a = Math.min(x(lo < 0 && hi > 0 ? 0 : lo), x(v));
    const w = Math.max(Math.abs(x(v) - x(lo < 0 && hi > 0 ? 0 : lo)), 2);
    bars.append(svg("rect", { x: a, y: rowY(i) + (rowH - barH) / 2, width: w, height: barH, rx: 2, class: cls }));
  };
  label(0, `Earlier score (v${change.from.model_version})`, `margin ${signed(start)}, score ${pct(change.from.score)}, grade ${change.from.grade}`, "wf-label wf-label-strong");
  total(0, start, "wf-total wf-base");
  value(0, `${signed(start)} → ${pct(change.from.score)}`, "wf-value wf-value-strong");
  shown.forEach((s, k) => {
    const i = k + 1;
    const dir = direction(s.delta);
    const rect = svg("rect", {
      x: Math.min(x(s.from), x(s.to)),
      y: rowY(i) + (rowH - barH) / 2,
      width: Math.max(Math.abs(x(s.to) - x(s.from)), 1.5),
      height: barH,
      rx: 2,
      class: `wf-bar wf-${dir}${s.model ? " wf-model" : ""}${s.grouped ? " wf-grouped" : ""}`,
    });
    rect.append(svg("title", {}, `${s.full} (running total ${signed(s.to)})`));
    bars.append(rect);
    label(i, s.label, s.full, s.grouped ? "wf-label wf-label-grouped" : "wf-label");
    value(i, signed(s.delta), `wf-value wf-value-${dir}`);
  });
  const last = shown.length + 1;
  label(last, `Later score (v${change.to.model_version})`, `margin ${signed(end)}, score ${pct(change.to.score)}, grade ${change.to.grade}`, "wf-label wf-label-strong");
  total(last, end, "wf-total wf-end");
  value(last, `${signed(end)} → ${pct(change.to.score)}`, "wf-value wf-value-strong");
  chart.append(bars);
}

/* A lead score's waterfall (SVG): from the base value, each input's SHAP contribution in
 * log-odds, largest first, to the margin and the calibrated score it stands for. */

import { drawGrid, niceStep, sizeChart } from "./chart_axes.js";
import { $, clear, svg } from "./dom.js";
import { arrow, direction, humanise, isNumber, pct, signed, valueText } from "./format.js";

const WATERFALL_TOP = 12; // contributions drawn one by one; the rest are grouped

/** A record's contributions, largest effect first (the order of the waterfall and the reasons). */
export function sortedContributions(record) {
  return (record.contributions || [])
    .filter((c) => isNumber(c.contribution))
    .slice()
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
}

function truncate(text, max) {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function stepLabel(c, withheld) {
  const name = humanise(c.feature);
  if (withheld.has(c.feature)) return `${name} = withheld`;
  if (c.value === null || c.value === undefined) return `${name} = missing`;
  return `${name} = ${valueText(c.value)}`;
}

export function renderWaterfall(record) {
  const chart = $("waterfall");
  clear(chart);
  const contributions = sortedContributions(record);
  const withheld = new Set(record.withheld || []);
  const base = isNumber(record.base_value) ? record.base_value : 0;
  const top = contributions.slice(0, WATERFALL_TOP);
  const rest = contributions.slice(WATERFALL_TOP);

  const steps = top.map((c) => ({ label: stepLabel(c, withheld), full: c.text || stepLabel(c, withheld), delta: c.contribution }));
  if (rest.length) {
    const delta = rest.reduce((sum, c) => sum + c.contribution, 0);
    const label = `Other ${rest.length} input${rest.length === 1 ? "" : "s"}`;
    steps.push({ label, full: `${label}: ${rest.map((c) => humanise(c.feature)).join(", ")}`, delta, grouped: true });
  }
  let running = base;
  for (const step of steps) {
    step.from = running;
    running += step.delta;
    step.to = running;
  }
  // the stored margin is the truth; the sum matches it up to rounding when every input is listed
  const margin = isNumber(record.margin) ? record.margin : running;

  const width = 820;
  const labelW = 250;
  const valueW = 150;
  const rowH = 26;
  const barH = 16;
  const padTop = 20; // room for the "0 = 50%" mark above the plot
  const rows = steps.length + 2;
  const plotTop = padTop;
  const plotBottom = padTop + rows * rowH;
  const height = plotBottom + 46;
  const x0 = labelW + 12;
  const x1 = width - valueW - 8;

  const values = [0, base, margin, ...steps.flatMap((s) => [s.from, s.to])];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.04;
  lo -= pad;
  hi += pad;
  const step = niceStep(hi - lo, 6);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const x = (v) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);

  sizeChart(chart, width, height);
  const summary = `Starts at the base value ${signed(base)} log-odds; ${steps.length} steps; ends at the margin ${signed(margin)} log-odds, a score of ${pct(record.score)}.`;
  chart.append(svg("title", { id: "waterfall-svg-title" }, "Waterfall of the inputs' contributions (log-odds)"));
  chart.append(svg("desc", { id: "waterfall-svg-desc" }, summary));

  const digits = step < 0.1 ? 2 : step < 1 ? 1 : 0;
  const grid = drawGrid({ lo, hi, step, x, x0, x1, plotTop, plotBottom, digits, title: "log-odds", labelGap: 18, titleGap: 38, tickMarks: true });
  if (lo < 0 && hi > 0) {
    grid.append(svg("text", { x: x(0), y: plotTop - 6, class: "wf-zero-label", "text-anchor": "middle" }, "0 = 50%"));
  }
  chart.append(grid);

  const bars = svg("g", { class: "wf-bars" });
  const rowY = (i) => plotTop + i * rowH;
  const addLabel = (i, text, full, cls = "wf-label") => {
    const label = svg("text", { x: labelW, y: rowY(i) + rowH / 2 + 4, "text-anchor": "end", class: cls }, truncate(text, 38));
    if (full && full !== text) label.append(svg("title", {}, full));
    bars.append(label);
  };
  const addValue = (i, text, cls) => {
    bars.append(svg("text", { x: x1 + 10, y: rowY(i) + rowH / 2 + 4, class: cls }, text));
  };
  const addTotal = (i, value, cls) => {
    const a = Math.min(x(0), x(value));
    const w = Math.max(Math.abs(x(value) - x(0)), 2);
    bars.append(svg("rect", { x: a, y: rowY(i) + (rowH - barH) / 2, width: w, height: barH, rx: 2, class: cls }));
    bars.append(svg("line", { x1: x(value), x2: x(value), y1: rowY(i) + 2, y2: rowY(i) + rowH - 2, class: "wf-marker" }));
  };

  // start: the base value (what the model expects of an average training lead)
  addLabel(0, "Base value (average lead)", "Expected model output over the training data", "wf-label wf-label-strong");
  addTotal(0, base, "wf-total wf-base");
  addValue(0, signed(base), "wf-value wf-value-strong");

  steps.forEach((s, k) => {
    const i = k + 1;
    const dir = direction(s.delta);
    const a = Math.min(x(s.from), x(s.to));
    const w = Math.max(Math.abs(x(s.to) - x(s.from)), 1.5);
    addLabel(i, s.label, s.full, s.grouped ? "wf-label wf-label-grouped" : "wf-label");
    const rect = svg("rect", { x: a, y: rowY(i) + (rowH - barH) / 2, width: w, height: barH, rx: 2, class: `wf-bar wf-${dir}${s.grouped ? " wf-grouped" : ""}` });
    rect.append(svg("title", {}, `${s.full}: ${signed(s.delta)} log-odds (running total ${signed(s.to)})`));
    bars.append(rect);
    // connector from the previous running total
    bars.append(svg("line", { x1: x(s.from), x2: x(s.from), y1: rowY(i) - (rowH - barH) / 2, y2: rowY(i) + (rowH - barH) / 2, class: "wf-connector" }));
    const glyph = arrow(s.delta);
    addValue(i, `${glyph ? `${glyph} ` : ""}${signed(s.delta)}`, `wf-value wf-value-${dir}`);
  });

  // end: the margin, and the calibrated probability it stands for
  const end = steps.length + 1;
  bars.append(svg("line", { x1: x(running), x2: x(running), y1: rowY(end) - (rowH - barH) / 2, y2: rowY(end) + (rowH - barH) / 2, class: "wf-connector" }));
  addLabel(end, "Model output (margin)", "This lead's raw model output in log-odds", "wf-label wf-label-strong");
  addTotal(end, margin, "wf-total wf-end");
  addValue(end, `${signed(margin)} → ${pct(record.score)}`, "wf-value wf-value-strong");
  chart.append(bars);

  $("waterfall-caption").textContent =
    `From the base value (the average training lead, ${signed(base)}) each bar adds one input's SHAP ` +
    `contribution, largest first: ▲ green raises the score, ▼ red lowers it. ` +
    (rest.length ? `The ${rest.length} smallest are grouped as "Other ${rest.length} input${rest.length === 1 ? "" : "s"}". ` : "") +
    `The margin ${signed(margin)} log-odds is calibrated (${(record.confidence && record.confidence.method) || "calibration"}) ` +
    `to the score ${pct(record.score)}.`;
}

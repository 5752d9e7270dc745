/* A forecast's drivers chart (SVG): one row per week, the drivers stacked from zero (positive
 * rightwards, negative leftwards) and a diamond at the point forecast, which is their sum. */

import { drawGrid, niceStep, sizeChart } from "./chart_axes.js";
import { $, clear, svg } from "./dom.js";
import { isNumber, seriesText, signedUnits, units } from "./format.js";

/** The drivers of a forecast week, in the order they stack, with their names. */
export const DRIVERS = [
  ["recent_level", "Recent level"],
  ["seasonality", "Seasonality"],
  ["activity", "Activity"],
];

export function renderDriversChart(weeks, series) {
  const chart = $("f-drivers");
  clear(chart);
  const rows = weeks.map((w) => ({ week: w.week_start, point: w.point, drivers: w.drivers || {} }));
  chart.toggleAttribute("hidden", rows.length === 0); // an SVG element has no .hidden property
  if (!rows.length) return;

  const width = 760;
  const labelW = 110;
  const valueW = 90;
  const rowH = 24;
  const barH = 14;
  const padTop = 8;
  const plotTop = padTop;
  const plotBottom = padTop + rows.length * rowH;
  const height = plotBottom + 44;
  const x0 = labelW + 10;
  const x1 = width - valueW - 8;

  const values = [0];
  for (const r of rows) {
    let pos = 0;
    let neg = 0;
    for (const [name] of DRIVERS) {
      const v = r.drivers[name];
      if (!isNumber(v)) continue;
      if (v >= 0) pos += v;
      else neg += v;
    }
    values.push(pos, neg);
    if (isNumber(r.point)) values.push(r.point);
  }
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-9) hi = lo + 1;
  const step = niceStep(hi - lo, 6);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const x = (v) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);

  sizeChart(chart, width, height);
  chart.append(svg("title", { id: "drivers-svg-title" }, `Drivers of the forecast per week, in units: ${seriesText(series)}`));
  chart.append(
    svg(
      "desc",
      { id: "drivers-svg-desc" },
      `${rows.length} weeks. Each bar stacks the recent level, seasonality and activity contributions; ` +
        "they add up to the point forecast, marked with a diamond. The table above holds the same numbers.",
    ),
  );
  const digits = step < 1 ? 1 : 0;
  chart.append(drawGrid({ lo, hi, step, x, x0, x1, plotTop, plotBottom, digits, title: "units sold", labelGap: 16, titleGap: 36 }));

  const bars = svg("g", { class: "dr-bars" });
  rows.forEach((r, i) => {
    const y = plotTop + i * rowH;
    bars.append(svg("text", { x: labelW, y: y + rowH / 2 + 4, "text-anchor": "end", class: "wf-label" }, r.week));
    let pos = 0;
    let neg = 0;
    for (const [name, label] of DRIVERS) {
      const v = r.drivers[name];
      if (!isNumber(v) || v === 0) continue;
      const from = v >= 0 ? pos : neg + v;
      const to = v >= 0 ? pos + v : neg;
      if (v >= 0) pos += v;
      else neg += v;
      const rect = svg("rect", {
        x: x(from),
        y: y + (rowH - barH) / 2,
        width: Math.max(x(to) - x(from), 1),
        height: barH,
        class: `dr-seg dr-${name}`,
      });
      rect.append(svg("title", {}, `Week of ${r.week}: ${label} ${signedUnits(v)} units`));
      bars.append(rect);
    }
    if (isNumber(r.point)) {
      const px = x(r.point);
      const cy = y + rowH / 2;
      const diamond = svg("path", { d: `M ${px} ${cy - 6} L ${px + 5} ${cy} L ${px} ${cy + 6} L ${px - 5} ${cy} Z`, class: "dr-point" });
      diamond.append(svg("title", {}, `Week of ${r.week}: point forecast ${units(r.point)} units`));
      bars.append(diamond);
    }
    bars.append(svg("text", { x: x1 + 10, y: y + rowH / 2 + 4, class: "wf-value wf-value-strong" }, units(r.point)));
  });
  chart.append(bars);
}

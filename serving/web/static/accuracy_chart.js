/* How the audited forecasts have done against recorded actuals (GET /v1/forecasts/accuracy):
 * MASE by weeks ahead beside seasonal naive, the value reviewers' overrides added, and an SVG
 * line of MASE per forecast week over time (the forecasts' and seasonal naive's). */

import { api, errorText, handleAuthLoss } from "./api.js";
import { niceStep, sizeChart } from "./chart_axes.js";
import { $, clear, el, show, svg } from "./dom.js";
import { isNumber } from "./format.js";

const fixed = (v, digits = 2) => (isNumber(v) ? v.toFixed(digits) : "—");
const share = (v) => (isNumber(v) ? `${Math.round(v * 100)}%` : "—");

export async function loadAccuracy() {
  const status = $("acc-status");
  try {
    const report = await api("/v1/forecasts/accuracy");
    renderAccuracy(report);
  } catch (err) {
    if (handleAuthLoss(err)) return;
    status.textContent = `Accuracy could not be read: ${errorText(err)}`;
    show($("acc-body"), false);
  }
}

export function renderAccuracy(report) {
  const measured = report.overall && report.overall.weeks > 0;
  const status = $("acc-status");
  status.textContent = measured
    ? `${report.overall.weeks} forecast week${report.overall.weeks === 1 ? "" : "s"} of ${report.forecasts} forecast${report.forecasts === 1 ? "" : "s"} have an actual.`
    : "No forecast week has an actual yet: record actuals (POST /v1/sales/actuals or candor sales actuals).";
  show($("acc-body"), Boolean(measured));
  if (!measured) return;
  const body = $("acc-table").querySelector("tbody");
  clear(body);
  for (const row of [...report.by_weeks_ahead, report.overall]) {
    const label = row.weeks_ahead === null ? "All" : `${row.weeks_ahead} week${row.weeks_ahead === 1 ? "" : "s"} ahead`;
    body.append(
      el("tr", { dataset: { weeksAhead: String(row.weeks_ahead ?? "all") } }, [
        el("th", { scope: "row", text: label }),
        el("td", { className: "num", text: String(row.weeks) }),
        el("td", { className: "num point", text: fixed(row.mase) }),
        el("td", { className: "num", text: fixed(row.naive_mase) }),
        el("td", { className: "num", text: fixed(row.relative_mase) }),
        el("td", { className: "num", text: fixed(row.bias, 1) }),
        el("td", { className: "num", text: share(row.coverage_80) }),
        el("td", { className: "num", text: share(row.coverage_95) }),
      ]),
    );
  }
  const added = report.value_added || {};
  const note = $("acc-value-added");
  if (!added.overrides) {
    note.textContent = "No overridden forecast with replacement units has an actual yet.";
  } else {
    const better = added.value_added > 0;
    note.textContent =
      `Review step: ${added.overrides} override${added.overrides === 1 ? "" : "s"} with replacement units, ` +
      `${added.weeks} week${added.weeks === 1 ? "" : "s"} measured. MASE as served ${fixed(added.served_mase)}, ` +
      `as overridden ${fixed(added.override_mase)}: the overrides made the forecasts ${better ? "better" : "worse"} ` +
      `(value added ${fixed(added.value_added)}).`;
  }
  drawOverTime(report.over_time || []);
}

function drawOverTime(weeks) {
  const chart = $("acc-chart");
  clear(chart);
  const width = 640;
  const height = 200;
  const [left, right, top, bottom] = [44, 16, 12, 34];
  sizeChart(chart, width, height);
  const values = weeks.flatMap((w) => [w.mase, w.naive_mase]).filter(isNumber);
  const hi = Math.max(1, ...values);
  const step = niceStep(hi, 4);
  const yMax = Math.ceil(hi / step) * step;
  const x = (i) => left + (weeks.length <= 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (weeks.length - 1));
  const y = (v) => top + (1 - v / yMax) * (height - top - bottom);
  chart.append(svg("title", { id: "acc-svg-title" }, "MASE per forecast week: the forecasts and seasonal naive"));
  for (let t = 0; t <= yMax + step / 2; t += step) {
    chart.append(svg("line", { x1: left, x2: width - right, y1: y(t), y2: y(t), class: "wf-gridline" }));
    chart.append(svg("text", { x: left - 6, y: y(t) + 4, class: "wf-tick", "text-anchor": "end" }, t.toFixed(1)));
  }
  for (const [name, cls] of [["naive_mase", "acc-naive"], ["mase", "acc-served"]]) {
    const points = weeks.map((w, i) => (isNumber(w[name]) ? `${x(i)},${y(w[name])}` : null)).filter(Boolean);
    if (points.length) chart.append(svg("polyline", { points: points.join(" "), class: `acc-line ${cls}`, fill: "none" }));
    weeks.forEach((w, i) => {
      if (isNumber(w[name])) chart.append(svg("circle", { cx: x(i), cy: y(w[name]), r: 3, class: `acc-dot ${cls}`, "data-week": w.week }));
    });
  }
  const first = weeks[0];
  const last = weeks[weeks.length - 1];
  if (first) chart.append(svg("text", { x: left, y: height - 8, class: "wf-tick" }, first.week));
  if (last && last !== first) chart.append(svg("text", { x: width - right, y: height - 8, class: "wf-tick", "text-anchor": "end" }, last.week));
}

/* One sales forecast in detail (GET /v1/forecasts/{id}): its weeks and drivers, why it needs
 * review, how the model did on the latest weeks, the planned activity and the audit record. */

import { seriesNode } from "./badges.js";
import { timeEl } from "./dates.js";
import { standingDecision } from "./decision_history.js";
import { $, clear, el, show } from "./dom.js";
import { direction, humanise, isNumber, signedUnits, unitRange, units, valueText } from "./format.js";
import { DRIVERS, renderDriversChart } from "./drivers_chart.js";
import { renderReviewReasons } from "./review_codes.js";
import { loadAccuracy } from "./accuracy_chart.js";

export function renderForecastDetail(record) {
  const weeks = Array.isArray(record.forecast) ? record.forecast : [];

  $("f-series").replaceChildren(seriesNode(record.series));
  const standing = standingDecision(record.decisions || []);
  const standingNode = $("f-standing");
  clear(standingNode);
  if (standing && standing.decision === "override") {
    standingNode.append(el("span", { className: "tag tag-overridden", text: "✗ overridden: not to be used as it is" }));
  } else if (standing) {
    standingNode.append(el("span", { className: "tag tag-ok", text: "✓ confirmed" }));
  }

  const total = weeks.reduce((sum, w) => sum + (isNumber(w.point) ? w.point : 0), 0);
  const horizon = isNumber(record.horizon) ? record.horizon : weeks.length;
  const summary = $("f-summary");
  clear(summary);
  summary.append(
    `${horizon} week${horizon === 1 ? "" : "s"} ahead`,
    weeks.length ? ` from the week of ${weeks[0].week_start}` : "",
    " · ",
    el("strong", { text: `${units(total)} units` }),
    " in all (point forecasts added up)",
  );

  $("f-created").replaceChildren(timeEl(record.created_at));
  $("f-last-week").replaceChildren(timeEl(record.last_observed_week));
  const model = record.model || {};
  $("f-model").textContent = `${model.name || "?"} v${model.version || "?"}`;
  $("f-model").title = `run ${model.run_id || "?"}; contract ${model.contract || "?"}`;
  $("f-requested").textContent = record.requested_by || "—";

  // the policy's own notes carry the numbers (which week, how wide); the help says what the rule means
  renderReviewReasons($("f-review-reasons"), $("f-review-notes"), record.review, { policyNotesFirst: true });
  renderForecastWeeks(weeks);
  renderDriversChart(weeks, record.series);
  renderRecentWeeks(record.recent_weeks);
  renderCovariates(weeks, record.planned_covariates || {}, record.assumed_covariates || []);
  loadAccuracy();
  $("f-id").textContent = record.forecast_id;
  $("f-hash").textContent = record.record_hash || "—";
}

function driverCell(value) {
  return el("td", { className: `num effect effect-${direction(value)}`, text: signedUnits(value) });
}

function renderForecastWeeks(weeks) {
  const body = $("f-weeks").querySelector("tbody");
  clear(body);
  weeks.forEach((w, i) => {
    const drivers = w.drivers || {};
    body.append(
      el("tr", { dataset: { week: w.week_start } }, [
        el("th", { scope: "row" }, [timeEl(w.week_start), el("span", { className: "week-step", text: `week ${i + 1}` })]),
        el("td", { className: "num point", text: units(w.point) }),
        el("td", { className: "num", text: unitRange(w.lo80, w.hi80) }),
        el("td", { className: "num muted-num", text: unitRange(w.lo95, w.hi95) }),
        ...DRIVERS.map(([name]) => driverCell(drivers[name])),
      ]),
    );
  });
  if (!weeks.length) body.append(el("tr", {}, el("td", { colspan: 7, className: "muted", text: "No forecast weeks recorded." })));
}

function renderRecentWeeks(recent) {
  const body = $("f-recent").querySelector("tbody");
  clear(body);
  const weeks = recent && Array.isArray(recent.weeks) ? recent.weeks : [];
  show($("f-recent-empty"), weeks.length === 0);
  show($("f-recent-wrap"), weeks.length > 0);
  weeks.forEach((week, i) => {
    const pick = (name) => (Array.isArray(recent[name]) ? recent[name][i] : null);
    const actual = pick("actual");
    const point = pick("point");
    const [lo80, hi80, lo95, hi95] = ["lo80", "hi80", "lo95", "hi95"].map(pick);
    let verdict = "inside";
    if (isNumber(actual) && isNumber(lo95) && isNumber(hi95)) {
      if (actual > hi95) verdict = "above";
      else if (actual < lo95) verdict = "below";
    }
    const outside80 = isNumber(actual) && isNumber(lo80) && isNumber(hi80) && (actual < lo80 || actual > hi80);
    const verdictText = {
      above: "▲ above",
      below: "▼ below",
      inside: outside80 ? "inside (outside 80%)" : "✓ inside",
    }[verdict];
    const miss = isNumber(actual) && isNumber(point) ? actual - point : null;
    body.append(
      el(
        "tr",
        {
          className: verdict === "inside" ? "recent-inside" : "recent-outside",
          dataset: { week: String(week), outside95: String(verdict !== "inside") },
        },
        [
          el("th", { scope: "row" }, timeEl(week)),
          el("td", { className: "num point", text: units(actual) }),
          el("td", { className: "num", text: units(point) }),
          el("td", { className: "num", text: signedUnits(miss) }),
          el("td", { className: "num", text: unitRange(lo80, hi80) }),
          el("td", { className: "num muted-num", text: unitRange(lo95, hi95) }),
          el("td", {
            className: `verdict verdict-${verdict}`,
            title: verdict === "inside" ? "The actual fell inside its 95% interval" : `The actual fell ${verdict} its 95% interval`,
            text: verdictText,
          }),
        ],
      ),
    );
  });
}

function renderCovariates(weeks, planned, assumed) {
  const table = $("f-planned");
  const head = table.querySelector("thead tr");
  const body = table.querySelector("tbody");
  clear(head);
  clear(body);
  const names = Object.keys(planned);
  show($("f-planned-wrap"), names.length > 0);
  show($("f-planned-none"), names.length === 0);
  if (names.length) {
    head.append(el("th", { scope: "col", text: "Covariate" }));
    const columns = Math.max(weeks.length, ...names.map((n) => (Array.isArray(planned[n]) ? planned[n].length : 0)));
    for (let i = 0; i < columns; i += 1) {
      const label = weeks[i] ? weeks[i].week_start : `week ${i + 1}`;
      head.append(el("th", { scope: "col", className: "num", text: label }));
    }
    for (const name of names) {
      const values = Array.isArray(planned[name]) ? planned[name] : [];
      const cells = [];
      for (let i = 0; i < columns; i += 1) cells.push(el("td", { className: "num", text: valueText(values[i] ?? "—") }));
      body.append(
        el("tr", { dataset: { covariate: name } }, [
          el("th", { scope: "row" }, [el("span", { text: humanise(name) }), el("span", { className: "feature-name mono", text: name })]),
          ...cells,
        ]),
      );
    }
  }
  const note = $("f-assumed");
  clear(note);
  if (assumed.length) {
    note.append(el("strong", { text: "Assumed, not planned: " }));
    assumed.forEach((name, i) => {
      if (i) note.append(", ");
      note.append(el("span", { title: name, text: humanise(name) }));
    });
    note.append(el("span", { className: "muted", text: " — not given with the request, so taken to stay at their recent mean." }));
  } else {
    note.append(el("span", { className: "muted", text: "Every covariate the model uses for future weeks was planned with the request." }));
  }
}

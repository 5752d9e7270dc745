/* One lead score in detail (GET /v1/scores/{id}): the score and its confidence, why it needs
 * review, the waterfall and reasons, the inputs, the outcomes and the audit record. */

import { gradeBadge } from "./badges.js";
import { timeEl } from "./dates.js";
import { standingDecision } from "./decision_history.js";
import { $, clear, el, show } from "./dom.js";
import { arrow, direction, humanise, intervalText, isNumber, pct, signed, valueText } from "./format.js";
import { renderReviewReasons } from "./review_codes.js";
import { renderWaterfall, sortedContributions } from "./waterfall.js";

export function renderScoreDetail(record) {
  const scored = record.kind !== "suppression" && isNumber(record.score);

  $("d-score").textContent = pct(record.score);
  const grade = $("d-grade");
  grade.className = `grade grade-large grade-${record.grade || "none"}`;
  grade.textContent = record.grade || "–";
  grade.title = record.grade ? `Model grade ${record.grade}` : "No grade";

  const standing = standingDecision(record.decisions || []);
  const standingNode = $("d-standing");
  clear(standingNode);
  if (standing && standing.decision === "override") {
    standingNode.append("→ reviewer grade ", gradeBadge(standing.grade, "grade-large"));
  } else if (standing) {
    standingNode.append(el("span", { className: "tag tag-ok", text: "✓ confirmed" }));
  }

  const conf = record.confidence;
  const confNode = $("d-confidence");
  clear(confNode);
  if (conf) {
    confNode.append(
      el("span", { className: `level level-${conf.level}`, text: `${humanise(conf.level)} confidence` }),
      " · interval ",
      el("strong", { text: intervalText(conf.interval) }),
      ` (${conf.method || "method not recorded"}${conf.coverage ? `; ${conf.coverage}` : ""})`,
    );
  }

  $("d-created").replaceChildren(timeEl(record.created_at));
  $("d-lead").textContent = record.lead_key || "—";
  $("d-lead").title = "Pseudonymised lead id (keyed hash); never the CRM id";
  const model = record.model || {};
  $("d-model").textContent = `${model.name || "?"} v${model.version || "?"}`;
  $("d-model").title = `run ${model.run_id || "?"}; contract ${model.contract || "?"}`;
  $("d-requested").textContent = record.requested_by || "—";

  const suppressed = $("d-suppressed");
  suppressed.textContent = record.suppressed
    ? `This lead was not scored (${record.suppressed}): there is nothing to explain.`
    : "";
  show(suppressed, Boolean(record.suppressed));

  renderReviewReasons($("d-review-reasons"), $("d-review-notes"), record.review);
  show($("d-explain-block"), scored);
  if (scored) {
    renderWaterfall(record);
    renderReasons(record);
  }
  renderFeatures(record);
  renderOutcomes(record.outcomes || []);
  $("d-score-id").textContent = record.score_id;
  $("d-hash").textContent = record.record_hash || "—";
}

function renderReasons(record) {
  const list = $("d-reasons");
  clear(list);
  for (const c of sortedContributions(record)) {
    list.append(
      el("li", { className: `reason reason-${direction(c.contribution)}`, dataset: { feature: c.feature } }, [
        el("span", { className: "reason-arrow", "aria-hidden": "true", text: arrow(c.contribution) || "•" }),
        el("span", { className: "reason-text", text: c.text || humanise(c.feature) }),
        el("span", { className: "reason-value mono", text: signed(c.contribution) }),
      ]),
    );
  }
  if (!list.firstChild) list.append(el("li", { className: "muted", text: "No contributions were recorded." }));
}

function renderFeatures(record) {
  const body = $("d-features").querySelector("tbody");
  clear(body);
  const features = record.features || {};
  const withheld = new Set(record.withheld || []);
  const effect = new Map((record.contributions || []).map((c) => [c.feature, c.contribution]));
  const order = sortedContributions(record).map((c) => c.feature);
  const names = [...new Set([...order.filter((n) => n in features), ...Object.keys(features), ...withheld])];
  for (const name of names) {
    const isWithheld = withheld.has(name);
    const value = features[name];
    const valueCell = el("td", {
      className: isWithheld ? "withheld" : value === null || value === undefined ? "missing" : "",
      text: isWithheld ? "withheld (no consent)" : valueText(value),
    });
    const c = effect.get(name);
    body.append(
      el("tr", { dataset: { feature: name } }, [
        el("th", { scope: "row" }, [el("span", { text: humanise(name) }), el("span", { className: "feature-name mono", text: name })]),
        valueCell,
        el("td", { className: `num effect effect-${direction(c)}`, text: isNumber(c) ? `${arrow(c)} ${signed(c)}`.trim() : "—" }),
      ]),
    );
  }
  if (!names.length) body.append(el("tr", {}, el("td", { colspan: 3, className: "muted", text: "No inputs recorded." })));
}

function renderOutcomes(outcomes) {
  const list = $("d-outcomes");
  clear(list);
  if (!outcomes.length) {
    list.append(el("li", { className: "muted", text: "No outcome recorded yet." }));
    return;
  }
  for (const o of outcomes) {
    list.append(
      el("li", { className: o.converted ? "outcome outcome-yes" : "outcome outcome-no" }, [
        el("strong", { text: o.converted ? "✓ Converted" : "✗ Did not convert" }),
        el("span", { className: "muted", text: " · observed " }),
        timeEl(o.observed_at),
        el("span", { className: "muted", text: ` · recorded by ${o.recorded_by}` }),
      ]),
    );
  }
}

"""What the audit leaves behind: ``fairness/audit.json`` (the gate first), ``audit.csv``,
``audit.png``, the run's fairness metrics, and the warning lines shown as training runs.

Pure: each function returns the artifact (a dict, text, a file it writes under the path given,
or strings); logging them to a run is the pipeline's job.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from candor.explain.lead_plots import GroupBar, fairness_plot
from candor.training.fairness.audit import AttributeAudit, FairnessAudit
from candor.training.fairness.gate import FairnessVerdict
from candor.training.fairness.jsonsafe import json_safe
from candor.training.fairness.thresholds import METRIC_KEYS

CSV_COLUMNS = (
    "attribute",
    "role",
    "group",
    "count",
    "positives",
    "small_group",
    "base_rate",
    "selection_rate",
    "selection_rate_ci_low",
    "selection_rate_ci_high",
    "true_positive_rate",
    "true_positive_rate_ci_low",
    "true_positive_rate_ci_high",
    "false_positive_rate",
    "calibration_error",
    "mean_score",
    "calibration_gap",
    "calibration_gap_se",
    "coverage",
    "coverage_bins",
    "mean_interval_width",
)


def audit_record(audit: FairnessAudit, verdict: FairnessVerdict) -> dict[str, Any]:
    """``fairness/audit.json``: the gate first (the model card shows the top), then the audit.

    The gate states its rule (``statement``: "gated on: ...; reported only: ...; rule ci"),
    each metric's threshold by the name settings use, the blocking violations, the warnings
    (every other threshold crossed) and the proxy alerts with their values.
    """
    settings = verdict.settings
    thresholds = settings.thresholds
    gate = {
        "passed": verdict.passed,
        "statement": settings.statement(),
        "gated_on": list(settings.metrics),
        "reported_only": list(settings.reported_only),
        "thresholds": {name: thresholds[key] for name, key in METRIC_KEYS.items()},
        "unaudited_protected": list(verdict.unaudited),
        "floor": settings.floor,
        "ceiling": settings.ceiling,
        "calibration_ceiling": settings.calibration_ceiling,
        "coverage_floor": settings.coverage_floor,
        "rule": settings.rule,
        "gated": list(verdict.gated),
        "violations": [v.to_dict() for v in verdict.violations],
        "warnings": [b.to_dict() for b in verdict.warnings],
        "proxy_threshold": settings.proxy_threshold,
        "proxy_alerts": [
            {**p.to_dict(), "description": p.describe(settings.proxy_threshold)}
            for p in verdict.proxy_alerts
        ],
    }
    return {"gate": gate, **audit.to_dict()}


def audit_csv(audit: FairnessAudit) -> str:
    """One row per (attribute, group): the flat table logged as ``fairness/audit.csv``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a in audit.attributes:
        for g in a.groups:
            sel_ci = g.selection_rate_ci or (None, None)
            tpr_ci = g.true_positive_rate_ci or (None, None)
            row = [
                a.attribute,
                a.role,
                g.group,
                g.count,
                g.positives,
                g.small_group,
                g.base_rate,
                g.selection_rate,
                *sel_ci,
                g.true_positive_rate,
                *tpr_ci,
                g.false_positive_rate,
                g.calibration_error,
                g.mean_score,
                g.calibration_gap,
                g.calibration_gap_se,
                g.coverage,
                g.coverage_bins,
                g.mean_interval_width,
            ]
            writer.writerow(["" if v is None else json_safe(v) for v in row])
    return out.getvalue()


def _panel_title(a: AttributeAudit) -> str:
    title = f"{a.attribute} ({a.role.replace('_', ' ')})"
    d = a.disparate_impact
    if d is not None:
        title += f": ratio {d.value:.2f}"
        if d.ci is not None:
            title += f" [{d.ci[0]:.2f}, {d.ci[1]:.2f}]"
        if a.base_rate_ratio is not None:
            title += f"; outcome {a.base_rate_ratio.value:.2f}"
    return title


def audit_plot(audit: FairnessAudit, path: Path, *, floor: float) -> Path | None:
    """Selection rate by group with its interval, one panel per attribute; None without any."""
    panels = {
        _panel_title(a): [
            GroupBar(
                g.group,
                g.selection_rate,
                g.selection_rate_ci[0] if g.selection_rate_ci else None,
                g.selection_rate_ci[1] if g.selection_rate_ci else None,
                g.small_group,
            )
            for g in a.groups
        ]
        for a in audit.attributes
    }
    if not panels:
        return None
    return fairness_plot(
        panels,
        path,
        floor=floor,
        title=f"Selection rate (score >= {audit.threshold:g}) by group, holdout, 95% CI",
    )


def _metric_key(name: str) -> str:
    """An MLflow-safe metric-name part for a column name from any contract."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", name)


def audit_metrics(audit: FairnessAudit, verdict: FairnessVerdict) -> dict[str, float]:
    """The run's fairness metrics: each attribute's disparities and the outcome's own ratio,
    their CI bounds toward the threshold, its coverage range, each protected attribute's
    strongest proxy association and every proxy alert's value, and the number of blocking
    violations and of proxy alerts."""
    metrics: dict[str, float] = {}
    for a in audit.attributes:
        key = _metric_key(a.attribute)
        if a.disparate_impact is not None:
            metrics[f"fairness_min_ratio_{key}"] = a.disparate_impact.value
            if a.disparate_impact.ci is not None:
                metrics[f"fairness_min_ratio_ci_high_{key}"] = a.disparate_impact.ci[1]
        if a.base_rate_ratio is not None:
            metrics[f"fairness_base_rate_ratio_{key}"] = a.base_rate_ratio.value
        if a.equal_opportunity is not None:
            metrics[f"fairness_eo_difference_{key}"] = a.equal_opportunity.value
            if a.equal_opportunity.ci is not None:
                metrics[f"fairness_eo_difference_ci_low_{key}"] = a.equal_opportunity.ci[0]
        if a.calibration is not None:
            metrics[f"fairness_calibration_difference_{key}"] = a.calibration.value
            if a.calibration.ci is not None:
                metrics[f"fairness_calibration_difference_ci_low_{key}"] = a.calibration.ci[0]
        if a.min_coverage is not None and a.max_coverage is not None:
            metrics[f"fairness_min_coverage_{key}"] = a.min_coverage
            metrics[f"fairness_max_coverage_{key}"] = a.max_coverage
        if a.coverage is not None and a.coverage.ci is not None:
            metrics[f"fairness_min_coverage_ci_high_{key}"] = a.coverage.ci[1]
    strongest: dict[str, float] = {}
    for p in audit.proxies:
        if p.cramers_v is not None:
            strongest[p.attribute] = max(strongest.get(p.attribute, 0.0), p.cramers_v)
    for attribute, value in strongest.items():
        metrics[f"fairness_proxy_max_cramers_v_{_metric_key(attribute)}"] = value
    for p in verdict.proxy_alerts:
        name = f"fairness_proxy_cramers_v_{_metric_key(p.input)}__{_metric_key(p.attribute)}"
        metrics[name] = float(p.cramers_v or 0.0)
    metrics["fairness_violations"] = float(len(verdict.violations))
    metrics["fairness_proxy_alerts"] = float(len(verdict.proxy_alerts))
    return metrics


def fairness_warnings(verdict: FairnessVerdict) -> list[str]:
    """One line per threshold crossed, per protected attribute not audited and per proxy
    alert, saying whether it blocks promotion: shown as training runs, like the leakage
    warnings."""
    lines = []
    for b in verdict.breaches:
        evidence = "clear" if b.conclusive else "inconclusive: the 95% CI reaches the threshold"
        if b.blocks:
            action = "BLOCKS PROMOTION"
        elif not b.gated:
            action = (
                f"not gated: audit segment ({evidence}); CANDOR_FAIRNESS_GATED would gate it, "
                "fair call plans can give its groups a minimum share"
            )
        elif not b.metric_gated:
            action = (
                f"reported, not gated ({evidence}; {verdict.settings.statement()}); "
                "CANDOR_FAIRNESS_GATE_METRICS would gate it"
            )
        else:
            action = f"not blocking ({evidence})"
        lines.append(f"FAIRNESS WARNING: {b.describe()} -> {action}")
    lines += [
        f"FAIRNESS WARNING: protected attribute not audited: {name} -> BLOCKS PROMOTION"
        for name in verdict.unaudited
    ]
    threshold = verdict.settings.proxy_threshold
    lines += [
        f"FAIRNESS WARNING: {p.describe(threshold)} -> not blocking; the model can use it in "
        f"place of {p.attribute} (exclude it, or check that it is a legitimate driver)"
        for p in verdict.proxy_alerts
    ]
    return lines

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
    "coverage",
    "coverage_bins",
    "mean_interval_width",
)


def audit_record(audit: FairnessAudit, verdict: FairnessVerdict) -> dict[str, Any]:
    """``fairness/audit.json``: the gate first (the model card shows the top), then the audit."""
    settings = verdict.settings
    gate = {
        "passed": verdict.passed,
        "unaudited_protected": list(verdict.unaudited),
        "floor": settings.floor,
        "ceiling": settings.ceiling,
        "rule": settings.rule,
        "gated": list(verdict.gated),
        "violations": [v.to_dict() for v in verdict.violations],
        "warnings": [b.to_dict() for b in verdict.warnings],
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
    """The run's fairness metrics: each attribute's disparities, their CI bounds toward the
    threshold, its coverage range, and the number of blocking violations."""
    metrics: dict[str, float] = {}
    for a in audit.attributes:
        key = _metric_key(a.attribute)
        if a.disparate_impact is not None:
            metrics[f"fairness_min_ratio_{key}"] = a.disparate_impact.value
            if a.disparate_impact.ci is not None:
                metrics[f"fairness_min_ratio_ci_high_{key}"] = a.disparate_impact.ci[1]
        if a.equal_opportunity is not None:
            metrics[f"fairness_eo_difference_{key}"] = a.equal_opportunity.value
            if a.equal_opportunity.ci is not None:
                metrics[f"fairness_eo_difference_ci_low_{key}"] = a.equal_opportunity.ci[0]
        if a.min_coverage is not None and a.max_coverage is not None:
            metrics[f"fairness_min_coverage_{key}"] = a.min_coverage
            metrics[f"fairness_max_coverage_{key}"] = a.max_coverage
    metrics["fairness_violations"] = float(len(verdict.violations))
    return metrics


def fairness_warnings(verdict: FairnessVerdict) -> list[str]:
    """One line per threshold crossed and per protected attribute not audited, saying whether
    it blocks promotion: shown as training runs, like the leakage warnings."""
    lines = []
    for b in verdict.breaches:
        evidence = "clear" if b.conclusive else "inconclusive: the 95% CI reaches the threshold"
        if b.gated and b.conclusive:
            action = "BLOCKS PROMOTION"
        elif b.gated:
            action = f"not blocking ({evidence})"
        else:
            action = (
                f"not gated: audit segment ({evidence}); CANDOR_FAIRNESS_GATED would gate it, "
                "fair call plans can give its groups a minimum share"
            )
        lines.append(f"FAIRNESS WARNING: {b.describe()} -> {action}")
    lines += [
        f"FAIRNESS WARNING: protected attribute not audited: {name} -> BLOCKS PROMOTION"
        for name in verdict.unaudited
    ]
    return lines

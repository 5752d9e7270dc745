"""Fairness audit of a lead scorer on its holdout: pure functions, no MLflow.

One concept a module (as Fairlearn's ``metrics/`` is cut):

    groups       who is audited (protected attributes, audit segments) and each lead's group
    rates        per-group rates, calibration error and Venn-Abers interval coverage
    bootstrap    the seeded percentile bootstrap of each group's rates
    disparity    ratio and difference per attribute, and the thresholds they cross
    audit        the audit over every attribute, its typed result (:class:`FairnessAudit`)
    gate         the promotion gate: its settings and its verdict on an audit
    mitigation   Kamiran-Calders reweighing; Fairlearn's ThresholdOptimizer as a report
    report       ``fairness/audit.json``, ``audit.csv``, ``audit.png``, metrics, warning lines

Each module's docstring defines what it computes. The names below are the package's public
interface; import them from ``candor.training.fairness``.
"""

from candor.training.fairness.audit import (
    MIN_GROUP_SIZE,
    AttributeAudit,
    AuditOptions,
    FairnessAudit,
    audit_attribute,
    audit_holdout,
    audit_scores,
)
from candor.training.fairness.bootstrap import CONFIDENCE, RESAMPLES, Interval, percentile_interval
from candor.training.fairness.disparity import (
    DIFFERENCE,
    RATIO,
    Disparity,
    GateRule,
    Violation,
)
from candor.training.fairness.gate import (
    FairnessVerdict,
    GateSettings,
    check_gated_segments,
    judge,
    unaudited_protected,
)
from candor.training.fairness.groups import (
    MISSING_GROUP,
    PROTECTED,
    SEGMENT,
    audited_attributes,
    group_labels,
    sensitive_features,
)
from candor.training.fairness.mitigation import (
    MITIGATIONS,
    SelectionSummary,
    ThresholdReport,
    check_mitigation,
    holdout_threshold_report,
    reweighing_weights,
    threshold_optimizer_report,
    training_weights,
)
from candor.training.fairness.rates import (
    COVERAGE_BIN,
    COVERAGE_Z,
    GroupMetrics,
    interval_coverage,
)
from candor.training.fairness.report import (
    CSV_COLUMNS,
    audit_csv,
    audit_metrics,
    audit_plot,
    audit_record,
    fairness_warnings,
)

__all__ = [
    "CONFIDENCE",
    "COVERAGE_BIN",
    "COVERAGE_Z",
    "CSV_COLUMNS",
    "DIFFERENCE",
    "MIN_GROUP_SIZE",
    "MISSING_GROUP",
    "MITIGATIONS",
    "PROTECTED",
    "RATIO",
    "RESAMPLES",
    "SEGMENT",
    "AttributeAudit",
    "AuditOptions",
    "Disparity",
    "FairnessAudit",
    "FairnessVerdict",
    "GateRule",
    "GateSettings",
    "GroupMetrics",
    "Interval",
    "SelectionSummary",
    "ThresholdReport",
    "Violation",
    "audit_attribute",
    "audit_csv",
    "audit_holdout",
    "audit_metrics",
    "audit_plot",
    "audit_record",
    "audit_scores",
    "audited_attributes",
    "check_gated_segments",
    "check_mitigation",
    "fairness_warnings",
    "group_labels",
    "holdout_threshold_report",
    "interval_coverage",
    "judge",
    "percentile_interval",
    "reweighing_weights",
    "sensitive_features",
    "threshold_optimizer_report",
    "training_weights",
    "unaudited_protected",
]

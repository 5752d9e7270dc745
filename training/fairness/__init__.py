"""Fairness audit of a lead scorer on its holdout: pure functions, no MLflow.

One concept a module (as Fairlearn's ``metrics/`` is cut):

    groups       who is audited (protected attributes, audit segments) and each lead's group
    bands        bands of a numeric attribute (age in years) from the contract's bins/quantiles
    rates        per-group rates, calibration and Venn-Abers interval coverage
    bootstrap    the seeded percentile bootstrap of each group's rates
    disparity    ratios and differences per attribute, and the thresholds they cross
    proxy        model inputs associated with a protected attribute (bias-corrected Cramer's V)
    audit        the audit over every attribute, its typed result (:class:`FairnessAudit`)
    thresholds   what the gate holds a model to, and why by default calibration and coverage
    gate         the promotion gate's verdict on an audit
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
from candor.training.fairness.bands import Banding, band_edges, band_labels
from candor.training.fairness.bootstrap import CONFIDENCE, RESAMPLES, Interval, percentile_interval
from candor.training.fairness.disparity import (
    BASE_RATE_RATIO,
    CALIBRATION,
    COVERAGE,
    DIFFERENCE,
    RATIO,
    Disparity,
    GateRule,
    Violation,
)
from candor.training.fairness.gate import (
    FairnessVerdict,
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
from candor.training.fairness.proxy import PROXY_ROWS, ProxyAssociation, cramers_v
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
from candor.training.fairness.thresholds import (
    DEFAULT_GATE_METRICS,
    GATE_METRICS,
    METRIC_KEYS,
    GateSettings,
)

__all__ = [
    "BASE_RATE_RATIO",
    "CALIBRATION",
    "CONFIDENCE",
    "COVERAGE",
    "COVERAGE_BIN",
    "COVERAGE_Z",
    "CSV_COLUMNS",
    "DEFAULT_GATE_METRICS",
    "DIFFERENCE",
    "GATE_METRICS",
    "METRIC_KEYS",
    "MIN_GROUP_SIZE",
    "MISSING_GROUP",
    "MITIGATIONS",
    "PROTECTED",
    "PROXY_ROWS",
    "RATIO",
    "RESAMPLES",
    "SEGMENT",
    "AttributeAudit",
    "AuditOptions",
    "Banding",
    "Disparity",
    "FairnessAudit",
    "FairnessVerdict",
    "GateRule",
    "GateSettings",
    "GroupMetrics",
    "Interval",
    "ProxyAssociation",
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
    "band_edges",
    "band_labels",
    "check_gated_segments",
    "check_mitigation",
    "cramers_v",
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

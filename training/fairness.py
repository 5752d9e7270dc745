"""Fairness audit of a lead scorer on its holdout: pure functions, no MLflow.

Every protected attribute of the contract (``Role.PROTECTED``: never a model input) and every
audit segment it names (``audit_segment: true``) is audited on the holdout rows. The groups are
handed to Fairlearn's :class:`~fairlearn.metrics.MetricFrame` as ``sensitive_features``, apart
from the model's inputs: the scores were computed without them.

Per group (probabilities throughout):
    count, positives, base_rate: leads, converted leads, and the conversion rate.
    selection_rate: share of leads with ``score >= threshold``; the pipeline passes the B
        cut-off of the scoring policy, so "selected" means graded A or B.
    true_positive_rate / false_positive_rate: share of converted / not converted leads that
        were selected (``None`` where the group has no such leads).
    calibration_error: expected calibration error of the calibrated score within the group
        (``training.metrics.expected_calibration_error``, 10 equal-width bins).
    coverage, coverage_bins, mean_interval_width: whether the Venn-Abers interval
        ``[lower, upper]`` holds for this group. The group's leads are sorted by score and cut
        into ``max(1, count // coverage_bin)`` consecutive bins of nearly equal size (each at least
        ``coverage_bin`` leads when the group has that many). A bin is covered when its observed
        conversion rate lies in ``[mean lower - z*se, mean upper + z*se]``, where
        ``se = sqrt(p * (1 - p) / n)`` is the binomial standard error of a rate over the bin's
        ``n`` leads at the bin's mean score ``p`` (the mean score, not the observed rate, so that
        a bin with no conversions still gets a band) and ``z = 1.96``. ``coverage`` is the share
        of the group's bins that are covered: a group whose interval holds should be near 1 (at
        least about 0.95); an interval that holds for one group and not for another is itself
        unfair, so each attribute reports the minimum and maximum coverage across its compared
        groups. ``mean_interval_width`` is the mean of ``upper - lower``.
    small_group: fewer than ``min_group_size`` leads. Reported, never compared.

Per attribute, over the groups that are not small:
    disparate_impact_ratio: lowest selection rate / highest (Fairlearn's
        ``demographic_parity_ratio`` on those groups); 1 is parity, the "four-fifths rule" asks
        for at least 0.8.
    equal_opportunity_difference: highest true-positive rate minus lowest (Fairlearn's
        ``equal_opportunity_difference``): how much more often converters of one group are
        selected than converters of another.

Uncertainty: a holdout is a sample, and a small group's rates are noisy. Each group's selection
rate and true-positive rate carry a 95% percentile bootstrap interval: ``resamples`` resamples
(seeded: the same seed gives the same intervals), drawn with replacement *within* each group so
that group sizes stay fixed. The ratio and the difference are those between the two groups the
point estimate names (lowest and highest rate), and their interval is that of the same two
groups' ratio or difference over the same resamples: "rural's selection rate is 0.61 times
suburban's (95% CI 0.45 to 0.80)". (Re-choosing the extreme groups in every resample would
bias the interval: the minimum over the maximum of noisy rates is biased low, more so once
resampled.) Picking the extreme pair among many groups still flatters the disparity a little,
the more the more groups there are; the interval does not correct for that.

Gate (:meth:`FairnessAudit.violations`): a gated attribute violates when its ratio is below the
floor or its difference above the ceiling *and*, under the default rule ``"ci"``, its whole 95%
interval lies beyond that threshold: the holdout then gives clear evidence of the disparity.
A point estimate beyond the threshold whose interval still reaches it is "inconclusive": it is
reported (:meth:`FairnessAudit.breaches`) but does not block. Rule ``"point"`` blocks on the
point estimate alone (for large holdouts).

Mitigation helpers: :func:`reweighing_weights` (Kamiran and Calders) and
:func:`threshold_optimizer_report` (Fairlearn's ``ThresholdOptimizer`` as a post-processing
report; never used for serving).
"""

from __future__ import annotations

import csv
import io
import math
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from fairlearn.metrics import MetricFrame, count, selection_rate
from sklearn.base import BaseEstimator, ClassifierMixin

from candor.models.contract import Contract, Role
from candor.models.leads.features import is_missing
from candor.training.metrics import expected_calibration_error

PROTECTED = "protected"
SEGMENT = "audit_segment"
RATIO = "disparate_impact_ratio"
DIFFERENCE = "equal_opportunity_difference"
MISSING_GROUP = "(missing)"

MIN_GROUP_SIZE = 30
RESAMPLES = 1000  # 200 leave each 2.5% tail to 5 resamples: the bounds then move with the seed
CONFIDENCE = 0.95
COVERAGE_BIN = 30
COVERAGE_Z = 1.959963984540054  # the two-sided 95% normal quantile

GateRule = Literal["ci", "point"]
Interval = tuple[float, float]


# --- Per-group metrics (Fairlearn MetricFrame callables: y_true, y_pred, **sample params) ----


def _base_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true)) if len(y_true) else math.nan


def _rate_among(y_pred: np.ndarray, among: np.ndarray) -> float:
    return float(np.mean(y_pred[among])) if among.any() else math.nan


def _true_positive_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return _rate_among(np.asarray(y_pred, bool), np.asarray(y_true) == 1)


def _false_positive_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return _rate_among(np.asarray(y_pred, bool), np.asarray(y_true) == 0)


def _calibration_error(y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray) -> float:
    return expected_calibration_error(np.asarray(y_true), np.asarray(score))


def _mean_width(
    y_true: np.ndarray, y_pred: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> float:
    return float(np.mean(np.asarray(upper) - np.asarray(lower)))


def interval_coverage(
    outcome: np.ndarray,
    score: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    bin_size: int = COVERAGE_BIN,
    z: float = COVERAGE_Z,
) -> tuple[float, int]:
    """(share of score-sorted bins whose observed rate the widened interval covers, bins).

    See the module docstring for the definition. All inputs are probabilities except
    ``outcome`` (0/1); an empty input gives ``(nan, 0)``.
    """
    n = len(score)
    if n == 0:
        return math.nan, 0
    outcome, score = np.asarray(outcome, float), np.asarray(score, float)
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    order = np.argsort(score, kind="stable")
    bins = np.array_split(order, max(1, n // bin_size))
    covered = 0
    for rows in bins:
        observed = float(outcome[rows].mean())
        p = float(score[rows].mean())
        se = math.sqrt(p * (1.0 - p) / len(rows))
        if lower[rows].mean() - z * se <= observed <= upper[rows].mean() + z * se:
            covered += 1
    return covered / len(bins), len(bins)


# --- Confidence intervals ------------------------------------------------------------------


def percentile_interval(
    resampled: np.ndarray, *, confidence: float = CONFIDENCE
) -> Interval | None:
    """The central ``confidence`` interval of the finite resamples; None without any."""
    values = np.asarray(resampled, float)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


# --- Results -------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON-safe: nan -> None, tuples -> lists, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class GroupMetrics:
    """One group of one attribute; rates are probabilities, ``None`` where undefined."""

    group: str
    count: int
    positives: int
    base_rate: float
    selection_rate: float
    selection_rate_ci: Interval | None
    true_positive_rate: float | None
    true_positive_rate_ci: Interval | None
    false_positive_rate: float | None
    calibration_error: float
    coverage: float
    coverage_bins: int
    mean_interval_width: float
    small_group: bool


@dataclass(frozen=True)
class Disparity:
    """An attribute's ratio or difference, between the two groups the point estimate names.

    ``disadvantaged`` has the lowest rate and ``advantaged`` the highest. ``ci`` is the
    percentile bootstrap interval of the same statistic between the same two groups; a ratio's
    interval may exceed 1 and a difference's may fall below 0 (the two may be the other way
    round).
    """

    metric: str  # RATIO or DIFFERENCE
    value: float
    ci: Interval | None
    disadvantaged: str
    advantaged: str

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))


@dataclass(frozen=True)
class Violation:
    """A threshold an attribute's disparity crosses (see the module docstring for the rule)."""

    attribute: str
    role: str
    metric: str
    value: float
    threshold: float
    ci: Interval | None
    disadvantaged: str
    advantaged: str
    conclusive: bool  # under the rule used: the whole interval lies beyond the threshold
    gated: bool  # the attribute is gated (protected, or named in ``gated``)

    def describe(self) -> str:
        side = "below the floor" if self.metric == RATIO else "above the ceiling"
        ci = f"; 95% CI {self.ci[0]:.3f} to {self.ci[1]:.3f}" if self.ci else ""
        return (
            f"{self.attribute}: {self.metric} {self.value:.3f} ({self.disadvantaged} vs "
            f"{self.advantaged}{ci}) is {side} {self.threshold:g}"
        )

    def to_dict(self) -> dict[str, Any]:
        return _clean({**asdict(self), "description": self.describe()})


@dataclass(frozen=True)
class AttributeAudit:
    """All groups of one attribute, and its disparities over the groups that are not small."""

    attribute: str
    role: str  # PROTECTED or SEGMENT
    groups: tuple[GroupMetrics, ...]
    disparate_impact: Disparity | None
    equal_opportunity: Disparity | None
    min_coverage: float | None
    max_coverage: float | None
    notes: tuple[str, ...] = ()

    @property
    def disparate_impact_ratio(self) -> float | None:
        return self.disparate_impact.value if self.disparate_impact else None

    @property
    def equal_opportunity_difference(self) -> float | None:
        return self.equal_opportunity.value if self.equal_opportunity else None

    @property
    def compared(self) -> list[GroupMetrics]:
        return [g for g in self.groups if not g.small_group]

    def group(self, name: str) -> GroupMetrics:
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(f"{self.attribute} has no group {name!r}; groups: {self.group_names}")

    @property
    def group_names(self) -> list[str]:
        return [g.group for g in self.groups]

    def breaches(
        self, *, floor: float, ceiling: float, gated: bool, rule: GateRule = "ci"
    ) -> list[Violation]:
        """Disparities whose point estimate crosses its threshold (see ``FairnessAudit``)."""
        found: list[Violation] = []
        for d, threshold in ((self.disparate_impact, floor), (self.equal_opportunity, ceiling)):
            if d is None:
                continue
            below = d.metric == RATIO
            if not (d.value < threshold if below else d.value > threshold):
                continue
            conclusive = (
                rule == "point"
                or d.ci is None
                or (d.ci[1] < threshold if below else d.ci[0] > threshold)
            )
            found.append(
                Violation(
                    self.attribute,
                    self.role,
                    d.metric,
                    d.value,
                    threshold,
                    d.ci,
                    d.disadvantaged,
                    d.advantaged,
                    conclusive,
                    gated,
                )
            )
        return found

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "role": self.role,
                RATIO: self.disparate_impact.to_dict() if self.disparate_impact else None,
                DIFFERENCE: self.equal_opportunity.to_dict() if self.equal_opportunity else None,
                "compared_groups": [g.group for g in self.compared],
                "min_coverage": self.min_coverage,
                "max_coverage": self.max_coverage,
                "notes": list(self.notes),
                "groups": [asdict(g) for g in self.groups],
            }
        )


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


@dataclass(frozen=True)
class FairnessAudit:
    """The audit of one scorer on one holdout; see the module docstring for every definition."""

    rows: int
    threshold: float  # selected = score >= threshold (probability)
    min_group_size: int
    resamples: int
    seed: int
    confidence: float
    coverage_bin: int
    attributes: tuple[AttributeAudit, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, attribute: str) -> AttributeAudit:
        for a in self.attributes:
            if a.attribute == attribute:
                return a
        raise KeyError(f"no audited attribute {attribute!r}; audited: {self.names}")

    @property
    def names(self) -> list[str]:
        return [a.attribute for a in self.attributes]

    def breaches(
        self,
        floor: float,
        ceiling: float,
        gated: Collection[str] = (),
        *,
        rule: GateRule = "ci",
    ) -> list[Violation]:
        """Every attribute whose point estimate crosses a threshold, gated or not.

        ``conclusive`` says whether it counts under ``rule``; ``gated`` whether the attribute is
        gated (protected attributes always are; audit segments when named in ``gated``).
        """
        found: list[Violation] = []
        for a in self.attributes:
            is_gated = a.role == PROTECTED or a.attribute in gated
            found += a.breaches(floor=floor, ceiling=ceiling, gated=is_gated, rule=rule)
        return found

    def violations(
        self,
        floor: float,
        ceiling: float,
        gated: Collection[str] = (),
        *,
        rule: GateRule = "ci",
    ) -> list[Violation]:
        """What blocks promotion: conclusive breaches of gated attributes.

        Args:
            floor: the lowest acceptable disparate-impact ratio (e.g. 0.8).
            ceiling: the highest acceptable equal-opportunity difference (e.g. 0.1).
            gated: audit segments to gate on besides the protected attributes (always gated).
            rule: ``"ci"`` counts a breach only when its whole confidence interval lies beyond
                the threshold; ``"point"`` counts every point estimate beyond it.
        """
        return [
            v for v in self.breaches(floor, ceiling, gated, rule=rule) if v.gated and v.conclusive
        ]

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "holdout_rows": self.rows,
                "selection": f"score >= {self.threshold:g} (grade A or B)",
                "selection_threshold": self.threshold,
                "min_group_size": self.min_group_size,
                "bootstrap": {
                    "resamples": self.resamples,
                    "seed": self.seed,
                    "confidence": self.confidence,
                    "method": "percentile intervals; leads resampled within each group; a ratio "
                    "or difference is taken between the two groups its point estimate names",
                },
                "coverage": {
                    "bin_size": self.coverage_bin,
                    "z": COVERAGE_Z,
                    "definition": (
                        "share of score-sorted bins (>= bin_size leads) whose observed conversion "
                        "rate lies within [mean lower - z*se, mean upper + z*se], "
                        "se = sqrt(p(1-p)/n) at the bin's mean score p"
                    ),
                },
                "attributes": {a.attribute: a.to_dict() for a in self.attributes},
                **self.extra,
            }
        )

    def to_csv(self) -> str:
        """One row per (attribute, group): the flat table logged as ``fairness/audit.csv``."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for a in self.attributes:
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
                writer.writerow(["" if v is None else _clean(v) for v in row])
        return out.getvalue()


# --- The audit -----------------------------------------------------------------------------


def audited_attributes(contract: Contract) -> list[tuple[str, str]]:
    """(name, role) of every audited field: protected attributes first, then audit segments."""
    protected = [(f.name, PROTECTED) for f in contract.protected_fields]
    segments = [(f.name, SEGMENT) for f in contract.audit_segments if f.role is not Role.PROTECTED]
    return protected + segments


def group_labels(values: Sequence[Any]) -> np.ndarray:
    """Text labels of a sensitive column; missing values form their own group."""
    return np.asarray([MISSING_GROUP if is_missing(v) else str(v) for v in values], dtype=object)


def sensitive_features(
    columns: Mapping[str, Sequence[Any]], rows: np.ndarray, contract: Contract
) -> dict[str, np.ndarray]:
    """The audited columns for ``rows``, as group labels; columns absent from the data skipped."""
    return {
        name: group_labels([columns[name][i] for i in rows])
        for name, _ in audited_attributes(contract)
        if name in columns
    }


def _group_metrics(coverage_bin: int) -> dict[str, Callable[..., float]]:
    """The MetricFrame callables: (y_true, y_pred, **per-lead sample params) -> float."""

    def coverage(y_true: Any, y_pred: Any, score: Any, lower: Any, upper: Any) -> float:
        return interval_coverage(y_true, score, lower, upper, bin_size=coverage_bin)[0]

    def coverage_bins(y_true: Any, y_pred: Any) -> float:
        return float(max(1, len(y_true) // coverage_bin))

    return {
        "count": count,
        "positives": lambda y_true, y_pred: float(np.sum(np.asarray(y_true) == 1)),
        "base_rate": _base_rate,
        "selection_rate": selection_rate,
        "true_positive_rate": _true_positive_rate,
        "false_positive_rate": _false_positive_rate,
        "calibration_error": _calibration_error,
        "coverage": coverage,
        "coverage_bins": coverage_bins,
        "mean_interval_width": _mean_width,
    }


def _or_none(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def audit_attribute(
    *,
    attribute: str,
    role: str,
    groups: np.ndarray,
    outcome: np.ndarray,
    score: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    threshold: float,
    min_group_size: int = MIN_GROUP_SIZE,
    resamples: int = RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
    coverage_bin: int = COVERAGE_BIN,
) -> AttributeAudit:
    """Audit one attribute; see :func:`audit_scores`."""
    outcome = np.asarray(outcome).astype(int)
    selected = np.asarray(score) >= threshold
    frame = MetricFrame(
        metrics=_group_metrics(coverage_bin),
        y_true=outcome,
        y_pred=selected,
        sensitive_features=np.asarray(groups, dtype=object),
        sample_params={
            "calibration_error": {"score": score},
            "coverage": {"score": score, "lower": lower, "upper": upper},
            "mean_interval_width": {"lower": lower, "upper": upper},
        },
    )
    table = frame.by_group
    names = [str(g) for g in table.index]
    member = {name: np.flatnonzero(groups == name) for name in names}

    # The bootstrap: resample each group within itself (its size fixed), seeded per attribute.
    rng = np.random.default_rng([seed, zlib.crc32(attribute.encode())])
    boot_sel = np.full((resamples, len(names)), np.nan)
    boot_tpr = np.full((resamples, len(names)), np.nan)
    for j, name in enumerate(names):
        rows = member[name]
        draw = rng.integers(0, len(rows), size=(resamples, len(rows)))
        sel, pos = selected[rows][draw], outcome[rows][draw] == 1
        boot_sel[:, j] = sel.mean(axis=1)
        positives = pos.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            boot_tpr[:, j] = np.where(positives > 0, (sel & pos).sum(axis=1) / positives, np.nan)

    group_results: list[GroupMetrics] = []
    for j, name in enumerate(names):
        row = table.loc[table.index[j]]
        tpr = float(row["true_positive_rate"])
        group_results.append(
            GroupMetrics(
                group=name,
                count=int(row["count"]),
                positives=int(row["positives"]),
                base_rate=float(row["base_rate"]),
                selection_rate=float(row["selection_rate"]),
                selection_rate_ci=percentile_interval(boot_sel[:, j], confidence=confidence),
                true_positive_rate=_or_none(tpr),
                true_positive_rate_ci=percentile_interval(boot_tpr[:, j], confidence=confidence),
                false_positive_rate=_or_none(float(row["false_positive_rate"])),
                calibration_error=float(row["calibration_error"]),
                coverage=float(row["coverage"]),
                coverage_bins=int(row["coverage_bins"]),
                mean_interval_width=float(row["mean_interval_width"]),
                small_group=int(row["count"]) < min_group_size,
            )
        )

    notes: list[str] = []
    small = [g.group for g in group_results if g.small_group]
    if small:
        notes.append(
            f"groups with fewer than {min_group_size} leads are reported but not compared: {small}"
        )
    keep = [j for j, g in enumerate(group_results) if not g.small_group]
    impact = opportunity = None
    if len(keep) < 2:
        notes.append(f"fewer than two groups hold {min_group_size} or more leads: no comparison")
    else:
        # lowest and highest selection rate (stable order: ties keep the group order)
        by_rate = sorted(keep, key=lambda j: group_results[j].selection_rate)
        low, high = by_rate[0], by_rate[-1]
        if group_results[high].selection_rate > 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                resampled = boot_sel[:, low] / boot_sel[:, high]
            impact = Disparity(
                RATIO,
                group_results[low].selection_rate / group_results[high].selection_rate,
                percentile_interval(resampled, confidence=confidence) if resamples else None,
                names[low],
                names[high],
            )
        else:
            notes.append(f"no lead of a compared group scored >= {threshold:g}: no ratio")
        rates = {j: group_results[j].true_positive_rate for j in keep}
        with_positives = {j: r for j, r in rates.items() if r is not None}
        if len(with_positives) >= 2:
            by_tpr = sorted(with_positives, key=lambda j: with_positives[j])
            low, high = by_tpr[0], by_tpr[-1]
            resampled = boot_tpr[:, high] - boot_tpr[:, low]
            opportunity = Disparity(
                DIFFERENCE,
                with_positives[high] - with_positives[low],
                percentile_interval(resampled, confidence=confidence) if resamples else None,
                names[low],
                names[high],
            )
        else:
            notes.append("fewer than two compared groups hold converted leads: no difference")
    coverages = [group_results[j].coverage for j in keep]
    return AttributeAudit(
        attribute=attribute,
        role=role,
        groups=tuple(group_results),
        disparate_impact=impact,
        equal_opportunity=opportunity,
        min_coverage=min(coverages) if coverages else None,
        max_coverage=max(coverages) if coverages else None,
        notes=tuple(notes),
    )


def audit_scores(
    *,
    outcome: np.ndarray,
    score: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    sensitive: Mapping[str, np.ndarray],
    protected: Collection[str],
    threshold: float,
    min_group_size: int = MIN_GROUP_SIZE,
    resamples: int = RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
    coverage_bin: int = COVERAGE_BIN,
) -> FairnessAudit:
    """Audit calibrated scores against outcomes, one attribute per entry of ``sensitive``.

    Args:
        outcome: 0/1 outcomes of the audited leads (the holdout).
        score, lower, upper: calibrated probability and Venn-Abers bounds, one per lead.
        sensitive: attribute name -> group label per lead (never model inputs).
        protected: which of those names are protected attributes (the rest are audit segments).
        threshold: a lead is selected when ``score >= threshold`` (probability).
        min_group_size: groups with fewer leads are flagged ``small_group`` and not compared.
        resamples: bootstrap resamples per attribute (0: no intervals).
        seed: bootstrap seed.
        confidence: interval level.
        coverage_bin: minimum bin size for the interval coverage.
    """
    n = len(outcome)
    for name, arrays in {"score": score, "lower": lower, "upper": upper}.items():
        if len(arrays) != n:
            raise ValueError(f"{name} has {len(arrays)} values but outcome has {n}")
    for name, labels in sensitive.items():
        if len(labels) != n:
            raise ValueError(f"sensitive feature {name!r} has {len(labels)} values, expected {n}")
    attributes = tuple(
        audit_attribute(
            attribute=name,
            role=PROTECTED if name in protected else SEGMENT,
            groups=np.asarray(labels, dtype=object),
            outcome=np.asarray(outcome),
            score=np.asarray(score, float),
            lower=np.asarray(lower, float),
            upper=np.asarray(upper, float),
            threshold=threshold,
            min_group_size=min_group_size,
            resamples=resamples,
            seed=seed,
            confidence=confidence,
            coverage_bin=coverage_bin,
        )
        for name, labels in sensitive.items()
    )
    return FairnessAudit(
        rows=n,
        threshold=threshold,
        min_group_size=min_group_size,
        resamples=resamples,
        seed=seed,
        confidence=confidence,
        coverage_bin=coverage_bin,
        attributes=attributes,
    )


# --- Mitigation ----------------------------------------------------------------------------


def reweighing_weights(groups: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Kamiran-Calders reweighing: ``w(g, y) = P(g) P(y) / P(g, y)`` for each row.

    Weighted, the outcome is independent of the group: every group gets the overall
    conversion rate. Estimated on the rows given (the training split).
    """
    groups = np.asarray(groups, dtype=object)
    outcome = np.asarray(outcome).astype(int)
    n = len(outcome)
    weights = np.ones(n)
    for g in np.unique(groups):
        in_group = groups == g
        for y in (0, 1):
            cell = in_group & (outcome == y)
            if cell.any():
                weights[cell] = in_group.mean() * (outcome == y).mean() / (cell.sum() / n)
    return weights


class _ScoreColumn(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A "prefit estimator" whose probability of conversion is the first column of X."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> _ScoreColumn:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        score = np.asarray(X, float)[:, 0]
        return np.column_stack([1.0 - score, score])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, float)[:, 0] >= 0.5).astype(int)


def threshold_optimizer_report(
    *,
    attribute: str,
    fit_score: np.ndarray,
    fit_outcome: np.ndarray,
    fit_groups: np.ndarray,
    score: np.ndarray,
    outcome: np.ndarray,
    groups: np.ndarray,
    threshold: float,
    seed: int = 0,
    min_group_size: int = MIN_GROUP_SIZE,
) -> dict[str, Any]:
    """Per-group thresholds (Fairlearn's ``ThresholdOptimizer``, demographic parity) as a report.

    The optimizer is fitted on one split's calibrated scores (``fit_*``, the calibration split)
    and evaluated on another (the holdout), beside the single cut-off the service uses. Nothing
    here changes the model or serving.
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    optimizer = ThresholdOptimizer(
        estimator=_ScoreColumn(),
        constraints="demographic_parity",
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(
        np.asarray(fit_score, float).reshape(-1, 1),
        np.asarray(fit_outcome).astype(int),
        sensitive_features=np.asarray(fit_groups, dtype=object),
    )
    outcome = np.asarray(outcome).astype(int)
    groups = np.asarray(groups, dtype=object)
    post = np.asarray(
        optimizer.predict(
            np.asarray(score, float).reshape(-1, 1),
            sensitive_features=groups,
            random_state=seed,
        )
    ).astype(bool)
    single = np.asarray(score) >= threshold

    def summary(selected: np.ndarray) -> dict[str, Any]:
        rates = {
            str(g): float(selected[groups == g].mean())
            for g in sorted(set(groups.tolist()))
            if (groups == g).sum() >= min_group_size
        }
        values = np.array(list(rates.values()))
        return {
            "accuracy": float(np.mean(selected == (outcome == 1))),
            "selection_rate": float(selected.mean()),
            "selection_rate_by_group": rates,
            RATIO: float(values.min() / values.max())
            if len(values) >= 2 and values.max() > 0
            else None,
            "true_positive_rate": _or_none(_true_positive_rate(outcome, selected)),
        }

    return _clean(
        {
            "attribute": attribute,
            "method": "fairlearn ThresholdOptimizer(constraints=demographic_parity, "
            "objective=accuracy_score), fitted on the calibration split, applied to the holdout",
            "single_cutoff": {"threshold": threshold, **summary(single)},
            "per_group_thresholds": summary(post),
        }
    )

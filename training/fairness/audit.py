"""The audit: every audited attribute's groups and disparities on one holdout, typed.

``audit_scores`` audits calibrated scores against outcomes, one attribute at a time
(:func:`audit_attribute`): per-group rates (``training.fairness.rates``: the values of
Fairlearn's :class:`~fairlearn.metrics.MetricFrame` ``by_group``, computed from counts at once),
bootstrap intervals (``training.fairness.bootstrap``, a multinomial draw per group and resample)
and the disparities over the groups that are not small (``training.fairness.disparity``): the
selection-rate ratio beside the outcome's own ratio, the equal-opportunity and calibration
differences and the lowest group coverage. ``audit_holdout`` does it for a fitted lead scorer
on its holdout, with banded numeric attributes (``training.fairness.bands``) and the proxy
associations of its inputs (``training.fairness.proxy``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

from candor.models.contract import Contract
from candor.models.settings import Settings
from candor.training.fairness.bands import Banding, band_edges
from candor.training.fairness.bootstrap import (
    CONFIDENCE,
    RESAMPLES,
    attribute_rng,
    percentile_interval,
    resample_rates,
)
from candor.training.fairness.disparity import (
    BASE_RATE_RATIO,
    CALIBRATION,
    COVERAGE,
    DIFFERENCE,
    RATIO,
    Disparity,
    Violation,
    base_rate_ratio,
    breach,
    calibration_difference,
    disparate_impact,
    equal_opportunity,
    lowest_coverage,
)
from candor.training.fairness.groups import (
    MISSING_GROUP,
    PROTECTED,
    SEGMENT,
    group_codes,
    sensitive_features,
    take_rows,
)
from candor.training.fairness.jsonsafe import finite_or_none, json_safe
from candor.training.fairness.proxy import (
    METHOD as PROXY_METHOD,
)
from candor.training.fairness.proxy import (
    PROXY_ROWS,
    ProxyAssociation,
    proxy_associations,
    sample_rows,
)
from candor.training.fairness.rates import (
    COVERAGE_BIN,
    COVERAGE_Z,
    GroupMetrics,
    group_rates,
)
from candor.training.fairness.thresholds import GateSettings
from candor.training.fit import FitResult

MIN_GROUP_SIZE = 30

T = TypeVar("T")


def _named(items: Sequence[T], name: str, *, key: Callable[[T], str], missing: str) -> T:
    """The item whose ``key`` is ``name``; else a KeyError: ``missing``, then the names there
    are (``"...; groups"`` reads ``"...; groups: ['a', 'b']"``)."""
    names = [key(item) for item in items]
    if name not in names:
        raise KeyError(f"{missing}: {names}")
    return items[names.index(name)]


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
    base_rate_ratio: Disparity | None = None  # the outcome's own ratio: context, never gated
    calibration: Disparity | None = None
    coverage: Disparity | None = None
    bands: Banding | None = None  # how a numeric attribute was banded, if it was

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
        missing = f"{self.attribute} has no group {name!r}; groups"
        return _named(self.groups, name, key=lambda g: g.group, missing=missing)

    @property
    def disparities(self) -> list[Disparity]:
        """The gateable disparities computed: ratio, equal opportunity, calibration, coverage."""
        found = (self.disparate_impact, self.equal_opportunity, self.calibration, self.coverage)
        return [d for d in found if d is not None]

    def outcome_context(self) -> str:
        """The outcome's own ratio, in words: what a selection-rate ratio is to be read against."""
        d = self.base_rate_ratio
        if d is None:
            return ""
        return (
            f"the outcome itself differs {d.value:.2f} between groups (base-rate ratio, "
            f"{d.disadvantaged} {self.group(d.disadvantaged).base_rate:.3f} vs {d.advantaged} "
            f"{self.group(d.advantaged).base_rate:.3f})"
        )

    def breaches(self, settings: GateSettings, *, gated: bool) -> list[Violation]:
        """Disparities whose point estimate crosses its threshold (see ``FairnessAudit``)."""
        thresholds, gated_keys = settings.thresholds, settings.gated_keys
        found = [
            breach(
                d,
                attribute=self.attribute,
                role=self.role,
                threshold=thresholds[d.metric],
                gated=gated,
                metric_gated=d.metric in gated_keys,
                rule=settings.rule,
                note=self.outcome_context() if d.metric == RATIO else "",
            )
            for d in self.disparities
        ]
        return [v for v in found if v is not None]

    def to_dict(self) -> dict[str, Any]:
        def record(d: Disparity | None) -> dict[str, Any] | None:
            return d.to_dict() if d else None

        return json_safe(
            {
                "role": self.role,
                RATIO: record(self.disparate_impact),
                BASE_RATE_RATIO: record(self.base_rate_ratio),
                "outcome_context": self.outcome_context() or None,
                DIFFERENCE: record(self.equal_opportunity),
                CALIBRATION: record(self.calibration),
                COVERAGE: record(self.coverage),
                "bands": self.bands.to_dict() if self.bands else None,
                "compared_groups": [g.group for g in self.compared],
                "min_coverage": self.min_coverage,
                "max_coverage": self.max_coverage,
                "notes": list(self.notes),
                "groups": [asdict(g) for g in self.groups],
            }
        )


@dataclass(frozen=True)
class FairnessAudit:
    """The audit of one scorer on one holdout; see the package docstring for every definition."""

    rows: int
    threshold: float  # selected = score >= threshold (probability)
    min_group_size: int
    resamples: int
    seed: int
    confidence: float
    coverage_bin: int
    attributes: tuple[AttributeAudit, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    proxies: tuple[ProxyAssociation, ...] = ()  # every (model input, protected attribute)

    def __getitem__(self, attribute: str) -> AttributeAudit:
        missing = f"no audited attribute {attribute!r}; audited"
        return _named(self.attributes, attribute, key=lambda a: a.attribute, missing=missing)

    @property
    def names(self) -> list[str]:
        return [a.attribute for a in self.attributes]

    def breaches(self, settings: GateSettings | None = None) -> list[Violation]:
        """Every disparity whose point estimate crosses its threshold, gated or not.

        ``conclusive`` says whether it counts under the settings' rule; ``gated`` whether the
        attribute is gated (protected attributes always are; audit segments when named in
        ``settings.gated``); ``metric_gated`` whether the metric is one the gate counts
        (``settings.metrics``). Default settings: :class:`GateSettings`'s defaults.
        """
        settings = settings or GateSettings()
        found: list[Violation] = []
        for a in self.attributes:
            is_gated = a.role == PROTECTED or a.attribute in settings.gated
            found += a.breaches(settings, gated=is_gated)
        return found

    def violations(self, settings: GateSettings | None = None) -> list[Violation]:
        """What blocks promotion: conclusive breaches of gated metrics of gated attributes.

        Under rule ``"ci"`` a breach counts only when its whole confidence interval lies beyond
        the threshold; under ``"point"`` every point estimate beyond it counts.
        """
        return [v for v in self.breaches(settings) if v.blocks]

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "holdout_rows": self.rows,
                "selection": f"score >= {self.threshold:g} (grade A or B)",
                "selection_threshold": self.threshold,
                "min_group_size": self.min_group_size,
                "bootstrap": {
                    "resamples": self.resamples,
                    "seed": self.seed,
                    "confidence": self.confidence,
                    "method": "percentile intervals; leads resampled within each group (drawn "
                    "as a multinomial over selected x converted, the same distribution); a ratio "
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
                "proxies": {
                    "method": PROXY_METHOD,
                    "associations": [p.to_dict() for p in self.proxies],
                },
                **self.extra,
            }
        )


@dataclass(frozen=True)
class AuditOptions:
    """How every attribute of one audit is audited (see :func:`audit_scores`)."""

    threshold: float
    min_group_size: int = MIN_GROUP_SIZE
    resamples: int = RESAMPLES
    seed: int = 0
    confidence: float = CONFIDENCE
    coverage_bin: int = COVERAGE_BIN


def audit_attribute(
    *,
    attribute: str,
    role: str,
    groups: np.ndarray,
    outcome: np.ndarray,
    score: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    options: AuditOptions,
    bands: Banding | None = None,
) -> AttributeAudit:
    """Audit one attribute; see :func:`audit_scores`. A banded attribute's groups come in band
    order (``bands.labels``, then the missing group), the others' in sorted order."""
    outcome = np.asarray(outcome).astype(int)
    selected = np.asarray(score) >= options.threshold
    order = None if bands is None else [*bands.labels, MISSING_GROUP]
    codes, names = group_codes(groups, order)
    table = group_rates(
        groups=codes,
        n_groups=len(names),
        outcome=outcome,
        selected=selected,
        score=score,
        lower=lower,
        upper=upper,
        coverage_bin=options.coverage_bin,
    )
    resampled = resample_rates(
        groups=codes,
        n_groups=len(names),
        selected=selected,
        outcome=outcome,
        resamples=options.resamples,
        rng=attribute_rng(options.seed, attribute),
    )

    confidence, min_group_size = options.confidence, options.min_group_size
    group_results: list[GroupMetrics] = []
    for j, name in enumerate(names):
        row = {column: float(values[j]) for column, values in table.items()}
        group_results.append(
            GroupMetrics(
                group=name,
                count=int(row["count"]),
                positives=int(row["positives"]),
                base_rate=row["base_rate"],
                selection_rate=row["selection_rate"],
                selection_rate_ci=percentile_interval(
                    resampled.selection[:, j], confidence=confidence
                ),
                true_positive_rate=finite_or_none(row["true_positive_rate"]),
                true_positive_rate_ci=percentile_interval(
                    resampled.true_positive[:, j], confidence=confidence
                ),
                false_positive_rate=finite_or_none(row["false_positive_rate"]),
                calibration_error=row["calibration_error"],
                mean_score=row["mean_score"],
                calibration_gap=row["base_rate"] - row["mean_score"],
                calibration_gap_se=finite_or_none(row["calibration_gap_se"]),
                coverage=row["coverage"],
                coverage_bins=int(row["coverage_bins"]),
                mean_interval_width=row["mean_interval_width"],
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
    impact = outcome_ratio = opportunity = calibration = coverage = None
    if len(keep) < 2:
        notes.append(f"fewer than two groups hold {min_group_size} or more leads: no comparison")
    else:
        impact = disparate_impact(group_results, keep, resampled, confidence=confidence)
        if impact is None:
            notes.append(f"no lead of a compared group scored >= {options.threshold:g}: no ratio")
        outcome_ratio = base_rate_ratio(group_results, keep, resampled, confidence=confidence)
        opportunity = equal_opportunity(group_results, keep, resampled, confidence=confidence)
        if opportunity is None:
            notes.append("fewer than two compared groups hold converted leads: no difference")
        calibration = calibration_difference(group_results, keep, confidence=confidence)
        coverage = lowest_coverage(group_results, keep, confidence=confidence)
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
        base_rate_ratio=outcome_ratio,
        calibration=calibration,
        coverage=coverage,
        bands=bands,
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
    bands: Mapping[str, Banding] | None = None,
) -> FairnessAudit:
    """Audit calibrated scores against outcomes, one attribute per entry of ``sensitive``.

    Args:
        outcome: 0/1 outcomes of the audited leads (the holdout).
        score, lower, upper: calibrated probability and Venn-Abers bounds, one per lead.
        sensitive: attribute name -> group label per lead (never model inputs).
        protected: which of those names are protected attributes (the rest are audit segments).
        threshold: a lead is selected when ``score >= threshold`` (probability).
        min_group_size: groups with fewer leads are flagged ``small_group`` and not compared.
        resamples: bootstrap resamples per attribute (0: no bootstrap intervals; the
            calibration and coverage intervals are computed without resampling).
        seed: bootstrap seed.
        confidence: interval level.
        coverage_bin: minimum bin size for the interval coverage.
        bands: attribute name -> its banding, for attributes whose labels are bands
            (``training.fairness.bands``): their groups come in band order, and the record
            states the edges.
    """
    n = len(outcome)
    for name, arrays in {"score": score, "lower": lower, "upper": upper}.items():
        if len(arrays) != n:
            raise ValueError(f"{name} has {len(arrays)} values but outcome has {n}")
    for name, labels in sensitive.items():
        if len(labels) != n:
            raise ValueError(f"sensitive feature {name!r} has {len(labels)} values, expected {n}")
    options = AuditOptions(threshold, min_group_size, resamples, seed, confidence, coverage_bin)
    bands = bands or {}
    attributes = tuple(
        audit_attribute(
            attribute=name,
            role=PROTECTED if name in protected else SEGMENT,
            groups=np.asarray(labels, dtype=object),
            outcome=np.asarray(outcome),
            score=np.asarray(score, float),
            lower=np.asarray(lower, float),
            upper=np.asarray(upper, float),
            options=options,
            bands=bands.get(name),
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


def holdout_proxies(
    columns: Mapping[str, Any],
    holdout: np.ndarray,
    sensitive: Mapping[str, np.ndarray],
    contract: Contract,
    *,
    seed: int,
    limit: int = PROXY_ROWS,
) -> tuple[ProxyAssociation, ...]:
    """Every model input's association with every protected attribute, on a seeded sample of at
    most ``limit`` holdout leads (``training.fairness.proxy``).

    ``sensitive``: the audit's group labels, one per holdout lead (``holdout`` order).
    """
    at = sample_rows(holdout, limit=limit, seed=seed)
    rows = np.asarray(holdout)[at]
    protected = {
        f.name: np.asarray(sensitive[f.name])[at]
        for f in contract.protected_fields
        if f.name in sensitive
    }
    inputs = {
        f.name: (take_rows(columns[f.name], rows), f.kind)
        for f in contract.model_inputs
        if f.name in columns
    }
    return proxy_associations(inputs=inputs, protected=protected)


def audit_holdout(
    result: FitResult,
    columns: Mapping[str, Any],
    contract: Contract,
    settings: Settings,
    *,
    seed: int,
) -> FairnessAudit:
    """The audit of a fitted lead scorer on its holdout (selected: grade A or B at the model's
    own cut-offs, unless the settings fix them), with its inputs' proxy associations.

    Raises:
        DataValidationError: a banded attribute's column holds text that is not a number.
    """
    calibrated = result.scorer.calibrate(result.scorer.margins(result.holdout_values))
    holdout = result.splits.holdout
    bands = band_edges(contract, columns)  # quantile edges from every row, not the holdout
    sensitive = sensitive_features(columns, holdout, contract, bands)
    audit = audit_scores(
        outcome=result.holdout_outcome,
        score=calibrated.score,
        lower=calibrated.lower,
        upper=calibrated.upper,
        sensitive=sensitive,
        protected={f.name for f in contract.protected_fields},
        threshold=settings.policy.for_model(result.scorer.grade_cutoffs).cutoffs[1],
        min_group_size=settings.fairness_min_group_size,
        resamples=settings.fairness_resamples,
        seed=seed,
        bands=bands,
    )
    proxies = holdout_proxies(columns, holdout, sensitive, contract, seed=seed)
    return replace(audit, proxies=proxies)

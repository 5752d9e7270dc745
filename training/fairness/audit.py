"""The audit: every audited attribute's groups and disparities on one holdout, typed.

``audit_scores`` audits calibrated scores against outcomes, one attribute at a time
(:func:`audit_attribute`): per-group rates (``training.fairness.rates``: the values of
Fairlearn's :class:`~fairlearn.metrics.MetricFrame` ``by_group``, computed from counts at once),
bootstrap intervals (``training.fairness.bootstrap``, a multinomial draw per group and resample)
and the disparities over the groups that are not small (``training.fairness.disparity``).
``audit_holdout`` does it for a fitted lead scorer on its holdout.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import numpy as np

from candor.models.contract import Contract
from candor.models.settings import Settings
from candor.training.fairness.bootstrap import (
    CONFIDENCE,
    RESAMPLES,
    attribute_rng,
    percentile_interval,
    resample_rates,
)
from candor.training.fairness.disparity import (
    DIFFERENCE,
    RATIO,
    Disparity,
    GateRule,
    Violation,
    breach,
    disparate_impact,
    equal_opportunity,
)
from candor.training.fairness.groups import PROTECTED, SEGMENT, group_codes, sensitive_features
from candor.training.fairness.jsonsafe import finite_or_none, json_safe
from candor.training.fairness.rates import (
    COVERAGE_BIN,
    COVERAGE_Z,
    GroupMetrics,
    group_rates,
)
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

    def breaches(
        self, *, floor: float, ceiling: float, gated: bool, rule: GateRule = "ci"
    ) -> list[Violation]:
        """Disparities whose point estimate crosses its threshold (see ``FairnessAudit``)."""
        found = [
            breach(d, attribute=self.attribute, role=self.role, threshold=t, gated=gated, rule=rule)
            for d, t in ((self.disparate_impact, floor), (self.equal_opportunity, ceiling))
            if d is not None
        ]
        return [v for v in found if v is not None]

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
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

    def __getitem__(self, attribute: str) -> AttributeAudit:
        missing = f"no audited attribute {attribute!r}; audited"
        return _named(self.attributes, attribute, key=lambda a: a.attribute, missing=missing)

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
) -> AttributeAudit:
    """Audit one attribute; see :func:`audit_scores`."""
    outcome = np.asarray(outcome).astype(int)
    selected = np.asarray(score) >= options.threshold
    codes, names = group_codes(groups)
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
    impact = opportunity = None
    if len(keep) < 2:
        notes.append(f"fewer than two groups hold {min_group_size} or more leads: no comparison")
    else:
        impact = disparate_impact(group_results, keep, resampled, confidence=confidence)
        if impact is None:
            notes.append(f"no lead of a compared group scored >= {options.threshold:g}: no ratio")
        opportunity = equal_opportunity(group_results, keep, resampled, confidence=confidence)
        if opportunity is None:
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
    options = AuditOptions(threshold, min_group_size, resamples, seed, confidence, coverage_bin)
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


def audit_holdout(
    result: FitResult,
    columns: Mapping[str, Any],
    contract: Contract,
    settings: Settings,
    *,
    seed: int,
) -> FairnessAudit:
    """The audit of a fitted lead scorer on its holdout (selected: grade A or B)."""
    calibrated = result.scorer.calibrate(result.scorer.margins(result.holdout_values))
    return audit_scores(
        outcome=result.holdout_outcome,
        score=calibrated.score,
        lower=calibrated.lower,
        upper=calibrated.upper,
        sensitive=sensitive_features(columns, result.splits.holdout, contract),
        protected={f.name for f in contract.protected_fields},
        threshold=settings.policy.grade_cutoffs[1],
        min_group_size=settings.fairness_min_group_size,
        resamples=settings.fairness_resamples,
        seed=seed,
    )

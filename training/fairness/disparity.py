"""An attribute's disparities over its compared groups, and the thresholds they cross.

disparate_impact_ratio: lowest selection rate / highest (Fairlearn's
    ``demographic_parity_ratio`` on those groups); 1 is parity, the "four-fifths rule" asks for at
    least 0.8.
base_rate_ratio: lowest conversion rate / highest, the same ratio of the outcome itself: what
    the data shows before any model. A model that selects exactly the leads that convert has
    this disparate-impact ratio; where the groups' own rates differ fivefold no useful model
    reaches 0.8, so the ratio is reported beside it, never gated.
equal_opportunity_difference: highest true-positive rate minus lowest (Fairlearn's
    ``equal_opportunity_difference``): how much more often converters of one group are selected
    than converters of another.
calibration_difference: highest minus lowest calibration gap (a group's conversion rate minus
    its mean calibrated score, ``training.fairness.rates``): how much more one group's scores
    understate its conversions than another's. A score should mean the same for every group
    (calibration within groups); a model that scores one group down at equal outcome shows
    here, whatever the groups' base rates. Its ``disadvantaged`` group is the most under-scored.
lowest_group_coverage: the lowest share of a group's score bins that its Venn-Abers interval
    covers (``training.fairness.rates``), naming that group and the best-covered one.

The ratios and differences are those between the two groups the point estimate names (lowest
and highest rate), and their interval is that of the same two groups' ratio or difference over
the same bootstrap resamples: "rural's selection rate is 0.61 times suburban's (95% CI 0.45 to
0.80)". (Re-choosing the extreme groups in every resample would bias the interval: the minimum
over the maximum of noisy rates is biased low, more so once resampled.) Picking the extreme pair
among many groups still flatters the disparity a little, the more the more groups there are;
the bootstrap intervals do not correct for that. The two that gate by default do: the
calibration difference's interval is the normal one, ``value +- z * sqrt(se_a**2 + se_b**2)``
from the two groups' standard errors, and the lowest coverage's is the exact (Clopper-Pearson)
interval of its covered bins out of its bins, each at the Bonferroni level for the comparisons
its extreme was picked from (``1 - 0.05 / m``: ``m = k(k - 1)/2`` pairs of ``k`` groups for the
calibration difference, ``m = k`` groups for the coverage), so that five age bands of a hundred
leads each do not block a calibrated model by the luck of the extreme pair. ``confidence`` says
the level of each interval. Both are computed without resampling, so they exist when
``resamples`` is 0.

A disparity beyond its threshold is a breach. Under the default rule ``"ci"`` it is conclusive
only when its whole 95% interval lies beyond the threshold too: the holdout then gives clear
evidence of the disparity; otherwise it is "inconclusive", reported but not blocking. Rule
``"point"`` counts the point estimate alone (for large holdouts). Whether a conclusive breach
blocks promotion depends on whether its attribute and its metric are gated
(``training.fairness.thresholds``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from scipy.stats import beta

from candor.training.fairness.bootstrap import (
    CONFIDENCE,
    Interval,
    ResampledRates,
    percentile_interval,
)
from candor.training.fairness.jsonsafe import json_safe
from candor.training.fairness.rates import GroupMetrics

RATIO = "disparate_impact_ratio"
BASE_RATE_RATIO = "base_rate_ratio"
DIFFERENCE = "equal_opportunity_difference"
CALIBRATION = "calibration_difference"
COVERAGE = "lowest_group_coverage"
FLOORED = frozenset({RATIO, COVERAGE})  # the lower, the worse: a floor; the rest a ceiling

GateRule = Literal["ci", "point"]


@dataclass(frozen=True)
class Disparity:
    """An attribute's ratio or difference, between the two groups the point estimate names.

    ``disadvantaged`` has the lowest rate (the highest calibration gap: the most under-scored;
    the lowest coverage) and ``advantaged`` the other end. ``ci`` is the interval of the same
    statistic between the same two groups (see the module docstring); a ratio's interval may
    exceed 1 and a difference's may fall below 0 (the two may be the other way round).
    """

    metric: str  # RATIO, BASE_RATE_RATIO, DIFFERENCE, CALIBRATION or COVERAGE
    value: float
    ci: Interval | None
    disadvantaged: str
    advantaged: str
    confidence: float = CONFIDENCE  # the level of ``ci`` (above 0.95 where Bonferroni-adjusted)

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))


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
    metric_gated: bool = True  # the metric is one the gate counts (``fairness_gate_metrics``)
    note: str = ""  # what puts the value in context (the outcome's own ratio, for a ratio)
    confidence: float = CONFIDENCE  # the level of ``ci``

    @property
    def blocks(self) -> bool:
        """Whether it blocks promotion: conclusive, of a gated attribute and a gated metric."""
        return self.conclusive and self.gated and self.metric_gated

    def describe(self) -> str:
        side = "below the floor" if self.metric in FLOORED else "above the ceiling"
        level = f"{100 * self.confidence:.4g}%"
        ci = f"; {level} CI {self.ci[0]:.3f} to {self.ci[1]:.3f}" if self.ci else ""
        pair = (
            f"{self.disadvantaged}; highest {self.advantaged}"
            if self.metric == COVERAGE
            else f"{self.disadvantaged} vs {self.advantaged}"
        )
        note = f"; {self.note}" if self.note else ""
        return (
            f"{self.attribute}: {self.metric} {self.value:.3f} ({pair}{ci}) is {side} "
            f"{self.threshold:g}{note}"
        )

    def to_dict(self) -> dict[str, Any]:
        return json_safe({**asdict(self), "blocks": self.blocks, "description": self.describe()})


def _ratio(
    metric: str,
    groups: Sequence[GroupMetrics],
    compared: Sequence[int],
    rate: Callable[[GroupMetrics], float],
    resampled: np.ndarray,
    confidence: float,
) -> Disparity | None:
    # stable order: ties keep the group order
    by_rate = sorted(compared, key=lambda j: rate(groups[j]))
    low, high = by_rate[0], by_rate[-1]
    if rate(groups[high]) <= 0:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = resampled[:, low] / resampled[:, high]
    return Disparity(
        metric,
        rate(groups[low]) / rate(groups[high]),
        percentile_interval(ratios, confidence=confidence),
        groups[low].group,
        groups[high].group,
    )


def disparate_impact(
    groups: Sequence[GroupMetrics],
    compared: Sequence[int],
    resampled: ResampledRates,
    *,
    confidence: float,
) -> Disparity | None:
    """Lowest over highest selection rate of the ``compared`` groups (indices into ``groups``).

    None when no compared group was selected at all: there is no ratio.
    """
    return _ratio(
        RATIO, groups, compared, lambda g: g.selection_rate, resampled.selection, confidence
    )


def base_rate_ratio(
    groups: Sequence[GroupMetrics],
    compared: Sequence[int],
    resampled: ResampledRates,
    *,
    confidence: float,
) -> Disparity | None:
    """Lowest over highest conversion rate of the ``compared`` groups: the data's own ratio.

    None when no compared group converted at all.
    """
    return _ratio(
        BASE_RATE_RATIO, groups, compared, lambda g: g.base_rate, resampled.base_rate, confidence
    )


def equal_opportunity(
    groups: Sequence[GroupMetrics],
    compared: Sequence[int],
    resampled: ResampledRates,
    *,
    confidence: float,
) -> Disparity | None:
    """Highest minus lowest true-positive rate of the ``compared`` groups that hold converters.

    None when fewer than two of them do.
    """
    rates = {j: groups[j].true_positive_rate for j in compared}
    with_positives = {j: r for j, r in rates.items() if r is not None}
    if len(with_positives) < 2:
        return None
    by_tpr = sorted(with_positives, key=lambda j: with_positives[j])
    low, high = by_tpr[0], by_tpr[-1]
    differences = resampled.true_positive[:, high] - resampled.true_positive[:, low]
    return Disparity(
        DIFFERENCE,
        with_positives[high] - with_positives[low],
        percentile_interval(differences, confidence=confidence),
        groups[low].group,
        groups[high].group,
    )


def calibration_difference(
    groups: Sequence[GroupMetrics], compared: Sequence[int], *, confidence: float
) -> Disparity | None:
    """Highest minus lowest calibration gap of the ``compared`` groups, with its normal interval
    at the Bonferroni level for the pairs it was picked from.

    None when fewer than two of them have a standard error (two leads or more).
    """
    se = {j: groups[j].calibration_gap_se for j in compared}
    usable = [j for j in compared if se[j] is not None and math.isfinite(groups[j].calibration_gap)]
    if len(usable) < 2:
        return None
    by_gap = sorted(usable, key=lambda j: groups[j].calibration_gap)
    low, high = by_gap[0], by_gap[-1]
    value = groups[high].calibration_gap - groups[low].calibration_gap
    spread = math.hypot(float(se[high] or 0.0), float(se[low] or 0.0))
    level = bonferroni(confidence, len(usable) * (len(usable) - 1) // 2)
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    return Disparity(
        CALIBRATION,
        value,
        (value - z * spread, value + z * spread),
        groups[high].group,
        groups[low].group,
        level,
    )


def bonferroni(confidence: float, comparisons: int) -> float:
    """The level at which ``comparisons`` intervals hold together at ``confidence``."""
    return 1.0 - (1.0 - confidence) / max(1, comparisons)


def covered_interval(covered: int, bins: int, *, confidence: float) -> Interval:
    """The exact (Clopper-Pearson) interval of a share of ``covered`` bins out of ``bins``."""
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if covered == 0 else float(beta.ppf(tail, covered, bins - covered + 1))
    high = 1.0 if covered == bins else float(beta.ppf(1.0 - tail, covered + 1, bins - covered))
    return low, high


def lowest_coverage(
    groups: Sequence[GroupMetrics], compared: Sequence[int], *, confidence: float
) -> Disparity | None:
    """The lowest interval coverage of the ``compared`` groups, naming it and the highest; its
    exact interval at the Bonferroni level for the groups it was picked from.

    None when no compared group has a coverage (no leads).
    """
    usable = [j for j in compared if math.isfinite(groups[j].coverage)]
    if not usable:
        return None
    by_coverage = sorted(usable, key=lambda j: groups[j].coverage)
    low, high = by_coverage[0], by_coverage[-1]
    bins = groups[low].coverage_bins
    covered = round(groups[low].coverage * bins)
    level = bonferroni(confidence, len(usable))
    return Disparity(
        COVERAGE,
        groups[low].coverage,
        covered_interval(covered, bins, confidence=level),
        groups[low].group,
        groups[high].group,
        level,
    )


def breach(
    d: Disparity,
    *,
    attribute: str,
    role: str,
    threshold: float,
    gated: bool,
    metric_gated: bool = True,
    rule: GateRule = "ci",
    note: str = "",
) -> Violation | None:
    """The violation when ``d``'s point estimate crosses ``threshold`` (a floor for the metrics
    in :data:`FLOORED`, else a ceiling); None when it does not."""
    below = d.metric in FLOORED
    if not (d.value < threshold if below else d.value > threshold):
        return None
    conclusive = (
        rule == "point" or d.ci is None or (d.ci[1] < threshold if below else d.ci[0] > threshold)
    )
    return Violation(
        attribute,
        role,
        d.metric,
        d.value,
        threshold,
        d.ci,
        d.disadvantaged,
        d.advantaged,
        conclusive,
        gated,
        metric_gated,
        note,
        d.confidence,
    )

"""An attribute's disparities over its compared groups, and the thresholds they cross.

disparate_impact_ratio: lowest selection rate / highest (Fairlearn's
    ``demographic_parity_ratio`` on those groups); 1 is parity, the "four-fifths rule" asks for at
    least 0.8.
equal_opportunity_difference: highest true-positive rate minus lowest (Fairlearn's
    ``equal_opportunity_difference``): how much more often converters of one group are selected
    than converters of another.

The ratio and the difference are those between the two groups the point estimate names (lowest
and highest rate), and their interval is that of the same two groups' ratio or difference over
the same bootstrap resamples: "rural's selection rate is 0.61 times suburban's (95% CI 0.45 to
0.80)". (Re-choosing the extreme groups in every resample would bias the interval: the minimum
over the maximum of noisy rates is biased low, more so once resampled.) Picking the extreme pair
among many groups still flatters the disparity a little, the more the more groups there are;
the interval does not correct for that.

A disparity beyond its threshold is a breach. Under the default rule ``"ci"`` it is conclusive
only when its whole 95% interval lies beyond the threshold too: the holdout then gives clear
evidence of the disparity; otherwise it is "inconclusive", reported but not blocking. Rule
``"point"`` counts the point estimate alone (for large holdouts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from candor.training.fairness.bootstrap import Interval, ResampledRates, percentile_interval
from candor.training.fairness.jsonsafe import json_safe
from candor.training.fairness.rates import GroupMetrics

RATIO = "disparate_impact_ratio"
DIFFERENCE = "equal_opportunity_difference"

GateRule = Literal["ci", "point"]


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

    def describe(self) -> str:
        side = "below the floor" if self.metric == RATIO else "above the ceiling"
        ci = f"; 95% CI {self.ci[0]:.3f} to {self.ci[1]:.3f}" if self.ci else ""
        return (
            f"{self.attribute}: {self.metric} {self.value:.3f} ({self.disadvantaged} vs "
            f"{self.advantaged}{ci}) is {side} {self.threshold:g}"
        )

    def to_dict(self) -> dict[str, Any]:
        return json_safe({**asdict(self), "description": self.describe()})


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
    # stable order: ties keep the group order
    by_rate = sorted(compared, key=lambda j: groups[j].selection_rate)
    low, high = by_rate[0], by_rate[-1]
    if groups[high].selection_rate <= 0:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = resampled.selection[:, low] / resampled.selection[:, high]
    return Disparity(
        RATIO,
        groups[low].selection_rate / groups[high].selection_rate,
        percentile_interval(ratios, confidence=confidence),
        groups[low].group,
        groups[high].group,
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


def breach(
    d: Disparity,
    *,
    attribute: str,
    role: str,
    threshold: float,
    gated: bool,
    rule: GateRule = "ci",
) -> Violation | None:
    """The violation when ``d``'s point estimate crosses ``threshold`` (a ratio's floor, a
    difference's ceiling); None when it does not."""
    below = d.metric == RATIO
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
    )

"""What the fairness gate holds a model to: a threshold per disparity, which disparities gate,
which audit segments gate besides the protected attributes, and the rule.

Why calibration and coverage gate by default, and the selection-rate ratio and the
equal-opportunity difference do not: where the groups' own conversion rates differ (39% against
8%), a model that ranks leads well selects the groups at different rates, because their
converters are where its scores are high. The disparate-impact ratio of a perfect model is the
data's own ratio of base rates (reported beside it), and a well-calibrated, honest model's
converters in the low-rate group sit lower in its scores, so its equal-opportunity difference
is large too (a calibrated model on such data shows 0.3 or more at a single cut-off; calibration
and equal true-positive rates cannot both hold when base rates differ, Kleinberg et al. 2016,
Pleiss et al. 2017). Gating on either blocks every model the data allows, and the gate then
means nothing. What any model can be held to whatever the base rates is that its scores mean
the same for every group (calibration within groups: ``calibration_difference``) and that its
intervals hold for every group (``lowest_group_coverage``). Both ratios and the
equal-opportunity difference are still computed, reported and warned about, and
``fairness_gate_metrics`` can gate on them (``disparate_impact``, ``equal_opportunity``) where
base rates are equal or the user decides they must be met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from candor.models.settings import FairnessMetric, Settings
from candor.training.fairness.disparity import CALIBRATION, COVERAGE, DIFFERENCE, RATIO, GateRule

GATE_METRICS: tuple[FairnessMetric, ...] = get_args(FairnessMetric)
METRIC_KEYS: dict[FairnessMetric, str] = {
    "disparate_impact": RATIO,
    "equal_opportunity": DIFFERENCE,
    "calibration": CALIBRATION,
    "coverage": COVERAGE,
}
DEFAULT_GATE_METRICS: tuple[FairnessMetric, ...] = ("calibration", "coverage")


@dataclass(frozen=True)
class GateSettings:
    """Thresholds, gated metrics and rule of the gate; ``gated``: audit segments gated besides
    the protected attributes. The defaults are :class:`~candor.models.settings.Settings`'."""

    floor: float = 0.8  # lowest acceptable disparate-impact ratio
    ceiling: float = 0.1  # highest acceptable equal-opportunity difference
    calibration_ceiling: float = 0.05  # highest acceptable calibration difference
    coverage_floor: float = 0.8  # lowest acceptable group coverage
    gated: tuple[str, ...] = ()
    rule: GateRule = "ci"
    metrics: tuple[FairnessMetric, ...] = DEFAULT_GATE_METRICS  # the metrics that gate
    proxy_threshold: float = 0.3  # bias-corrected Cramer's V that flags a proxy

    @classmethod
    def from_settings(cls, settings: Settings) -> GateSettings:
        return cls(
            floor=settings.fairness_ratio_floor,
            ceiling=settings.fairness_difference_ceiling,
            calibration_ceiling=settings.fairness_calibration_ceiling,
            coverage_floor=settings.fairness_coverage_floor,
            gated=tuple(settings.fairness_gated),
            rule=settings.fairness_gate_rule,
            metrics=tuple(dict.fromkeys(settings.fairness_gate_metrics)),
            proxy_threshold=settings.fairness_proxy_threshold,
        )

    @property
    def thresholds(self) -> dict[str, float]:
        """Each gateable disparity's threshold, by its key (``disparate_impact_ratio``...)."""
        return {
            RATIO: self.floor,
            DIFFERENCE: self.ceiling,
            CALIBRATION: self.calibration_ceiling,
            COVERAGE: self.coverage_floor,
        }

    @property
    def gated_keys(self) -> frozenset[str]:
        """The keys of the disparities that gate."""
        return frozenset(METRIC_KEYS[m] for m in self.metrics)

    @property
    def reported_only(self) -> tuple[FairnessMetric, ...]:
        return tuple(m for m in GATE_METRICS if m not in self.metrics)

    def statement(self) -> str:
        """The rule in one line, for audit.json and the model card."""
        only = ", ".join(self.reported_only) or "none"
        return f"gated on: {', '.join(self.metrics)}; reported only: {only}; rule {self.rule}"

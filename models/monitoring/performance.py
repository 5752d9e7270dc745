"""Real-world accuracy: ROC-AUC, Brier score and calibration by grade, each with a 95% interval.

Pure functions of arrays: ``score`` is the calibrated probability of conversion, ``outcome``
whether the lead converted (0/1), ``grades`` the letter each score was given. The same
functions give the holdout figures stored with a model at training and the figures of a window
of recorded outcomes, so the two can be set side by side.

Methods (stated again in every answer, :data:`DEFINITIONS`):

- ROC-AUC: the point estimate is scikit-learn's ``roc_auc_score``; its variance is DeLong's
  (DeLong, DeLong and Clarke-Pearson 1988), computed with the fast midrank algorithm of Sun and
  Xu (2014). The 95% interval is AUC +- z * sqrt(variance) (z = 1.95996), clipped to [0, 1].
  Undefined with only one class; the interval needs at least two of each class.
- Brier score: the mean squared error of the score against the outcome (scikit-learn's
  ``brier_score_loss``); 95% interval mean +- z * sd / sqrt(n), sd the standard deviation of
  the squared errors (n - 1), clipped to [0, 1]: a normal approximation.
- Calibration by grade: per grade, the observed conversion rate with its 95% Wilson interval
  (``models.intervals``) against the grade's mean score.

A group with fewer than ``min_outcomes`` scores with an outcome is ``too_small``: its counts are
given, never its figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import brier_score_loss, roc_auc_score

from candor.models.intervals import Z_95, wilson_interval
from candor.models.policy import GRADES, ScoringPolicy, grade_indices

OK = "ok"
TOO_SMALL = "too_small"

DEFINITIONS = {
    "roc_auc": "probability that a converted lead was scored above one that did not (ties "
    "count half); 95% interval by DeLong's method (fast midrank algorithm of Sun and Xu, "
    "2014): AUC +- 1.96 x its standard error, clipped to [0, 1]; undefined with one class",
    "brier": "mean of (score - outcome)^2, score a probability, outcome 0 or 1 (lower is "
    "better); 95% interval mean +- 1.96 x sd / sqrt(n) (sd of the squared errors, n - 1), "
    "clipped to [0, 1]: a normal approximation",
    "calibration": "per grade: the observed conversion rate with its 95% Wilson interval, "
    "against the grade's mean score (probability); alert when the mean score lies outside "
    "that interval",
    "alert": "ROC-AUC and Brier: the holdout figure of a model version that made the group's "
    "scores lies outside the group's 95% interval; null when it cannot be judged (too small, "
    "one class, or no holdout figure stored)",
    "too_small": "fewer scores with an outcome than min_outcomes: counts only, no figures",
}


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95% interval; ``value`` or the interval None where undefined, with the
    ``reason``. ``standard_error`` is on the figure's own scale (AUC, or Brier score)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    standard_error: float | None = None
    reason: str | None = None

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.low is None or self.high is None:
            return None
        return (self.low, self.high)

    def to_dict(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "value": self.value,
            "ci": None if interval is None else list(interval),
            "standard_error": self.standard_error,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Estimate:
        ci = raw.get("ci")
        low, high = (None, None) if ci is None else (float(ci[0]), float(ci[1]))
        return cls(
            value=_optional_float(raw.get("value")),
            low=low,
            high=high,
            standard_error=_optional_float(raw.get("standard_error")),
            reason=raw.get("reason"),
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def _normal_interval(value: float, standard_error: float) -> tuple[float, float]:
    return _clip(value - Z_95 * standard_error), _clip(value + Z_95 * standard_error)


def _arrays(score: Any, outcome: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(score, dtype=np.float64).reshape(-1)
    y = np.asarray(outcome).reshape(-1).astype(bool)
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores for {y.size} outcomes")
    return s, y


def delong_components(score: Any, outcome: Any) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components by midranks (Sun and Xu 2014, one model).

    ``V10[i]`` is the share of non-converted leads that converted lead i outscores (ties half),
    ``V01[j]`` the share of converted leads that outscore non-converted lead j; the AUC is the
    mean of either. With ``Tx``, ``Ty`` the midranks within each class and ``Tz`` those of all
    scores together: ``V10 = (Tz[x] - Tx) / n`` and ``V01 = 1 - (Tz[y] - Ty) / m``.
    """
    s, y = _arrays(score, outcome)
    positives, negatives = s[y], s[~y]
    m, n = positives.size, negatives.size
    tz = rankdata(np.concatenate([positives, negatives]), method="average")
    tx = rankdata(positives, method="average")
    ty = rankdata(negatives, method="average")
    return (tz[:m] - tx) / n, 1.0 - (tz[m:] - ty) / m


def delong_auc(score: Any, outcome: Any) -> Estimate:
    """ROC-AUC with its 95% interval by DeLong's variance ``S10 / m + S01 / n``."""
    s, y = _arrays(score, outcome)
    m = int(y.sum())
    n = y.size - m
    if m == 0 or n == 0:
        only = "converted" if n == 0 else "not converted"
        return Estimate(None, reason=f"undefined: every lead with an outcome {only}")
    value = float(roc_auc_score(y, s))
    if m < 2 or n < 2:
        return Estimate(
            value,
            reason="DeLong's variance needs at least 2 converted and 2 non-converted leads",
        )
    v10, v01 = delong_components(s, y)
    variance = float(v10.var(ddof=1) / m + v01.var(ddof=1) / n)
    standard_error = math.sqrt(max(variance, 0.0))
    low, high = _normal_interval(value, standard_error)
    return Estimate(value, low, high, standard_error)


def brier(score: Any, outcome: Any) -> Estimate:
    """Brier score with its 95% interval: mean +- z * sd / sqrt(n), clipped to [0, 1]."""
    s, y = _arrays(score, outcome)
    if s.size == 0:
        return Estimate(None, reason="no scores")
    value = float(brier_score_loss(y.astype(int), s))
    if s.size < 2:
        return Estimate(value, reason="an interval needs at least 2 scores")
    squared = (s - y) ** 2
    standard_error = float(squared.std(ddof=1)) / math.sqrt(s.size)
    low, high = _normal_interval(value, standard_error)
    return Estimate(value, low, high, standard_error)


def outside(value: float | None, estimate: Estimate | None) -> bool | None:
    """Whether ``value`` lies outside the estimate's interval; None when either is missing."""
    if value is None or estimate is None or estimate.interval is None:
        return None
    low, high = estimate.interval
    return not low <= value <= high


@dataclass(frozen=True)
class GradeCalibration:
    """One grade: counts always; the figures only when the grade is not too small."""

    grade: str
    count: int
    converted: int
    status: str
    mean_score: float | None = None
    observed_rate: float | None = None
    observed_low: float | None = None
    observed_high: float | None = None

    @property
    def observed_interval(self) -> tuple[float, float] | None:
        if self.observed_low is None or self.observed_high is None:
            return None
        return (self.observed_low, self.observed_high)

    @property
    def alert(self) -> bool | None:
        """The mean score outside the observed rate's Wilson interval (None: too small)."""
        interval = self.observed_interval
        if self.mean_score is None or interval is None:
            return None
        return not interval[0] <= self.mean_score <= interval[1]

    def to_dict(self) -> dict[str, Any]:
        interval = self.observed_interval
        return {
            "grade": self.grade,
            "count": self.count,
            "converted": self.converted,
            "status": self.status,
            "mean_score": self.mean_score,
            "observed_rate": self.observed_rate,
            "observed_rate_ci": None if interval is None else list(interval),
            "alert": self.alert,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> GradeCalibration:
        ci = raw.get("observed_rate_ci")
        return cls(
            grade=str(raw["grade"]),
            count=int(raw["count"]),
            converted=int(raw["converted"]),
            status=str(raw["status"]),
            mean_score=_optional_float(raw.get("mean_score")),
            observed_rate=_optional_float(raw.get("observed_rate")),
            observed_low=None if ci is None else float(ci[0]),
            observed_high=None if ci is None else float(ci[1]),
        )


def grade_calibration(
    grade: str, score: np.ndarray, outcome: np.ndarray, *, min_outcomes: int
) -> GradeCalibration:
    """Observed rate (Wilson 95%) against the mean score of one grade's leads."""
    count, converted = int(score.size), int(outcome.sum())
    if count < min_outcomes:
        return GradeCalibration(grade, count, converted, TOO_SMALL)
    interval = wilson_interval(converted, count)
    assert interval is not None  # count >= min_outcomes >= 1
    return GradeCalibration(
        grade,
        count,
        converted,
        OK,
        mean_score=math.fsum(score.tolist()) / count,
        observed_rate=converted / count,
        observed_low=interval[0],
        observed_high=interval[1],
    )


@dataclass(frozen=True)
class Figures:
    """ROC-AUC, Brier score and calibration by grade of one group of scores with outcomes."""

    status: str
    count: int
    converted: int
    roc_auc: Estimate | None
    brier: Estimate | None
    calibration: tuple[GradeCalibration, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "count": self.count,
            "converted": self.converted,
            "roc_auc": None if self.roc_auc is None else self.roc_auc.to_dict(),
            "brier": None if self.brier is None else self.brier.to_dict(),
            "calibration": [g.to_dict() for g in self.calibration],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Figures:
        return cls(
            status=str(raw["status"]),
            count=int(raw["count"]),
            converted=int(raw["converted"]),
            roc_auc=None if raw.get("roc_auc") is None else Estimate.from_dict(raw["roc_auc"]),
            brier=None if raw.get("brier") is None else Estimate.from_dict(raw["brier"]),
            calibration=tuple(GradeCalibration.from_dict(g) for g in raw["calibration"]),
        )

    def grade(self, letter: str) -> GradeCalibration | None:
        return next((g for g in self.calibration if g.grade == letter), None)


def performance_figures(
    *, score: Any, outcome: Any, grades: Sequence[str], min_outcomes: int
) -> Figures:
    """The figures of one group; ``too_small`` (counts only) below ``min_outcomes`` scores."""
    if min_outcomes < 1:
        raise ValueError(f"min_outcomes must be at least 1, got {min_outcomes}")
    s, y = _arrays(score, outcome)
    letters = np.asarray(list(grades), dtype=object)
    if letters.size != s.size:
        raise ValueError(f"{letters.size} grades for {s.size} scores")
    calibration = tuple(
        grade_calibration(g, s[letters == g], y[letters == g], min_outcomes=min_outcomes)
        for g in GRADES
    )
    count, converted = int(s.size), int(y.sum())
    if count < min_outcomes:
        return Figures(TOO_SMALL, count, converted, None, None, calibration)
    return Figures(OK, count, converted, delong_auc(s, y), brier(s, y), calibration)


@dataclass(frozen=True)
class HoldoutPerformance:
    """The figures of a model's holdout at training, kept with the model (``scorer.json``)."""

    cutoffs: tuple[float, float, float]
    min_outcomes: int
    figures: Figures

    @property
    def n(self) -> int:
        return self.figures.count

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "cutoffs": list(self.cutoffs),
            "min_outcomes": self.min_outcomes,
            "figures": self.figures.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> HoldoutPerformance:
        a, b, c = (float(x) for x in raw["cutoffs"])
        return cls((a, b, c), int(raw["min_outcomes"]), Figures.from_dict(raw["figures"]))


def holdout_performance(
    *,
    score: Any,
    outcome: Any,
    cutoffs: Sequence[float],
    min_outcomes: int,
) -> HoldoutPerformance:
    """The holdout's figures, its leads graded by the cut-offs chosen at training (the policy's
    own mapping, ``models.policy.grade_indices``)."""
    a, b, c = (float(x) for x in cutoffs)
    s = np.asarray(score, dtype=np.float64)
    letters = [GRADES[i] for i in grade_indices(s, ScoringPolicy(grade_cutoffs=(a, b, c)))]
    figures = performance_figures(
        score=s, outcome=outcome, grades=letters, min_outcomes=min_outcomes
    )
    return HoldoutPerformance((a, b, c), min_outcomes, figures)


@dataclass(frozen=True)
class HoldoutCheck:
    """One model version's holdout figure beside a window's interval."""

    model: str  # name@version
    value: float | None  # None: that version's holdout figure is not known
    alert: bool | None  # the holdout figure outside the window's interval; None: not judged

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "value": self.value, "alert": self.alert}


def holdout_checks(
    estimate: Estimate | None, holdout: Mapping[str, float | None]
) -> tuple[HoldoutCheck, ...]:
    """Each version's holdout figure (``holdout``: name@version -> figure) against the window's
    interval: the version's figure lying outside it is an alert."""
    return tuple(HoldoutCheck(m, v, outside(v, estimate)) for m, v in holdout.items())


def any_alert(flags: Sequence[bool | None]) -> bool | None:
    """True when any flag is, False when every judged one is not, None when none was judged."""
    judged = [f for f in flags if f is not None]
    return any(judged) if judged else None

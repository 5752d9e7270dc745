"""Grades, confidence levels and human-review rules: pure functions of a score and its context.

All thresholds live in :class:`ScoringPolicy` (built from the service settings), so that a
reviewer can read in one place why a score was flagged. Review codes are stable strings that
clients may rely on. The rules for sales forecasts (:class:`ForecastPolicy`,
:func:`review_forecast`) follow at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

GRADES = ("A", "B", "C", "D")


class ReviewCode(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    OUT_OF_DISTRIBUTION = "out_of_distribution"
    NEAR_GRADE_BOUNDARY = "near_grade_boundary"
    RANDOM_AUDIT = "random_audit"


class ConfidenceLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class ScoringPolicy:
    """Thresholds, all on the probability scale unless stated.

    Attributes:
        grade_cutoffs: lower bounds of grades A, B and C (descending); below the last is D.
            ``None`` (the default): the cut-offs the model was trained with, chosen from its
            holdout (``training.grading``); set (``CANDOR_POLICY__GRADE_CUTOFFS``) they
            override every model's. :meth:`for_model` resolves them.
        high_confidence_width: an interval at most this wide is "high" confidence.
        medium_confidence_width: at most this wide is "medium"; wider is "low" (flagged).
        boundary_margin: a score within this distance of a cut-off is "near_grade_boundary".
        max_missing_share: more than this share of inputs missing is out of distribution.
        random_audit_share: share of all scores sent to review at random (unbiased error rates).
    """

    grade_cutoffs: tuple[float, float, float] | None = None
    high_confidence_width: float = 0.10
    medium_confidence_width: float = 0.20
    boundary_margin: float = 0.02
    max_missing_share: float = 0.30
    random_audit_share: float = 0.02

    def __post_init__(self) -> None:
        cuts = self.grade_cutoffs
        if cuts is not None and (
            len(cuts) != 3
            or not all(0.0 < c < 1.0 for c in cuts)
            or list(cuts) != sorted(cuts, reverse=True)
        ):
            raise ValueError(f"grade_cutoffs must be 3 descending probabilities, got {cuts}")
        if not 0.0 <= self.random_audit_share <= 1.0:
            raise ValueError(f"random_audit_share must be in [0, 1], got {self.random_audit_share}")
        if not 0.0 <= self.boundary_margin < 0.5:
            raise ValueError(f"boundary_margin must be in [0, 0.5), got {self.boundary_margin}")
        if not 0.0 <= self.max_missing_share <= 1.0:
            raise ValueError(f"max_missing_share must be in [0, 1], got {self.max_missing_share}")
        if not 0.0 < self.high_confidence_width <= self.medium_confidence_width:
            raise ValueError("need 0 < high_confidence_width <= medium_confidence_width")

    @property
    def cutoffs(self) -> tuple[float, float, float]:
        """The grade cut-offs in force: the resolved ones, else the fixed defaults (a model
        trained before cut-offs were chosen from the holdout)."""
        return self.grade_cutoffs if self.grade_cutoffs is not None else DEFAULT_GRADE_CUTOFFS

    @property
    def overrides_grades(self) -> bool:
        """Whether the settings fix the cut-offs for every model."""
        return self.grade_cutoffs is not None

    def for_model(self, model_cutoffs: Sequence[float] | None) -> ScoringPolicy:
        """This policy with the grade cut-offs a model was trained with, unless the settings
        fix them (then they win; the model card says which are in force)."""
        if self.grade_cutoffs is not None or model_cutoffs is None:
            return self
        a, b, c = (float(x) for x in model_cutoffs)
        return replace(self, grade_cutoffs=(a, b, c))


# lower bounds of grades A, B and C for a model that stores none (trained before the cut-offs
# were chosen from the holdout)
DEFAULT_GRADE_CUTOFFS = (0.6, 0.4, 0.2)


DEFAULT_GRADE_SHARES = (0.10, 0.30, 0.60)  # top shares of a holdout graded A, A-B and A-C


def check_grade_shares(shares: Sequence[float]) -> tuple[float, float, float]:
    """Three strictly ascending shares in (0, 1), else a ValueError that says so."""
    if len(shares) != 3 or not all(0.0 < s < 1.0 for s in shares):
        raise ValueError(f"grade shares must be 3 shares in (0, 1), got {list(shares)}")
    a, b, c = (float(s) for s in shares)
    if not a < b < c:
        raise ValueError(f"grade shares must be ascending (A, A-B, A-C), got {list(shares)}")
    return (a, b, c)


@dataclass(frozen=True)
class Review:
    required: bool
    reasons: tuple[str, ...]


# The rules are written once, for arrays of scores (the scoring core's batches); the functions
# of one score below are their one-lead case.

LEVELS = (ConfidenceLevel.HIGH, ConfidenceLevel.MEDIUM, ConfidenceLevel.LOW)
# review codes in the order review() gives them: bit b of review_bits() is CODE_ORDER[b]
CODE_ORDER = (
    ReviewCode.LOW_CONFIDENCE,
    ReviewCode.OUT_OF_DISTRIBUTION,
    ReviewCode.NEAR_GRADE_BOUNDARY,
    ReviewCode.RANDOM_AUDIT,
)


def grade_indices(score: np.ndarray, policy: ScoringPolicy) -> np.ndarray:
    """Position in GRADES of each score: the first grade whose cut-off the score reaches."""
    cuts = np.asarray(policy.cutoffs, dtype=np.float64)
    return (np.asarray(score, dtype=np.float64)[:, None] < cuts[None, :]).sum(axis=1)


def confidence_indices(lower: np.ndarray, upper: np.ndarray, policy: ScoringPolicy) -> np.ndarray:
    """Position in LEVELS of each interval's confidence (by its width)."""
    width = np.asarray(upper, dtype=np.float64) - np.asarray(lower, dtype=np.float64)
    return np.where(
        width <= policy.high_confidence_width,
        0,
        np.where(width <= policy.medium_confidence_width, 1, 2),
    )


def review_bits(
    *,
    score: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    out_of_distribution: np.ndarray,
    score_ids: Sequence[str],
    policy: ScoringPolicy,
) -> np.ndarray:
    """Per score, an integer whose bit b is set where review code CODE_ORDER[b] applies."""
    score = np.asarray(score, dtype=np.float64)
    cuts = np.asarray(policy.cutoffs, dtype=np.float64)
    low = confidence_indices(lower, upper, policy) == 2
    near = (np.abs(score[:, None] - cuts[None, :]) < policy.boundary_margin).any(axis=1)
    drawn = np.fromiter(
        (audit_draw(s) < policy.random_audit_share for s in score_ids),
        dtype=bool,
        count=len(score_ids),
    )
    bits = (low, np.asarray(out_of_distribution, dtype=bool), near, drawn)
    out = np.zeros(len(score), dtype=np.int64)
    for b, flag in enumerate(bits):
        out |= flag.astype(np.int64) << b
    return out


def review_codes(bits: int) -> tuple[str, ...]:
    """The stable codes of one score's review bits, in CODE_ORDER."""
    return tuple(str(code) for b, code in enumerate(CODE_ORDER) if bits >> b & 1)


def grade(score: float, policy: ScoringPolicy) -> str:
    return GRADES[int(grade_indices(np.array([score]), policy)[0])]


def confidence_level(lower: float, upper: float, policy: ScoringPolicy) -> ConfidenceLevel:
    return LEVELS[int(confidence_indices(np.array([lower]), np.array([upper]), policy)[0])]


def audit_draw(score_id: str) -> float:
    """A uniform number in [0, 1) derived from the score id: the random-audit lottery.

    Deriving it from the (random) id makes the draw unbiased and reproducible: anyone holding
    the audit record can check that a lead was sampled fairly.
    """
    digest = hashlib.sha256(score_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def review(
    *,
    score: float,
    lower: float,
    upper: float,
    out_of_distribution: bool,
    score_id: str,
    policy: ScoringPolicy,
) -> Review:
    """Whether a person should look at this score, and the stable codes saying why."""
    bits = review_bits(
        score=np.array([score]),
        lower=np.array([lower]),
        upper=np.array([upper]),
        out_of_distribution=np.array([out_of_distribution]),
        score_ids=[score_id],
        policy=policy,
    )
    reasons = review_codes(int(bits[0]))
    return Review(bool(reasons), reasons)


# --- Sales forecasts ---------------------------------------------------------------------------
#
# When a sales forecast should be looked at by a person: pure functions of a forecast and of
# how the model did on the series' most recent weeks.
#
# The recent weeks are judged by **backcasts**: for each of the last ``recent_weeks`` observed
# weeks, the forecast the model would have made for it one week ahead, from the history before
# it, with its intervals. The served boosters were fitted on those weeks too, so the backcasts
# are in-sample: they fit the latest weeks better than a true forecast would, and the two
# recent-week codes fire less often than the chance rates below; they catch shifts the model
# could not absorb. Review codes are stable strings that clients may rely on:
#
# ``wide_interval``
#     some forecast week's 80% interval is wider than ``wide_interval_ratio`` times its point
#     forecast: the number is too uncertain to plan on without a person's judgement.
# ``recent_break``
#     the last ``recent_weeks`` actuals all missed their one-week-ahead forecast on the same side,
#     by more on average than the 80% interval's half-width: the series has shifted (a lost
#     account, a stock-out, a new competitor) and the model, which learned the old level, lags.
#     With calibrated intervals and independent weeks this happens by chance in well under 1% of
#     series.
# ``last_actuals_outside_interval``
#     at least ``outside_min`` of the last ``recent_weeks`` actuals fell outside their one-week-
#     ahead 95% interval (by chance: about 1.4% of series, for 2 of 4).


class ForecastReviewCode(StrEnum):
    WIDE_INTERVAL = "wide_interval"
    RECENT_BREAK = "recent_break"
    LAST_ACTUALS_OUTSIDE_INTERVAL = "last_actuals_outside_interval"


@dataclass(frozen=True)
class ForecastPolicy:
    """Review thresholds for forecasts (set with ``CANDOR_FORECAST_POLICY__<FIELD>``).

    Attributes:
        wide_interval_ratio: an 80% interval wider than this times the point is "wide".
        recent_weeks: how many of the latest observed weeks are backcast and judged.
        outside_min: how many of them outside their 95% interval flag the series.
        max_covariate_stretch: a planned covariate value above this times the largest in the
            training history is refused (the model would extrapolate).
    """

    wide_interval_ratio: float = 1.0
    recent_weeks: int = 4
    outside_min: int = 2
    max_covariate_stretch: float = 10.0

    def __post_init__(self) -> None:
        if self.wide_interval_ratio <= 0:
            raise ValueError(f"wide_interval_ratio must be > 0, got {self.wide_interval_ratio}")
        if not 2 <= self.recent_weeks <= 26:
            raise ValueError(f"recent_weeks must be 2 to 26, got {self.recent_weeks}")
        if not 1 <= self.outside_min <= self.recent_weeks:
            raise ValueError(f"outside_min must be 1 to recent_weeks, got {self.outside_min}")
        if self.max_covariate_stretch < 1:
            raise ValueError(
                f"max_covariate_stretch must be >= 1, got {self.max_covariate_stretch}"
            )


@dataclass(frozen=True)
class Backcast:
    """One-week-ahead forecasts of the latest observed weeks, oldest first (units)."""

    weeks: tuple[str, ...]
    actual: np.ndarray
    point: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray

    def to_dict(self) -> dict[str, list[float] | list[str]]:
        return {
            "weeks": list(self.weeks),
            "actual": self.actual.tolist(),
            "point": self.point.tolist(),
            "lo80": self.lo80.tolist(),
            "hi80": self.hi80.tolist(),
            "lo95": self.lo95.tolist(),
            "hi95": self.hi95.tolist(),
        }


@dataclass(frozen=True, slots=True)
class ReviewFlag:
    """Whether a person should look at a score or a forecast, the stable codes why, and notes
    for that person (the same shape for leads and forecasts)."""

    required: bool
    reasons: tuple[str, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """The JSON shape, in answers and in the audit record alike."""
        return {"required": self.required, "reasons": list(self.reasons), "notes": list(self.notes)}


def review_forecast(
    *,
    point: np.ndarray,
    lo80: np.ndarray,
    hi80: np.ndarray,
    backcast: Backcast | None,
    policy: ForecastPolicy,
) -> ReviewFlag:
    """Whether a person should look at one series' forecast, and why (codes and notes).

    ``point``, ``lo80`` and ``hi80`` are the forecast weeks (units); ``backcast`` is None when
    the history is too short to backcast (no recent-week checks are then made).
    """
    reasons: list[str] = []
    notes: list[str] = []
    width = np.asarray(hi80, float) - np.asarray(lo80, float)
    wide = width > policy.wide_interval_ratio * np.maximum(np.asarray(point, float), 0.0)
    if wide.any():
        first = int(np.argmax(wide))
        reasons.append(ForecastReviewCode.WIDE_INTERVAL)
        notes.append(
            f"week {first + 1}: the 80% interval ({lo80[first]:.1f} to {hi80[first]:.1f}) is "
            f"wider than {policy.wide_interval_ratio:g} x the forecast ({point[first]:.1f})"
        )
    if backcast is not None and len(backcast.actual):
        error = backcast.actual - backcast.point
        half_width = backcast.hi80 - backcast.point
        same_side = bool(np.all(error > 0) or np.all(error < 0))
        if same_side and abs(float(error.mean())) > float(half_width.mean()):
            side = "above" if error.mean() > 0 else "below"
            reasons.append(ForecastReviewCode.RECENT_BREAK)
            notes.append(
                f"the last {len(error)} weeks were all {side} their one-week-ahead forecasts, by "
                f"{abs(float(error.mean())):.1f} units on average (80% half-width "
                f"{float(half_width.mean()):.1f}): the series may have shifted"
            )
        outside = (backcast.actual < backcast.lo95) | (backcast.actual > backcast.hi95)
        if int(outside.sum()) >= policy.outside_min:
            missed = [w for w, o in zip(backcast.weeks, outside, strict=True) if o]
            reasons.append(ForecastReviewCode.LAST_ACTUALS_OUTSIDE_INTERVAL)
            notes.append(
                f"{int(outside.sum())} of the last {len(outside)} weeks fell outside their "
                f"one-week-ahead 95% interval: {', '.join(missed)}"
            )
    return ReviewFlag(bool(reasons), tuple(str(r) for r in reasons), tuple(notes))

"""Grades, confidence levels and human-review rules: pure functions of a score and its context.

All thresholds live in :class:`ScoringPolicy` (built from the service settings), so that a
reviewer can read in one place why a score was flagged. Review codes are stable strings that
clients may rely on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

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
        high_confidence_width: an interval at most this wide is "high" confidence.
        medium_confidence_width: at most this wide is "medium"; wider is "low" (flagged).
        boundary_margin: a score within this distance of a cut-off is "near_grade_boundary".
        max_missing_share: more than this share of inputs missing is out of distribution.
        random_audit_share: share of all scores sent to review at random (unbiased error rates).
    """

    grade_cutoffs: tuple[float, float, float] = (0.6, 0.4, 0.2)
    high_confidence_width: float = 0.10
    medium_confidence_width: float = 0.20
    boundary_margin: float = 0.02
    max_missing_share: float = 0.30
    random_audit_share: float = 0.02

    def __post_init__(self) -> None:
        cuts = self.grade_cutoffs
        if (
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


@dataclass(frozen=True)
class Review:
    required: bool
    reasons: tuple[str, ...]


def grade(score: float, policy: ScoringPolicy) -> str:
    for letter, cut in zip(GRADES, policy.grade_cutoffs, strict=False):
        if score >= cut:
            return letter
    return GRADES[-1]


def confidence_level(lower: float, upper: float, policy: ScoringPolicy) -> ConfidenceLevel:
    width = upper - lower
    if width <= policy.high_confidence_width:
        return ConfidenceLevel.HIGH
    if width <= policy.medium_confidence_width:
        return ConfidenceLevel.MEDIUM
    return ConfidenceLevel.LOW


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
    reasons: list[str] = []
    if confidence_level(lower, upper, policy) is ConfidenceLevel.LOW:
        reasons.append(ReviewCode.LOW_CONFIDENCE)
    if out_of_distribution:
        reasons.append(ReviewCode.OUT_OF_DISTRIBUTION)
    if any(abs(score - cut) < policy.boundary_margin for cut in policy.grade_cutoffs):
        reasons.append(ReviewCode.NEAR_GRADE_BOUNDARY)
    if audit_draw(score_id) < policy.random_audit_share:
        reasons.append(ReviewCode.RANDOM_AUDIT)
    return Review(bool(reasons), tuple(str(r) for r in reasons))

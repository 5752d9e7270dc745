"""Grade cut-offs that fit the model: chosen at training from the scores of its holdout.

Fixed cut-offs (0.6 / 0.4 / 0.2) say nothing when few leads convert: with an 11% base rate
almost every lead is C or D. The cut-offs are chosen instead so that the top ``shares`` of the
holdout are graded A, A or B, and A to C (by default the top 10%, 30% and 60%): a grade then
means a rank in the lead universe, and the card shows what each grade converted at on the
holdout (the lift). Calibrated scores have ties (Venn-Abers is a step function) and leads with
equal scores share a grade, so a grade holds the share nearest its target that the ties allow;
the shares realised are reported beside the target ones. Settings can fix the cut-offs for every
model instead (``CANDOR_POLICY__GRADE_CUTOFFS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from candor.models.policy import (
    DEFAULT_GRADE_SHARES,
    GRADES,
    ScoringPolicy,
    check_grade_shares,
    grade_indices,
)


@dataclass(frozen=True)
class GradeCutoffs:
    """The lower bounds of grades A, B and C, and what they give on the holdout.

    Attributes:
        cutoffs: lower bounds of A, B and C (descending probabilities).
        shares: the target top shares (cumulative: A, A-B, A-C).
        realised: the share of holdout leads in each grade A, B, C, D.
        conversion: the observed conversion rate of each grade on the holdout (None: empty).
        counts: holdout leads per grade.
        base_rate: the holdout's conversion rate.
    """

    cutoffs: tuple[float, float, float]
    shares: tuple[float, float, float]
    realised: tuple[float, ...]
    conversion: tuple[float | None, ...]
    counts: tuple[int, ...]
    base_rate: float

    @property
    def rule(self) -> str:
        a, b, c = (f"{s:.0%}" for s in self.shares)
        return (
            f"chosen on the holdout: A = the top {a} of scores, A or B the top {b}, A to C the "
            f"top {c}; D the rest"
        )

    def lines(self) -> list[str]:
        """One line per grade, for the training output."""
        bounds = [f">= {c:.4f}" for c in self.cutoffs] + [f"< {self.cutoffs[-1]:.4f}"]
        out = []
        for grade, bound, share, rate, n in zip(
            GRADES, bounds, self.realised, self.conversion, self.counts, strict=True
        ):
            converted = "no leads" if rate is None else f"{rate:.1%} converted"
            lift = (
                "" if rate is None or not self.base_rate else f", lift {rate / self.base_rate:.2f}"
            )
            out.append(
                f"grade {grade}: score {bound}: {share:.1%} of {sum(self.counts):,} holdout "
                f"leads ({n:,}), {converted}{lift}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoffs": list(self.cutoffs),
            "shares": list(self.shares),
            "realised": list(self.realised),
            "conversion": list(self.conversion),
            "counts": list(self.counts),
            "base_rate": self.base_rate,
            "rule": self.rule,
        }


def choose_cutoffs(
    score: np.ndarray, outcome: np.ndarray, shares: Sequence[float] = DEFAULT_GRADE_SHARES
) -> GradeCutoffs:
    """Cut-offs such that about ``shares`` of ``score`` reach each (ties kept together).

    Each cut-off is the distinct score whose top share (score >= it) is nearest its target
    (the smaller share on a tie): leads with equal scores share a grade. Cut-offs are made
    strictly descending by stepping down to the next distinct score (or, with too few distinct
    scores, halfway towards 0).
    """
    targets = check_grade_shares(shares)
    score = np.asarray(score, dtype=np.float64)
    outcome = np.asarray(outcome)
    if score.size == 0:
        raise ValueError("no holdout scores to choose grade cut-offs from")
    distinct = np.unique(score)[::-1]  # descending
    # share of leads at or above each distinct score
    at_or_above = np.searchsorted(np.sort(score), distinct, side="left")
    top_share = 1.0 - at_or_above / score.size
    cuts: list[float] = []
    for target in targets:
        index = int(np.argmin(np.abs(top_share - target)))  # first (smaller share) on a tie
        value = min(max(float(distinct[index]), 1e-9), 1.0 - 1e-9)
        if cuts and value >= cuts[-1]:
            lower = distinct[distinct < cuts[-1]]
            # the next distinct score down; with none left (or only 0), halfway towards 0
            value = float(lower[0]) if lower.size and lower[0] > 0 else cuts[-1] / 2.0
        cuts.append(value)
    a, b, c = cuts
    grade = grade_indices(score, ScoringPolicy(grade_cutoffs=(a, b, c)))  # 0 = A ... 3 = D
    counts = np.bincount(grade, minlength=4)
    hits = np.bincount(grade, weights=outcome.astype(np.float64), minlength=4)
    conversion = tuple(
        float(h / n) if n else None for h, n in zip(hits.tolist(), counts.tolist(), strict=True)
    )
    return GradeCutoffs(
        cutoffs=(a, b, c),
        shares=targets,
        realised=tuple(float(n / score.size) for n in counts.tolist()),
        conversion=conversion,
        counts=tuple(int(n) for n in counts.tolist()),
        base_rate=float(outcome.mean()),
    )

"""A lead's score trend: improving, steady or declining over its last scores, by a stated rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TREND_SCORES = 5  # the last this many scores are read
TREND_CHANGE = 0.05  # the fitted change over them that counts as a move (probability)

RULE = (
    f"least-squares line through the last {TREND_SCORES} scores (or all, if fewer), in the order "
    f"they were made: its change from the first to the last of them is 'improving' at "
    f"+{TREND_CHANGE:.2f} or more, 'declining' at -{TREND_CHANGE:.2f} or less, else 'steady'; "
    "fewer than 2 scores: 'not_enough_scores'"
)


@dataclass(frozen=True)
class Trend:
    direction: str  # improving | steady | declining | not_enough_scores
    change: float | None  # the fitted change over the scores read (probability)
    scores_used: int
    rule: str = RULE


def score_trend(scores_oldest_first: Sequence[float]) -> Trend:
    """The trend of ``scores_oldest_first`` (calibrated probabilities), by :data:`RULE`."""
    recent = np.asarray(scores_oldest_first[-TREND_SCORES:], dtype=np.float64)
    n = len(recent)
    if n < 2:
        return Trend("not_enough_scores", None, n)
    steps = np.arange(n, dtype=np.float64)
    slope = float(np.polyfit(steps, recent, 1)[0])
    change = slope * (n - 1)
    if change >= TREND_CHANGE:
        direction = "improving"
    elif change <= -TREND_CHANGE:
        direction = "declining"
    else:
        direction = "steady"
    return Trend(direction, round(change, 6), n)

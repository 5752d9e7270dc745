"""Seeded percentile bootstrap of each group's selection and true-positive rates.

A holdout is a sample, and a small group's rates are noisy. Each group's selection rate and
true-positive rate carry a 95% percentile bootstrap interval: ``resamples`` resamples (seeded:
the same seed gives the same intervals), drawn with replacement *within* each group so that
group sizes stay fixed. The disparities (``training.fairness.disparity``) take their intervals
from the same resamples.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 1000  # 200 leave each 2.5% tail to 5 resamples: the bounds then move with the seed
CONFIDENCE = 0.95

Interval = tuple[float, float]


def percentile_interval(
    resampled: np.ndarray, *, confidence: float = CONFIDENCE
) -> Interval | None:
    """The central ``confidence`` interval of the finite resamples; None without any."""
    values = np.asarray(resampled, float)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class ResampledRates:
    """Rates per resample (rows) and group (columns, in the order of the groups given).

    ``true_positive`` is nan in a resample that drew no converted lead of that group.
    """

    selection: np.ndarray
    true_positive: np.ndarray


def attribute_rng(seed: int, attribute: str) -> np.random.Generator:
    """The draws of one attribute: its name joins the seed, so that two attributes never share
    their draws."""
    return np.random.default_rng([seed, zlib.crc32(attribute.encode())])


def resample_rates(
    *,
    groups: np.ndarray,
    names: Sequence[str],
    selected: np.ndarray,
    outcome: np.ndarray,
    resamples: int,
    rng: np.random.Generator,
) -> ResampledRates:
    """Resample each group within itself (its size fixed), drawing from ``rng``
    (:func:`attribute_rng`)."""
    boot_sel = np.full((resamples, len(names)), np.nan)
    boot_tpr = np.full((resamples, len(names)), np.nan)
    for j, name in enumerate(names):
        rows = np.flatnonzero(groups == name)
        draw = rng.integers(0, len(rows), size=(resamples, len(rows)))
        sel, pos = selected[rows][draw], outcome[rows][draw] == 1
        boot_sel[:, j] = sel.mean(axis=1)
        positives = pos.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            boot_tpr[:, j] = np.where(positives > 0, (sel & pos).sum(axis=1) / positives, np.nan)
    return ResampledRates(boot_sel, boot_tpr)

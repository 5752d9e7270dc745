"""Seeded percentile bootstrap of each group's selection, true-positive and conversion rates.

A holdout is a sample, and a small group's rates are noisy. Each group's selection rate and
true-positive rate carry a 95% percentile bootstrap interval: ``resamples`` resamples (seeded:
the same seed gives the same intervals), drawn with replacement *within* each group so that
group sizes stay fixed. The disparities (``training.fairness.disparity``) take their intervals
from the same resamples.

A resample does not copy the group's leads: the rates depend only on how many leads of each of
four kinds (selected or not, converted or not) it draws, and those counts are multinomial, so
each resample of a group is one multinomial draw (:func:`resample_rates`): the same
distribution of the rates, at O(resamples) per group instead of O(resamples x leads).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

RESAMPLES = 1000  # 200 leave each 2.5% tail to 5 resamples: the bounds then move with the seed
CONFIDENCE = 0.95

Interval = tuple[float, float]

# the four kinds of lead within a group: index 2 * selected + converted
MISSED_NOT_CONVERTED, MISSED_CONVERTED, SELECTED_NOT_CONVERTED, SELECTED_CONVERTED = range(4)
KINDS = (
    "not selected, not converted",
    "not selected, converted",
    "selected, not converted",
    "selected, converted",
)


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

    ``true_positive`` is nan in a resample that drew no converted lead of that group;
    ``base_rate`` is the group's conversion rate in each resample.
    """

    selection: np.ndarray
    true_positive: np.ndarray
    base_rate: np.ndarray


def attribute_rng(seed: int, attribute: str) -> np.random.Generator:
    """The draws of one attribute: its name joins the seed, so that two attributes never share
    their draws."""
    return np.random.default_rng([seed, zlib.crc32(attribute.encode())])


def group_kinds(
    *, groups: np.ndarray, n_groups: int, selected: np.ndarray, outcome: np.ndarray
) -> np.ndarray:
    """Leads per group (rows, by code) and kind (columns, :data:`KINDS`): the four counts that
    a within-group resample draws from."""
    kind = 2 * np.asarray(selected, bool).astype(np.intp) + (np.asarray(outcome) == 1)
    cell = np.asarray(groups, np.intp) * len(KINDS) + kind
    return np.bincount(cell, minlength=n_groups * len(KINDS)).reshape(n_groups, len(KINDS))


def resample_rates(
    *,
    groups: np.ndarray,
    n_groups: int,
    selected: np.ndarray,
    outcome: np.ndarray,
    resamples: int,
    rng: np.random.Generator,
) -> ResampledRates:
    """Resample each group within itself (its size fixed), drawing from ``rng``
    (:func:`attribute_rng`).

    ``groups`` holds each lead's group code, ``0 .. n_groups - 1`` (the columns of the result).
    A resample of a group's ``n`` leads with replacement only matters through how many leads
    of each kind (selected or not, converted or not) it draws, and those counts are exactly
    multinomial: ``n`` draws over the four kinds at the group's observed shares. So each group
    takes one multinomial draw per resample, in O(resamples), and no lead is copied; the rates
    have the same distribution as when the leads themselves are drawn.
    """
    counts = group_kinds(groups=groups, n_groups=n_groups, selected=selected, outcome=outcome)
    boot_sel = np.full((resamples, n_groups), np.nan)
    boot_tpr = np.full((resamples, n_groups), np.nan)
    boot_base = np.full((resamples, n_groups), np.nan)
    for j, kinds in enumerate(counts):
        n = int(kinds.sum())
        if n == 0:
            continue
        draw = rng.multinomial(n, kinds / n, size=resamples)
        hits = draw[:, SELECTED_CONVERTED]
        positives = hits + draw[:, MISSED_CONVERTED]
        boot_sel[:, j] = (hits + draw[:, SELECTED_NOT_CONVERTED]) / n
        boot_base[:, j] = positives / n
        with np.errstate(divide="ignore", invalid="ignore"):
            boot_tpr[:, j] = np.where(positives > 0, hits / positives, np.nan)
    return ResampledRates(boot_sel, boot_tpr, boot_base)

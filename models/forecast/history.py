"""The weekly history of one series and what is measured on it: its level and its noise scale.

The level (mean units of the 26 weeks up to an origin) scales the forecaster's target and every
history feature; the noise scale (mean absolute week-to-week change) scales its intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEVEL_WINDOW = 26  # weeks in the level that scales the target (13 and 52 did worse)
LEVEL_FLOOR = 1.0  # units: a series selling nothing lately is not divided by zero
NOISE_WINDOW = 52  # weeks of week-to-week changes in the noise scale
NOISE_FLOOR_SHARE = 0.05  # the noise scale is at least 5% of the level ...
NOISE_FLOOR = 0.01  # ... and at least 0.01 units


@dataclass
class SeriesHistory:
    """Contiguous weekly history of one series (no gaps: the reader fills or refuses them).

    ``units[i]`` is week ``first_week + 7 * i`` days; ``covariates[name]`` has at least as many
    values as ``units`` (more when future values of known-in-future covariates are appended).
    """

    key: tuple[str, ...]
    first_week: np.datetime64
    units: np.ndarray
    covariates: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.units)

    def week(self, index: np.ndarray | int) -> np.ndarray:
        """Week labels (datetime64[D]) of 0-based week indices (may lie beyond the history)."""
        return self.first_week.astype("datetime64[D]") + 7 * np.asarray(index, dtype=np.int64)

    def week_at(self, index: int) -> np.datetime64:
        """The week label (datetime64[D]) of one 0-based week index."""
        first: np.datetime64 = self.first_week.astype("datetime64[D]")
        return first + np.timedelta64(7 * int(index), "D")

    @property
    def last_week(self) -> np.datetime64:
        return self.week_at(len(self.units) - 1)

    def tail(self, weeks: int) -> SeriesHistory:
        start = max(len(self.units) - weeks, 0)
        return SeriesHistory(
            self.key,
            self.week_at(start),
            self.units[start:].copy(),
            {k: v[start : len(self.units)].copy() for k, v in self.covariates.items()},
        )

    def until(self, index: int) -> SeriesHistory:
        """The history up to and including week ``index`` (covariates cut at the same week)."""
        return SeriesHistory(
            self.key,
            self.first_week,
            self.units[: index + 1],
            {k: v[: index + 1] for k, v in self.covariates.items()},
        )


def cumsum0(values: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(values, dtype=float)])


def window_mean(c: np.ndarray, end: np.ndarray, width: int, *, partial: bool) -> np.ndarray:
    """Mean of x[end - width + 1 .. end] from ``c = cumsum0(x)``; NaN where unavailable.

    With ``partial`` a window cut by the start of the series averages what it has.
    """
    n = len(c) - 1
    lo = end - width + 1
    ok = (end >= 0) & (end < n) & ((lo >= 0) | partial)
    lo_c = np.clip(lo, 0, n)
    hi_c = np.clip(end + 1, 0, n)
    count = hi_c - lo_c
    mean = (c[hi_c] - c[lo_c]) / np.maximum(count, 1)
    return np.where(ok & (count > 0), mean, np.nan)


def series_level(units: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """The level at each origin: mean units of the last 26 weeks, at least ``LEVEL_FLOOR``."""
    mean = window_mean(cumsum0(units), origins, LEVEL_WINDOW, partial=True)
    return np.maximum(np.nan_to_num(mean, nan=LEVEL_FLOOR), LEVEL_FLOOR)


def noise_scale(units: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Units: mean |week-to-week change| over the last 52 weeks up to each origin, floored.

    The scale of conformal residuals (and the in-sample scale of a naive-1 MASE): a series
    that moves a lot from week to week gets proportionally wider intervals.
    """
    diffs = np.abs(np.diff(units)) if len(units) > 1 else np.zeros(0)
    mean = window_mean(cumsum0(diffs), origins - 1, NOISE_WINDOW, partial=True)
    level = series_level(units, origins)
    floor = np.maximum(NOISE_FLOOR_SHARE * level, NOISE_FLOOR)
    return np.maximum(np.nan_to_num(mean, nan=0.0), floor)

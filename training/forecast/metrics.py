"""Point and interval metrics of a backtest, per series and overall.

Units: MASE is unitless (absolute error over the series' scale); sMAPE is in percent (0-200);
RMSE and Winkler scores are in units sold; coverage is a share (0-1).

MASE scale: the in-sample mean absolute **week-to-week** change (naive-1) of each series over
all weeks before the first backtest origin, one fixed scale per series for every method and
origin. Weekly data are scaled by naive-1 (as in the M4 competition for weekly series): a
seasonal-naive scale needs two full years before the backtest and is dominated by noise in
series as irregular as pharmacy sales. Overall MASE is the mean scaled error over all
forecasts (every series weighs by its number of forecasts, equal here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Forecasts:
    """Backtest forecasts of one method: one entry per (series, origin, step)."""

    series: np.ndarray  # series index
    step: np.ndarray  # weeks ahead
    actual: np.ndarray  # units
    point: np.ndarray  # units
    lower: dict[int, np.ndarray]  # level (80, 95) -> lower bound, units
    upper: dict[int, np.ndarray]


def smape(actual: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Per-forecast sMAPE in percent; 0 where actual and forecast are both 0."""
    denom = np.abs(actual) + np.abs(point)
    return np.where(denom > 0, 200.0 * np.abs(actual - point) / np.where(denom > 0, denom, 1), 0.0)


def winkler(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: int) -> np.ndarray:
    """Winkler interval score (units): width, plus 2/alpha times any miss."""
    alpha = 1.0 - level / 100.0
    below = np.maximum(lower - actual, 0.0)
    above = np.maximum(actual - upper, 0.0)
    return (upper - lower) + (2.0 / alpha) * (below + above)


def summarise(f: Forecasts, mask: np.ndarray, scale: float | np.ndarray) -> dict[str, float]:
    """Metrics over the forecasts selected by ``mask``; ``scale`` per forecast or one value."""
    a, p = f.actual[mask], f.point[mask]
    s = scale[mask] if isinstance(scale, np.ndarray) else np.full(len(a), scale)
    out = {
        "mase": float(np.mean(np.abs(a - p) / s)),
        "smape": float(np.mean(smape(a, p))),
        "rmse": float(np.sqrt(np.mean((a - p) ** 2))),
        "mae": float(np.mean(np.abs(a - p))),
        "n": float(len(a)),
    }
    for level in sorted(f.lower):
        lo, hi = f.lower[level][mask], f.upper[level][mask]
        out[f"coverage{level}"] = float(np.mean((a >= lo) & (a <= hi)))
        w = winkler(a, lo, hi, level)
        out[f"winkler{level}"] = float(np.mean(w))
        out[f"winkler{level}_scaled"] = float(np.mean(w / s))
    return out


def metric_table(f: Forecasts, scales: np.ndarray, names: list[str]) -> dict[str, dict[str, float]]:
    """Per series (by name) and ``"overall"``; ``scales[i]`` is series i's MASE scale."""
    per_forecast = scales[f.series]
    table = {
        names[i]: summarise(f, f.series == i, per_forecast)
        for i in range(len(names))
        if np.any(f.series == i)
    }
    table["overall"] = summarise(f, np.ones(len(f.actual), dtype=bool), per_forecast)
    return table


def naive1_scale(units: np.ndarray) -> float:
    """Mean absolute week-to-week change (units); at least 1e-6."""
    if len(units) < 2:
        return 1.0
    return max(float(np.mean(np.abs(np.diff(units)))), 1e-6)

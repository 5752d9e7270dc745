"""Baselines computed on the same backtest origins as the model.

* Seasonal naive: the same week one season (52 weeks) earlier.
* AutoETS (statsforecast), ``season_length`` = the contract's season (52). statsforecast's ETS
  cannot hold more than 24 seasonal states: for 52 it silently fits only non-seasonal
  candidates (ANN, AAN, AAdN, MNN, ...) and picks the best by AICc. We keep the requested
  configuration and say so in the report: AutoETS here is effectively non-seasonal ETS.
  Its intervals are its own (state-space) 80% and 95% prediction intervals.
"""

from __future__ import annotations

import warnings

import numpy as np


def seasonal_naive(units: np.ndarray, origin: int, horizon: int, season: int) -> np.ndarray:
    """Units of the same weeks one season before (weeks origin+1 .. origin+horizon)."""
    steps = np.arange(1, horizon + 1)
    index = origin + steps - season
    while np.any(index > origin):  # horizon beyond a season: go back another season
        index = np.where(index > origin, index - season, index)
    return np.where(index >= 0, units[np.clip(index, 0, None)], np.nan)


def auto_ets(
    units: np.ndarray, horizon: int, season: int, levels: tuple[int, ...]
) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]]:
    """AutoETS point forecasts and prediction intervals, fitted on ``units`` (one origin)."""
    from statsforecast.models import AutoETS  # heavy import (numba): only where used

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoETS(season_length=season)
        result = model.forecast(y=units.astype(float), h=horizon, level=list(levels))
    point = np.maximum(np.asarray(result["mean"], dtype=float), 0.0)
    lower = {lv: np.maximum(np.asarray(result[f"lo-{lv}"], dtype=float), 0.0) for lv in levels}
    upper = {lv: np.asarray(result[f"hi-{lv}"], dtype=float) for lv in levels}
    return point, lower, upper

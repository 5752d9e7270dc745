"""Baselines computed on the same backtest origins as the model.

* Seasonal naive: the same week one season (52 weeks) earlier.
* AutoETS (statsforecast), ``season_length`` = the contract's season (52). statsforecast's ETS
  cannot hold more than 24 seasonal states: for 52 it silently fits only non-seasonal
  candidates (ANN, AAN, AAdN, MNN, ...) and picks the best by AICc. We keep the requested
  configuration and say so in the report: AutoETS here is effectively non-seasonal ETS.
  Its intervals are its own (state-space) 80% and 95% prediction intervals. Every fit of a
  backtest (each series at each scored origin) goes to one statsforecast call, fitted in
  parallel processes (``n_jobs``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np


def seasonal_naive(units: np.ndarray, origin: int, horizon: int, season: int) -> np.ndarray:
    """Units of the same weeks one season before (weeks origin+1 .. origin+horizon)."""
    steps = np.arange(1, horizon + 1)
    index = origin + steps - season
    while np.any(index > origin):  # horizon beyond a season: go back another season
        index = np.where(index > origin, index - season, index)
    return np.where(index >= 0, units[np.clip(index, 0, None)], np.nan)


def jobs(n_jobs: int, fits: int) -> int:
    """Processes statsforecast uses for ``fits`` series with ``n_jobs`` (-1: every core)."""
    cores = os.cpu_count() or 1
    return max(1, min(fits, cores if n_jobs == -1 else n_jobs))


def auto_ets(
    histories: Sequence[np.ndarray],
    horizon: int,
    season: int,
    levels: tuple[int, ...],
    *,
    n_jobs: int = -1,
) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]]:
    """AutoETS forecasts of ``horizon`` weeks after each history (one fit per history).

    All histories go to one ``StatsForecast`` call, which fits them in ``n_jobs`` processes;
    each fit is the same ``AutoETS.forecast`` on the same float64 units as one fitted alone.

    Returns:
        Point forecasts, and lower and upper bounds per level, each ``(len(histories),
        horizon)`` in units, in the order of ``histories``; lower bounds and points clipped
        at 0 units.
    """
    import pandas as pd
    from statsforecast import StatsForecast  # heavy import (numba): only where used
    from statsforecast.models import AutoETS

    lengths = np.array([len(h) for h in histories], dtype=np.int64)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(len(histories)), lengths),
            "ds": np.concatenate([np.arange(n) for n in lengths]),
            "y": np.concatenate(histories).astype(float),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = StatsForecast(
            models=[AutoETS(season_length=season)],
            freq=1,
            n_jobs=jobs(n_jobs, len(histories)),
        )
        result = model.forecast(df=frame, h=horizon, level=list(levels))
    result = result.sort_values(["unique_id", "ds"])  # ids are 0..n-1: the histories' order

    def column(name: str) -> np.ndarray:
        return result[name].to_numpy(dtype=float).reshape(len(histories), horizon)

    point = np.maximum(column("AutoETS"), 0.0)
    lower = {lv: np.maximum(column(f"AutoETS-lo-{lv}"), 0.0) for lv in levels}
    upper = {lv: column(f"AutoETS-hi-{lv}") for lv in levels}
    return point, lower, upper

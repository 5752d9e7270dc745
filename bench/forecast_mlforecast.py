"""mlforecast on the bench's backtest origins: the off-the-shelf global LightGBM to beat.

Nixtla's mlforecast, recursive (its default) and direct (``max_horizon``: one model per week
ahead, as Candor), with LightGBM settings like Candor's boosters
(300 trees of 15 leaves, depth 4, learning rate 0.03, L1 loss, 80% row and column sampling),
lags 1-4 and 52, rolling means of 4, 13 and 26 weeks and a 13-week rolling standard deviation
of lag 1, month and day of year, each series standardised (``LocalStandardScaler``). Its own
conformal intervals (``PredictionIntervals``: residuals of 4 windows of 4 weeks inside each
training set). Cross-validated on the same scored origins and refitted at *every* origin
(mlforecast computes intervals only for refitted windows; Candor refits every 13 weeks, so
this favours mlforecast). A bench comparison only: Candor does not depend on mlforecast.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from candor.models.forecast import INTERVAL_LEVELS
from candor.training.forecast.backtest import BacktestConfig
from candor.training.forecast.data import Panel
from candor.training.forecast.metrics import Forecasts

MLFORECAST_RECURSIVE = "mlforecast_recursive"
MLFORECAST_DIRECT = "mlforecast_direct"


def panel_frame(panel: Panel, names: list[str]) -> pd.DataFrame:
    """Long frame in Nixtla's layout: unique_id, ds, y."""
    frames = []
    for name, series in zip(names, panel.values(), strict=True):
        weeks = series.week(np.arange(len(series))).astype("datetime64[ns]")
        frames.append(pd.DataFrame({"unique_id": name, "ds": weeks, "y": series.units}))
    return pd.concat(frames, ignore_index=True)


def mlforecast_backtest(
    panel: Panel, names: list[str], config: BacktestConfig, *, direct: bool
) -> Forecasts:
    """Scored forecasts of mlforecast on ``config``'s origins (see the module docstring)."""
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean, RollingStd
    from mlforecast.target_transforms import LocalStandardScaler
    from mlforecast.utils import PredictionIntervals

    frame = panel_frame(panel, names)
    weekday = int(frame["ds"].iloc[0].dayofweek)
    model = lgb.LGBMRegressor(
        n_estimators=300,
        learning_rate=0.03,
        num_leaves=15,
        max_depth=4,
        objective="l1",
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=42,
        n_jobs=1,
        verbosity=-1,
    )
    forecaster = MLForecast(
        models={"lgbm": model},
        freq=pd.offsets.Week(weekday=weekday),
        lags=[1, 2, 3, 4, 52],
        lag_transforms={
            1: [RollingMean(4), RollingMean(13), RollingMean(26), RollingStd(13)],
        },
        date_features=["month", "day_of_year"],
        target_transforms=[LocalStandardScaler()],
    )
    windows = len(config.scored_origins())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = forecaster.cross_validation(
            frame,
            n_windows=windows,
            h=config.horizon,
            step_size=config.step,
            refit=True,
            max_horizon=config.horizon if direct else None,
            prediction_intervals=PredictionIntervals(n_windows=4, h=config.horizon),
            level=list(INTERVAL_LEVELS),
        )
    index = {name: i for i, name in enumerate(names)}
    step = ((cv["ds"] - cv["cutoff"]).dt.days // 7).to_numpy()
    return Forecasts(
        cv["unique_id"].map(index).to_numpy(dtype=int),
        step.astype(int),
        cv["y"].to_numpy(dtype=float),
        np.maximum(cv["lgbm"].to_numpy(dtype=float), 0.0),
        {lv: np.maximum(cv[f"lgbm-lo-{lv}"].to_numpy(dtype=float), 0.0) for lv in INTERVAL_LEVELS},
        {lv: cv[f"lgbm-hi-{lv}"].to_numpy(dtype=float) for lv in INTERVAL_LEVELS},
    )

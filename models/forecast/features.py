"""Forecast features: the one transformation of training and serving, from a series' history.

Every history feature is divided by the series' level at the origin (see
:mod:`candor.models.forecast.history`), so one global model serves series of any size. Features
fall into :data:`FEATURE_GROUPS`: ``recent_level`` (level and lags, rolling statistics, the
series' identity), ``seasonality`` (same weeks of past years, week-of-year Fourier terms,
holidays) and ``activity`` (rep calls, samples, promotions); explanations group by them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import lfilter

from candor.models.contract import SalesContract
from candor.models.errors import InputValidationError
from candor.models.forecast.calendar import FOURIER_ORDER, calendar_features
from candor.models.forecast.history import (
    LEVEL_FLOOR,
    LEVEL_WINDOW,
    SeriesHistory,
    cumsum0,
    series_level,
    window_mean,
)

RECENT_WINDOW = 4  # weeks in a covariate's recent mean
EWM_ALPHAS = (0.1, 0.3, 0.6)  # smoothing weights of the exponentially weighted levels

GROUP_LEVEL = "recent_level"
GROUP_SEASONALITY = "seasonality"
GROUP_ACTIVITY = "activity"
FEATURE_GROUPS = (GROUP_LEVEL, GROUP_SEASONALITY, GROUP_ACTIVITY)


@dataclass(frozen=True)
class FeatureLayout:
    """Feature names, their groups and the categorical ones, derived from a sales contract."""

    names: tuple[str, ...]
    groups: tuple[str, ...]
    categorical: tuple[str, ...]
    season_length: int

    @classmethod
    def from_contract(cls, contract: SalesContract) -> FeatureLayout:
        level = [
            "units_lag_1",
            "units_lag_2",
            "units_lag_3",
            "units_lag_4",
            "units_mean_4w",
            "units_mean_26w",
            "units_mean_52w",
            "units_std_13w",
            "units_trend_13w",
            "units_ewm_0.1",
            "units_ewm_0.3",
            "units_ewm_0.6",
            "level_log",
        ]
        series = [f.name for f in contract.series_fields]
        seasonal = [
            "same_week_last_year",
            "seasonal_index_1y",
            "seasonal_index_2y",
            *[f"week_{t}_{k}" for k in range(1, FOURIER_ORDER + 1) for t in ("sin", "cos")],
            "holiday_week",
        ]
        activity: list[str] = []
        for f in contract.covariates:
            if f.known_in_future:
                activity.append(f.name)  # the value in the forecast week
            activity += [f"{f.name}_recent_4w", f"{f.name}_lag_1"]
        names = [*level, *series, *seasonal, *activity]
        groups = (
            [GROUP_LEVEL] * (len(level) + len(series))
            + [GROUP_SEASONALITY] * len(seasonal)
            + [GROUP_ACTIVITY] * len(activity)
        )
        return cls(tuple(names), tuple(groups), tuple(series), contract.season_length)

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "groups": list(self.groups),
            "categorical": list(self.categorical),
            "season_length": self.season_length,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FeatureLayout:
        return cls(
            tuple(raw["names"]),
            tuple(raw["groups"]),
            tuple(raw["categorical"]),
            int(raw["season_length"]),
        )

    def group_matrix(self) -> np.ndarray:
        """(k, len(FEATURE_GROUPS)) 0/1 matrix that sums feature contributions into groups."""
        out = np.zeros((len(self.names), len(FEATURE_GROUPS)))
        for i, g in enumerate(self.groups):
            out[i, FEATURE_GROUPS.index(g)] = 1.0
        return out


def _ewm(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted mean up to each week (simple exponential smoothing level)."""
    if len(values) == 0:
        return values
    smoothed = lfilter([alpha], [1.0, alpha - 1.0], values, zi=[(1.0 - alpha) * values[0]])
    return np.asarray(smoothed[0], dtype=float)


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    ok = (index >= 0) & (index < len(values))
    return np.where(ok, values[np.clip(index, 0, max(len(values) - 1, 0))], np.nan)


def build_features(
    series: SeriesHistory,
    origins: np.ndarray,
    h: int,
    *,
    layout: FeatureLayout,
    contract: SalesContract,
    codes: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    """Features for forecasting week ``origin + h`` of one series from data up to ``origin``.

    The one transformation used by training (many origins) and serving (the last week).
    ``origins`` are 0-based week indices of the last observed week; only ``units[: origin+1]``
    and past covariates up to the origin are read; known-in-future covariates are read at the
    forecast week (``covariates[name][origin + h]``, which must exist). ``codes`` are the
    series' categorical codes, in the order of ``layout.categorical``.

    Returns ``(X, level)``: X of shape (len(origins), len(layout.names)) with NaN where a
    feature is unavailable, and the level (units) that scales the target.
    """
    origins = np.asarray(origins, dtype=np.int64)
    cols, level = origin_features(series, origins, layout=layout, contract=contract, codes=codes)
    cols.update(target_features(series, origins, h, level, contract=contract, layout=layout))
    return assemble(cols, layout, len(origins)), level


def origin_features(
    series: SeriesHistory,
    origins: np.ndarray,
    *,
    layout: FeatureLayout,
    contract: SalesContract,
    codes: Sequence[float],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The part of :func:`build_features` that depends on the origin only, not on the week
    ahead (history windows, levels, lags, the series' codes, covariates' recent history):
    computed once per origin when several weeks ahead are forecast from it."""
    origins = np.asarray(origins, dtype=np.int64)
    y = series.units.astype(float)
    c = cumsum0(y)
    c2 = cumsum0(y * y)
    level = series_level(y, origins)
    cols: dict[str, np.ndarray] = {}
    for k in range(1, 5):
        cols[f"units_lag_{k}"] = _at(y, origins - k + 1) / level
    cols["units_mean_4w"] = window_mean(c, origins, 4, partial=False) / level
    cols["units_mean_26w"] = window_mean(c, origins, 26, partial=False) / level
    cols["units_mean_52w"] = window_mean(c, origins, 52, partial=False) / level
    mean13 = window_mean(c, origins, 13, partial=False)
    var13 = window_mean(c2, origins, 13, partial=False) - mean13**2
    cols["units_std_13w"] = np.sqrt(np.maximum(var13, 0.0)) / level
    cols["units_trend_13w"] = (mean13 - window_mean(c, origins - 13, 13, partial=False)) / level
    for alpha in EWM_ALPHAS:
        cols[f"units_ewm_{alpha}"] = _at(_ewm(y, alpha), origins) / level
    cols["level_log"] = np.log(level)
    for name, code in zip(layout.categorical, codes, strict=True):
        cols[name] = np.full(len(origins), code, dtype=float)
    for f in contract.covariates:
        values = series.covariates[f.name].astype(float)[: len(y)]
        cols[f"{f.name}_recent_4w"] = window_mean(
            cumsum0(values), origins, RECENT_WINDOW, partial=True
        )
        cols[f"{f.name}_lag_1"] = _at(values, origins)
    return cols, level


def target_features(
    series: SeriesHistory,
    origins: np.ndarray,
    h: int,
    level: np.ndarray,
    *,
    contract: SalesContract,
    layout: FeatureLayout,
) -> dict[str, np.ndarray]:
    """The part of :func:`build_features` that depends on the forecast week ``origin + h``:
    the same weeks of past years, the calendar, planned covariates."""
    origins = np.asarray(origins, dtype=np.int64)
    y = series.units.astype(float)
    c = cumsum0(y)
    m = layout.season_length
    target = origins + h
    cols: dict[str, np.ndarray] = {}
    cols["same_week_last_year"] = _at(y, target - m) / level
    for years, name in ((1, "seasonal_index_1y"), (2, "seasonal_index_2y")):
        # the target week a season ago (3-week mean) over that season's level at the origin
        then = window_mean(c, target - years * m + 1, 3, partial=False)
        then_level = window_mean(c, origins - years * m, LEVEL_WINDOW, partial=False)
        cols[name] = then / np.maximum(then_level, LEVEL_FLOOR)
    cols.update(
        calendar_features(
            series.week(target), week_label=contract.week_label, holidays=contract.holidays
        )
    )
    for f in contract.future_covariates:
        values = series.covariates[f.name]
        if len(values) <= int(target.max(initial=-1)):
            raise InputValidationError(
                f"covariate {f.name!r} of series {series.key} has no value for week "
                f"{series.week(int(target.max()))}; it is known in the future, so a "
                "forecast needs its planned value"
            )
        cols[f.name] = values.astype(float)[target]
    return cols


def assemble(cols: Mapping[str, np.ndarray], layout: FeatureLayout, rows: int) -> np.ndarray:
    """The feature matrix in the layout's column order."""
    if not rows:
        return np.zeros((0, len(layout.names)))
    return np.column_stack([cols[n] for n in layout.names])

"""The sales forecaster: direct multi-horizon LightGBM on a level-scaled target, with intervals.

Strategy: **direct**, one LightGBM booster per horizon step h = 1..H (H <= 26 weeks), all global
(one booster serves every territory and product). Direct rather than recursive because:

* every forecast week is explained by its own booster from *observed* data only. A recursive
  model explains week 4 partly by "last week's units", which is its own forecast for week 3;
  its TreeSHAP contributions would credit the model's guesses, not the data. With direct
  boosters, ``pred_contrib`` on one row gives exact, additive contributions for that week;
* errors do not compound through fed-back predictions, and each step's conformal residuals
  describe exactly the booster that produced them;
* the cost, H boosters instead of one, is small here: a few thousand rows per booster.

Target: the units of week ``t + h`` divided by the series' **level** at the origin ``t`` (mean
units of the 26 weeks up to and including ``t``, at least ``LEVEL_FLOOR`` units). One global
model then serves series whose sizes differ a hundredfold, and every history feature is scaled
by the same level. The forecast in units is ``level * ratio``. Because TreeSHAP is additive in
the booster's output (the ratio), multiplying every contribution and the base value by the
same level gives contributions **in units** that still add up exactly to the forecast:
``units = level * base + sum(level * phi_i)``. Contributions are grouped by
:data:`FEATURE_GROUPS`: ``recent_level`` (level and lags, rolling statistics, the series'
identity; it also holds ``level * base``, the forecast of an "average week at this level"),
``seasonality`` (same weeks of past years, week-of-year Fourier terms, holidays) and
``activity`` (rep calls, samples, promotions).

Intervals: split conformal on rolling-origin backtest residuals (``training/forecast``), one
quantile per horizon step and level. Residuals are scaled by the series' noise scale at the
origin (mean absolute week-to-week change over the last 52 weeks; see :func:`noise_scale`), so
one quantile serves small and large series alike: ``point +/- q[h] * scale``, lower bound
clipped at 0 units.

Everything here is framework-free NumPy and LightGBM: serving builds the same features with
:func:`build_features` as training does, and a forecaster is saved as plain files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from numbers import Integral
from pathlib import Path
from typing import Any, cast

import lightgbm as lgb
import numpy as np
import yaml
from scipy.signal import lfilter

from candor.models.contract import (
    Kind,
    SalesContract,
    WeekLabel,
    dump_sales_contract,
    sales_contract_from_dict,
)
from candor.models.errors import ErrorDetail, InputValidationError

MAX_HORIZON = 26  # weeks
LEVEL_WINDOW = 26  # weeks in the level that scales the target (13 and 52 did worse)
LEVEL_FLOOR = 1.0  # units: a series selling nothing lately is not divided by zero
NOISE_WINDOW = 52  # weeks of week-to-week changes in the noise scale
NOISE_FLOOR_SHARE = 0.05  # the noise scale is at least 5% of the level ...
NOISE_FLOOR = 0.01  # ... and at least 0.01 units
HISTORY_WEEKS = 2 * 52 + LEVEL_WINDOW + MAX_HORIZON + 4  # kept with a model for forecasting
MIN_ORIGIN = LEVEL_WINDOW - 1  # first origin (0-based week index) with a full level window
RECENT_WINDOW = 4  # weeks in a covariate's recent mean
FOURIER_ORDER = 3
INTERVAL_LEVELS = (80, 95)  # percent
EWM_ALPHAS = (0.1, 0.3, 0.6)  # smoothing weights of the exponentially weighted levels

GROUP_LEVEL = "recent_level"
GROUP_SEASONALITY = "seasonality"
GROUP_ACTIVITY = "activity"
FEATURE_GROUPS = (GROUP_LEVEL, GROUP_SEASONALITY, GROUP_ACTIVITY)

BOOSTER_FILE = "booster_h{h:02d}.txt"
META_FILE = "forecaster.json"
CONTRACT_FILE = "contract.yaml"
HISTORY_FILE = "history.npz"


# --- Calendar ----------------------------------------------------------------------------------


def _easter_western(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month = (h + el - 7 * m + 114) // 31
    day = (h + el - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _easter_orthodox(year: int) -> date:
    """Orthodox Easter Sunday (Julian computus), as a Gregorian date (valid 1900-2099)."""
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month = (d + e + 114) // 31
    day = (d + e + 114) % 31 + 1
    return date(year, month, day) + timedelta(days=13)


def _thanksgiving_us(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def _holiday(name: str, year: int) -> date:
    fixed = {
        "new_year": (1, 1),
        "labour_day": (5, 1),
        "christmas": (12, 25),
        "boxing_day": (12, 26),
        "orthodox_christmas": (1, 7),
    }
    if name in fixed:
        month, day = fixed[name]
        return date(year, month, day)
    if name == "good_friday":
        return _easter_western(year) - timedelta(days=2)
    if name == "easter_monday":
        return _easter_western(year) + timedelta(days=1)
    if name == "orthodox_easter":
        return _easter_orthodox(year)
    if name == "thanksgiving_us":
        return _thanksgiving_us(year)
    raise ValueError(f"unknown holiday {name!r}")


@lru_cache(maxsize=32)
def holiday_days(names: tuple[str, ...], first_year: int, last_year: int) -> np.ndarray:
    """Sorted holiday dates (days since the epoch, int64) of the named holidays."""
    days = {
        np.datetime64(_holiday(n, y), "D").astype(np.int64)
        for n in names
        for y in range(first_year, last_year + 1)
    }
    return np.array(sorted(days), dtype=np.int64)


def week_starts(labels: np.ndarray, week_label: WeekLabel) -> np.ndarray:
    """First day of each week (datetime64[D]) from the dates the file gives."""
    labels = labels.astype("datetime64[D]")
    return labels - np.timedelta64(6, "D") if week_label is WeekLabel.END else labels


def calendar_features(
    labels: np.ndarray, *, week_label: WeekLabel, holidays: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Yearly Fourier terms of the week's middle day and a holiday flag, one value per week."""
    start = week_starts(labels, week_label)
    middle = start + np.timedelta64(3, "D")
    years = middle.astype("datetime64[Y]")
    day_of_year = (middle - years.astype("datetime64[D]")).astype(float)
    phase = 2.0 * np.pi * day_of_year / 365.25
    out: dict[str, np.ndarray] = {}
    for k in range(1, FOURIER_ORDER + 1):
        out[f"week_sin_{k}"] = np.sin(k * phase)
        out[f"week_cos_{k}"] = np.cos(k * phase)
    flag = np.zeros(len(labels))
    if holidays and len(labels):
        year_numbers = years.astype(int) + 1970
        hd = holiday_days(
            tuple(sorted(holidays)), int(year_numbers.min()) - 1, int(year_numbers.max()) + 1
        )
        first = start.astype(np.int64)
        flag = (np.searchsorted(hd, first + 7) - np.searchsorted(hd, first)).astype(float)
        flag = np.minimum(flag, 1.0)
    out["holiday_week"] = flag
    return out


# --- Series and features -----------------------------------------------------------------------


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


def _cumsum0(values: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(values, dtype=float)])


def _window_mean(c: np.ndarray, end: np.ndarray, width: int, *, partial: bool) -> np.ndarray:
    """Mean of x[end - width + 1 .. end] from ``c = _cumsum0(x)``; NaN where unavailable.

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


def _ewm(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted mean up to each week (simple exponential smoothing level)."""
    if len(values) == 0:
        return values
    smoothed = lfilter([alpha], [1.0, alpha - 1.0], values, zi=[(1.0 - alpha) * values[0]])
    return np.asarray(smoothed[0], dtype=float)


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    ok = (index >= 0) & (index < len(values))
    return np.where(ok, values[np.clip(index, 0, max(len(values) - 1, 0))], np.nan)


def series_level(units: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """The level at each origin: mean units of the last 26 weeks, at least ``LEVEL_FLOOR``."""
    mean = _window_mean(_cumsum0(units), origins, LEVEL_WINDOW, partial=True)
    return np.maximum(np.nan_to_num(mean, nan=LEVEL_FLOOR), LEVEL_FLOOR)


def noise_scale(units: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Units: mean |week-to-week change| over the last 52 weeks up to each origin, floored.

    The scale of conformal residuals (and the in-sample scale of a naive-1 MASE): a series
    that moves a lot from week to week gets proportionally wider intervals.
    """
    diffs = np.abs(np.diff(units)) if len(units) > 1 else np.zeros(0)
    mean = _window_mean(_cumsum0(diffs), origins - 1, NOISE_WINDOW, partial=True)
    level = series_level(units, origins)
    floor = np.maximum(NOISE_FLOOR_SHARE * level, NOISE_FLOOR)
    return np.maximum(np.nan_to_num(mean, nan=0.0), floor)


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
    c = _cumsum0(y)
    c2 = _cumsum0(y * y)
    level = series_level(y, origins)
    cols: dict[str, np.ndarray] = {}
    for k in range(1, 5):
        cols[f"units_lag_{k}"] = _at(y, origins - k + 1) / level
    cols["units_mean_4w"] = _window_mean(c, origins, 4, partial=False) / level
    cols["units_mean_26w"] = _window_mean(c, origins, 26, partial=False) / level
    cols["units_mean_52w"] = _window_mean(c, origins, 52, partial=False) / level
    mean13 = _window_mean(c, origins, 13, partial=False)
    var13 = _window_mean(c2, origins, 13, partial=False) - mean13**2
    cols["units_std_13w"] = np.sqrt(np.maximum(var13, 0.0)) / level
    cols["units_trend_13w"] = (mean13 - _window_mean(c, origins - 13, 13, partial=False)) / level
    for alpha in EWM_ALPHAS:
        cols[f"units_ewm_{alpha}"] = _at(_ewm(y, alpha), origins) / level
    cols["level_log"] = np.log(level)
    for name, code in zip(layout.categorical, codes, strict=True):
        cols[name] = np.full(len(origins), code, dtype=float)
    for f in contract.covariates:
        values = series.covariates[f.name].astype(float)[: len(y)]
        cols[f"{f.name}_recent_4w"] = _window_mean(
            _cumsum0(values), origins, RECENT_WINDOW, partial=True
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
    c = _cumsum0(y)
    m = layout.season_length
    target = origins + h
    cols: dict[str, np.ndarray] = {}
    cols["same_week_last_year"] = _at(y, target - m) / level
    for years, name in ((1, "seasonal_index_1y"), (2, "seasonal_index_2y")):
        # the target week a season ago (3-week mean) over that season's level at the origin
        then = _window_mean(c, target - years * m + 1, 3, partial=False)
        then_level = _window_mean(c, origins - years * m, LEVEL_WINDOW, partial=False)
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


def _planned_values(
    raw: Any, name: str, horizon: int, series: Mapping[str, str], kind: Kind | None
) -> np.ndarray:
    """Planned weekly values of one covariate: exactly ``horizon`` finite numbers (0/1 flags)."""
    where = f"future_covariates.{name}"
    problem = None
    values = np.zeros(0)
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence | np.ndarray):
        problem = "a list of numbers"
    else:
        try:
            values = np.asarray([float(v) for v in raw], dtype=float)
        except (TypeError, ValueError):
            problem = "numbers"
    if problem is None and len(values) != horizon:
        problem = f"exactly {horizon} weekly values (one per forecast week)"
    if problem is None and not np.all(np.isfinite(values)):
        problem = "finite numbers"
    if problem is None and kind is Kind.BOOLEAN and not np.isin(values, (0.0, 1.0)).all():
        problem = "0 or 1 for each week (a flag)"
    if problem is not None:
        shown = list(raw)[: horizon + 1] if isinstance(raw, Sequence) else raw
        raise InputValidationError(
            f"future covariate {name!r} of series {series} needs {problem}, got {shown!r}",
            [ErrorDetail(where, f"expected {problem}")],
        )
    return values


# --- The fitted forecaster ---------------------------------------------------------------------


@dataclass(frozen=True)
class WeekForecast:
    """One forecast week of one series. Units throughout (``drivers`` too)."""

    step: int  # weeks after the last observed week
    week: str  # ISO date of the week, as the data labels weeks
    point: float
    lower: dict[int, float]  # level (80, 95) -> lower bound
    upper: dict[int, float]
    drivers: dict[str, float] | None = None  # FEATURE_GROUPS -> units; sums to point
    contributions: dict[str, float] | None = None  # feature -> units (explain="all")
    baseline: float | None = None  # level * base value, part of drivers["recent_level"]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step,
            "week": self.week,
            "point": self.point,
            "intervals": {
                str(lv): {"lower": self.lower[lv], "upper": self.upper[lv]} for lv in self.lower
            },
        }
        if self.drivers is not None:
            out["drivers"] = self.drivers
            out["baseline"] = self.baseline
        if self.contributions is not None:
            out["contributions"] = self.contributions
        return out


@dataclass(frozen=True)
class SeriesForecast:
    key: dict[str, str]
    last_observed_week: str
    level: float  # units: the 26-week level the model scaled by
    scale: float  # units: the noise scale the intervals are multiples of
    weeks: list[WeekForecast]
    assumed: list[str]  # covariates whose future values were assumed (their recent mean)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "last_observed_week": self.last_observed_week,
            "level": self.level,
            "scale": self.scale,
            "assumed_covariates": self.assumed,
            "weeks": [w.to_dict() for w in self.weeks],
        }


@dataclass
class SalesForecaster:
    """A fitted direct forecaster: one booster per step, conformal quantiles, recent history.

    Attributes:
        boosters_: ``boosters_[h - 1]`` predicts the ratio of week ``origin + h`` to the level.
        layout_: feature names, groups, categorical ones.
        categories_: per categorical series field, the values seen in training (code = index).
        quantiles_: level (80, 95) -> array of H scaled-residual quantiles (one per step).
        contract_: the sales contract of the training data.
        history_: the last ``HISTORY_WEEKS`` weeks of every training series (forecast input).
        meta_: parameters, data fingerprint, backtest summary.
    """

    boosters_: list[lgb.Booster]
    layout_: FeatureLayout
    categories_: dict[str, list[str]]
    quantiles_: dict[int, np.ndarray]
    contract_: SalesContract
    history_: dict[tuple[str, ...], SeriesHistory]
    meta_: dict[str, Any] = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        return len(self.boosters_)

    @property
    def feature_names(self) -> list[str]:
        return list(self.layout_.names)

    @property
    def series_keys(self) -> list[tuple[str, ...]]:
        return list(self.history_)

    def codes_for(self, key: Sequence[str]) -> list[float]:
        """Categorical codes of a series key; NaN for a value not seen in training."""
        out: list[float] = []
        for name, value in zip(self.layout_.categorical, key, strict=True):
            cats = self.categories_[name]
            out.append(float(cats.index(value)) if value in cats else float("nan"))
        return out

    def _check(self, values: np.ndarray) -> None:
        expected = len(self.layout_.names)
        if values.ndim != 2 or values.shape[1] != expected:
            raise ValueError(
                f"X has {values.shape[-1]} features, but this SalesForecaster is expecting "
                f"{expected}"
            )

    def predict_ratio(self, values: np.ndarray, h: int) -> np.ndarray:
        """Booster h's output: forecast units divided by the level, shape (n,)."""
        self._check(values)
        return np.asarray(self.boosters_[h - 1].predict(values), dtype=float)

    def contributions(self, values: np.ndarray, h: int) -> np.ndarray:
        """TreeSHAP contributions in ratio units, shape (n, k + 1); the last is the base value.

        Multiply by the level for units (see the module docstring).
        """
        self._check(values)
        return np.asarray(self.boosters_[h - 1].predict(values, pred_contrib=True), dtype=float)

    def interval(
        self, point: np.ndarray, scale: np.ndarray, h: int, level: int
    ) -> tuple[np.ndarray, np.ndarray]:
        q = float(self.quantiles_[level][h - 1])
        return np.maximum(point - q * scale, 0.0), point + q * scale

    def forecast(
        self,
        *,
        keys: Sequence[Sequence[str]] | None = None,
        horizon: int | None = None,
        future_covariates: Mapping[tuple[str, ...], Mapping[str, Sequence[float]]] | None = None,
        history: Mapping[tuple[str, ...], SeriesHistory] | None = None,
        explain: str = "groups",
    ) -> list[SeriesForecast]:
        """Forecast ``horizon`` weeks after each series' last observed week.

        Args:
            keys: series keys, values in the order of the contract's series fields (default:
                every series the model was trained on).
            horizon: weeks ahead, 1 to ``self.horizon`` (default: all).
            future_covariates: per key, per known-in-future covariate, the planned values of
                the next ``horizon`` weeks. Missing ones are assumed to stay at their recent
                (4-week) mean and are listed in ``SeriesForecast.assumed``.
            history: newer histories to forecast from (default: the stored training history).
            explain: ``"none"``, ``"groups"`` (drivers per week, in units) or ``"all"``
                (also every feature's contribution, in units).

        Returns:
            One :class:`SeriesForecast` per key, in the order asked; its ``weeks`` hold the
            point forecast, the 80% and 95% bounds and (unless ``explain="none"``) the drivers
            by group, all in units sold; the drivers of a week add up to its point forecast.

        Raises:
            InputValidationError: (code ``input_invalid``; ``details[].field`` is ``horizon``,
                ``series``, ``explain`` or ``future_covariates.<name>``) for a horizon outside
                1..``self.horizon``, an unknown series or a key with the wrong number of
                values, covariates for a series not asked for, a covariate that is not known
                in the future, or planned values that are not exactly ``horizon`` finite
                numbers (0/1 for a flag).
        """
        if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, Integral)):
            raise InputValidationError(
                f"horizon must be a whole number of weeks, got {horizon!r}",
                [ErrorDetail("horizon", "not an integer")],
            )
        horizon = self.horizon if horizon is None else int(horizon)
        if not 1 <= horizon <= self.horizon:
            raise InputValidationError(
                f"horizon must be between 1 and {self.horizon} weeks, got {horizon}",
                [ErrorDetail("horizon", f"out of range 1..{self.horizon}")],
            )
        if explain not in ("none", "groups", "all"):
            raise InputValidationError(
                f"explain must be 'none', 'groups' or 'all', got {explain!r}",
                [ErrorDetail("explain", "unknown value")],
            )
        source = dict(history) if history is not None else self.history_
        wanted = [self._key(k) for k in keys] if keys is not None else list(source)
        planned = {self._key(k): v for k, v in (future_covariates or {}).items()}
        stray = [k for k in planned if k not in wanted]
        if stray:
            raise InputValidationError(
                f"future covariates are given for series {[self.describe(k) for k in stray]} "
                "that the request does not forecast",
                [ErrorDetail("future_covariates", "series not requested")],
            )
        for key in wanted:
            if key not in source:
                raise InputValidationError(
                    f"series {self.describe(key)} is unknown to this model; it knows "
                    f"{len(source)} series, e.g. {[self.describe(k) for k in list(source)[:3]]}",
                    [ErrorDetail("series", f"unknown series {self.describe(key)}")],
                )
        return self._forecast_many(
            [source[k] for k in wanted], horizon, [planned.get(k, {}) for k in wanted], explain
        )

    def _forecast_many(
        self,
        histories: Sequence[SeriesHistory],
        horizon: int,
        plans: Sequence[Mapping[str, Sequence[float]]],
        explain: str,
    ) -> list[SeriesForecast]:
        """Every series at once: features per series, then one booster call per week ahead
        for all series together (LightGBM's per-call overhead dominates single rows)."""
        n = len(histories)
        if n == 0:
            return []
        extended, assumed, origins = [], [], []
        for series, plan in zip(histories, plans, strict=True):
            ext, assumed_names = self._extend(series, horizon, plan)
            extended.append(ext)
            assumed.append(assumed_names)
            origins.append(np.array([len(series) - 1]))
        codes = [self.codes_for(series.key) for series in histories]
        scale = np.array(
            [
                float(noise_scale(s.units.astype(float), o)[0])
                for s, o in zip(histories, origins, strict=True)
            ]
        )
        group_matrix = self.layout_.group_matrix()
        level_group = FEATURE_GROUPS.index(GROUP_LEVEL)
        weeks: list[list[WeekForecast]] = [[] for _ in range(n)]
        level = np.zeros(n)
        fixed = []  # features of each series' origin, the same for every week ahead
        for i in range(n):
            cols, lv = origin_features(
                extended[i],
                origins[i],
                layout=self.layout_,
                contract=self.contract_,
                codes=codes[i],
            )
            fixed.append(cols)
            level[i] = float(lv[0])
        for h in range(1, horizon + 1):
            rows = []
            for i in range(n):
                ahead = target_features(
                    extended[i],
                    origins[i],
                    h,
                    level[i : i + 1],
                    contract=self.contract_,
                    layout=self.layout_,
                )
                rows.append(assemble({**fixed[i], **ahead}, self.layout_, 1)[0])
            matrix = np.vstack(rows)
            point = np.maximum(self.predict_ratio(matrix, h) * level, 0.0)
            bounds = {lvl: self.interval(point, scale, h, lvl) for lvl in sorted(self.quantiles_)}
            contrib = self.contributions(matrix, h) * level[:, None] if explain != "none" else None
            for i in range(n):
                drivers = contributions = None
                baseline = None
                if contrib is not None:
                    grouped = contrib[i, :-1] @ group_matrix
                    baseline = float(contrib[i, -1])
                    grouped[level_group] += baseline
                    # a forecast below 0 units is reported as 0: the clip goes to recent_level
                    grouped[level_group] += float(point[i]) - float(contrib[i].sum())
                    drivers = {g: float(v) for g, v in zip(FEATURE_GROUPS, grouped, strict=True)}
                    if explain == "all":
                        contributions = {
                            name: float(v)
                            for name, v in zip(self.layout_.names, contrib[i, :-1], strict=True)
                        }
                weeks[i].append(
                    WeekForecast(
                        h,
                        str(extended[i].week(len(histories[i]) - 1 + h)),
                        float(point[i]),
                        {lvl: float(lo[i]) for lvl, (lo, _) in bounds.items()},
                        {lvl: float(hi[i]) for lvl, (_, hi) in bounds.items()},
                        drivers,
                        contributions,
                        baseline,
                    )
                )
        return [
            SeriesForecast(
                self.describe(series.key),
                str(series.last_week),
                float(level[i]),
                float(scale[i]),
                weeks[i],
                assumed[i],
            )
            for i, series in enumerate(histories)
        ]

    def _key(self, key: Sequence[str]) -> tuple[str, ...]:
        """A series key as a tuple of text, checked against the number of series fields."""
        names = self.layout_.categorical
        if isinstance(key, str) or len(key) != len(names):
            raise InputValidationError(
                f"a series key gives one value per series field {list(names)}, got {key!r}",
                [ErrorDetail("series", "wrong number of key values")],
            )
        return tuple(str(v) for v in key)

    def describe(self, key: Sequence[str]) -> dict[str, str]:
        """A series key as ``{field: value}`` (for messages and responses)."""
        return dict(zip(self.layout_.categorical, (str(v) for v in key), strict=True))

    def _extend(
        self, series: SeriesHistory, horizon: int, planned: Mapping[str, Sequence[float]]
    ) -> tuple[SeriesHistory, list[str]]:
        """The history with future values of known-in-future covariates appended.

        Raises:
            InputValidationError: a covariate that is not known in the future, a list that is
                not exactly ``horizon`` finite numbers, or a flag other than 0/1.
        """
        known = {f.name: f for f in self.contract_.future_covariates}
        unknown = sorted(set(planned) - set(known))
        if unknown:
            raise InputValidationError(
                f"future covariate(s) {unknown} are not known-in-future covariates of contract "
                f"{self.contract_.name!r}; expected some of {sorted(known)}",
                [ErrorDetail(f"future_covariates.{n}", "not a future covariate") for n in unknown],
            )
        n = len(series)
        covariates = {k: v[:n].astype(float) for k, v in series.covariates.items()}
        assumed: list[str] = []
        for name in sorted(known):
            if name in planned:
                future = _planned_values(
                    planned[name], name, horizon, self.describe(series.key), known[name].kind
                )
            else:
                recent = covariates[name][-RECENT_WINDOW:]
                future = np.full(horizon, float(recent.mean()) if len(recent) else 0.0)
                assumed.append(name)
            covariates[name] = np.concatenate([covariates[name], future])
        return SeriesHistory(series.key, series.first_week, series.units, covariates), assumed

    # --- plain-file persistence -------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for h, booster in enumerate(self.boosters_, start=1):
            booster.save_model(str(path / BOOSTER_FILE.format(h=h)))
        meta = {
            "horizon": self.horizon,
            "layout": self.layout_.to_dict(),
            "categories": self.categories_,
            "quantiles": {str(k): v.tolist() for k, v in self.quantiles_.items()},
            "meta": self.meta_,
        }
        (path / META_FILE).write_text(json.dumps(meta, indent=1, default=str))
        (path / CONTRACT_FILE).write_text(dump_sales_contract(self.contract_))
        _save_history(path / HISTORY_FILE, self.history_, self.contract_)
        return path

    @classmethod
    def load(cls, directory: str | Path) -> SalesForecaster:
        path = Path(directory)
        meta = json.loads((path / META_FILE).read_text())
        boosters = [
            lgb.Booster(model_file=str(path / BOOSTER_FILE.format(h=h)))
            for h in range(1, int(meta["horizon"]) + 1)
        ]
        contract = sales_contract_from_dict(yaml.safe_load((path / CONTRACT_FILE).read_text()))
        return cls(
            boosters,
            FeatureLayout.from_dict(meta["layout"]),
            {k: list(v) for k, v in meta["categories"].items()},
            {int(k): np.asarray(v, dtype=float) for k, v in meta["quantiles"].items()},
            contract,
            _load_history(path / HISTORY_FILE, contract),
            meta["meta"],
        )


def _save_history(
    path: Path, history: Mapping[tuple[str, ...], SeriesHistory], contract: SalesContract
) -> None:
    """Histories as plain arrays (no pickle): keys as text, one row per series, NaN-padded."""
    keys = list(history)
    width = max((len(s) for s in history.values()), default=0)
    units = np.full((len(keys), width), np.nan)
    lengths = np.array([len(history[k]) for k in keys], dtype=np.int64)
    arrays: dict[str, np.ndarray] = {}
    for i, k in enumerate(keys):
        units[i, : lengths[i]] = history[k].units
    for f in contract.covariates:
        cov = np.full((len(keys), width), np.nan)
        for i, k in enumerate(keys):
            cov[i, : lengths[i]] = history[k].covariates[f.name][: lengths[i]]
        arrays[f"cov__{f.name}"] = cov
    arrays["keys"] = np.array(["\x1f".join(k) for k in keys], dtype=str)
    arrays["first_week"] = np.array([str(history[k].first_week) for k in keys], dtype=str)
    arrays["lengths"] = lengths
    arrays["units"] = units
    np.savez(path, **cast(dict[str, Any], arrays))


def _load_history(path: Path, contract: SalesContract) -> dict[tuple[str, ...], SeriesHistory]:
    out: dict[tuple[str, ...], SeriesHistory] = {}
    with np.load(path, allow_pickle=False) as npz:
        for i, raw_key in enumerate(npz["keys"].tolist()):
            n = int(npz["lengths"][i])
            key = tuple(str(raw_key).split("\x1f"))
            covariates = {
                f.name: np.asarray(npz[f"cov__{f.name}"][i, :n], dtype=float)
                for f in contract.covariates
            }
            out[key] = SeriesHistory(
                key,
                np.datetime64(str(npz["first_week"][i]), "D"),
                np.asarray(npz["units"][i, :n], dtype=float),
                covariates,
            )
    return out


def covariate_kinds(contract: SalesContract) -> dict[str, Kind | None]:
    """Each covariate's kind (numeric or boolean), for request schemas."""
    return {f.name: f.kind for f in contract.covariates}


def unwrap_forecaster(pyfunc_model: Any) -> SalesForecaster:
    """The :class:`SalesForecaster` inside a loaded MLflow pyfunc model (duck-typed: models
    stays free of MLflow imports)."""
    wrapper = pyfunc_model.unwrap_python_model()
    forecaster = getattr(wrapper, "forecaster", None)
    if not isinstance(forecaster, SalesForecaster):
        raise TypeError(f"expected a sales forecaster pyfunc, got {type(wrapper).__name__}")
    return forecaster

"""Rolling-origin backtest of the direct forecaster and its baselines, on the same origins.

Clock: weeks are numbered relative to the last week of the data (0 = last week, -1 = the one
before). Scored origins are ``-eval_weeks, -eval_weeks + step, ...`` up to ``-horizon``: every
scored forecast targets one of the last ``eval_weeks`` weeks, and every scored origin is
forecast the full ``horizon`` weeks ahead. Before them, ``calibration_weeks`` origins (one per
week) are forecast too but not scored: their residuals start the conformal calibration.

The boosters are refitted every ``refit_every`` weeks, on targets up to the refit week only
(no forecast ever sees a week after its origin). Each origin is forecast up to the model's
horizon (26 weeks by default) where those weeks exist, so the deployed model gets conformal
quantiles for every step; metrics are reported for steps 1..``horizon``.

Intervals at a scored origin come from residuals already observed at that origin (see
``conformal.online_quantiles``): reported coverage is out-of-sample. The seasonal-naive
baseline gets intervals by the same procedure on its own residuals; AutoETS keeps its own.

Time is kept per part (``BacktestResult.seconds``, in seconds): the boosters' refits and
forecasts, the conformal intervals, seasonal naive and AutoETS (fitted in parallel).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from candor.models.contract import SalesContract
from candor.models.forecast import (
    INTERVAL_LEVELS,
    MIN_ORIGIN,
    FeatureLayout,
    build_features,
    noise_scale,
)
from candor.training.forecast import baselines
from candor.training.forecast.conformal import online_quantiles, quantiles_by_step
from candor.training.forecast.data import Panel
from candor.training.forecast.fit import BoosterParams, categories_of, codes_of, fit_boosters
from candor.training.forecast.metrics import Forecasts, metric_table, naive1_scale

MODEL = "lightgbm_direct"
SEASONAL_NAIVE = "seasonal_naive"
AUTO_ETS = "auto_ets"
CONFORMAL = "conformal"  # a part of the backtest's time (``seconds``), not a method


DEFAULT_WINDOW_WEEKS = 52  # calibration origins and scored weeks, each, where the data allow


@dataclass(frozen=True)
class BacktestConfig:
    """Rolling-origin settings, in weeks. A window left ``None`` is sized to the history by
    :func:`candor.training.forecast.windows.choose_windows` before the backtest runs (the
    default: 52 weeks each where the shortest series holds them)."""

    eval_weeks: int | None = None  # scored forecasts target the last eval_weeks weeks
    horizon: int = 4  # weeks ahead scored at each origin
    step: int = 1  # weeks between scored origins
    calibration_weeks: int | None = None  # unscored origins before, to start the calibration
    refit_every: int = 13  # weeks between refits of the boosters
    baselines: bool = True  # also run seasonal naive and AutoETS
    n_jobs: int = -1  # processes fitting AutoETS (statsforecast's n_jobs; -1: every core)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def scored(self) -> int:
        """``eval_weeks``, once set."""
        if self.eval_weeks is None:
            raise ValueError("eval_weeks is not set: size the windows first (choose_windows)")
        return self.eval_weeks

    @property
    def calibration(self) -> int:
        """``calibration_weeks``, once set."""
        if self.calibration_weeks is None:
            raise ValueError(
                "calibration_weeks is not set: size the windows first (choose_windows)"
            )
        return self.calibration_weeks

    @property
    def first_origin(self) -> int:
        return -(self.scored + self.calibration)

    def scored_origins(self) -> np.ndarray:
        return np.arange(-self.scored, -self.horizon + 1, self.step)


@dataclass
class Residuals:
    """Model residuals of every backtest origin (scored or not), for calibration."""

    scaled: np.ndarray  # |actual - point| / noise scale
    step: np.ndarray
    target_week: np.ndarray  # on the backtest clock
    origin_week: np.ndarray


@dataclass
class BacktestResult:
    config: BacktestConfig
    series_names: list[str]
    forecasts: dict[str, Forecasts]  # method -> scored forecasts
    tables: dict[str, dict[str, dict[str, float]]]  # method -> series/overall -> metric
    by_step: dict[str, dict[int, dict[str, float]]]  # method -> step -> overall metrics
    residuals: Residuals
    quantiles: dict[int, np.ndarray]  # from all residuals: what the deployed model uses
    mase_scales: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)
    # every model forecast of every origin (scored or not): series, origin, step, actual,
    # point, scale; what reconciliation over a hierarchy starts from
    model_rows: dict[str, np.ndarray] = field(default_factory=dict)
    served: str = MODEL  # the method whose forecasts the deployed model serves

    def overall(self, method: str | None = None) -> dict[str, float]:
        """A method's overall metrics; by default those of the forecasts as served."""
        return self.tables[method or self.served]["overall"]

    def add(self, method: str, forecasts: Forecasts, seconds: float | None = None) -> None:
        """Score another method's forecasts of the same origins with the same MASE scales."""
        self.forecasts[method] = forecasts
        self.tables[method] = metric_table(forecasts, self.mase_scales, self.series_names)
        self.by_step[method] = {
            int(h): metric_table(
                _select(forecasts, forecasts.step == h), self.mase_scales, self.series_names
            )["overall"]
            for h in np.unique(forecasts.step)
        }
        if seconds is not None:
            self.seconds[method] = seconds

    def rows(self) -> list[dict[str, Any]]:
        """Flat table: one row per method and series (plus overall), for CSV and JSON."""
        out: list[dict[str, Any]] = []
        for method, table in self.tables.items():
            for series, metrics in table.items():
                out.append({"method": method, "series": series, **metrics})
        return out


def series_label(key: tuple[str, ...], contract: SalesContract) -> str:
    constants = contract.constant_values
    parts = [v for n, v in zip(contract.series_names, key, strict=True) if n not in constants]
    return "/".join(parts or key)


def _empty() -> dict[str, list[Any]]:
    return {k: [] for k in ("series", "origin", "step", "actual", "point", "scale")}


def run_backtest(
    panel: Panel,
    *,
    contract: SalesContract,
    config: BacktestConfig,
    params: BoosterParams,
    model_horizon: int,
    log: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Refit, forecast every origin, score the model and the baselines on the same origins."""
    say = log or (lambda message: None)
    clock = time.perf_counter()
    layout = FeatureLayout.from_contract(contract)
    categories = categories_of(panel, contract)
    keys = list(panel)
    names = [series_label(k, contract) for k in keys]
    season = contract.season_length
    last = max(s.last_week for s in panel.values())
    origins = np.arange(config.first_origin, 0)
    refits = origins[:: config.refit_every]
    model_rows = _empty()
    for b, refit in enumerate(refits):
        cutoff = last + np.timedelta64(7 * int(refit), "D")
        boosters = fit_boosters(
            panel, horizon=model_horizon, cutoff=cutoff, contract=contract, params=params
        )
        block = origins[(origins >= refit) & (origins < refit + config.refit_every)]
        for i, key in enumerate(keys):
            series = panel[key]
            n = len(series)
            idx = n - 1 + block
            idx = idx[idx >= MIN_ORIGIN]
            if len(idx) == 0:
                continue
            codes = codes_of(key, categories, contract.series_names)
            scale = noise_scale(series.units, idx)
            for h in range(1, model_horizon + 1):
                ok = idx + h <= n - 1
                if not ok.any():
                    break
                t = idx[ok]
                x, level = build_features(
                    series, t, h, layout=layout, contract=contract, codes=codes
                )
                point = np.maximum(boosters[h - 1].predict(x) * level, 0.0)
                model_rows["series"].append(np.full(len(t), i))
                model_rows["origin"].append(t - (n - 1))
                model_rows["step"].append(np.full(len(t), h))
                model_rows["actual"].append(series.units[t + h])
                model_rows["point"].append(point)
                model_rows["scale"].append(scale[ok])
        say(f"backtest refit {b + 1}/{len(refits)} (targets up to week {cutoff}) done")
    seconds = {MODEL: time.perf_counter() - clock}
    say(
        f"backtest {MODEL}: {seconds[MODEL]:.1f} s ({len(refits)} refits of {model_horizon} "
        f"boosters, {len(origins)} origins)"
    )
    clock = time.perf_counter()
    rows = {k: np.concatenate(v) for k, v in model_rows.items()}
    residuals = Residuals(
        np.abs(rows["actual"] - rows["point"]) / rows["scale"],
        rows["step"],
        rows["origin"] + rows["step"],
        rows["origin"],
    )
    quantiles = quantiles_by_step(residuals.scaled, residuals.step, model_horizon)

    mase_scales = np.array(
        [naive1_scale(panel[k].units[: len(panel[k]) - config.scored]) for k in keys]
    )
    scored = np.isin(rows["origin"], config.scored_origins()) & (rows["step"] <= config.horizon)
    forecasts = {MODEL: _with_online_intervals(rows, residuals, scored)}
    seconds[CONFORMAL] = time.perf_counter() - clock
    say(
        f"backtest {CONFORMAL}: {seconds[CONFORMAL]:.1f} s ({len(residuals.scaled):,} "
        "residuals, online intervals of every scored forecast)"
    )

    if config.baselines:
        clock = time.perf_counter()
        naive = _seasonal_naive_rows(panel, keys, origins, config.horizon, season)
        naive_residuals = Residuals(
            np.abs(naive["actual"] - naive["point"]) / naive["scale"],
            naive["step"],
            naive["origin"] + naive["step"],
            naive["origin"],
        )
        naive_scored = np.isin(naive["origin"], config.scored_origins())
        forecasts[SEASONAL_NAIVE] = _with_online_intervals(naive, naive_residuals, naive_scored)
        seconds[SEASONAL_NAIVE] = time.perf_counter() - clock
        say(f"backtest {SEASONAL_NAIVE}: {seconds[SEASONAL_NAIVE]:.1f} s")
        clock = time.perf_counter()
        forecasts[AUTO_ETS] = _auto_ets_forecasts(panel, keys, config, season)
        seconds[AUTO_ETS] = time.perf_counter() - clock
        fits = len(keys) * len(config.scored_origins())
        say(
            f"backtest {AUTO_ETS}: {seconds[AUTO_ETS]:.1f} s ({fits} fits, "
            f"{baselines.jobs(config.n_jobs, fits)} processes)"
        )

    result = BacktestResult(
        config, names, {}, {}, {}, residuals, quantiles, mase_scales, seconds, model_rows=rows
    )
    for method, scored_forecasts in forecasts.items():
        result.add(method, scored_forecasts)
    return result


def _select(f: Forecasts, mask: np.ndarray) -> Forecasts:
    return Forecasts(
        f.series[mask],
        f.step[mask],
        f.actual[mask],
        f.point[mask],
        {k: v[mask] for k, v in f.lower.items()},
        {k: v[mask] for k, v in f.upper.items()},
    )


def _with_online_intervals(
    rows: dict[str, np.ndarray], residuals: Residuals, scored: np.ndarray
) -> Forecasts:
    lower: dict[int, np.ndarray] = {}
    upper: dict[int, np.ndarray] = {}
    point, scale = rows["point"][scored], rows["scale"][scored]
    for level in INTERVAL_LEVELS:
        q = online_quantiles(
            residuals.scaled,
            residuals.step,
            residuals.target_week,
            origin_week=rows["origin"][scored],
            query_steps=rows["step"][scored],
            level=level,
        )
        lower[level] = np.maximum(point - q * scale, 0.0)
        upper[level] = point + q * scale
    return Forecasts(
        rows["series"][scored], rows["step"][scored], rows["actual"][scored], point, lower, upper
    )


def _seasonal_naive_rows(
    panel: Panel, keys: list[tuple[str, ...]], origins: np.ndarray, horizon: int, season: int
) -> dict[str, np.ndarray]:
    out = _empty()
    for i, key in enumerate(keys):
        units = panel[key].units
        n = len(units)
        for o in origins:
            t = n - 1 + int(o)
            if t < season:
                continue
            hmax = min(horizon, n - 1 - t)
            if hmax < 1:
                continue
            point = baselines.seasonal_naive(units, t, hmax, season)
            out["series"].append(np.full(hmax, i))
            out["origin"].append(np.full(hmax, o))
            out["step"].append(np.arange(1, hmax + 1))
            out["actual"].append(units[t + 1 : t + 1 + hmax])
            out["point"].append(point)
            out["scale"].append(np.repeat(noise_scale(units, np.array([t])), hmax))
    return {k: np.concatenate(v) for k, v in out.items()}


def _auto_ets_forecasts(
    panel: Panel, keys: list[tuple[str, ...]], config: BacktestConfig, season: int
) -> Forecasts:
    """AutoETS at every scored origin of every series: one fit per (series, origin) on the
    weeks up to the origin, all in one parallel statsforecast call."""
    origins = config.scored_origins()
    h = config.horizon
    histories, actual, series = [], [], []
    for i, key in enumerate(keys):
        units = panel[key].units
        for o in origins:
            t = len(units) - 1 + int(o)
            histories.append(units[: t + 1])
            actual.append(units[t + 1 : t + 1 + h])
            series.append(np.full(h, i))
    point, lower, upper = baselines.auto_ets(
        histories, h, season, INTERVAL_LEVELS, n_jobs=config.n_jobs
    )
    return Forecasts(
        np.concatenate(series),
        np.tile(np.arange(1, h + 1), len(histories)),
        np.concatenate(actual),
        point.ravel(),
        {lv: v.ravel() for lv, v in lower.items()},
        {lv: v.ravel() for lv, v in upper.items()},
    )

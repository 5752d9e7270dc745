"""Reconciling the backtest's forecasts over the contract's hierarchy: MinTrace beside BottomUp.

The backtest forecasts every node of the hierarchy with the one global model (the *base*
forecasts: a region's from the region's own history). Base forecasts do not add up: the
territories of a region do not sum to the region's forecast. Reconciliation maps the base
forecasts of every node at an origin and week ahead, ``y_hat`` (nodes), to coherent ones,
``S @ P @ y_hat``, with ``S`` the summing matrix and ``P`` (series x nodes) chosen by
Nixtla's ``hierarchicalforecast``:

* **BottomUp**: the series' own base forecasts, summed (``P`` picks the bottom rows);
* **MinTrace** (Wickramasuriya, Athanasopoulos & Hyndman 2019): the minimum-variance
  unbiased combination of every level, weighted by the one-week-ahead base errors. Candor uses
  its ``wls_var`` estimator (each node's error variance, a diagonal ``W``): the calibration
  window holds about 52 weeks of errors for, in the sample, 70 nodes, too few for a full
  covariance even shrunk; measured on the sample (bench/results/forecast_hierarchy.md's run),
  ``mint_shrink`` was 0.5% worse than base at the bottom level where ``wls_var`` was 0.2%
  better, both about 7-10% better at the top. Served forecasts are MinTrace's, floored at 0
  units at the series (bottom) level and summed from there, so they add up exactly at every
  node.

``P`` depends only on ``S`` and the errors' covariance, not on the forecasts: the backtest fits
it on the calibration origins' one-week-ahead errors only (before any scored week) and applies
it to every origin; the deployed model's ``P`` uses every backtest origin.

Intervals, per level: split conformal on the reconciled forecasts' residuals, scaled by each
node's noise scale (as the base intervals are), one quantile per level of the hierarchy and
week ahead. The backtest's coverage is measured online (each origin's quantile from residuals
already observed there), per level; the deployed model uses every residual.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from candor.models.forecast import INTERVAL_LEVELS
from candor.models.forecast.hierarchy import Hierarchy, Key
from candor.training.forecast.backtest import MODEL, BacktestResult
from candor.training.forecast.conformal import online_quantiles, quantiles_by_step
from candor.training.forecast.metrics import Forecasts, summarise

BASE = "base"
BOTTOM_UP = "bottom_up"
MIN_TRACE = "min_trace"
METHODS = (BASE, BOTTOM_UP, MIN_TRACE)
RECONCILED = f"{MODEL}_{MIN_TRACE}"  # the backtest method of the served forecasts
MINT_METHOD = "wls_var"  # MinTrace with each node's error variance (see the docstring)


@dataclass
class ReconciliationResult:
    """What reconciliation gives the deployed model and the backtest report.

    Attributes:
        matrix: ``P``, series x nodes, from every backtest origin (served forecasts:
            ``S @ max(P @ y_hat, 0)``).
        quantiles: level label -> interval level -> per-step quantiles (index h - 1), in
            multiples of the node's noise scale.
        table: one row per method (base, bottom_up, min_trace) and level: MASE, sMAPE, RMSE,
            80% and 95% coverage, Winkler scores, n.
        served: the reconciled forecasts as a backtest method (every node), with online
            intervals, for the overall table and the champion gate.
    """

    matrix: np.ndarray
    quantiles: dict[str, dict[int, np.ndarray]]
    table: list[dict[str, Any]]
    served: Forecasts
    seconds: float = 0.0
    method: str = MINT_METHOD
    notes: list[str] = field(default_factory=list)

    def level_rows(self, level: str) -> dict[str, dict[str, Any]]:
        return {r["method"]: r for r in self.table if r["level"] == level}


def projection(method: str, s: np.ndarray, residuals: np.ndarray | None) -> np.ndarray:
    """``P`` (series x nodes) of BottomUp or MinTrace (:data:`MINT_METHOD`).

    ``residuals``: one-week-ahead base errors, nodes x weeks (MinTrace only).
    """
    from hierarchicalforecast.methods import BottomUp, MinTrace

    y_hat = np.zeros((s.shape[0], 1))
    if method == BOTTOM_UP:
        return np.asarray(BottomUp().fit(S=s, y_hat=y_hat).P, dtype=float)
    if residuals is None or residuals.shape[1] < 2:
        raise ValueError("MinTrace needs one-week-ahead errors of at least two weeks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own note on the shrinkage it picks
        fitted = MinTrace(method=MINT_METHOD).fit(
            S=s, y_hat=y_hat, y_insample=residuals, y_hat_insample=np.zeros_like(residuals)
        )
    return np.asarray(fitted.P, dtype=float)


def reconcile_backtest(
    result: BacktestResult, hierarchy: Hierarchy, keys: list[Key]
) -> ReconciliationResult:
    """Base, BottomUp and MinTrace forecasts of every node at every backtest origin, scored
    per level on the backtest's scored origins; ``keys`` are the backtest's series (every
    node), in its order."""
    clock = time.perf_counter()
    rows = result.model_rows
    order = [keys.index(k) for k in hierarchy.keys]  # node row -> backtest series index
    nodes = len(order)
    s = hierarchy.summing_matrix()
    steps = int(rows["step"].max())
    origins = np.unique(rows["origin"])
    cube = {
        name: np.full((len(origins), steps, nodes), np.nan) for name in ("actual", "point", "scale")
    }
    where = np.searchsorted(origins, rows["origin"])
    node_of = np.full(len(keys), -1)
    node_of[order] = np.arange(nodes)
    for name in cube:
        cube[name][where, rows["step"] - 1, node_of[rows["series"]]] = rows[name]
    complete = ~np.isnan(cube["point"]).any(axis=2)  # (origin, step) with every node

    config = result.config
    calibration = origins < config.scored_origins()[0]
    one_ahead = complete[:, 0]
    errors = (cube["actual"][:, 0] - cube["point"][:, 0])[one_ahead & calibration].T
    deployed_errors = (cube["actual"][:, 0] - cube["point"][:, 0])[one_ahead].T
    if errors.shape[1] < 2:  # never fit on the scored weeks: the report would see them
        raise ValueError(
            "MinTrace needs one-week-ahead errors of at least 2 calibration weeks; "
            f"the backtest has {errors.shape[1]}"
        )
    p_mint = projection(MIN_TRACE, s, errors)
    p_bu = projection(BOTTOM_UP, s, None)

    point = np.nan_to_num(cube["point"])
    reconciled = {
        BASE: point,
        BOTTOM_UP: point @ (s @ p_bu).T,
        MIN_TRACE: np.maximum(point @ p_mint.T, 0.0) @ s.T,
    }
    o_idx, h_idx = np.nonzero(complete)
    scored = np.isin(origins[o_idx], config.scored_origins()) & (h_idx + 1 <= config.horizon)
    levels = [hierarchy.node(k).level_label for k in hierarchy.keys]
    level_of = np.array(levels)
    table: list[dict[str, Any]] = []
    served_parts: list[Forecasts] = []
    quantiles: dict[str, dict[int, np.ndarray]] = {}
    scales = result.mase_scales[np.array(order)]
    for method, values in reconciled.items():
        for level in hierarchy.level_labels:
            cols = np.flatnonzero(level_of == level)
            f, q = _level_forecasts(values, cube, o_idx, h_idx, origins, cols, scored, steps, order)
            mase_scale = np.repeat(scales[cols][None, :], len(o_idx), 0)[scored].ravel()
            table.append(
                {
                    "method": method,
                    "level": level,
                    "nodes": len(cols),
                    **summarise(f, np.ones(len(f.actual), dtype=bool), mase_scale),
                }
            )
            if method == MIN_TRACE:
                quantiles[level] = q
                served_parts.append(f)
    served = Forecasts(
        np.concatenate([f.series for f in served_parts]),
        np.concatenate([f.step for f in served_parts]),
        np.concatenate([f.actual for f in served_parts]),
        np.concatenate([f.point for f in served_parts]),
        {lv: np.concatenate([f.lower[lv] for f in served_parts]) for lv in INTERVAL_LEVELS},
        {lv: np.concatenate([f.upper[lv] for f in served_parts]) for lv in INTERVAL_LEVELS},
    )
    deployed = projection(MIN_TRACE, s, deployed_errors)
    return ReconciliationResult(
        deployed, quantiles, table, served, seconds=time.perf_counter() - clock
    )


def _level_forecasts(
    values: np.ndarray,
    cube: dict[str, np.ndarray],
    o_idx: np.ndarray,
    h_idx: np.ndarray,
    origins: np.ndarray,
    cols: np.ndarray,
    scored: np.ndarray,
    steps: int,
    order: list[int],
) -> tuple[Forecasts, dict[int, np.ndarray]]:
    """One level's scored forecasts with online conformal intervals from that level's own
    residuals, and its deployed quantiles (from every residual)."""
    point = values[o_idx, h_idx][:, cols]
    actual = cube["actual"][o_idx, h_idx][:, cols]
    scale = cube["scale"][o_idx, h_idx][:, cols]
    k = len(cols)
    step = np.repeat((h_idx + 1)[:, None], k, 1).ravel()
    origin = np.repeat(origins[o_idx][:, None], k, 1).ravel()
    series = np.repeat(np.array(order)[cols][None, :], len(o_idx), 0).ravel()
    point, actual, scale = point.ravel(), actual.ravel(), scale.ravel()
    residual = np.abs(actual - point) / scale
    mask = np.repeat(scored[:, None], k, 1).ravel()
    lower: dict[int, np.ndarray] = {}
    upper: dict[int, np.ndarray] = {}
    for level in INTERVAL_LEVELS:
        q = online_quantiles(
            residual,
            step,
            origin + step,
            origin_week=origin[mask],
            query_steps=step[mask],
            level=level,
        )
        lower[level] = np.maximum(point[mask] - q * scale[mask], 0.0)
        upper[level] = point[mask] + q * scale[mask]
    f = Forecasts(series[mask], step[mask], actual[mask], point[mask], lower, upper)
    return f, quantiles_by_step(residual, step, steps)

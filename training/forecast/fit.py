"""Fit the direct boosters: one LightGBM per horizon step, on every series at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from candor.models.contract import SalesContract
from candor.models.forecast import (
    HISTORY_WEEKS,
    MIN_ORIGIN,
    FeatureLayout,
    SalesForecaster,
    build_features,
    noise_scale,
)
from candor.training.forecast.data import Panel

# the same for every booster: bagging every round, and a fit that repeats bit for bit
_FIXED_LIGHTGBM: dict[str, Any] = {
    "bagging_freq": 1,
    "deterministic": True,
    "num_threads": 1,  # as fast here, and immune to OpenMP spinning on a busy box
    "verbosity": -1,
}


@dataclass(frozen=True)
class BoosterParams:
    """LightGBM settings shared by every step's booster.

    Shallow trees (15 leaves, depth 4) keep TreeSHAP cheap per forecast week (PERFORMANCE.md:
    explanation cost grows with leaves x depth^2) and were as accurate as deeper ones in the
    backtests. The objective is L1 on the level ratio, weighted by level / noise scale so that
    the loss is the MASE numerator; it beat Huber and L2 on the pharmacy series.
    """

    num_leaves: int = 15
    max_depth: int = 4
    learning_rate: float = 0.03
    n_estimators: int = 300
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    objective: str = "l1"
    weight_by_noise: bool = True
    seed: int = 42

    def to_lightgbm(self) -> dict[str, Any]:
        # n_estimators is the number of rounds and weight_by_noise a switch of ours: neither is
        # a LightGBM parameter
        own = {
            k: v for k, v in asdict(self).items() if k not in ("n_estimators", "weight_by_noise")
        }
        return own | _FIXED_LIGHTGBM

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def categories_of(panel: Panel, contract: SalesContract) -> dict[str, list[str]]:
    """Sorted values of each series field (a value's code is its index)."""
    return {name: sorted({key[i] for key in panel}) for i, name in enumerate(contract.series_names)}


def codes_of(
    key: tuple[str, ...], categories: dict[str, list[str]], names: list[str]
) -> list[float]:
    return [
        float(categories[n].index(v)) if v in categories[n] else float("nan")
        for n, v in zip(names, key, strict=True)
    ]


def week_index(series_first: np.datetime64, week: np.datetime64) -> int:
    return (
        int((week.astype("datetime64[D]") - series_first.astype("datetime64[D]")).astype(int)) // 7
    )


def design(
    panel: Panel,
    h: int,
    *,
    cutoff: np.datetime64,
    layout: FeatureLayout,
    contract: SalesContract,
    categories: dict[str, list[str]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training rows of step ``h``: every origin whose target week is at most ``cutoff``.

    Returns ``(X, ratio, level, weight)``; ratio = units of the target week / level at the
    origin; weight = level / noise scale, so that an error in ratio units, weighted, is the
    error in units over the series' noise scale: the loss then matches MASE, and a noisy
    small series does not dominate the fit.
    """
    blocks_x: list[np.ndarray] = []
    blocks_y: list[np.ndarray] = []
    blocks_l: list[np.ndarray] = []
    blocks_w: list[np.ndarray] = []
    for key, series in panel.items():
        last_target = min(week_index(series.first_week, cutoff), len(series) - 1)
        origins = np.arange(MIN_ORIGIN, last_target - h + 1)
        if len(origins) == 0:
            continue
        codes = codes_of(key, categories, contract.series_names)
        x, level = build_features(series, origins, h, layout=layout, contract=contract, codes=codes)
        blocks_x.append(x)
        blocks_y.append(series.units[origins + h] / level)
        blocks_l.append(level)
        blocks_w.append(level / noise_scale(series.units, origins))
    if not blocks_x:
        raise ValueError(f"no training rows for step {h} up to {cutoff}")
    return (
        np.vstack(blocks_x),
        np.concatenate(blocks_y),
        np.concatenate(blocks_l),
        np.concatenate(blocks_w),
    )


def fit_boosters(
    panel: Panel,
    *,
    horizon: int,
    cutoff: np.datetime64,
    contract: SalesContract,
    params: BoosterParams,
) -> list[lgb.Booster]:
    """One booster per step 1..horizon, trained on targets up to ``cutoff`` only.

    Features are laid out by the contract and series coded by :func:`categories_of` of the
    whole ``panel``, as the forecaster built on these boosters does.
    """
    layout = FeatureLayout.from_contract(contract)
    categories = categories_of(panel, contract)
    categorical = [layout.names.index(n) for n in layout.categorical]
    boosters: list[lgb.Booster] = []
    for h in range(1, horizon + 1):
        x, ratio, _, weight = design(
            panel, h, cutoff=cutoff, layout=layout, contract=contract, categories=categories
        )
        data = lgb.Dataset(
            x,
            ratio,
            weight=weight if params.weight_by_noise else None,
            feature_name=list(layout.names),
            categorical_feature=categorical,
            free_raw_data=True,
        )
        boosters.append(lgb.train(params.to_lightgbm(), data, num_boost_round=params.n_estimators))
    return boosters


def fit_forecaster(
    panel: Panel,
    *,
    contract: SalesContract,
    horizon: int,
    params: BoosterParams,
    quantiles: dict[int, np.ndarray],
    meta: dict[str, Any],
) -> SalesForecaster:
    """The deployable forecaster: boosters fitted on all weeks, backtest quantiles, history."""
    layout = FeatureLayout.from_contract(contract)
    categories = categories_of(panel, contract)
    last = max(s.last_week for s in panel.values())
    boosters = fit_boosters(panel, horizon=horizon, cutoff=last, contract=contract, params=params)
    history = {k: s.tail(HISTORY_WEEKS) for k, s in panel.items()}
    return SalesForecaster(boosters, layout, categories, quantiles, contract, history, meta)

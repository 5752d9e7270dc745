"""Backtest metrics and conformal quantiles against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from candor.training.forecast.conformal import (
    conformal_quantile,
    online_quantiles,
    quantiles_by_step,
)
from candor.training.forecast.metrics import (
    Forecasts,
    metric_table,
    naive1_scale,
    smape,
    summarise,
    winkler,
)

ACTUAL = np.array([10.0, 0.0, 5.0])
POINT = np.array([8.0, 0.0, 10.0])
LOWER = np.array([9.0, 0.0, 6.0])  # 80% bounds: 10 inside, 0 inside, 5 below by 1
UPPER = np.array([12.0, 1.0, 8.0])


def forecasts(series: np.ndarray | None = None) -> Forecasts:
    return Forecasts(
        series if series is not None else np.zeros(3, dtype=int),
        np.array([1, 2, 3]),
        ACTUAL,
        POINT,
        {80: LOWER},
        {80: UPPER},
    )


def test_smape_is_zero_when_both_are_zero_and_in_percent_otherwise() -> None:
    # 200*2/18, 0 (0 and 0), 200*5/15
    assert smape(ACTUAL, POINT) == pytest.approx([200 / 9, 0.0, 200 / 3])


def test_winkler_adds_two_over_alpha_times_the_miss() -> None:
    # widths 3, 1, 2; the third misses by 1 at alpha 0.2: 2 + 10 * 1
    assert winkler(ACTUAL, LOWER, UPPER, 80) == pytest.approx([3.0, 1.0, 12.0])
    # at 95% the same miss costs 2/0.05 = 40
    assert winkler(np.array([5.0]), np.array([6.0]), np.array([8.0]), 95) == pytest.approx([42.0])


def test_summary_of_hand_computed_forecasts() -> None:
    out = summarise(forecasts(), np.ones(3, dtype=bool), 2.0)
    assert out["mase"] == pytest.approx((2 / 2 + 0 / 2 + 5 / 2) / 3)
    assert out["smape"] == pytest.approx((200 / 9 + 0 + 200 / 3) / 3)
    assert out["rmse"] == pytest.approx(math.sqrt((4 + 0 + 25) / 3))
    assert out["mae"] == pytest.approx(7 / 3)
    assert out["coverage80"] == pytest.approx(2 / 3)
    assert out["winkler80"] == pytest.approx(16 / 3)
    assert out["winkler80_scaled"] == pytest.approx(8 / 3)
    assert out["n"] == 3


def test_table_scales_each_series_by_its_own_scale() -> None:
    f = forecasts(np.array([0, 0, 1]))
    table = metric_table(f, np.array([2.0, 5.0]), ["a", "b"])
    assert table["a"]["mase"] == pytest.approx((1.0 + 0.0) / 2)
    assert table["b"]["mase"] == pytest.approx(1.0)  # |5 - 10| / 5
    # overall: every forecast weighs the same
    assert table["overall"]["mase"] == pytest.approx((1.0 + 0.0 + 1.0) / 3)


def test_naive1_scale_is_the_mean_absolute_week_to_week_change() -> None:
    assert naive1_scale(np.array([1.0, 3.0, 2.0, 6.0])) == pytest.approx(7 / 3)
    assert naive1_scale(np.array([4.0, 4.0, 4.0])) == pytest.approx(1e-6)  # never zero


def test_conformal_quantile_uses_the_finite_sample_rank() -> None:
    residuals = np.array([9.0, 1, 8, 2, 7, 3, 6, 4, 5])
    assert conformal_quantile(residuals, 80) == 8.0  # rank ceil(10 * 0.8) = 8
    assert conformal_quantile(residuals, 50) == 5.0  # rank ceil(10 * 0.5) = 5
    assert conformal_quantile(residuals, 95) == 9.0  # rank 10 > 9: the widest seen
    assert conformal_quantile(np.array([]), 80) == math.inf


def test_quantiles_by_step_borrow_and_never_shrink_further_ahead() -> None:
    residuals = np.array([1.0, 2, 3, 4, 0.5, 0.5, 0.5, 0.5])
    steps = np.array([1, 1, 1, 1, 2, 2, 2, 2])
    q = quantiles_by_step(residuals, steps, horizon=3)
    assert q[80].tolist() == [4.0, 4.0, 4.0]  # step 2 is narrower: raised; step 3 borrows
    assert np.all(q[95] >= q[80])


def test_online_quantiles_only_use_residuals_already_observed() -> None:
    residuals = np.array([1.0, 100.0])
    steps = np.array([1, 1])
    target_week = np.array([-5, -1])  # the large residual is only known from week -1 on
    q = online_quantiles(
        residuals,
        steps,
        target_week,
        origin_week=np.array([-6, -3, -1]),
        query_steps=np.array([1, 1, 1]),
        level=50,
    )
    assert q[0] == math.inf  # nothing observed yet
    assert q[1] == 1.0
    assert q[2] == 100.0  # rank ceil(3 * 0.5) = 2 of [1, 100]

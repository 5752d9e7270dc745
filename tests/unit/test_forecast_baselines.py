"""The AutoETS baseline fitted in parallel, in one statsforecast call, gives exactly what one
AutoETS fit per history gives; seasonal naive looks back whole seasons."""

from __future__ import annotations

import warnings

import numpy as np
from statsforecast.models import AutoETS

from candor.training.forecast.baselines import auto_ets, jobs, seasonal_naive

LEVELS = (80, 95)


def histories() -> list[np.ndarray]:
    rng = np.random.default_rng(4)
    return [
        rng.poisson(40 + 15 * np.sin(np.arange(n) / 7.0)).astype(float) for n in (40, 57, 83, 61)
    ]


def test_parallel_autoets_equals_one_fit_per_history() -> None:
    point, lower, upper = auto_ets(histories(), 3, 52, LEVELS, n_jobs=2)
    assert point.shape == (4, 3)
    for i, y in enumerate(histories()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alone = AutoETS(season_length=52).forecast(y=y, h=3, level=list(LEVELS))
        np.testing.assert_array_equal(point[i], np.maximum(alone["mean"], 0.0))
        for lv in LEVELS:
            np.testing.assert_array_equal(lower[lv][i], np.maximum(alone[f"lo-{lv}"], 0.0))
            np.testing.assert_array_equal(upper[lv][i], alone[f"hi-{lv}"])
    serial, _, _ = auto_ets(histories(), 3, 52, LEVELS, n_jobs=1)
    np.testing.assert_array_equal(serial, point)


def test_jobs_are_capped_by_the_fits_and_the_cores() -> None:
    assert jobs(4, 2) == 2
    assert jobs(1, 100) == 1
    assert 1 <= jobs(-1, 100) <= 100


def test_seasonal_naive_repeats_the_same_weeks_a_season_earlier() -> None:
    units = np.arange(10.0)
    assert seasonal_naive(units, 9, 3, 4).tolist() == [6.0, 7.0, 8.0]
    assert seasonal_naive(units, 9, 5, 4).tolist() == [6.0, 7.0, 8.0, 9.0, 6.0]

"""Forecast features (the one transformation of training and serving): no look-ahead,
scale-free, calendar."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from candor.models.contract import SALES_WEEKLY, WeekLabel
from candor.models.errors import InputValidationError
from candor.models.forecast import (
    FEATURE_GROUPS,
    FeatureLayout,
    SeriesHistory,
    build_features,
    calendar_features,
    easter_orthodox,
    easter_western,
    noise_scale,
    series_level,
)

LAYOUT = FeatureLayout.from_contract(SALES_WEEKLY)
WEEKS = 160


def history(seed: int = 0, scale: float = 1.0, weeks: int = WEEKS) -> SeriesHistory:
    rng = np.random.default_rng(seed)
    units = scale * (50 + 10 * np.sin(np.arange(weeks) / 8) + rng.normal(0, 3, weeks))
    covariates = {
        "rep_calls": rng.poisson(8, weeks).astype(float),
        "samples_dropped": rng.poisson(20, weeks).astype(float),
        "promo": (rng.random(weeks) < 0.1).astype(float),
    }
    return SeriesHistory(("T", "P"), np.datetime64("2021-01-04"), units, covariates)


def features(series: SeriesHistory, origins: np.ndarray, h: int) -> np.ndarray:
    x, _ = build_features(series, origins, h, layout=LAYOUT, contract=SALES_WEEKLY, codes=[0, 1])
    return x


def test_layout_groups_every_feature_and_keeps_the_contract_order() -> None:
    assert set(LAYOUT.groups) == set(FEATURE_GROUPS)
    assert LAYOUT.categorical == ("territory", "product")
    activity = [n for n, g in zip(LAYOUT.names, LAYOUT.groups, strict=True) if g == "activity"]
    # planned covariates are read in the forecast week; past ones only through their history
    assert "rep_calls" in activity and "promo" in activity
    assert "samples_dropped" not in activity
    assert "samples_dropped_lag_1" in activity
    assert LAYOUT.group_matrix().sum(axis=1).tolist() == [1.0] * len(LAYOUT.names)


def test_features_never_read_units_after_the_origin() -> None:
    series = history()
    origins = np.array([100, 120])
    before = features(series, origins, 4)
    changed = history()
    changed.units[121:] *= 5.0  # everything after the last origin
    changed.covariates["samples_dropped"][121:] = 999.0  # past covariate after the origin
    after = features(changed, origins, 4)
    np.testing.assert_array_equal(before, after)


def test_planned_covariates_are_read_in_the_forecast_week() -> None:
    series = history()
    series.covariates["promo"][:] = 0.0
    series.covariates["promo"][104] = 1.0
    x = features(series, np.array([100]), 4)
    assert x[0, LAYOUT.names.index("promo")] == 1.0
    assert x[0, LAYOUT.names.index("promo_lag_1")] == 0.0


def test_a_planned_covariate_without_a_future_value_is_named() -> None:
    series = history()
    with pytest.raises(InputValidationError, match=r"covariate 'rep_calls'.*planned value"):
        features(series, np.array([WEEKS - 1]), 1)


def test_history_features_are_scale_free() -> None:
    small, large = history(scale=1.0), history(scale=100.0)
    for s in (small, large):
        s.covariates = history().covariates
    origins = np.array([110, 130])
    a, b = features(small, origins, 2), features(large, origins, 2)
    scale_free = [i for i, n in enumerate(LAYOUT.names) if n.startswith(("units_", "same_week"))]
    np.testing.assert_allclose(a[:, scale_free], b[:, scale_free], rtol=1e-9)
    level = LAYOUT.names.index("level_log")
    np.testing.assert_allclose(b[:, level] - a[:, level], np.log(100.0))


def test_level_and_noise_scale_are_floored() -> None:
    zeros = np.zeros(30)
    assert series_level(zeros, np.array([20])).tolist() == [1.0]
    assert noise_scale(zeros, np.array([20])).tolist() == [0.05]  # 5% of the floored level
    units = np.full(30, 100.0)
    units[::2] = 110.0  # moves by 10 every week
    assert noise_scale(units, np.array([29]))[0] == pytest.approx(10.0)


def test_easter_dates() -> None:
    assert easter_western(2024) == date(2024, 3, 31)
    assert easter_western(2019) == date(2019, 4, 21)
    assert easter_orthodox(2019) == date(2019, 4, 28)
    assert easter_orthodox(2024) == date(2024, 5, 5)


def test_holiday_week_follows_the_week_label() -> None:
    # a week labelled by its last day (Sunday 2018-12-30) starts on Monday 2018-12-24
    ends = np.array(["2018-12-23", "2018-12-30", "2019-01-06"], dtype="datetime64[D]")
    flags = calendar_features(ends, week_label=WeekLabel.END, holidays=("christmas",))
    assert flags["holiday_week"].tolist() == [0.0, 1.0, 0.0]
    starts = calendar_features(ends, week_label=WeekLabel.START, holidays=("christmas",))
    assert starts["holiday_week"].tolist() == [1.0, 0.0, 0.0]

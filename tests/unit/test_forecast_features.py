"""Forecast features (the one transformation of training and serving): no look-ahead,
scale-free, calendar."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from candor.models.contract import SALES_WEEKLY, HolidayCalendar, WeekLabel
from candor.models.errors import InputValidationError
from candor.models.forecast import (
    FEATURE_GROUPS,
    FeatureLayout,
    SeriesHistory,
    build_features,
    calendar_features,
    holiday_dates,
    holiday_days,
    holiday_source,
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


def test_holiday_dates_come_from_the_holidays_package() -> None:
    import holidays

    us = holiday_dates(HolidayCalendar("US"), 2024, 2024)
    assert us == dict(sorted(holidays.country_holidays("US", years=2024).items()))
    assert us[date(2024, 9, 2)] == "Labor Day"  # the first Monday of September ...
    assert date(2024, 5, 1) not in us  # ... not 1 May, which is Serbia's
    serbia = holiday_dates(HolidayCalendar("RS"), 2019, 2019)
    assert date(2019, 5, 1) in serbia and date(2019, 1, 7) in serbia  # Orthodox Christmas
    assert date(2019, 4, 28) in serbia  # Orthodox Easter, a week after the western one
    california = holiday_dates(HolidayCalendar("US", "CA"), 2024, 2024)
    # a subdivision has its own: California adds Cesar Chavez Day and drops Columbus Day
    assert "Cesar Chavez Day" in california.values() and "Cesar Chavez Day" not in us.values()
    assert date(2024, 10, 14) in us and date(2024, 10, 14) not in california
    days = holiday_days(HolidayCalendar("US"), 2024, 2024)
    assert days.tolist() == [np.datetime64(d, "D").astype(np.int64) for d in us]
    assert "US-CA" in holiday_source(HolidayCalendar("US", "CA"))
    assert holidays.__version__ in holiday_source(HolidayCalendar("US"))


def test_holiday_week_follows_the_week_label() -> None:
    # a week labelled by its last day (Sunday 2018-12-30) starts on Monday 2018-12-24
    ends = np.array(["2018-12-16", "2018-12-23", "2018-12-30"], dtype="datetime64[D]")
    us = HolidayCalendar("US")
    flags = calendar_features(ends, week_label=WeekLabel.END, holidays=us)
    assert flags["holiday_week"].tolist() == [0.0, 0.0, 1.0]  # Christmas in 24..30 December
    starts = calendar_features(ends, week_label=WeekLabel.START, holidays=us)
    assert starts["holiday_week"].tolist() == [0.0, 1.0, 1.0]  # Christmas, New Year's Day
    none = calendar_features(ends, week_label=WeekLabel.START, holidays=None)
    assert none["holiday_week"].tolist() == [0.0, 0.0, 0.0]


def test_labor_day_week_is_a_us_holiday_week_and_not_a_serbian_one() -> None:
    # the hand-written calendar had "labour_day" on 1 May everywhere and no US Labor Day
    weeks = np.array(["2024-04-29", "2024-09-02"], dtype="datetime64[D]")  # Mondays
    us = calendar_features(weeks, week_label=WeekLabel.START, holidays=HolidayCalendar("US"))
    assert us["holiday_week"].tolist() == [0.0, 1.0]
    rs = calendar_features(weeks, week_label=WeekLabel.START, holidays=HolidayCalendar("RS"))
    assert rs["holiday_week"].tolist() == [1.0, 0.0]

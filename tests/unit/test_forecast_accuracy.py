"""Forecast accuracy against actuals (candor.models.forecast.accuracy), by hand-made weeks."""

from __future__ import annotations

import pytest

from candor.models.forecast.accuracy import ServedWeek, measure, season_before


def week(
    step: int,
    day: str,
    point: float,
    *,
    scale: float | None = 10.0,
    replacement: float | None = None,
) -> ServedWeek:
    return ServedWeek(
        "f1",
        "s1",
        step,
        day,
        point,
        point - 5,
        point + 5,
        point - 20,
        point + 20,
        scale,
        replacement,
    )


def test_mase_bias_and_coverage_by_weeks_ahead_beside_seasonal_naive() -> None:
    weeks = [week(1, "2026-01-05", 100.0), week(2, "2026-01-12", 100.0)]
    actuals = {("s1", "2026-01-05"): 110.0, ("s1", "2026-01-12"): 90.0}
    # the same weeks a year before sold 80 and 100
    known = {**actuals, ("s1", "2025-01-06"): 80.0, ("s1", "2025-01-13"): 100.0}

    report = measure(weeks, actuals, known_units=known)

    overall = report.overall
    assert overall.weeks == 2 and report.forecasts == 1
    assert overall.mase == pytest.approx(1.0)  # |10| / 10 and |-10| / 10
    assert overall.bias == pytest.approx(0.0)  # -10 and +10
    assert overall.coverage_80 == 0.0 and overall.coverage_95 == 1.0
    assert overall.naive_mase == pytest.approx((30 / 10 + 10 / 10) / 2)
    assert overall.relative_mase == pytest.approx(1.0 / 2.0)
    assert [(s.weeks_ahead, s.bias) for s in report.by_step] == [(1, -10.0), (2, 10.0)]
    assert [w.week for w in report.over_time] == ["2026-01-05", "2026-01-12"]


def test_weeks_without_an_actual_or_a_scale_are_counted_not_measured() -> None:
    weeks = [week(1, "2026-01-05", 1.0), week(2, "2026-01-12", 1.0, scale=None)]
    report = measure(weeks, {("s1", "2026-01-12"): 3.0})
    assert report.overall.weeks == 0 and report.overall.mase is None
    assert report.unmeasured == {"no_actual": 1, "no_scale": 1}


def test_value_added_compares_the_served_forecast_with_the_reviewers_replacement() -> None:
    weeks = [week(1, "2026-01-05", 100.0, replacement=120.0), week(2, "2026-01-12", 100.0)]
    actuals = {("s1", "2026-01-05"): 125.0, ("s1", "2026-01-12"): 100.0}
    added = measure(weeks, actuals).value_added
    assert added.overrides == 1 and added.weeks == 1
    assert added.served_mase == pytest.approx(2.5) and added.override_mase == pytest.approx(0.5)
    assert added.value_added == pytest.approx(2.0)  # above 0: the override helped
    worse = measure([week(1, "2026-01-05", 100.0, replacement=60.0)], actuals).value_added
    assert worse.value_added is not None and worse.value_added < 0


def test_a_season_before_is_52_weeks_on_the_same_weekday() -> None:
    assert season_before("2026-01-05") == "2025-01-06"

"""When a forecast goes to a person: the review rules on hand-made forecasts and backcasts."""

from __future__ import annotations

import numpy as np
import pytest

from candor.models.policy import Backcast, ForecastPolicy, ReviewFlag, review_forecast

POLICY = ForecastPolicy()


def backcast(actual: list[float], point: float = 100.0, half80: float = 10.0) -> Backcast:
    n = len(actual)
    p = np.full(n, point)
    return Backcast(
        tuple(f"2025-01-{7 * i + 6:02d}" for i in range(n)),
        np.array(actual, float),
        p,
        p - half80,
        p + half80,
        p - 2 * half80,
        p + 2 * half80,
    )


def review(**kw: object) -> ReviewFlag:
    """``review_forecast`` of two ordinary weeks and an ordinary backcast, but for ``kw``."""
    defaults: dict[str, object] = {
        "point": np.array([100.0, 100.0]),
        "lo80": np.array([90.0, 85.0]),
        "hi80": np.array([110.0, 115.0]),
        "backcast": backcast([101, 97, 104, 99]),
        "policy": POLICY,
    }
    return review_forecast(**{**defaults, **kw})  # type: ignore[arg-type]


def reasons(**kw: object) -> tuple[str, ...]:
    return review(**kw).reasons


def test_an_ordinary_forecast_needs_no_review() -> None:
    verdict = review(point=np.array([100.0]), lo80=np.array([90.0]), hi80=np.array([110.0]))
    assert not verdict.required and verdict.reasons == () and verdict.notes == ()


def test_an_interval_wider_than_the_forecast_is_flagged_with_its_week() -> None:
    verdict = review(
        point=np.array([100.0, 20.0]),
        lo80=np.array([90.0, 0.0]),
        hi80=np.array([110.0, 45.0]),
        backcast=None,
    )
    assert verdict.reasons == ("wide_interval",)
    assert verdict.notes[0].startswith("week 2:")
    assert reasons(hi80=np.array([110.0, 115.0]), policy=ForecastPolicy(0.1)) == ("wide_interval",)


def test_a_sustained_one_sided_miss_is_a_recent_break() -> None:
    assert reasons(backcast=backcast([115, 118, 112, 120])) == ("recent_break",)
    # the same misses, not all on one side: noise, not a break
    assert reasons(backcast=backcast([115, 82, 112, 120])) == ()
    # all above, but within the 80% half-width on average: not a break
    assert reasons(backcast=backcast([105, 108, 102, 109])) == ()


def test_actuals_outside_the_95_interval_are_flagged_from_the_policys_count() -> None:
    one_miss = backcast([150, 101, 99, 100])
    assert reasons(backcast=one_miss) == ()
    assert reasons(backcast=one_miss, policy=ForecastPolicy(outside_min=1)) == (
        "last_actuals_outside_interval",
    )
    two = review(
        point=np.array([100.0]),
        lo80=np.array([90.0]),
        hi80=np.array([110.0]),
        backcast=backcast([150, 101, 40, 100]),
    )
    assert two.reasons == ("last_actuals_outside_interval",)
    assert "2025-01-06" in two.notes[0] and "2025-01-20" in two.notes[0]


def test_a_collapse_is_both_a_break_and_outside_the_interval() -> None:
    assert reasons(backcast=backcast([40, 35, 42, 30])) == (
        "recent_break",
        "last_actuals_outside_interval",
    )


def test_a_policy_that_makes_no_sense_is_refused() -> None:
    with pytest.raises(ValueError, match="outside_min"):
        ForecastPolicy(recent_weeks=4, outside_min=5)
    with pytest.raises(ValueError, match="wide_interval_ratio"):
        ForecastPolicy(wide_interval_ratio=0)

"""Forecast accuracy against actuals, beside seasonal naive, and the value reviewers add. Pure.

Every forecast week that has an actual is measured:

* **MASE**: |actual - point| over the series' scale, the mean absolute week-to-week change of
  its last 52 weeks at the forecast's origin (the scale its intervals are multiples of, so a
  MASE of 1 is an error as large as a typical week's move); the mean over weeks.
* **bias**: the mean of (point - actual), in units: above 0, the forecasts ran high.
* **coverage**: the share of actuals inside the 80% and 95% intervals.
* **seasonal naive**: the same week 52 weeks earlier, where its units are known (recorded
  actuals, or the model's history), scored with the same scale on the same weeks, so
  ``relative_mase`` compares like with like.
* **value added** (forecast value added of the review step): for forecasts a reviewer overrode
  with replacement units, the MASE of the forecast as served minus that of the replacement, on
  the weeks both have an actual: above 0, the override made the forecast better.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

SEASON = timedelta(weeks=52)


@dataclass(frozen=True)
class ServedWeek:
    """One week of an audited forecast, as served (and as a reviewer replaced it, if so)."""

    forecast_id: str
    series_key: str
    step: int  # weeks after the last observed week
    week: str  # ISO date, as forecasts label weeks
    point: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float
    scale: float | None  # units; None: unknown
    replacement: float | None = None  # a reviewer's override of this week, in units


@dataclass(frozen=True)
class StepAccuracy:
    weeks_ahead: int | None  # None: every step together
    weeks: int
    mase: float | None
    bias: float | None
    coverage_80: float | None
    coverage_95: float | None
    naive_weeks: int
    naive_mase: float | None
    relative_mase: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "weeks_ahead": self.weeks_ahead,
            "weeks": self.weeks,
            "mase": self.mase,
            "bias": self.bias,
            "coverage_80": self.coverage_80,
            "coverage_95": self.coverage_95,
            "naive_weeks": self.naive_weeks,
            "naive_mase": self.naive_mase,
            "relative_mase": self.relative_mase,
        }


@dataclass(frozen=True)
class ValueAdded:
    overrides: int
    weeks: int
    served_mase: float | None
    override_mase: float | None

    @property
    def value_added(self) -> float | None:
        if self.served_mase is None or self.override_mase is None:
            return None
        return self.served_mase - self.override_mase

    def to_dict(self) -> dict[str, Any]:
        return {
            "overrides": self.overrides,
            "weeks": self.weeks,
            "served_mase": self.served_mase,
            "override_mase": self.override_mase,
            "value_added": self.value_added,
        }


@dataclass(frozen=True)
class WeekAccuracy:
    week: str
    weeks: int
    mase: float | None
    naive_mase: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "weeks": self.weeks,
            "mase": self.mase,
            "naive_mase": self.naive_mase,
        }


@dataclass(frozen=True)
class Accuracy:
    forecasts: int
    overall: StepAccuracy
    by_step: list[StepAccuracy]
    value_added: ValueAdded
    over_time: list[WeekAccuracy]
    unmeasured: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "forecasts": self.forecasts,
            "overall": self.overall.to_dict(),
            "by_weeks_ahead": [s.to_dict() for s in self.by_step],
            "value_added": self.value_added.to_dict(),
            "over_time": [w.to_dict() for w in self.over_time],
            "unmeasured": dict(self.unmeasured),
        }


@dataclass(frozen=True)
class _Measured:
    week: ServedWeek
    actual: float
    naive: float | None


def season_before(week: str) -> str:
    """The ISO date 52 weeks before ``week`` (the same weekday)."""
    return (date.fromisoformat(week) - SEASON).isoformat()


def measure(
    weeks: Sequence[ServedWeek],
    actuals: Mapping[tuple[str, str], float],
    *,
    known_units: Mapping[tuple[str, str], float] | None = None,
) -> Accuracy:
    """The accuracy of ``weeks`` against ``actuals`` ((series key, week) -> units).

    ``known_units`` (default: ``actuals``) gives seasonal naive its values: the units of the
    same series 52 weeks before, from actuals or the model's history.
    """
    known = actuals if known_units is None else known_units
    measured: list[_Measured] = []
    unmeasured = {"no_actual": 0, "no_scale": 0}
    for w in weeks:
        actual = actuals.get((w.series_key, w.week))
        if actual is None:
            unmeasured["no_actual"] += 1
            continue
        if w.scale is None or not np.isfinite(w.scale) or w.scale <= 0:
            unmeasured["no_scale"] += 1
            continue
        measured.append(_Measured(w, actual, known.get((w.series_key, season_before(w.week)))))
    steps = sorted({m.week.step for m in measured})
    by_week: dict[str, list[_Measured]] = defaultdict(list)
    for m in measured:
        by_week[m.week.week].append(m)
    return Accuracy(
        forecasts=len({m.week.forecast_id for m in measured}),
        overall=_step(None, measured),
        by_step=[_step(s, [m for m in measured if m.week.step == s]) for s in steps],
        value_added=_value_added(measured),
        over_time=[
            WeekAccuracy(
                week,
                len(group),
                _mean([_scaled(m.week.point, m) for m in group]),
                _mean([_scaled(m.naive, m) for m in group if m.naive is not None]),
            )
            for week, group in sorted(by_week.items())
        ],
        unmeasured=unmeasured,
    )


def _scaled(value: float | None, m: _Measured) -> float:
    assert value is not None and m.week.scale is not None
    return abs(m.actual - value) / m.week.scale


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _step(step: int | None, group: Sequence[_Measured]) -> StepAccuracy:
    with_naive = [m for m in group if m.naive is not None]
    served_on_naive = _mean([_scaled(m.week.point, m) for m in with_naive])
    naive = _mean([_scaled(m.naive, m) for m in with_naive])
    relative = (
        served_on_naive / naive
        if served_on_naive is not None and naive is not None and naive > 0
        else None
    )
    return StepAccuracy(
        weeks_ahead=step,
        weeks=len(group),
        mase=_mean([_scaled(m.week.point, m) for m in group]),
        bias=_mean([m.week.point - m.actual for m in group]),
        coverage_80=_mean([float(m.week.lo80 <= m.actual <= m.week.hi80) for m in group]),
        coverage_95=_mean([float(m.week.lo95 <= m.actual <= m.week.hi95) for m in group]),
        naive_weeks=len(with_naive),
        naive_mase=naive,
        relative_mase=relative,
    )


def _value_added(measured: Sequence[_Measured]) -> ValueAdded:
    overridden = [m for m in measured if m.week.replacement is not None]
    return ValueAdded(
        overrides=len({m.week.forecast_id for m in overridden}),
        weeks=len(overridden),
        served_mase=_mean([_scaled(m.week.point, m) for m in overridden]),
        override_mase=_mean([_scaled(m.week.replacement, m) for m in overridden]),
    )

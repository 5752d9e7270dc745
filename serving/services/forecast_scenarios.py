"""Forecast scenarios: one series under two or more named plans of future covariates, side by
side, with each plan's difference from the first per week and its drivers.

Each plan is forecast exactly as ``POST /v1/forecasts`` would forecast it (the same checks: a
planned value outside the training range is refused), and audited as a forecast. The
difference of a week is the plan's point minus the reference's (the first plan), split by
driver group (recent level, seasonality, activity: the groups add up to the point, so their
differences add up to the difference). ``within_80`` says whether the difference is smaller
than the reference's 80% half-width that week: then the model cannot tell the plans apart
from ordinary week-to-week noise, and a planner should not count on the difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from candor.models.errors import ErrorDetail, InputValidationError
from candor.serving.requests.forecasts import SeriesRequest
from candor.serving.services.forecasts import ForecastService, SeriesResult


@dataclass(frozen=True)
class WeekDifference:
    week: str
    difference: float  # units: the plan's point minus the reference's
    drivers: dict[str, float]  # the difference by driver group (adds up to ``difference``)
    within_80: bool  # smaller than the reference's 80% half-width that week

    def to_dict(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "difference": self.difference,
            "drivers": self.drivers,
            "within_80": self.within_80,
        }


@dataclass(frozen=True)
class Scenario:
    name: str
    result: SeriesResult
    against: str | None  # the reference's name (None: this is the reference)
    weeks: tuple[WeekDifference, ...]

    @property
    def total(self) -> float:
        return sum(w.difference for w in self.weeks)


def forecast_scenarios(
    service: ForecastService,
    series: Mapping[str, Any],
    plans: Mapping[str, Mapping[str, Any]],
    horizon: int,
) -> list[Scenario]:
    """Each plan's forecast of ``series`` (checked as a forecast request would be), in the
    order given; the first is the reference the others are compared with."""
    names = list(plans)
    requests = [_checked(service, series, name, plans[name], horizon) for name in names]
    # one call per plan: a forecast call takes one plan per series
    results = [service.forecast([request], horizon)[0] for request in requests]
    reference = results[0]
    out = [Scenario(names[0], reference, None, ())]
    for name, result in zip(names[1:], results[1:], strict=True):
        weeks = tuple(
            WeekDifference(
                week=mine.week,
                difference=mine.point - base.point,
                drivers={g: mine.drivers[g] - base.drivers.get(g, 0.0) for g in mine.drivers},
                within_80=abs(mine.point - base.point) < (base.hi80 - base.lo80) / 2,
            )
            for mine, base in zip(result.weeks, reference.weeks, strict=True)
        )
        out.append(Scenario(name, result, names[0], weeks))
    return out


def _checked(
    service: ForecastService,
    series: Mapping[str, Any],
    name: str,
    plan: Mapping[str, Any],
    horizon: int,
) -> SeriesRequest:
    """One plan as a forecast request, its errors named as in the scenarios body
    (``series.product``, ``scenarios.spring_promo.promo[2]``)."""
    if "future_covariates" in series:
        raise InputValidationError(
            "field 'series.future_covariates': a scenario's plans go in 'scenarios', by name",
            [ErrorDetail("series.future_covariates", "not allowed: plans go in scenarios")],
        )
    try:
        [request] = service.requests.check_series(
            [{**series, "future_covariates": plan}], horizon, None
        )
    except InputValidationError as exc:
        details = [
            ErrorDetail(
                d.field.replace("series[0].future_covariates", f"scenarios.{name}").replace(
                    "series[0]", "series"
                ),
                d.message,
            )
            for d in exc.details
        ]
        raise InputValidationError(
            "; ".join(f"field {d.field!r}: {d.message}" for d in details[:3]), details
        ) from None
    return request

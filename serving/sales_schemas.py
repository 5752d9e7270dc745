"""The HTTP shapes of sales actuals and forecast accuracy."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from candor.serving.schemas import Disclosure, ForecastModelRef, ForecastResult

MAX_ACTUALS = 10_000  # weeks per request: two years of a few hundred series a week


class ActualsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    actuals: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_ACTUALS,
        description="one object per series and week: the model's series fields (e.g. "
        "territory, product), week (an ISO date labelling the week as forecasts do) and units; "
        "a week sent again with other units corrects it (kept as a correction)",
        json_schema_extra={
            "items": {
                "type": "object",
                "required": ["week", "units"],
                "properties": {
                    "week": {"type": "string", "format": "date"},
                    "units": {"type": "number", "minimum": 0},
                },
                "additionalProperties": {"type": ["string", "number"]},
            }
        },
    )


class ActualsOut(BaseModel):
    recorded: int = Field(description="weeks recorded for the first time")
    corrected: int = Field(
        description="weeks that held other units: each correction is an event of its own, "
        "naming the value it corrects"
    )
    unchanged: int = Field(description="weeks sent again with the units they hold: not written")
    first_seq: int | None = Field(description="position of the first event written in the log")
    last_seq: int | None = Field(description="position of the last event written in the log")


class StepAccuracyOut(BaseModel):
    weeks_ahead: int | None = Field(description="1..horizon; null: every week ahead together")
    weeks: int = Field(description="forecast weeks with an actual (and a scale)")
    mase: float | None = Field(
        description="mean absolute error over the series' mean absolute week-to-week change"
    )
    bias: float | None = Field(description="mean (forecast - actual), in units")
    coverage_80: float | None = Field(description="share of actuals inside the 80% interval")
    coverage_95: float | None = Field(description="share of actuals inside the 95% interval")
    naive_weeks: int = Field(description="of those, weeks with the actual 52 weeks before")
    naive_mase: float | None = Field(description="seasonal naive's MASE on those weeks")
    relative_mase: float | None = Field(
        description="the forecasts' MASE over seasonal naive's, on the same weeks (below 1: "
        "better than naive)"
    )


class ValueAddedOut(BaseModel):
    overrides: int = Field(description="overridden forecasts with replacement units and actuals")
    weeks: int = Field(description="their weeks with an actual")
    served_mase: float | None = Field(description="MASE of the forecasts as served")
    override_mase: float | None = Field(description="MASE of the reviewers' replacements")
    value_added: float | None = Field(
        description="served_mase - override_mase: above 0, the review step made the forecasts "
        "better; below 0, worse"
    )


class AccuracyWeekOut(BaseModel):
    week: str
    weeks: int
    mase: float | None
    naive_mase: float | None


class AccuracyOut(BaseModel):
    level: str = Field(
        description="the level measured: series (every forecast as forecast) or a level of "
        "the hierarchy (region/product_line)"
    )
    since: str | None
    until: str | None
    forecasts: int = Field(description="audited forecasts with at least one measured week")
    overall: StepAccuracyOut
    by_weeks_ahead: list[StepAccuracyOut]
    value_added: ValueAddedOut
    over_time: list[AccuracyWeekOut] = Field(description="per forecast week, oldest first")
    unmeasured: dict[str, int] = Field(
        description="forecast weeks left out, by why: no_actual (not yet recorded), no_scale "
        "(the series' scale unknown or zero)"
    )
    disclosure: dict[str, str]


SCENARIO_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
MAX_SCENARIOS = 8


class ScenariosIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    series: dict[str, Any] = Field(
        description="one series, by the model's series fields (as in POST /v1/forecasts)"
    )
    horizon: Annotated[int, Field(strict=True)] = Field(
        description="weeks ahead, 1 to the model's maximum"
    )
    scenarios: dict[Annotated[str, Field(pattern=SCENARIO_NAME)], dict[str, Any]] = Field(
        min_length=2,
        max_length=MAX_SCENARIOS,
        description='named plans of future covariates, e.g. {"baseline": {}, "spring_promo": '
        '{"promo": [0, 1, 1, 0]}}; the first is the reference the others are compared with; '
        "a covariate a plan leaves out is assumed at its recent mean",
    )


class ScenarioWeekOut(BaseModel):
    week: str
    difference: float = Field(description="units: this plan's point minus the reference's")
    drivers: dict[str, float] = Field(
        description="the difference by driver group (recent_level, seasonality, activity)"
    )
    within_80: bool = Field(
        description="the difference is smaller than the reference's 80% half-width: the model "
        "cannot tell the plans apart from ordinary noise that week"
    )


class ScenarioOut(BaseModel):
    name: str
    forecast: ForecastResult = Field(description="the plan's forecast, as POST /v1/forecasts")
    against: str | None = Field(description="the reference plan (null: this is the reference)")
    difference: list[ScenarioWeekOut] = Field(description="per week, against the reference")
    total_difference: float = Field(description="units over the horizon, against the reference")


class ScenariosOut(BaseModel):
    model: ForecastModelRef
    scenarios: list[ScenarioOut]
    disclosure: Disclosure

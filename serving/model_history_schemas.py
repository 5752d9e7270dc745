"""Response models of the champion's history and of a model reload (the HTTP edge only)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# a move's keys as recorded; "from" is a Python keyword, so the field is from_version
_BY_ALIAS = ConfigDict(populate_by_name=True)


class ChampionMoveOut(BaseModel):
    """One move of the champion alias, as the audit log records it."""

    model_config = _BY_ALIAS

    seq: int | None = Field(description="the move's position in the audit log")
    model: str = Field(description="the registered model")
    alias: str = Field(description="the alias moved (the champion alias)")
    from_version: str | None = Field(
        alias="from", description="the champion before the move; null: none, or not recorded"
    )
    to: str | None = Field(description="the champion after the move")
    by: str = Field(description="who moved it: a person, or the training gate")
    at: str = Field(description="when, ISO 8601 UTC (the audit log's commit time)")
    why: str = Field(description="the gate's reason, or the justification given")
    how: Literal["gate", "promote", "rollback"] = Field(
        description="gate: training promoted it; promote: `candor models promote`; rollback: "
        "`candor models rollback`"
    )
    run_id: str | None = Field(description="the MLflow run of the version made champion")
    details: dict[str, str] = Field(
        description="more about the move (accepted_leakage_risk; recorded_as for moves of an "
        "older log; undone when the alias failed to move)"
    )


class ResultCount(BaseModel):
    version: str
    count: int = Field(description="audited scores (or forecasts) of this version that day")


class InForceOut(BaseModel):
    """Which version was champion at a moment, and what that day's audited results say."""

    asked: str = Field(description="the `at` parameter as sent")
    at: str = Field(description="the instant looked at, ISO 8601 UTC")
    rule: str = Field(description="how the version in force is chosen")
    version: str | None = Field(description="the champion then; null: no move recorded before")
    since: ChampionMoveOut | None = Field(description="the move that made it champion")
    day: str = Field(description="the UTC day (ISO date) the moves and results below are of")
    moves_that_day: list[ChampionMoveOut] = Field(description="moves on that day, oldest first")
    results_that_day: list[ResultCount] = Field(
        description="audited results of that day per version (their model field): a cross-check"
    )


class ModelHistoryOut(BaseModel):
    model: str
    kind: Literal["leads", "forecast"]
    alias: str
    champion: str | None = Field(description="where the registry's alias points now")
    moves: list[ChampionMoveOut] = Field(description="every recorded move, newest first")
    in_force: InForceOut | None = Field(description="the answer for `at`; null without it")
    warning: str | None = Field(
        description="the registry's champion is not the one the last recorded move made"
    )


class ModelReloadOut(BaseModel):
    """What a reload did for one kind of model."""

    model_config = _BY_ALIAS

    kind: Literal["leads", "forecast"]
    model: str = Field(description="the registered model")
    from_version: str | None = Field(alias="from", description="the version served before")
    to: str | None = Field(description="the version served now")
    changed: bool
    champion: str | None = Field(description="where the registry's alias points")
    error: str | None = Field(
        description="why the champion was not loaded; the version served before stays"
    )


class ReloadOut(BaseModel):
    changed: bool = Field(description="whether any model served changed")
    models: list[ModelReloadOut] = Field(description="the lead scorer, then the forecaster")

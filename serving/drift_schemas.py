"""Response models of GET /v1/monitoring/drift and of the drift part of /healthz (the shape of
``candor.serving.monitoring.drift.report_dict`` and ``health_of``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import JsonDict

DriftStatusOut = Literal["ok", "warn", "alert", "too_small", "no_reference"]
DATE: JsonDict = {"format": "date"}


class DriftWindow(BaseModel):
    since: str = Field(description="first day, UTC (YYYY-MM-DD)", json_schema_extra=DATE)
    until: str = Field(description="last day, UTC, included (YYYY-MM-DD)", json_schema_extra=DATE)


class DriftThresholds(BaseModel):
    warn_psi: float = Field(description="PSI at which an input is marked warn")
    alert_psi: float = Field(description="PSI at which an input is marked alert")
    min_scores: int = Field(description="fewest scores a group needs to be judged")


class InputDriftOut(BaseModel):
    name: str = Field(description="the model input, or 'score' for the calibrated score")
    kind: Literal["numeric", "categorical", "boolean"]
    status: DriftStatusOut
    psi: float | None = Field(description="population stability index; null when too small")
    labels: list[str] = Field(description="the bins, as at training")
    reference_shares: list[float] = Field(description="the holdout's share in each bin")
    observed_shares: list[float] = Field(description="the window's share in each bin")
    unseen_share: float | None = Field(
        description="categorical: the window's share of categories unseen in training"
    )
    reference_unseen_share: float | None = Field(description="the same share on the holdout")
    out_of_range_share: float | None = Field(
        description="numeric: the window's share of values outside the training range"
    )
    reference_out_of_range_share: float | None = Field(description="the same on the holdout")


class ReviewRateOut(BaseModel):
    code: str = Field(description="a review code")
    observed: float | None = Field(description="its share of the window's scores")
    reference: float | None = Field(
        description="its share of the holdout at training; null when not computed (see note)"
    )
    note: str | None = Field(description="why no reference rate was computed")


class GroupDriftOut(BaseModel):
    scores: int
    status: DriftStatusOut = Field(description="the worst of the inputs' and the score's")
    worst_input: str | None = Field(description="the input (or 'score') with the largest PSI")
    worst_psi: float | None
    inputs: list[InputDriftOut]
    score: InputDriftOut
    review_rates: list[ReviewRateOut]


class InputPsiOut(BaseModel):
    name: str
    status: DriftStatusOut
    psi: float | None


class SegmentGroupOut(BaseModel):
    segment: str = Field(description="an audit segment that is a model input")
    group: str = Field(description="the group: a category of the segment (or a bin)")
    scores: int
    reference_rows: int = Field(description="the holdout's leads in this group")
    status: DriftStatusOut = Field(description="no_reference: no holdout lead in this group")
    worst_input: str | None
    worst_psi: float | None
    inputs: list[InputPsiOut] = Field(
        description="against the holdout's shares within the same group"
    )


class VersionDriftOut(BaseModel):
    model: str = Field(description="name@version")
    version: str
    scores: int
    status: DriftStatusOut
    reference_note: str | None = Field(description="why no reference was found (no_reference)")
    overall: GroupDriftOut | None
    segments: list[SegmentGroupOut]
    segments_not_available: dict[str, str] = Field(
        description="audit segments and protected attributes that are not model inputs: the "
        "audit log does not keep them, so scores cannot be grouped by them"
    )


class DriftReportOut(BaseModel):
    window: DriftWindow
    checked_at: str = Field(description="ISO 8601, UTC")
    status: DriftStatusOut = Field(
        description="the worst over the versions; too_small when the window holds too few "
        "scores to judge"
    )
    scores: int = Field(description="audited scores in the window")
    skipped: int = Field(description="score records without encoded inputs (imported ones)")
    sampled_share: float = Field(
        description="share of the window's scores read: 1, or a uniform random sample (by "
        "score id) when the window holds more than drift_max_scores"
    )
    worst_input: str | None
    worst_psi: float | None
    worst_version: str | None
    thresholds: DriftThresholds
    rule: str = Field(description="how the PSI and the statuses are computed")
    versions: list[VersionDriftOut] = Field(
        description="each version against its own training reference, newest first"
    )
    recorded: bool = Field(
        True,
        description="whether this check was kept as the drift status (only a window that "
        "reaches today is)",
    )


class DriftHealth(BaseModel):
    """The latest drift check, as /healthz and the model card show it."""

    status: Literal["ok", "warn", "alert", "too_small", "no_reference", "never_checked"]
    checked_at: str | None = Field(None, description="ISO 8601, UTC")
    window: DriftWindow | None = None
    worst_input: str | None = None
    worst_psi: float | None = None
    version: str | None = Field(None, description="the version of the worst input")

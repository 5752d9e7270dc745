"""The HTTP shapes of a lead's score history and of the change between two of its scores."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from candor.serving.schemas import DecisionOut, ModelRef, OutcomeOut, RemovedOut, ReviewOut

Grade = Literal["A", "B", "C", "D"]


class TrendOut(BaseModel):
    direction: Literal["improving", "steady", "declining", "not_enough_scores"]
    change: float | None = Field(description="fitted change of the score over the scores read")
    scores_used: int
    rule: str = Field(description="the rule, in words")


class LeadScoreItem(BaseModel):
    """One score (or suppression) of the lead, as the reviewer's timeline shows it."""

    score_id: str
    created_at: str = Field(description="ISO 8601, UTC")
    kind: Literal["score", "suppression"]
    model: ModelRef
    requested_by: str
    score: float | None = Field(None, description="calibrated probability of conversion")
    grade: Grade | None = None
    interval: tuple[float, float] | None = Field(None, description="Venn-Abers bounds")
    confidence: Literal["high", "medium", "low"] | None = None
    review: ReviewOut | None = None
    suppressed: str | None = Field(None, description="why the lead was not scored, if it was not")
    removed: RemovedOut | None = Field(
        None,
        description="set where the score's inputs and explanation were erased (at the lead's "
        "request) or purged (retention): the record is kept and verifies, its values are gone",
    )
    decisions: list[DecisionOut] = Field(description="every decision on this score, oldest first")
    final_grade: Grade | None = Field(
        None, description="the grade that stands: the last override's, else the model's"
    )


class LeadScoresOut(BaseModel):
    lead_key: str = Field(description="keyed hash (HMAC-SHA256) of the lead id; never the raw id")
    total: int = Field(description="scores and suppressions of the lead in the audit log")
    trend: TrendOut
    scores: list[LeadScoreItem] = Field(description="newest first")
    outcomes: list[OutcomeOut] = Field(description="recorded outcomes of this lead, oldest first")
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")


class ScoreEnd(BaseModel):
    """One end of a change: a score of the lead."""

    score_id: str
    created_at: str = Field(description="ISO 8601, UTC")
    model_version: str
    score: float
    grade: Grade
    margin: float = Field(description="raw model output, log-odds")


class InputPartOut(BaseModel):
    input: str
    label: str
    from_value: Any = Field(description="the input's value at the first score (null: not known)")
    to_value: Any = Field(description="its value at the second score")
    change: float = Field(description="the change of its contribution, log-odds")
    text: str


class ModelPartOut(BaseModel):
    from_version: str
    to_version: str
    change: float = Field(
        description="the new model on the old inputs minus the old model on them, log-odds"
    )
    text: str
    score_on_old_inputs: float | None = Field(
        None,
        description="the new model's calibrated score of the old inputs: the score goes from "
        "from.score to this (the model) to to.score (the inputs)",
    )


class ScoreChangeOut(BaseModel):
    from_: ScoreEnd = Field(alias="from")
    to: ScoreEnd
    summary: str
    model_part: ModelPartOut | None = Field(
        description="the part due to the model (null when both scores came from one version)"
    )
    parts: list[InputPartOut] = Field(description="each input's part, largest first")
    unchanged_inputs: list[str] = Field(description="inputs whose part is zero")
    total_change: float = Field(description="model part + sum of the parts, log-odds")
    residual: float = Field(
        description="from.margin + total_change - to.margin: floating-point rounding only"
    )
    rule: str

    model_config = {"populate_by_name": True}

"""Request and response models at the HTTP edge (never used for storage)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leads: list[dict[str, Any]] = Field(
        ...,
        description="1 to 1000 leads; fields as in the model's data contract "
        "(GET /v1/models/current shows it)",
    )
    top_k: int | None = Field(
        None, ge=1, le=100, description="reasons per lead with explain=top (default: 5)"
    )
    explain: Literal["top", "all"] = "top"


class ModelRef(BaseModel):
    name: str
    version: str
    run_id: str
    contract: str


class ReasonOut(BaseModel):
    feature: str
    value: Any = Field(description="the value the model used; null when missing or withheld")
    contribution: float = Field(description="SHAP contribution in log-odds")
    text: str


class ConfidenceOut(BaseModel):
    level: Literal["high", "medium", "low"]
    interval: tuple[float, float] = Field(description="probability bounds (Venn-Abers p0, p1)")
    method: str
    coverage: str


class ReviewOut(BaseModel):
    required: bool
    reasons: list[str]
    notes: list[str] = Field(default_factory=list, description="details for a reviewer")


class LeadResult(BaseModel):
    lead_id: str
    score_id: str
    suppressed: str | None = None
    score: float | None = Field(None, description="calibrated probability of conversion")
    grade: Literal["A", "B", "C", "D"] | None = None
    margin: float | None = Field(None, description="raw model output, log-odds")
    base_value: float | None = Field(None, description="expected margin, log-odds")
    reasons: list[ReasonOut] = Field(default_factory=list)
    confidence: ConfidenceOut | None = None
    review: ReviewOut | None = None
    withheld: list[str] = Field(
        default_factory=list, description="sensitive fields hidden for lack of consent"
    )


class ScoreResponse(BaseModel):
    model: ModelRef
    results: list[LeadResult]


class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str
    run_id: str
    trained_at: str
    metrics: dict[str, float]
    shape: str
    contract: dict[str, Any]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody

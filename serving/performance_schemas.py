"""Response models of GET /v1/monitoring/performance (the HTTP edge; never used for storage).

Probabilities throughout: scores, rates, ROC-AUC and Brier score are in [0, 1].
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["ok", "too_small"]
Interval = tuple[float, float]


class HoldoutCheckOut(BaseModel):
    model: str = Field(description="the model version (name@version) that made scores here")
    value: float | None = Field(description="its holdout figure; null: not available")
    alert: bool | None = Field(
        description="the holdout figure lies outside this group's 95% interval; null: not judged"
    )


class EstimateOut(BaseModel):
    value: float | None = Field(description="the figure; null where undefined (see reason)")
    ci: Interval | None = Field(description="95% interval [low, high], clipped to [0, 1]")
    standard_error: float | None = Field(description="standard error on the figure's scale")
    reason: str | None = Field(description="why the figure or its interval is missing")


class MetricOut(EstimateOut):
    holdout: list[HoldoutCheckOut] = Field(
        description="the holdout figure of each model version that made this group's scores"
    )
    alert: bool | None = Field(
        description="any version's holdout figure outside the 95% interval; null: not judged"
    )


class GradeOut(BaseModel):
    grade: Literal["A", "B", "C", "D"]
    count: int = Field(description="scores with an outcome in this grade")
    converted: int = Field(description="of which converted")
    status: Status
    mean_score: float | None = Field(description="mean score (probability); null: too small")
    observed_rate: float | None = Field(description="share converted; null: too small")
    observed_rate_ci: Interval | None = Field(description="95% Wilson interval of observed_rate")
    alert: bool | None = Field(
        description="mean_score outside observed_rate_ci; null: too small to judge"
    )


class HoldoutGradeOut(BaseModel):
    model: str
    count: int
    converted: int
    status: Status
    mean_score: float | None
    observed_rate: float | None
    observed_rate_ci: Interval | None


class WindowGradeOut(GradeOut):
    holdout: list[HoldoutGradeOut] = Field(
        description="the same grade on the holdout of each version that made these scores"
    )


class FiguresOut(BaseModel):
    status: Status = Field(description="too_small: fewer outcomes than min_outcomes, counts only")
    count: int = Field(description="scores counted (one per lead, see rule)")
    converted: int
    roc_auc: MetricOut | None = Field(description="null when too small")
    brier: MetricOut | None = Field(description="null when too small")
    calibration: list[WindowGradeOut] = Field(description="by grade, A to D")
    alert: bool | None = Field(
        description="any alert of ROC-AUC, Brier or a grade's calibration; null: none judged"
    )


class ModelCountOut(BaseModel):
    model: str = Field(description="name@version")
    count: int = Field(description="counted scores this version made")


class GroupOut(BaseModel):
    segment: str | None = Field(description="the audit segment; null for months and overall")
    value: str = Field(description="the month (YYYY-MM), the segment's value, or 'all'")
    models: list[ModelCountOut]
    all: FiguresOut = Field(description="over every counted score of the group")
    random_audit: FiguresOut = Field(
        description="over the counted scores drawn by the random audit alone: the unbiased estimate"
    )


class HoldoutEstimateFiguresOut(BaseModel):
    status: Status
    count: int
    converted: int
    roc_auc: EstimateOut | None
    brier: EstimateOut | None
    calibration: list[GradeOut]


class HoldoutOut(BaseModel):
    model: str = Field(description="name@version")
    available: bool
    reason: str | None = Field(
        description="why not available, e.g. 'holdout figures not stored with this version'"
    )
    n: int | None = Field(description="holdout size (leads)")
    cutoffs: list[float] | None = Field(description="grade cut-offs A, B, C chosen at training")
    figures: HoldoutEstimateFiguresOut | None


class SegmentNoteOut(BaseModel):
    segment: str
    reason: str


class PerformanceReport(BaseModel):
    since: str | None = Field(description="first day of the window (UTC); null: from the start")
    until: str = Field(description="last day of the window, inclusive (UTC)")
    by: Literal["month", "segment"]
    min_outcomes: int = Field(description="fewest outcomes a group needs for figures")
    rule: str = Field(description="which scores count, and how often a lead counts")
    random_audit_note: str
    grade_note: str
    segment_note: str
    definitions: dict[str, str] = Field(description="each figure, its interval and the alert")
    grades: list[str]
    overall: GroupOut = Field(description="the whole window")
    groups: list[GroupOut] = Field(description="by month (oldest first) or by segment value")
    segments: list[str] = Field(description="audit segments grouped (model inputs)")
    segments_not_in_log: list[SegmentNoteOut] = Field(
        description="audit segments that cannot be grouped, and why"
    )
    holdout: list[HoldoutOut] = Field(
        description="the holdout figures of each model version that made the window's scores"
    )
    removed_scores: int = Field(
        0,
        description="scores in the window with an outcome whose inputs and score were erased "
        "or purged: counted here, not measured",
    )

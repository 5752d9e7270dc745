"""Request and response models at the HTTP edge (never used for storage)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, field_validator
from pydantic.json_schema import JsonDict

from candor.models.contract import Channel
from candor.models.leads.input_limits import DEFAULT_LIMITS
from candor.serving.drift_schemas import DriftHealth


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
    channels: list[Channel] = Field(
        default_factory=list,
        description="the channels the lead may be contacted on now (live consent, no opt-out), "
        "in the contract's order; empty when suppressed; every channel when the contract "
        "declares no per-channel consent",
    )
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
    call_planning_withheld: list[str] = Field(
        default_factory=list,
        description="sensitive fields given that call planning may not use (no data-use "
        "consent of purpose call_planning); a call plan scores without them",
    )


class Disclosure(BaseModel):
    text: str = Field(description="the output is machine-generated and advisory")
    model_card: str = Field(description="path of the model card")


class ScoreResponse(BaseModel):
    model: ModelRef
    results: list[LeadResult]
    disclosure: Disclosure


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


# what each error status means here, and the headers that come with it
ERROR_DESCRIPTIONS = {
    401: "Missing, unknown or revoked API key",
    403: "The API key's role does not allow this",
    404: "Not found",
    409: "Conflict: an Idempotency-Key still being answered, or stored state",
    413: "Request body larger than the service accepts",
    415: "The body is not JSON sent as application/json, or is content-coded",
    422: "Invalid input: the details name each offending field",
    429: "Too many requests from this client: wait Retry-After seconds",
    503: "A model or the audit store is not available; nothing was scored or stored",
}
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "the accepted scheme: Bearer",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "seconds to wait before asking again",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer, each an ErrorResponse."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[status]}
        if status in ERROR_HEADERS:
            out[status]["headers"] = ERROR_HEADERS[status]
    return out


# every route behind an API key: unauthenticated, forbidden, audit store unavailable
AUTH_ERRORS = error_responses(401, 403, 503)
# a route with a JSON body: too large (middleware), not JSON (415), invalid (422)
BODY_STATUSES = (413, 415, 422)
# a POST that writes: its Idempotency-Key middleware answers 409 (the same key still being
# answered) and 422 (the same key with another body)
IDEMPOTENT_STATUSES = (409, 422)
IDEMPOTENCY_KEY = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "a key the client makes unique per intended write (a UUID): a retry "
            "with the same key and body gets the first answer again instead of writing twice",
            # printable ASCII, no space at either end (HTTP would strip it)
            "schema": {"type": "string", "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
        }
    ]
}


# --- service health and the models served ------------------------------------------------


class AuditHealth(BaseModel):
    status: Literal["ok", "degraded"]
    detail: str | None = Field(None, description="why the audit store cannot be written")


class NotServed(BaseModel):
    detail: str = Field(description="why the model is not served")


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="ok: the lead scorer is served and the audit store can be written"
    )
    model: ModelRef | None = Field(description="the lead scorer served; null when none is")
    detail: str | None = Field(None, description="why the service is degraded")
    audit: AuditHealth | None = Field(None, description="absent while no lead scorer is served")
    forecaster: ModelRef | NotServed = Field(description="the sales forecaster (optional)")
    drift: DriftHealth = Field(
        description="the latest drift check (GET /v1/monitoring/drift, `candor monitor drift`)"
    )


class ForecastModelInfo(BaseModel):
    name: str
    version: str
    run_id: str
    contract: str
    alias: str | None = Field(description="the registry alias it was loaded by")
    trained_at: str = Field(description="ISO 8601, UTC: the start of the training run")
    metrics: dict[str, float] = Field(description="backtest metrics (e.g. mase, coverage)")
    max_horizon: int = Field(description="the most weeks ahead a forecast may ask for")
    week_label: Literal["start", "end"] = Field(
        description="which day of its week each date in a forecast is: the training file's "
        "convention (its first or last day)"
    )
    series_fields: list[str] = Field(description="the fields that name a series")
    future_covariates: list[str] = Field(description="covariates a request may plan ahead")
    series: list[dict[str, str]] = Field(description="every series the model can forecast")
    hierarchy: dict[str, Any] | None = Field(
        None,
        description="the contract's hierarchy: its levels and every node above the series "
        "(ask for a node by its fields, e.g. {'region': 'North'}); null without one",
    )


# --- reviewer API: who is calling, the review queue, decisions, outcomes, the error report ---


class WhoAmI(BaseModel):
    name: str = Field(description="the API key's name; decisions and outcomes are signed with it")
    role: Literal["scorer", "reviewer", "auditor", "admin"]


class DecisionOut(BaseModel):
    decision: Literal["confirm", "override"]
    grade: Literal["A", "B", "C", "D"] | None = Field(
        description="the grade a person set (override only; null for confirm)"
    )
    comment: str
    decided_by: str = Field(description="name of the API key that decided")
    decided_at: str = Field(description="ISO 8601, UTC")
    replacement: list[float] | None = Field(
        None,
        description="a forecast override only: the units the reviewer expects instead, one per "
        "forecast week (measured against actuals by GET /v1/forecasts/accuracy)",
    )


class OutcomeOut(BaseModel):
    converted: bool
    observed_at: str = Field(description="ISO 8601 date or date-time (UTC) of the outcome")
    recorded_by: str
    recorded_at: str = Field(description="ISO 8601, UTC")


class QueueItem(BaseModel):
    score_id: str
    kind: Literal["score", "forecast"] = Field(description="a lead score or a sales forecast")
    series: dict[str, str] | None = Field(
        None, description="forecasts only: the series (e.g. territory and product)"
    )
    created_at: str = Field(description="ISO 8601, UTC")
    lead_key: str = Field(description="keyed hash (HMAC-SHA256) of the lead id; never the raw id")
    score: float | None = Field(description="calibrated probability of conversion")
    grade: Literal["A", "B", "C", "D"] | None = Field(description="the model's grade")
    review_reasons: list[str]
    model: ModelRef
    latest_decision: DecisionOut | None = Field(
        description="the decision that stands (the newest); null while pending"
    )


# a page cursor is the seq of the last record shown: a positive integer, as text
CURSOR_PATTERN = "^[1-9][0-9]{0,17}$"
# an observed moment: an ISO 8601 date or date-time (checked by parse_observed_at)
DATE_OR_DATE_TIME: JsonDict = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}
ObservedText = Annotated[str, Field(json_schema_extra=DATE_OR_DATE_TIME)]


class ReviewQueue(BaseModel):
    items: list[QueueItem] = Field(description="newest first")
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next (older) page; null on the last page",
        json_schema_extra={"pattern": CURSOR_PATTERN},
    )


class RemovedOut(BaseModel):
    state: Literal["erased", "purged", "removed", "altered"] = Field(
        description="erased / purged: by an erasure or retention purge in the log; removed / "
        "altered: the payload is gone or changed with no such event (verify reports it)"
    )
    at: str | None = Field(None, description="when the erasure or purge was recorded")
    text: str = Field(description='for people, e.g. "Erased on 2026-12-02"')


class ScoreRecordOut(BaseModel):
    """One audit record as a reviewer sees it: what the model saw, said and why."""

    score_id: str
    created_at: str = Field(description="ISO 8601, UTC")
    kind: Literal["score", "suppression"]
    model: ModelRef
    lead_key: str = Field(description="keyed hash (HMAC-SHA256) of the lead id; never the raw id")
    requested_by: str = Field(description="name of the API key that asked for the score")
    features: dict[str, Any] = Field(
        default_factory=dict, description="the values the model used (withheld ones are null)"
    )
    score: float | None = Field(None, description="calibrated probability of conversion")
    grade: Literal["A", "B", "C", "D"] | None = None
    margin: float | None = Field(None, description="raw model output, log-odds")
    base_value: float | None = Field(None, description="expected margin, log-odds")
    contributions: list[ReasonOut] = Field(
        default_factory=list,
        description="every input's SHAP contribution (log-odds): base_value + sum == margin",
    )
    confidence: ConfidenceOut | None = None
    review: ReviewOut | None = None
    withheld: list[str] = Field(default_factory=list)
    suppressed: str | None = Field(None, description="why the lead was not scored, if it was not")
    removed: RemovedOut | None = Field(
        None,
        description="set where the score's inputs and explanation were erased (at the lead's "
        "request) or purged (retention): the record is kept and verifies, its values are gone",
    )
    decisions: list[DecisionOut] = Field(description="every decision, oldest first")
    outcomes: list[OutcomeOut] = Field(description="recorded outcomes of this lead, oldest first")
    record_hash: str = Field(description="SHA-256 link of this record in the audit hash chain")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    decision: Literal["confirm", "override"]
    grade: Literal["A", "B", "C", "D"] | None = Field(
        None, description="required with override (the grade that should stand); not with confirm"
    )
    comment: str = Field("", max_length=2000, description="why; required (non-empty) with override")
    replacement: list[float] | None = Field(
        None,
        max_length=26,
        description="with an override of a forecast: the units expected instead, one per "
        "forecast week, so that the override's value can be measured once actuals arrive",
    )


class DecisionResult(BaseModel):
    decision: DecisionOut = Field(description="the decision just recorded")
    decisions: list[DecisionOut] = Field(description="every decision of the score, oldest first")


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    lead_id: str | int = Field(description="the lead id the scores were requested with")
    converted: bool = Field(description="whether the lead converted (JSON true/false)")
    observed_at: str = Field(
        description="ISO 8601 date (2025-03-01) or date-time (2025-03-01T14:30:00Z; UTC when no "
        "offset is given); at most one day in the future",
        examples=["2025-03-01"],
        json_schema_extra=DATE_OR_DATE_TIME,
    )

    @field_validator("lead_id", mode="before")
    @classmethod
    def _lead_id_text_or_integer(cls, value: Any) -> Any:
        # checked here so that an error names 'lead_id', not one branch of the union
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("expected the lead id as a string or an integer")
        problem = DEFAULT_LIMITS.lead_id_problem(str(value))
        if problem is not None:  # the scoring edge's rule: such an id was never scored
            raise ValueError(problem)
        return value

    @field_validator("observed_at")
    @classmethod
    def _iso_date_or_datetime(cls, value: str) -> str:
        parse_observed_at(value)  # raises ValueError naming the expected format
        return value


# contacts and outcomes are reported from many time zones, some as a date alone: a moment up to
# a day ahead of the server's clock still counts as past
FUTURE_TOLERANCE = timedelta(days=1)


def is_future(moment: datetime, *, now: datetime) -> bool:
    """Whether a reported moment lies beyond ``now`` by more than the tolerance."""
    return moment > now + FUTURE_TOLERANCE


# no CRM record of a contact or an outcome predates this; earlier years are typing errors (year 1)
EARLIEST_OBSERVED = datetime(1970, 1, 1, tzinfo=UTC)


def parse_observed_at(value: str) -> datetime:
    """An ISO 8601 date (read as midnight UTC) or date-time (UTC when it has no offset), from
    1970 on. The upper bound (a day ahead of the clock) is :func:`is_future`'s."""
    try:
        moment = datetime.fromisoformat(value.strip())
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        raise ValueError(
            "expected an ISO 8601 date (2025-03-01) or date-time (2025-03-01T14:30:00Z)"
        ) from None
    except OverflowError:  # 9999-12-31T23:59-23:59 is past the calendar once in UTC
        raise ValueError("a moment outside the calendar once converted to UTC") from None
    if moment < EARLIEST_OBSERVED:
        raise ValueError("a moment before 1970-01-01 (UTC) is refused as a typing error")
    return moment


class OutcomeResult(BaseModel):
    lead_id: str
    matched_scores: int = Field(description="stored scores of this lead the outcome applies to")


class GroupErrors(BaseModel):
    count: int = Field(description="scored records with a recorded outcome in this group")
    conversion_rate: float | None = Field(description="observed share that converted")
    mean_score: float | None = Field(description="mean predicted probability of conversion")
    calibration_gap: float | None = Field(
        description="mean_score - conversion_rate (probability; > 0: the model over-predicts)"
    )
    error_rate: float | None = Field(description="share of errors by the model's grade")
    error_rate_ci: tuple[float, float] | None = Field(
        description="95% Wilson score interval of error_rate"
    )
    error_rate_after_review: float | None = Field(
        description="share of errors by the final grade (after reviewers' overrides)"
    )
    error_rate_after_review_ci: tuple[float, float] | None = Field(
        description="95% Wilson score interval of error_rate_after_review"
    )


class ErrorReport(BaseModel):
    n_outcomes: int = Field(description="scored records whose lead has a recorded outcome")
    removed: int = Field(
        0,
        description="scored records with an outcome whose inputs were erased or purged: "
        "counted, not measured",
    )
    definition: dict[str, str]
    overall: GroupErrors
    by_grade: dict[str, GroupErrors]
    by_review_reason: dict[str, GroupErrors]
    random_audit: GroupErrors


# --- call plans: who to call next, within capacity, fairly across segments -----------------

Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
CHANNEL_NAMES = [str(c) for c in Channel]


def whole_or_per_channel(*, ge: int, le: int) -> Any:
    """A whole number for the plan, or one per channel (``{"visit": 40, "email": 200}``):
    checked as one field, so that an error names it (and the channel) without the union's
    branches."""

    def whole(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number{where} from {ge} to {le}")
        if not ge <= value <= le:
            raise ValueError(f"expected {ge} to {le}{where}, got {value}")
        return value

    def check(value: Any) -> int | dict[Channel, int]:
        if not isinstance(value, dict):
            return whole(value, "")
        if not value:
            raise ValueError(f"expected at least one channel of {CHANNEL_NAMES}")
        out: dict[Channel, int] = {}
        for key, number in value.items():
            if key not in CHANNEL_NAMES:
                shown = repr(key) if isinstance(key, str) and len(key) <= 20 else "a key"
                raise ValueError(f"{shown} is not a channel; expected one of {CHANNEL_NAMES}")
            out[Channel(key)] = whole(number, f" for {key}")
        return out

    number: JsonDict = {"type": "integer", "minimum": ge, "maximum": le}
    per_channel: JsonDict = {
        "type": "object",
        "propertyNames": {"enum": list(CHANNEL_NAMES)},
        "additionalProperties": number,
        "minProperties": 1,
    }
    return Annotated[
        int | dict[Channel, int],
        PlainValidator(check),
        WithJsonSchema({"anyOf": [number, per_channel]}),
    ]


Capacity = whole_or_per_channel(ge=1, le=1000)
TouchCap = whole_or_per_channel(ge=1, le=100)


class CallPlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    leads: list[dict[str, Any]] = Field(
        ...,
        description="1 to 1000 leads with unique lead ids; fields exactly as for "
        "POST /v1/leads/score (the model's data contract)",
    )
    capacity: Capacity = Field(  # type: ignore[valid-type]
        ...,
        description="calls the team can make: the most leads the plan holds; or one capacity "
        'line per channel ({"visit": 40, "email": 200}, filled in that order, a lead planned on '
        "one channel at most), each line planning only leads with live consent on its channel",
        examples=[100, {"visit": 40, "email": 200}],
    )
    channel: Channel | None = Field(
        None,
        strict=False,
        description="the channel of the whole plan (with a whole-number capacity): only leads "
        "with live consent on it are planned. Null or absent, with a whole-number capacity: a "
        "plan on no particular channel, every lead not opted out eligible",
    )
    min_share: dict[str, Share] | None = Field(
        None,
        description="segment field -> minimum share of the plan (0 to 1) for EACH of its values "
        "present among the eligible leads; one field's shares may sum to at most 1. Fields: the "
        "contract's audit segments, protected attributes excepted. Default (null or absent): "
        '{"territory_type": 0.2}; {} asks for no minimum',
        examples=[{"territory_type": 0.2}],
    )
    max_touches_30d: TouchCap = Field(  # type: ignore[valid-type]
        2,
        description="a lead touched this often in the last 30 days (supplied contacts plus "
        "earlier call plans) is not planned; one number for every channel, or one per channel "
        '({"visit": 2, "email": 4}; a channel plan only; channels not named keep 2). On a '
        "channel, its own touches count, and those recorded on no channel",
        examples=[2, {"visit": 2, "email": 4}],
    )
    exploration_share: float = Field(
        0.05,
        ge=0.0,
        le=0.5,
        allow_inf_nan=False,
        description="share of the capacity given to low-scored (grade C/D) leads drawn at random, "
        "so that their outcomes can be learned (at least 1 place when above 0 and capacity >= 10)",
    )
    contact_history: dict[str, list[ObservedText]] = Field(
        default_factory=dict,
        description="lead id -> dates of earlier contacts, ISO 8601 date (2026-11-01) or "
        "date-time (UTC when no offset); those in the last 30 days count as touches",
        examples=[{"L000001": ["2026-11-01"]}],
    )


class CallPlanEntryOut(BaseModel):
    lead_id: str
    rank: int = Field(description="1 = highest score; the plan is ordered by score")
    score: float = Field(description="calibrated probability of conversion")
    grade: Literal["A", "B", "C", "D"]
    score_id: str = Field(description="the audited score (GET /v1/scores/{score_id})")
    segment: dict[str, str | None] = Field(description="the lead's segment values")
    basis: Literal["top_score", "guaranteed_share", "exploration"] = Field(
        description="top_score: a plain top-N plan of the same length holds it too; "
        "guaranteed_share: placed by a segment's minimum share; exploration: drawn at random"
    )
    why: str = Field(description="why the lead is on the plan, in plain words")
    channel: Channel | None = Field(
        description="the channel to contact the lead on (null: a plan on no particular channel)"
    )
    withheld: list[str] = Field(
        description="sensitive fields the plan's score did not use (no data-use consent for "
        "call planning)"
    )


class CallPlanExclusionOut(BaseModel):
    lead_id: str
    reason: str = Field(description="opted_out, contact_cap or no_channel_consent")
    why: str
    channel: Channel | None = Field(
        description="the capacity line it was excluded from (null: from the whole plan)"
    )


class GuaranteeOut(BaseModel):
    field: str
    value: str
    min_share: float
    required: int = Field(
        description="ceil(min_share x capacity), at most the value's eligible leads"
    )
    available: int = Field(description="eligible leads with this value")
    planned: int = Field(description="entries of the plan with this value")
    channel: Channel | None = Field(description="the capacity line it applies to")


class ChannelSummaryOut(BaseModel):
    capacity: int
    max_touches_30d: int
    planned: int
    eligible: int = Field(description="leads with live consent on the channel, under its cap")
    removed_by_consent: int = Field(
        description="leads without live consent on the channel (opted-out ones included)"
    )
    contact_capped: int = Field(description="leads at the channel's contact cap")
    expected_conversions: float


class CallPlanSummary(BaseModel):
    capacity: int
    planned: int = Field(description="min(capacity, eligible)")
    eligible: int = Field(
        description="leads neither opted out nor at the contact cap (a channel plan: with live "
        "consent on a line's channel and under its cap, on one line at least)"
    )
    expected_conversions: float = Field(
        description="sum of the plan's calibrated probabilities (expected number of conversions)"
    )
    top_n_expected_conversions: float = Field(
        description="the same for a plain top-N by score among eligible leads, N = planned"
    )
    cost_of_fairness: float = Field(
        description="top_n_expected_conversions - expected_conversions (expected conversions)"
    )
    cost_of_exploration: float = Field(
        description="the part of cost_of_fairness due to exploration slots (the leads they "
        "displaced minus the explored leads); the rest is due to the minimum shares"
    )
    share_by_segment: dict[str, dict[str, float]] = Field(
        description="field -> value -> share of the plan, over the values of eligible leads"
    )
    top_n_share_by_segment: dict[str, dict[str, float]]
    exploration_slots: int = Field(description="entries with basis exploration")
    exploration_pool: int = Field(
        description="grade C/D eligible leads outside the top-N the exploration was drawn from"
    )
    guarantees: list[GuaranteeOut]
    seed: str = Field(description="seed of the exploration draw (hex; from the lead ids)")
    contact_window_start: str = Field(description="touches from this moment on count (ISO, UTC)")
    removed_by_consent: dict[Channel, int] = Field(
        description="channel -> leads without live consent on it (opted-out ones included); "
        "empty for a plan on no particular channel"
    )
    by_channel: dict[Channel, ChannelSummaryOut] = Field(
        description="each capacity line's own figures (empty for a plan on no channel)"
    )


class CallPlanResponse(BaseModel):
    plan_id: str = Field(description="recorded with every touch of this plan")
    model: ModelRef
    plan: list[CallPlanEntryOut]
    excluded: list[CallPlanExclusionOut]
    summary: CallPlanSummary
    disclosure: Disclosure


# --- forecasts -----------------------------------------------------------------------------


class ForecastRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    series: list[dict[str, Any]] = Field(
        ...,
        description="the series to forecast, each named by the model's series fields (for the "
        'sample: {"territory": "...", "product": "..."}), each value a string or a number as '
        'in the training file (1 for a store "1"); a series may carry its own '
        '"future_covariates"',
    )
    horizon: Annotated[int, Field(strict=True)] = Field(
        ..., description="weeks ahead, 1 to the model's maximum (26 by default)"
    )
    future_covariates: dict[str, Any] | None = Field(
        None,
        description="planned values of known-in-future covariates (e.g. promo), one per forecast "
        "week, for every series; covariates not given are assumed to stay at their recent mean",
    )


class ForecastDrivers(BaseModel):
    model_config = ConfigDict(extra="allow")

    recent_level: float = Field(description="units from the recent level and lags")
    seasonality: float = Field(description="units from the time of year and holidays")
    activity: float = Field(description="units from rep calls, samples and promotions")


class _ForecastWeek(BaseModel):
    week_start: str = Field(
        description="first day of the forecast week (ISO date); equals week when the file "
        "labels weeks by their first day. Prefer week, which matches the other dates"
    )
    point: float = Field(
        description="forecast, in the unit of the contract's target (e.g. units sold)"
    )
    lo80: float
    hi80: float
    lo95: float
    hi95: float
    drivers: ForecastDrivers = Field(
        description="SHAP contributions grouped, in units; they add up to the point forecast"
    )


_WEEK = (
    "the forecast week (ISO date) labelled as the training file labels weeks (the model's "
    "week_label: its first or last day), as last_observed_week and recent_weeks.weeks are"
)


class ForecastWeekOut(_ForecastWeek):
    week: str = Field(description=_WEEK)


class ForecastRecordWeekOut(_ForecastWeek):
    """A forecast week as stored; records written before ``week`` was answered lack it."""

    week: str | None = Field(
        None, description=_WEEK + "; null in records stored before it was answered"
    )


_LAST_OBSERVED_WEEK = (
    "the series' last week in the training data (ISO date), labelled as the file labels weeks"
)


class ForecastResult(BaseModel):
    model_config = ConfigDict(extra="allow")  # the series fields, e.g. territory and product

    forecast_id: str = Field(description="id of the audit record of this forecast")
    last_observed_week: str = Field(description=_LAST_OBSERVED_WEEK)
    forecast: list[ForecastWeekOut]
    assumed_covariates: list[str] = Field(
        description="known-in-future covariates not supplied: assumed at their recent mean"
    )
    planned_covariates: dict[str, list[float]]
    review: ReviewOut
    recent_weeks: dict[str, list[Any]] | None = Field(
        None,
        description="the latest observed weeks (weeks: labelled as the file labels weeks) "
        "beside their one-week-ahead forecasts and intervals (what the review judged); null "
        "when the history is too short",
    )
    hierarchy_level: str | None = Field(
        None,
        description="a model with a hierarchy: the level forecast, one name per hierarchy "
        "(region/product_line; all/all: the national total)",
    )
    sums: list[dict[str, str]] | None = Field(
        None,
        description="a model with a hierarchy: the series this forecast adds up, by field; "
        "reconciled forecasts add up exactly at every level and week",
    )


class ForecastModelRef(ModelRef):
    max_horizon: int


class ForecastResponse(BaseModel):
    model: ForecastModelRef
    results: list[ForecastResult]
    disclosure: Disclosure


class ForecastRecordOut(BaseModel):
    """One forecast's audit record as a reviewer sees it."""

    forecast_id: str
    created_at: str = Field(description="ISO 8601, UTC")
    model: ModelRef
    requested_by: str = Field(description="name of the API key that asked for the forecast")
    scenario: str | None = Field(
        None, description="the plan's name, for a forecast made by POST /v1/forecasts/scenarios"
    )
    series: dict[str, str] = Field(description="the series (e.g. territory and product)")
    horizon: int = Field(description="weeks ahead")
    last_observed_week: str = Field(description=_LAST_OBSERVED_WEEK)
    forecast: list[ForecastRecordWeekOut]
    planned_covariates: dict[str, list[float]]
    assumed_covariates: list[str]
    review: ReviewOut
    recent_weeks: dict[str, list[Any]] | None = None
    hierarchy_level: str | None = Field(
        None, description="a model with a hierarchy: the level forecast (region/product_line)"
    )
    sums: list[dict[str, str]] | None = Field(
        None, description="a model with a hierarchy: the series this forecast adds up"
    )
    decisions: list[DecisionOut] = Field(description="every decision, oldest first")
    record_hash: str = Field(description="the record's leaf hash in the audit log")

"""The reviewer's API: who am I, the review queue, one score in full, and decisions on it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request

from candor.models.errors import ErrorDetail, InputValidationError, NotFoundError, raise_if_invalid
from candor.models.policy import ForecastReviewCode, ReviewCode
from candor.models.transparency import REVIEW_CODE_TEXTS, ReviewCodeText
from candor.serving.audit.sealing import removal
from candor.serving.dependencies import AnyCallerDep, AuditDep, ReviewerDep
from candor.serving.schemas import (
    AUTH_ERRORS,
    BODY_STATUSES,
    CURSOR_PATTERN,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_STATUSES,
    DecisionIn,
    DecisionResult,
    ReviewQueue,
    ScoreRecordOut,
    WhoAmI,
    error_responses,
)

router = APIRouter(tags=["reviews"])

STATUSES = ("pending", "decided")
REVIEW_CODES = tuple(str(code) for code in ReviewCode)
FORECAST_REVIEW_CODES = tuple(str(code) for code in ForecastReviewCode)
KINDS = ("score", "forecast")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
QUEUE_PARAMS = ("status", "reason", "limit", "cursor", "kind")
_DIGITS = re.compile(r"[0-9]{1,18}")  # a cursor is a record's seq: keep it inside a BIGINT


@dataclass(frozen=True)
class QueueQuery:
    status: str
    reason: str | None
    limit: int
    cursor: int | None
    kind: str = "score"


def parse_queue_query(
    *,
    status: str = "pending",
    reason: str | None = None,
    limit: str = str(DEFAULT_LIMIT),
    cursor: str | None = None,
    kind: str = "score",
    unknown: Sequence[str] = (),
) -> QueueQuery:
    """Check the queue's query parameters (as sent: text); every problem is named (422).

    ``unknown`` are parameter names the client sent that the queue does not know: a typo such
    as ``?stauts=decided`` must not silently answer the pending queue.
    """
    problems = [
        ErrorDetail(name, f"unknown query parameter; expected one of {list(QUEUE_PARAMS)}")
        for name in unknown
    ]
    if status not in STATUSES:
        problems.append(ErrorDetail("status", f"expected one of {list(STATUSES)}, got {status!r}"))
    if kind not in KINDS:
        problems.append(ErrorDetail("kind", f"expected one of {list(KINDS)}, got {kind!r}"))
    codes = FORECAST_REVIEW_CODES if kind == "forecast" else REVIEW_CODES
    if reason is not None and reason not in codes:
        problems.append(
            ErrorDetail("reason", f"expected one of {list(codes)} for {kind}s, got {reason!r}")
        )
    size = int(limit) if _DIGITS.fullmatch(limit) else 0
    if not 1 <= size <= MAX_LIMIT:
        problems.append(
            ErrorDetail("limit", f"expected an integer from 1 to {MAX_LIMIT}, got {limit!r}")
        )
    below = int(cursor) if cursor is not None and _DIGITS.fullmatch(cursor) else 0
    if cursor is not None and below < 1:
        problems.append(
            ErrorDetail(
                "cursor",
                f"expected the next_cursor of a previous page (a positive integer), got {cursor!r}",
            )
        )
    raise_if_invalid(problems, noun="query parameter")
    return QueueQuery(status=status, reason=reason, limit=size, cursor=below or None, kind=kind)


@router.get(
    "/v1/whoami",
    operation_id="whoami",
    response_model=WhoAmI,
    responses=error_responses(401, 503),
    summary="The name and role of the calling API key",
)
def whoami(caller: AnyCallerDep) -> dict[str, str]:
    return {"name": caller.name, "role": caller.role}


@router.get(
    "/v1/reviews/codes",
    operation_id="list_review_codes",
    response_model=list[ReviewCodeText],
    responses=AUTH_ERRORS,
    summary="Every review code: the records it flags, its name and what it means",
)
def review_codes(caller: ReviewerDep) -> tuple[ReviewCodeText, ...]:
    """The codes a review queue can be filtered by (``?reason=``), in the policy's order, with
    the words to show a reviewer: a client need not keep its own list."""
    return REVIEW_CODE_TEXTS


@router.get(
    "/v1/reviews",
    operation_id="list_reviews",
    response_model=ReviewQueue,
    responses=error_responses(401, 403, 422, 503),
    summary="Scores waiting for (or given) a human decision, newest first",
)
def review_queue(
    caller: ReviewerDep,  # first: an unknown caller learns nothing else
    request: Request,
    store: AuditDep,
    # taken as text and checked by parse_queue_query, so that a 422 names the parameter plainly
    status: str = Query(
        "pending",
        description="pending: flagged and not yet decided; decided: with at least one decision",
        json_schema_extra={"enum": list(STATUSES)},
    ),
    reason: str | None = Query(
        None,
        description="only records flagged with this review code",
        json_schema_extra={"enum": [*REVIEW_CODES, *FORECAST_REVIEW_CODES]},
    ),
    kind: str = Query(
        "score",
        description="score: lead scores; forecast: sales forecasts (see /v1/forecasts/{id})",
        json_schema_extra={"enum": list(KINDS)},
    ),
    limit: str = Query(
        str(DEFAULT_LIMIT),
        description=f"page size, 1 to {MAX_LIMIT}",
        # taken as text (above), a whole number to a client
        json_schema_extra={
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        },
    ),
    cursor: str | None = Query(
        None,
        description="next_cursor of the previous page (a positive integer)",
        json_schema_extra={"pattern": CURSOR_PATTERN},
    ),
) -> dict[str, Any]:
    query = parse_queue_query(
        status=status,
        reason=reason,
        limit=limit,
        cursor=cursor,
        kind=kind,
        unknown=[name for name in request.query_params if name not in QUEUE_PARAMS],
    )
    items, next_cursor = store.review_queue(
        status=query.status,
        reason=query.reason,
        limit=query.limit,
        cursor=query.cursor,
        kind=query.kind,
    )
    return {"items": items, "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get(
    "/v1/scores/{score_id}",
    operation_id="get_score",
    response_model=ScoreRecordOut,
    responses=error_responses(401, 403, 404, 503),
    summary="One audit record in full: inputs, score, every contribution, decisions, outcomes",
)
def get_score(score_id: str, caller: ReviewerDep, store: AuditDep) -> dict[str, Any]:
    record = store.get_record(score_id, reader=caller.name)
    if record["kind"] == "forecast":
        raise NotFoundError(
            f"{score_id!r} is a sales forecast, not a lead score: see /v1/forecasts/{score_id}",
            [ErrorDetail("score_id", "a forecast")],
        )
    payload = record["payload"]
    out = {
        key: record[key]
        for key in (
            "score_id",
            "created_at",
            "kind",
            "model",
            "lead_key",
            "requested_by",
            "score",
            "grade",
            "decisions",
            "outcomes",
            "record_hash",
        )
    }
    if record["kind"] == "suppression":
        return {**out, "suppressed": payload.get("suppressed")}
    removed = removal(payload)
    if removed is not None:  # erased or purged: that the record exists, and since when
        codes = record["review_reasons"]
        return {
            **out,
            "removed": removed,
            "review": {"required": bool(codes), "reasons": codes, "notes": []},
        }
    return {
        **out,
        "features": payload["features"],
        "margin": payload["margin"],
        "base_value": payload["base_value"],
        "contributions": payload["contributions"],
        "confidence": payload["confidence"],
        "review": payload["review"],
        "withheld": payload["withheld"],
    }


@router.post(
    "/v1/reviews/{score_id}",
    operation_id="decide_score",
    response_model=DecisionResult,
    status_code=201,
    responses=error_responses(401, 403, 404, *IDEMPOTENT_STATUSES, *BODY_STATUSES, 503),
    openapi_extra=IDEMPOTENCY_KEY,
    summary="Confirm a score, or override its grade with a reason (appended, never replaced)",
)
def decide(score_id: str, caller: ReviewerDep, body: DecisionIn, store: AuditDep) -> dict[str, Any]:
    if body.decision == "confirm" and body.grade is not None:
        # the store would drop it silently; a reviewer who sends a grade means to change it
        raise InputValidationError(
            f"field 'grade': a confirm keeps the model's grade, got {body.grade!r}; send "
            "decision 'override' to change it",
            [ErrorDetail("grade", "not allowed with decision 'confirm'")],
        )
    decisions = store.add_decision(
        score_id=score_id,
        decision=body.decision,
        grade=body.grade,
        comment=body.comment,
        decided_by=caller.name,
        replacement=body.replacement,
    )
    return {"decision": decisions[-1], "decisions": decisions}

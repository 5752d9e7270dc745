"""Real outcomes of scored leads, and the error report they make possible."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from candor.models.errors import ErrorDetail, InputValidationError
from candor.serving.dependencies import AuditDep, ReviewerDep
from candor.serving.reports import error_report
from candor.serving.schemas import (
    AUTH_ERRORS,
    BODY_STATUSES,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_STATUSES,
    ErrorReport,
    OutcomeIn,
    OutcomeResult,
    error_responses,
    is_future,
    parse_observed_at,
)

router = APIRouter(tags=["outcomes"])


@router.post(
    "/v1/outcomes",
    operation_id="record_outcome",
    response_model=OutcomeResult,
    status_code=201,
    responses=error_responses(401, 403, 404, *IDEMPOTENT_STATUSES, *BODY_STATUSES, 503),
    openapi_extra=IDEMPOTENCY_KEY,
    summary="Record whether a scored lead converted; it applies to every score of that lead",
)
def record_outcome(caller: ReviewerDep, body: OutcomeIn, store: AuditDep) -> dict[str, Any]:
    observed = parse_observed_at(body.observed_at)
    now = datetime.now(UTC)
    if is_future(observed, now=now):
        raise InputValidationError(
            f"field 'observed_at': {body.observed_at!r} is in the future (now is "
            f"{now.isoformat(timespec='seconds')}); an outcome is recorded once observed",
            [ErrorDetail("observed_at", "more than a day in the future")],
        )
    lead_id = str(body.lead_id)
    matched = store.add_outcome(
        lead_id=lead_id,
        converted=body.converted,
        # one format (UTC, microseconds) so that the store's ordering by text is by time
        observed_at=observed.isoformat(timespec="microseconds"),
        recorded_by=caller.name,
    )
    return {"lead_id": lead_id, "matched_scores": matched}


@router.get(
    "/v1/reports/errors",
    operation_id="get_error_report",
    response_model=ErrorReport,
    responses=AUTH_ERRORS,
    summary="Error rates by grade and review reason, before and after human review",
)
def errors_report(caller: ReviewerDep, store: AuditDep) -> dict[str, Any]:
    return error_report(store.evaluation_rows())

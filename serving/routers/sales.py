"""POST /v1/sales/actuals: what each series really sold, week by week (reviewers, admins).

Actuals are audited (one ``sales_actual`` event per series and week, committed before the
answer); a week sent again with other units is a correction, kept as such. Forecast accuracy
(``GET /v1/forecasts/accuracy``) measures the audited forecasts against them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from candor.serving.audit.sales_actuals import record_actuals
from candor.serving.dependencies import AuditDep, ForecastDep, ReviewerDep
from candor.serving.requests.actuals import check_actuals
from candor.serving.sales_schemas import ActualsIn, ActualsOut
from candor.serving.schemas import (
    BODY_STATUSES,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_STATUSES,
    error_responses,
)

router = APIRouter(prefix="/v1/sales", tags=["forecasts"])


@router.post(
    "/actuals",
    operation_id="record_sales_actuals",
    response_model=ActualsOut,
    status_code=201,
    responses=error_responses(401, 403, *IDEMPOTENT_STATUSES, *BODY_STATUSES, 503),
    openapi_extra=IDEMPOTENCY_KEY,
    summary="Record the units each series sold in a week (a week sent again is a correction)",
)
def record_sales_actuals(
    caller: ReviewerDep, body: ActualsIn, service: ForecastDep, store: AuditDep
) -> dict[str, Any]:
    # the series and weeks are the served forecaster's: its contract names the series fields
    actuals = check_actuals(service.requests, body.actuals, today=datetime.now(UTC).date())
    return record_actuals(store, actuals, recorded_by=caller.name).to_dict()

"""POST /v1/privacy/erasures: erase a lead's stored data at its request (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from candor.serving.dependencies import AdminDep, AuditDep
from candor.serving.privacy_schemas import ErasureIn, ErasureOut
from candor.serving.schemas import (
    BODY_STATUSES,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_STATUSES,
    error_responses,
)

router = APIRouter(prefix="/v1/privacy", tags=["privacy"])


@router.post(
    "/erasures",
    operation_id="erase_lead",
    response_model=ErasureOut,
    status_code=201,
    responses=error_responses(401, 403, 404, *IDEMPOTENT_STATUSES, *BODY_STATUSES, 503),
    openapi_extra=IDEMPOTENCY_KEY,
    summary="Erase a lead's stored inputs and explanations (crypto-shredding); its records "
    "stay, marked erased, and the audit log still verifies",
)
def erase_lead(caller: AdminDep, body: ErasureIn, store: AuditDep) -> dict[str, Any]:
    # committed (key destroyed, erasure logged) before the answer; the raw id is not echoed
    return store.erase_lead(str(body.lead_id), reason=body.reason, by=caller.name).to_dict()

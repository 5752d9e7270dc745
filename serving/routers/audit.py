"""GET /v1/audit/access: who read a person's record, and when (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from candor.serving.dependencies import AdminDep, AuditDep
from candor.serving.schemas import error_responses

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class AccessOut(BaseModel):
    read_by: str
    read_at: str
    seq: int


class AccessLogOut(BaseModel):
    score_id: str
    reads: list[AccessOut]


@router.get(
    "/access",
    operation_id="get_access_log",
    response_model=AccessLogOut,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Every read of one score or forecast record: who read it and when, oldest first",
)
def access_log(
    caller: AdminDep,
    store: AuditDep,
    score_id: str = Query(..., description="the score_id (or forecast_id) of the record"),
) -> dict[str, Any]:
    return {"score_id": score_id, "reads": store.access_log(score_id)}

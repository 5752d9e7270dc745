"""The audit log for auditors (and admins): who read a record, that a record exists and its
integrity (an inclusion proof under a signed tree head), and a verification of the whole log.
An auditor never sees a record's inputs: those are for reviewers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from candor.serving.audit.record_state import record_state
from candor.serving.audit_schemas import AccessLogOut, RecordStateOut, VerifyOut
from candor.serving.dependencies import AuditDep, AuditorDep
from candor.serving.schemas import error_responses

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get(
    "/access",
    operation_id="get_access_log",
    response_model=AccessLogOut,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Every read of one score or forecast record: who read it and when, oldest first",
)
def access_log(
    caller: AuditorDep,
    store: AuditDep,
    score_id: str = Query(..., description="the score_id (or forecast_id) of the record"),
) -> dict[str, Any]:
    return {"score_id": score_id, "reads": store.access_log(score_id)}


@router.get(
    "/records/{score_id}",
    operation_id="get_audit_record",
    response_model=RecordStateOut,
    responses=error_responses(401, 403, 404, 503),
    summary="That a record exists, its state (sealed, erased, purged) and its inclusion proof",
)
def audit_record(score_id: str, caller: AuditorDep, store: AuditDep) -> dict[str, Any]:
    state = record_state(store, score_id)
    return {**state.to_dict(), "proof": store.prove(score_id).to_dict()}


@router.get(
    "/verify",
    operation_id="verify_audit_log",
    response_model=VerifyOut,
    responses=error_responses(401, 403, 503),
    summary="Verify the whole log: MACs, signed heads, checkpoints, projections, payloads",
)
def verify(caller: AuditorDep, store: AuditDep) -> dict[str, Any]:
    report = store.verify()
    return {
        "ok": report.ok,
        "events": report.events,
        "heads": report.heads,
        "checkpoints": report.checkpoints,
        "problems": [
            {"position": p.position, "kind": p.kind, "detail": p.detail} for p in report.problems
        ],
        "more": report.more,
    }

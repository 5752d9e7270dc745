"""POST /v1/leads/score."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from candor.models.errors import ErrorDetail, InputValidationError, summarise
from candor.models.transparency import disclosure
from candor.serving.audit.records import records_for
from candor.serving.dependencies import AuditDep, ScorerDep, ScoringDep, SettingsDep
from candor.serving.errors import validation_details
from candor.serving.schemas import ErrorResponse, ScoreRequest, ScoreResponse
from candor.serving.services.leads import LeadScore

router = APIRouter(prefix="/v1/leads", tags=["leads"])


def validate_leads(request: Request, leads: list[dict[str, Any]], limit: int) -> list[dict]:
    """Check count and every field against the model's contract; errors name index and field."""
    if not 1 <= len(leads) <= limit:
        raise InputValidationError(
            f"field 'leads' must hold 1 to {limit} leads, got {len(leads)}",
            [ErrorDetail("leads", f"expected 1 to {limit} leads, got {len(leads)}")],
        )
    adapter = request.app.state.leads_adapter
    try:
        parsed = adapter.validate_python(leads)
    except ValidationError as exc:
        details = validation_details([{**e, "loc": ("leads", *e["loc"])} for e in exc.errors()])
        raise InputValidationError(summarise(details), details) from exc
    return [lead.model_dump() for lead in parsed]


def lead_result_json(result: LeadScore, *, top_k: int | None) -> dict[str, Any]:
    """The response's shape of one result (``LeadResult``), built without re-validation."""
    explanation, confidence, review = result.explanation, result.confidence, result.review
    reasons = result.reasons if top_k is None else result.reasons[:top_k]
    return {
        "lead_id": result.lead_id,
        "score_id": result.score_id,
        "suppressed": result.suppressed,
        "score": result.score,
        "grade": result.grade,
        "margin": explanation.margin if explanation is not None else None,
        "base_value": explanation.base_value if explanation is not None else None,
        "reasons": [r.as_dict() for r in reasons],
        "confidence": confidence.as_dict() if confidence is not None else None,
        "review": review.as_dict() if review is not None else None,
        "withheld": list(result.withheld),
    }


@router.post(
    "/score",
    response_model=ScoreResponse,
    responses={
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
    summary="Score leads with reasons, confidence and a review flag",
)
def score_leads(
    caller: ScorerDep,  # first: an unknown caller learns nothing else
    body: ScoreRequest,
    request: Request,
    service: ScoringDep,
    store: AuditDep,
    settings: SettingsDep,
) -> JSONResponse:
    leads = validate_leads(request, body.leads, settings.max_leads_per_request)
    results = service.score(leads, top_k=None)  # the audit keeps every contribution
    # written and committed before anything is answered: no unaudited score leaves (else 503)
    store.append(records_for(results, model=service.model_ref, requested_by=caller.name))
    top_k = (body.top_k or settings.default_top_k) if body.explain == "top" else None
    # shaped like ScoreResponse by lead_result_json (a test checks it against the schema);
    # skipping pydantic's re-validation keeps 1,000-lead batches fast
    return JSONResponse(
        {
            "model": service.model_ref.as_dict(),
            "results": [lead_result_json(r, top_k=top_k) for r in results],
            "disclosure": disclosure(service.model_ref.name),
        }
    )

"""POST /v1/leads/score."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from candor.models.transparency import disclosure
from candor.serving.audit.records import lead_model_event, score_events
from candor.serving.dependencies import (
    AuditDep,
    ScorerDep,
    ScoringDep,
    SettingsDep,
)
from candor.serving.responses import FastJSONResponse
from candor.serving.schemas import (
    BODY_STATUSES,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_STATUSES,
    ScoreRequest,
    ScoreResponse,
    error_responses,
)
from candor.serving.services.leads import LeadScore

router = APIRouter(prefix="/v1/leads", tags=["leads"])


def lead_result_json(result: LeadScore, *, top_k: int | None) -> dict[str, Any]:
    """The response's shape of one result (``LeadResult``), built without re-validation."""
    explanation, confidence, review = result.explanation, result.confidence, result.review
    reasons = result.reasons if top_k is None else result.reasons[:top_k]
    return {
        "lead_id": result.lead_id,
        "score_id": result.score_id,
        "suppressed": result.suppressed,
        "channels": list(result.channels),
        "score": result.score,
        "grade": result.grade,
        "margin": explanation.margin if explanation is not None else None,
        "base_value": explanation.base_value if explanation is not None else None,
        "reasons": [r.to_dict() for r in reasons],
        "confidence": confidence.to_dict() if confidence is not None else None,
        "review": review.to_dict() if review is not None else None,
        "withheld": list(result.withheld),
        "call_planning_withheld": list(result.call_planning_withheld),
    }


@router.post(
    "/score",
    operation_id="score_leads",
    response_model=ScoreResponse,
    responses=error_responses(401, 403, *IDEMPOTENT_STATUSES, *BODY_STATUSES, 503),
    openapi_extra=IDEMPOTENCY_KEY,
    summary="Score leads with reasons, confidence and a review flag",
)
def score_leads(
    caller: ScorerDep,  # first: an unknown caller learns nothing else
    body: ScoreRequest,
    service: ScoringDep,
    store: AuditDep,
    settings: SettingsDep,
) -> FastJSONResponse:
    leads = service.requests.validate(body.leads, limit=settings.max_leads_per_request)
    top_k = (body.top_k or settings.default_top_k) if body.explain == "top" else None
    # reasons in words for the answer; the audit keeps every contribution as numbers
    batch = service.score_batch(leads, top_k=top_k)
    # written and committed before anything is answered: no unaudited score leaves (else 503)
    store.append(
        score_events(
            batch, model=service.model_ref, requested_by=caller.name, lead_key=store.lead_key
        ),
        model=lead_model_event(service),
    )
    # shaped like ScoreResponse by lead_result_json (a test checks it against the schema);
    # skipping pydantic's re-validation keeps 1,000-lead batches fast
    return FastJSONResponse(
        {
            "model": service.model_ref.to_dict(),
            "results": [lead_result_json(r, top_k=top_k) for r in service.results(batch)],
            "disclosure": disclosure(service.model_ref.name),
        }
    )

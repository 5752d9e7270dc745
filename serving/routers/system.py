"""GET /healthz and GET /v1/models/current."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import APIRouter

from candor.models.contract import dump_contract
from candor.serving.dependencies import ScoringDep, StateDep
from candor.serving.monitoring.drift import health_of
from candor.serving.schemas import Health, ModelInfo, error_responses

router = APIRouter(tags=["system"])


@router.get(
    "/healthz",
    operation_id="get_health",
    response_model=Health,
    response_model_exclude_unset=True,  # a part that is absent is left out, not null
    summary="Whether the service can score: the lead scorer, the audit store, the forecaster",
)
async def healthz(state: StateDep) -> dict[str, Any]:
    """``ok`` when the lead scorer is loaded and the audit store can be written; the
    forecaster is reported beside it (optional).

    ``async`` and without a database call: it answers at once even when every worker thread
    is waiting for the audit store, and it reports what the store last said.
    """
    drift = health_of(state.drift)  # the latest drift check, kept in memory
    forecasting = state.forecasting
    forecaster = (
        forecasting.model_ref.to_dict()
        if forecasting is not None
        else {"detail": state.forecasting_error}
    )
    service = state.scoring
    if service is None:
        return {
            "status": "degraded",
            "model": None,
            "detail": state.scoring_error,
            "forecaster": forecaster,
            "drift": drift,
        }
    audit = state.audit
    audit_problem = state.audit_error if audit is None else audit.problem
    if audit_problem is not None:
        return {
            "status": "degraded",
            "model": service.model_ref.to_dict(),
            "detail": audit_problem,
            "audit": {"status": "degraded", "detail": audit_problem},
            "forecaster": forecaster,
            "drift": drift,
        }
    return {
        "status": "ok",
        "model": service.model_ref.to_dict(),
        "audit": {"status": "ok"},
        "forecaster": forecaster,
        "drift": drift,
    }


@router.get(
    "/v1/models/current",
    operation_id="get_current_model",
    response_model=ModelInfo,
    responses=error_responses(503),
    summary="The lead scorer being served: version, metrics and its data contract",
)
def current_model(service: ScoringDep) -> ModelInfo:
    loaded = service.loaded
    return ModelInfo(
        name=loaded.name,
        version=loaded.version,
        alias=loaded.alias or "",  # loaded by alias: never empty
        run_id=loaded.run_id,
        trained_at=loaded.trained_at,
        metrics=loaded.metrics,
        shape=str(loaded.model.meta_.get("shape", "")),
        contract=yaml.safe_load(dump_contract(service.contract)),
    )

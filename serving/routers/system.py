"""GET /healthz and GET /v1/models/current."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import APIRouter

from candor.models.contract import dump_contract
from candor.serving.dependencies import ScoringDep, StateDep
from candor.serving.schemas import ModelInfo

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz(state: StateDep) -> dict[str, Any]:
    """``ok`` when the lead scorer is loaded; the forecaster is reported beside it (optional)."""
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
        }
    return {"status": "ok", "model": service.model_ref.to_dict(), "forecaster": forecaster}


@router.get("/v1/models/current", response_model=ModelInfo)
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

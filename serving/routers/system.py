"""GET /healthz and GET /v1/models/current."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import APIRouter, Request

from candor.models.contract import dump_contract
from candor.serving.dependencies import ScoringDep
from candor.serving.schemas import ModelInfo

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz(request: Request) -> dict[str, Any]:
    """``ok`` when the lead scorer is loaded; the forecaster is reported beside it (optional)."""
    forecasting = getattr(request.app.state, "forecasting", None)
    forecaster = (
        forecasting.model_ref()
        if forecasting is not None
        else {"detail": getattr(request.app.state, "forecast_load_error", "no model loaded")}
    )
    service = getattr(request.app.state, "scoring", None)
    if service is None:
        return {
            "status": "degraded",
            "model": None,
            "detail": getattr(request.app.state, "load_error", "no model loaded"),
            "forecaster": forecaster,
        }
    return {"status": "ok", "model": service.model_ref.as_dict(), "forecaster": forecaster}


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

"""GET /v1/models/{name}/history and POST /v1/models/reload: the champion's moves."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from candor.models.errors import ErrorDetail, raise_if_invalid
from candor.registry.champion_history import IN_FORCE_RULE, champion_history
from candor.serving.dependencies import AdminDep, AuditDep, ReviewerDep, SettingsDep, StateDep
from candor.serving.model_history_schemas import ModelHistoryOut, ReloadOut
from candor.serving.model_reload import refresh_champions
from candor.serving.schemas import (
    DATE_OR_DATE_TIME,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_STATUSES,
    error_responses,
)

router = APIRouter(tags=["models"])
log = logging.getLogger("candor.serving")

HISTORY_PARAMS = ("at",)


@router.get(
    "/v1/models/{name}/history",
    operation_id="get_model_history",
    response_model=ModelHistoryOut,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Every move of a model's champion alias, newest first; with at, the version then",
)
def model_history(
    caller: ReviewerDep,  # first: an unknown caller learns nothing else
    name: Annotated[
        str, Path(description="the registered model (the lead scorer's or the forecaster's)")
    ],
    request: Request,
    store: AuditDep,
    settings: SettingsDep,
    at: str | None = Query(
        None,
        description="a date (the champion at the end of that day, UTC) or a date-time (at that "
        f"instant; UTC when it has no offset). Rule: {IN_FORCE_RULE}",
        json_schema_extra=DATE_OR_DATE_TIME,
    ),
) -> dict[str, Any]:
    """Each move (training's gate, `candor models promote`, `candor models rollback`) with who,
    when, from, to, why and how, from the audit log, where it was written before the alias
    moved. With ``at``: the one version in force then, the moves of that day, and that day's
    audited results per version to cross-check it."""
    raise_if_invalid(
        [
            ErrorDetail(param, f"unknown query parameter; expected one of {list(HISTORY_PARAMS)}")
            for param in request.query_params
            if param not in HISTORY_PARAMS
        ],
        noun="query parameter",
    )
    return champion_history(settings, store, name, at=at, field="name").to_dict()


@router.post(
    "/v1/models/reload",
    operation_id="reload_models",
    response_model=ReloadOut,
    responses=error_responses(401, 403, *IDEMPOTENT_STATUSES, 413, 415, 503),
    openapi_extra=IDEMPOTENCY_KEY,
    summary="Serve the registry's current champions now, without a restart (admin)",
)
def reload_models(
    caller: AdminDep, request: Request, state: StateDep, settings: SettingsDep
) -> dict[str, Any]:
    """Ask the registry where each champion alias points and load a model whose champion is
    not the version served: the lead scorer and the forecaster. Requests in flight finish with
    the model they started with. A model that fails to load leaves the one served in place, and
    the answer says why (``error``). The service also checks by itself every
    ``CANDOR_MODEL_RELOAD_SECONDS`` seconds when that is set above 0."""
    swaps = refresh_champions(request.app, state, settings)
    for swap in swaps:
        if swap.changed:
            log.info(
                "%s reloaded %s: version %s -> %s",
                caller.name,
                swap.model,
                swap.before or "none",
                swap.after,
            )
    return {"changed": any(s.changed for s in swaps), "models": [s.to_dict() for s in swaps]}

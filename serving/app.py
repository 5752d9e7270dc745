"""create_app(): the FastAPI application. The model is loaded once, in lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI

from candor.models.errors import CandorError
from candor.models.settings import Settings, get_settings
from candor.registry import FORECAST, LEADS, LoadedModel, ModelKind, load_model
from candor.serving.audit.factory import open_store
from candor.serving.errors import install_error_handlers
from candor.serving.limits import BodySizeLimit
from candor.serving.routers import (
    audit,
    call_plans,
    forecasts,
    leads,
    model_cards,
    outcomes,
    reviews,
    system,
)
from candor.serving.services.forecasts import ForecastService
from candor.serving.services.leads import LeadScoringService
from candor.serving.state import ServingState, serving_state
from candor.serving.web.router import mount_review_page

log = logging.getLogger("candor.serving")
M = TypeVar("M")


def _settings_for(app: FastAPI) -> Settings:
    provider = app.dependency_overrides.get(get_settings, get_settings)
    return provider()  # type: ignore[no-any-return]


def open_audit_into(state: ServingState, settings: Settings) -> None:
    """Open (and migrate) the audit store; without it nothing is scored (503)."""
    try:
        state.audit = open_store(settings)
    except Exception as exc:  # any failure here must leave the service up but refusing scores
        log.error("audit store not opened: %s", exc)
        state.audit = None
        state.audit_error = f"{type(exc).__name__}: {exc}"


def _load(settings: Settings, kind: ModelKind[M], *, what: str, level: int) -> LoadedModel[M] | str:
    """The kind's champion, or why it could not be loaded (the service then answers 503)."""
    try:
        loaded = load_model(settings, kind=kind)
    except CandorError as exc:
        log.log(level, "%s not loaded: %s", what, exc.message)
        return exc.message
    log.info("serving %s version %s", loaded.name, loaded.version)
    return loaded


def load_models_into(app: FastAPI, state: ServingState, settings: Settings) -> None:
    """Load both champions; the forecaster is optional, lead scoring does not depend on it."""
    leads = _load(settings, LEADS, what="model", level=logging.ERROR)
    if isinstance(leads, str):
        state.scoring, state.scoring_error = None, leads
    else:
        state.scoring = LeadScoringService(leads, settings.policy)
        app.openapi_schema = None  # rebuild with the contract's lead schema
    forecaster = _load(settings, FORECAST, what="forecaster", level=logging.WARNING)
    if isinstance(forecaster, str):
        state.forecasting, state.forecasting_error = None, forecaster
    else:
        state.forecasting = ForecastService(forecaster, settings.forecast_policy)


def _openapi_with_leads(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = FastAPI.openapi(app)
    scoring = serving_state(app).scoring
    if scoring is not None:
        lead_schema = scoring.requests.model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["LeadIn"] = lead_schema
        request = schema["components"]["schemas"].get("ScoreRequest", {})
        if "leads" in request.get("properties", {}):
            request["properties"]["leads"]["items"] = {"$ref": "#/components/schemas/LeadIn"}
    app.openapi_schema = schema
    return schema


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = _settings_for(app)
        state = serving_state(app)
        open_audit_into(state, settings)
        load_models_into(app, state, settings)
        yield
        if state.audit is not None:
            state.audit.close()

    app = FastAPI(
        title="Candor",
        version="0.1.0",
        description="Explainable, accountable lead scoring and sales forecasting for healthcare "
        "commercial teams. "
        "Scores are machine-generated and advisory.",
        lifespan=lifespan,
    )
    app.state.candor = ServingState()
    install_error_handlers(app)
    app.include_router(system.router)
    app.include_router(leads.router)
    app.include_router(call_plans.router)
    app.include_router(forecasts.router)
    app.include_router(reviews.router)
    app.include_router(outcomes.router)
    app.include_router(model_cards.router)
    app.include_router(audit.router)
    mount_review_page(app)
    app.openapi = lambda: _openapi_with_leads(app)  # type: ignore[method-assign]
    app.add_middleware(BodySizeLimit, max_bytes=lambda: _settings_for(app).max_body_bytes)
    return app

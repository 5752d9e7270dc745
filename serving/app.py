"""create_app(): the FastAPI application. The model is loaded once, in lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from candor.models.settings import Settings, get_settings
from candor.serving.access_log import install_redaction
from candor.serving.audit.factory import open_store
from candor.serving.card_cache import CardCache
from candor.serving.errors import install_error_handlers
from candor.serving.headers import ApiHeaders
from candor.serving.idempotency import IdempotencyKeys
from candor.serving.limits import BodySizeLimit
from candor.serving.model_reload import refresh_champions, watch_champions
from candor.serving.monitoring.drift import last_drift_check
from candor.serving.openapi import api_spec
from candor.serving.rate_limit import TokenBucket
from candor.serving.request_body import StrictRequests
from candor.serving.routers import (
    audit,
    call_plans,
    drift,
    forecasts,
    lead_history,
    leads,
    model_cards,
    model_history,
    outcomes,
    performance,
    privacy,
    reviews,
    sales,
    system,
)
from candor.serving.services.model_versions import ScorerVersions
from candor.serving.state import ServingState, serving_state
from candor.serving.web.docs import mount_docs
from candor.serving.web.router import mount_review_page

log = logging.getLogger("candor.serving")


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


def load_models_into(app: FastAPI, state: ServingState, settings: Settings) -> None:
    """Load both champions; the forecaster is optional, lead scoring does not depend on it.
    A part that cannot be loaded answers 503 with why (POST /v1/models/reload tries again)."""
    refresh_champions(app, state, settings, initial=True)


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = _settings_for(app)
        state = serving_state(app)
        open_audit_into(state, settings)
        state.drift = last_drift_check(state.audit)  # for /healthz, which reads no database
        load_models_into(app, state, settings)
        watch = watch_champions(app, state, settings)  # None: model_reload_seconds is 0
        yield
        if watch is not None:
            watch.stop()
        if state.audit is not None:
            state.audit.close()

    app = FastAPI(
        title="Candor",
        version="0.1.0",
        description="Explainable, accountable lead scoring and sales forecasting for healthcare "
        "commercial teams. "
        "Scores are machine-generated and advisory.",
        lifespan=lifespan,
        # FastAPI's /docs and /redoc load their scripts from a CDN: mount_docs serves them here
        docs_url=None,
        redoc_url=None,
        # operation ids are function-like names a generated client keeps (score_leads);
        # routes name theirs, any other is its function's name
        generate_unique_id_function=lambda route: route.name,
    )
    install_redaction()  # the access log names no lead (its id is in some paths)
    app.state.candor = ServingState()
    app.state.card_cache = CardCache()
    app.state.scorer_versions = ScorerVersions()  # older versions, to explain score changes
    app.state.card_limiter = TokenBucket()
    install_error_handlers(app)
    app.include_router(system.router)
    app.include_router(leads.router)
    app.include_router(call_plans.router)
    app.include_router(forecasts.router)
    app.include_router(reviews.router)
    app.include_router(outcomes.router)
    app.include_router(model_cards.router)
    app.include_router(audit.router)
    app.include_router(lead_history.router)
    app.include_router(drift.router)
    app.include_router(performance.router)
    app.include_router(model_history.router)
    app.include_router(privacy.router)
    app.include_router(sales.router)
    mount_review_page(app)
    mount_docs(app)
    app.openapi = lambda: api_spec(app, _settings_for(app))  # type: ignore[method-assign]
    app.add_middleware(StrictRequests)  # inside the size limit: it reads bounded bodies
    app.add_middleware(IdempotencyKeys, ttl_hours=lambda: _settings_for(app).idempotency_ttl_hours)
    app.add_middleware(BodySizeLimit, max_bytes=lambda: _settings_for(app).max_body_bytes)
    app.add_middleware(ApiHeaders)  # outermost: middleware refusals get the headers too
    return app

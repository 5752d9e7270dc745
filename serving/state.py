"""What the running service holds: one typed object, filled in lifespan, read by dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from candor.serving.audit.store import AuditStore
from candor.serving.services.forecasts import ForecastService
from candor.serving.services.leads import LeadScoringService

STARTING = "the service is starting"


@dataclass
class ServingState:
    """Each part is None until loaded; its ``*_error`` then says why, for 503s and /healthz."""

    scoring: LeadScoringService | None = None
    scoring_error: str = STARTING
    forecasting: ForecastService | None = None
    forecasting_error: str = STARTING
    audit: AuditStore | None = None
    audit_error: str = STARTING


def serving_state(app: FastAPI) -> ServingState:
    """The app's state, created on first use (create_app does so before any request)."""
    state = getattr(app.state, "candor", None)
    if state is None:
        state = app.state.candor = ServingState()
    return state  # type: ignore[no-any-return]

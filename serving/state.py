"""What the running service holds: one typed object, filled in lifespan, read by dependencies."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import FastAPI

from candor.models.monitoring.drift import DriftSummary
from candor.serving.audit.store import AuditStore
from candor.serving.services.forecasts import ForecastService
from candor.serving.services.leads import LeadScoringService

STARTING = "the service is starting"


@dataclass
class ServingState:
    """Each part is None until loaded; its ``*_error`` then says why, for 503s and /healthz.

    A reload (:mod:`candor.serving.model_reload`) replaces a service in one assignment: a
    request that already holds the old one finishes with it.
    """

    scoring: LeadScoringService | None = None
    scoring_error: str = STARTING
    forecasting: ForecastService | None = None
    forecasting_error: str = STARTING
    audit: AuditStore | None = None
    audit_error: str = STARTING
    # the latest drift check (read from the log at start, replaced by each check); /healthz
    # shows it without a database call. None: never checked
    drift: DriftSummary | None = None
    # one reload at a time (POST /v1/models/reload and the periodic check)
    reload_lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)


def serving_state(app: FastAPI) -> ServingState:
    """The app's state, created on first use (create_app does so before any request)."""
    state = getattr(app.state, "candor", None)
    if state is None:
        state = app.state.candor = ServingState()
    return state  # type: ignore[no-any-return]

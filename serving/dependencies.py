"""Typed dependencies: routes ask for what they need, tests swap it with dependency_overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from candor.models.errors import (
    AuditUnavailableError,
    AuthenticationError,
    ModelNotAvailableError,
    PermissionDeniedError,
)
from candor.models.settings import Settings, get_settings
from candor.serving.audit.store import AuditStore, Caller
from candor.serving.services.forecasts import ForecastService
from candor.serving.services.leads import LeadScoringService

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_scoring_service(request: Request) -> LeadScoringService:
    service: LeadScoringService | None = getattr(request.app.state, "scoring", None)
    if service is None:
        reason = getattr(request.app.state, "load_error", "no model loaded")
        raise ModelNotAvailableError(f"the lead scorer is not available: {reason}")
    return service


def get_forecast_service(request: Request) -> ForecastService:
    service: ForecastService | None = getattr(request.app.state, "forecasting", None)
    if service is None:
        reason = getattr(request.app.state, "forecast_load_error", "no model loaded")
        raise ModelNotAvailableError(f"the sales forecaster is not available: {reason}")
    return service


def get_audit_store(request: Request) -> AuditStore:
    store: AuditStore | None = getattr(request.app.state, "audit", None)
    if store is None:
        reason = getattr(request.app.state, "audit_error", "not opened")
        raise AuditUnavailableError(f"the audit store is not available: {reason}")
    return store


ScoringDep = Annotated[LeadScoringService, Depends(get_scoring_service)]
ForecastDep = Annotated[ForecastService, Depends(get_forecast_service)]
AuditDep = Annotated[AuditStore, Depends(get_audit_store)]


def get_caller(request: Request, store: AuditDep) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
    caller = store.authenticate(secret.strip())
    if caller is None:
        raise AuthenticationError("unknown or revoked API key")
    return caller


def require(*roles: str) -> Callable[[Caller], Caller]:
    """A dependency that admits the given roles (admin is always admitted)."""
    allowed = {*roles, "admin"}

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if caller.role not in allowed:
            raise PermissionDeniedError(
                f"API key {caller.name!r} has role {caller.role!r}; this needs one of "
                f"{sorted(allowed)}"
            )
        return caller

    return check


ScorerDep = Annotated[Caller, Depends(require("scorer"))]
ReviewerDep = Annotated[Caller, Depends(require("reviewer"))]
AdminDep = Annotated[Caller, Depends(require())]
AnyCallerDep = Annotated[Caller, Depends(get_caller)]

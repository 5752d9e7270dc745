"""Typed dependencies: routes ask for what they need, tests swap it with dependency_overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from candor.models.errors import (
    AuditUnavailableError,
    AuthenticationError,
    CandorError,
    ModelNotAvailableError,
    PermissionDeniedError,
)
from candor.models.settings import Settings, get_settings
from candor.serving.audit.store import AuditStore, Caller
from candor.serving.card_cache import CardCache
from candor.serving.rate_limit import TokenBucket
from candor.serving.services.forecasts import ForecastService
from candor.serving.services.leads import LeadScoringService
from candor.serving.services.model_versions import ScorerVersions
from candor.serving.state import ServingState, serving_state

SettingsDep = Annotated[Settings, Depends(get_settings)]
T = TypeVar("T")


def get_state(request: Request) -> ServingState:
    return serving_state(request.app)


StateDep = Annotated[ServingState, Depends(get_state)]


def _available(part: T | None, what: str, reason: str, error: type[CandorError]) -> T:
    if part is None:
        raise error(f"the {what} is not available: {reason}")
    return part


def get_scoring_service(state: StateDep) -> LeadScoringService:
    return _available(state.scoring, "lead scorer", state.scoring_error, ModelNotAvailableError)


def get_forecast_service(state: StateDep) -> ForecastService:
    return _available(
        state.forecasting, "sales forecaster", state.forecasting_error, ModelNotAvailableError
    )


def get_audit_store(state: StateDep) -> AuditStore:
    return _available(state.audit, "audit store", state.audit_error, AuditUnavailableError)


def get_card_cache(request: Request) -> CardCache:
    return request.app.state.card_cache  # type: ignore[no-any-return]


def get_card_limiter(request: Request) -> TokenBucket:
    return request.app.state.card_limiter  # type: ignore[no-any-return]


def get_scorer_versions(request: Request) -> ScorerVersions:
    return request.app.state.scorer_versions  # type: ignore[no-any-return]


CardCacheDep = Annotated[CardCache, Depends(get_card_cache)]
ScorerVersionsDep = Annotated[ScorerVersions, Depends(get_scorer_versions)]
CardLimiterDep = Annotated[TokenBucket, Depends(get_card_limiter)]
ScoringDep = Annotated[LeadScoringService, Depends(get_scoring_service)]
ForecastDep = Annotated[ForecastService, Depends(get_forecast_service)]
AuditDep = Annotated[AuditStore, Depends(get_audit_store)]


# the spec's security scheme; auto_error=False: a missing key is this service's own 401 below
API_KEY = HTTPBearer(
    scheme_name="bearerAuth",
    description="an API key made with `candor keys create`, sent as `Authorization: Bearer <key>`",
    auto_error=False,
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(API_KEY)]


def get_caller(store: AuditDep, credentials: BearerDep) -> Caller:
    secret = credentials.credentials.strip() if credentials is not None else ""
    if not secret:
        raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
    caller = store.authenticate(secret)
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
# auditors read that records exist, their integrity and the access log; never inputs
AuditorDep = Annotated[Caller, Depends(require("auditor"))]
AdminDep = Annotated[Caller, Depends(require())]
AnyCallerDep = Annotated[Caller, Depends(get_caller)]

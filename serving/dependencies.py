"""Typed dependencies: routes ask for what they need, tests swap it with dependency_overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from models.errors import ModelNotAvailableError
from models.settings import Settings, get_settings
from serving.scoring import LeadScoringService

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_scoring_service(request: Request) -> LeadScoringService:
    service: LeadScoringService | None = getattr(request.app.state, "scoring", None)
    if service is None:
        reason = getattr(request.app.state, "load_error", "no model loaded")
        raise ModelNotAvailableError(f"the lead scorer is not available: {reason}")
    return service


ScoringDep = Annotated[LeadScoringService, Depends(get_scoring_service)]

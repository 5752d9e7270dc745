"""GET /v1/monitoring/drift: input and score drift against the model's training reference."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["monitoring"])

"""GET /v1/monitoring/performance: real-world accuracy from recorded outcomes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["monitoring"])

"""GET /v1/models/{name}/history and POST /v1/models/reload: the champion's moves."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["models"])

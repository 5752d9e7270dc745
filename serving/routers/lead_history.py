"""GET /v1/leads/{lead_id}/scores and /changes: a lead's scores over time and what changed."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reviews"])

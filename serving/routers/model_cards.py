"""GET /v1/models/{name}/card: the model card, as JSON or as an HTML page. Public: a model
card is how the service says openly what it is."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from candor.serving.dependencies import SettingsDep
from candor.serving.model_card import build_card, render_html

router = APIRouter(tags=["transparency"])


@router.get("/v1/models/{name}/card", response_model=None)
def model_card(
    name: str,
    request: Request,
    settings: SettingsDep,
    format: Literal["json", "html"] | None = None,
) -> Any:
    card = build_card(settings, name, owner=settings.model_owner)
    wants_html = format == "html" or (
        format is None and "text/html" in request.headers.get("accept", "")
    )
    if wants_html:
        return HTMLResponse(render_html(card))
    return JSONResponse(card)

"""GET /v1/models/{name}/card: the model card, as JSON or as an HTML page. Public: a model
card is how the service says openly what it is.

Public and costly to build, so it is served from memory (:mod:`candor.serving.card_cache`) and
rate-limited per client (:mod:`candor.serving.rate_limit`); its ETag lets a client revalidate.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response

from candor.models.transparency import CARDS
from candor.serving.dependencies import CardCacheDep, CardLimiterDep, SettingsDep, StateDep
from candor.serving.schemas import error_responses
from candor.serving.state import ServingState

router = APIRouter(tags=["transparency"])

ETAG: dict[str, Any] = {
    "description": "send as If-None-Match to revalidate",
    "schema": {"type": "string"},
}
CARD: dict[str, Any] = {
    "description": "the model card: JSON, or a printable HTML page",
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "text/html": {"schema": {"type": "string"}},
    },
    "headers": {
        "ETag": ETAG,
        "X-Cache": {
            "description": "hit: served from memory; miss: built from the registry now",
            "schema": {"type": "string", "enum": ["hit", "miss"]},
        },
    },
}


NOT_MODIFIED: dict[str, Any] = {
    "description": "the representation named by If-None-Match is current (no body)",
    "headers": {"ETag": ETAG},
}


def served_version(state: ServingState, name: str) -> str | None:
    """The version of ``name`` this service serves (None when it serves no such model)."""
    for service in (state.scoring, state.forecasting):
        if service is not None and service.loaded.name == name:
            return service.loaded.version
    return None


@router.get(
    "/v1/models/{name}/card",
    operation_id="get_model_card",
    response_model=None,
    responses={200: CARD, 304: NOT_MODIFIED, **error_responses(404, 422, 429)},
    summary="The model card: intended use, data, metrics, fairness audit, version history",
)
def model_card(
    name: Annotated[
        str, Path(description="the registered model", json_schema_extra={"enum": sorted(CARDS)})
    ],
    request: Request,
    settings: SettingsDep,
    state: StateDep,
    cards: CardCacheDep,
    limiter: CardLimiterDep,
    format: Literal["json", "html"] | None = None,
    if_none_match: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            description="ETags of earlier answers: 304 while one of them is current",
        ),
    ] = None,
) -> Any:
    client = request.client.host if request.client is not None else "unknown"
    limiter.take(
        client,
        rate_per_minute=settings.model_card_rate_per_minute,
        burst=settings.model_card_burst,
        what="model cards",
    )
    entry, hit = cards.get(settings, name, version=served_version(state, name))
    wants_html = format == "html" or (
        format is None and "text/html" in request.headers.get("accept", "")
    )
    chosen = entry.html if wants_html else entry.json
    headers = {
        "ETag": chosen.etag,
        "X-Cache": "hit" if hit else "miss",
        "Vary": "Accept",
        "Cache-Control": "no-cache",  # public, but revalidated (ETag) before reuse
    }
    if if_none_match is not None and _matches(if_none_match, chosen.etag):
        return Response(status_code=304, headers=headers)
    return Response(chosen.body, media_type=chosen.media_type, headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of entity tags (weak ones compared weakly)."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags

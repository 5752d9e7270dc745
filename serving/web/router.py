"""GET /review (the reviewer's page) and its assets under /review/static.

The page itself holds no data and needs no key: every API call it makes carries the key the
reviewer pastes in, and the API checks it. So the page is served to anyone, like /docs.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/review/static"

# The page loads only its own scripts (native ES modules, which script-src 'self' admits) and
# style and talks only to this origin: a comment or feature value that slipped past escaping
# could still not load or send anything elsewhere.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["review page"])


@router.get("/review", response_class=HTMLResponse, include_in_schema=False)
def review_page() -> HTMLResponse:
    """The single-page review app (HTML); its data comes from /v1/* with the reviewer's key."""
    html = (STATIC_DIR / "review.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers=PAGE_HEADERS)


def mount_review_page(app: FastAPI) -> None:
    """Serve the review page at /review and its script and style at /review/static/."""
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="review-static")

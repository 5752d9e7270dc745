"""What the browser tests share: Debian's Chromium driven by Playwright, the live server they
sign in to, and the signed-in reviewer page.

Not a conftest on purpose (see tests/integration/api_support.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from auth_support import keys_for
from live_server import candor_serve
from settings_support import make_settings

from candor.models.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "e2e" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def playwright_api() -> Any:
    """Playwright's sync API, or a skip naming what is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `bash scripts/install_system_deps.sh`")
    return pytest.importorskip("playwright.sync_api")


@contextmanager
def review_service(
    *, home: Path, workdir: Path, env: Mapping[str, str]
) -> Iterator[tuple[str, Settings]]:
    """`candor serve` on ``home`` (plus ``env``) with its own audit database in ``workdir``:
    the base URL, and settings pointing at that database (for the tests' keys)."""
    audit_url = f"sqlite:///{workdir / 'audit.db'}"
    settings = make_settings(home, database_url=audit_url)
    server_env = {"CANDOR_DATABASE_URL": audit_url, **env}
    with candor_serve(home=home, workdir=workdir, env=server_env) as server:
        yield server.base_url, settings


@contextmanager
def reviewer_page(sync_api: Any, base: str, settings: Settings) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page signed in to the reviewer page with the reviewer key of ``settings``,
    and the console errors it logs from its first load on; the browser closes on exit."""
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        console_errors: list[str] = []
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        try:
            page.goto(base + "/review")
            page.fill("#api-key", keys_for(settings)["reviewer"])
            page.click("#sign-in")
            sync_api.expect(page.locator("#whoami")).to_contain_text("reviewer")
            yield page, console_errors
        finally:
            browser.close()

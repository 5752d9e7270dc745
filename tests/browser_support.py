"""What the browser tests share: Debian's Chromium driven by Playwright, and signing in.

Not a conftest on purpose (see tests/integration/api_support.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

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


def sign_in(page: Any, sync_api: Any, base: str, key: str) -> None:
    """Open the reviewer page and sign in with a reviewer key."""
    page.goto(base + "/review")
    page.fill("#api-key", key)
    page.click("#sign-in")
    sync_api.expect(page.locator("#whoami")).to_contain_text("reviewer")

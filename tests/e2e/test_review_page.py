"""The reviewer's page in a real headless Chromium (Debian's, driven by Playwright).

Sign in with a reviewer key, open a flagged score, record an override with a comment, and see
it in the decided list. A screenshot is saved to tests/e2e/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_support import bearer

from models.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
DEMO_REQUEST = Path(__file__).resolve().parents[2] / "data_samples" / "demo_request.json"
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(url: str, body: dict, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture()
def live_service(
    trained_home: Path, trained_settings: Settings, tmp_path: Path
) -> Iterator[tuple[str, Settings]]:
    """`candor serve` on loopback with its own audit database; every score is flagged."""
    audit_url = f"sqlite:///{tmp_path / 'audit.db'}"
    settings = trained_settings.model_copy(update={"database_url": audit_url})
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CANDOR_", "MLFLOW_"))}
    env.update(
        CANDOR_HOME=str(trained_home),
        CANDOR_DATABASE_URL=audit_url,
        CANDOR_POLICY__RANDOM_AUDIT_SHARE="1.0",
    )
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "candor"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if json.loads(response.read())["status"] == "ok":
                        break
            except (urllib.error.URLError, OSError):
                pass
            assert time.monotonic() < deadline, "candor serve did not start"
            time.sleep(0.3)
        yield base, settings
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_reviewer_overrides_a_flagged_score_in_the_browser(
    live_service: tuple[str, Settings],
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `bash scripts/install_system_deps.sh`")
    sync_api = pytest.importorskip("playwright.sync_api")
    base, settings = live_service
    body = json.loads(DEMO_REQUEST.read_text())
    body["leads"] = [dict(body["leads"][0], lead_id=f"E2E{i}") for i in range(3)]
    scored = _post(base + "/v1/leads/score", body, bearer(settings, "scorer"))
    score_id = scored["results"][0]["score_id"]
    reviewer_key = bearer(settings, "reviewer")["Authorization"].removeprefix("Bearer ")
    SCREENSHOTS.mkdir(exist_ok=True)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(base + "/review")
            page.fill("#api-key", reviewer_key)
            page.click("#sign-in")
            sync_api.expect(page.locator("#whoami")).to_contain_text("reviewer")

            row = page.locator(f'#queue tr[data-score-id="{score_id}"]')
            sync_api.expect(row).to_be_visible()
            row.click()
            sync_api.expect(page.locator("#waterfall")).to_be_visible()
            sync_api.expect(page.locator("#detail")).to_contain_text("random")

            page.check("#decision-override")
            page.select_option("#override-grade", "D")
            page.click("#submit-decision")  # no comment yet: refused with the rule shown
            sync_api.expect(page.locator("#form-error")).to_contain_text("comment")
            page.fill("#comment", "Rep confirmed the practice closed last month.")
            page.click("#submit-decision")
            sync_api.expect(page.locator("#decision-history")).to_contain_text(
                "Rep confirmed the practice closed last month."
            )
            page.screenshot(path=str(SCREENSHOTS / "review_detail.png"), full_page=True)

            page.select_option("#status-filter", "decided")
            decided = page.locator(f'#queue tr[data-score-id="{score_id}"]')
            sync_api.expect(decided).to_be_visible()
            sync_api.expect(decided).to_contain_text(re.compile("override", re.IGNORECASE))
            page.screenshot(path=str(SCREENSHOTS / "review_decided.png"), full_page=True)
        finally:
            browser.close()

    # the decision is in the store, signed with the reviewer key's name
    reviewer = urllib.request.Request(
        f"{base}/v1/scores/{score_id}", headers=bearer(settings, "reviewer")
    )
    with urllib.request.urlopen(reviewer, timeout=30) as response:
        record = json.loads(response.read())
    assert record["decisions"][-1]["decision"] == "override"
    assert record["decisions"][-1]["grade"] == "D"
    assert record["decisions"][-1]["decided_by"].startswith("test-reviewer")

"""The reviewer's page in a real headless Chromium (Debian's, driven by Playwright).

Sign in with a reviewer key, open a flagged score, record an override with a comment, and see
it in the decided list. A screenshot is saved to tests/e2e/screenshots/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_support import bearer
from browser_support import SCREENSHOTS, playwright_api, review_service, reviewer_page
from live_server import get_json, post_json

from candor.models.settings import Settings

DEMO_REQUEST = Path(__file__).resolve().parents[2] / "data_samples" / "demo_request.json"


@pytest.fixture()
def live_service(trained_home: Path, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    """`candor serve` on loopback with its own audit database; every score is flagged."""
    env = {"CANDOR_POLICY__RANDOM_AUDIT_SHARE": "1.0"}
    with review_service(home=trained_home, workdir=tmp_path, env=env) as service:
        yield service


def test_reviewer_overrides_a_flagged_score_in_the_browser(
    live_service: tuple[str, Settings],
) -> None:
    sync_api = playwright_api()
    base, settings = live_service
    body = json.loads(DEMO_REQUEST.read_text())
    body["leads"] = [dict(body["leads"][0], lead_id=f"E2E{i}") for i in range(3)]
    scored = post_json(
        base + "/v1/leads/score", json.dumps(body).encode(), bearer(settings, "scorer")
    )
    assert scored is not None
    score_id = scored["results"][0]["score_id"]

    with reviewer_page(sync_api, base, settings) as (page, _):
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

        # a malformed fragment (not valid percent-encoding) opens nothing and breaks nothing,
        # whether it arrives while signed in or on a reload that signs in again
        page_errors: list[str] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.evaluate("window.location.hash = '%E0'")
        page.reload()
        sync_api.expect(page.locator("#whoami")).to_contain_text("reviewer")
        sync_api.expect(page.locator("#queue tr[data-score-id]")).to_have_count(2)
        sync_api.expect(page.locator("#login-error")).to_be_hidden()
        page.evaluate("window.location.hash = '%E0%A4'")
        sync_api.expect(page.locator("#detail-empty")).to_be_visible()
        assert not page_errors, page_errors

    # the decision is in the store, signed with the reviewer key's name
    record = get_json(f"{base}/v1/scores/{score_id}", bearer(settings, "reviewer"))
    assert record is not None
    assert record["decisions"][-1]["decision"] == "override"
    assert record["decisions"][-1]["grade"] == "D"
    assert record["decisions"][-1]["decided_by"].startswith("test-reviewer")

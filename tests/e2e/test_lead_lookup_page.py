"""The reviewer page's lead lookup in a real headless Chromium: a lead scored three times is
looked up by id, its timeline shows every score, and the change view draws the waterfall
between two chosen scores. A screenshot is saved to tests/e2e/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_support import bearer
from browser_support import SCREENSHOTS, playwright_api, review_service, reviewer_page
from live_server import post_json

from candor.models.settings import Settings

DEMO_REQUEST = Path(__file__).resolve().parents[2] / "data_samples" / "demo_request.json"
LEAD = "E2E-LOOKUP-7"


@pytest.fixture()
def live_service(trained_home: Path, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    with review_service(home=trained_home, workdir=tmp_path, env={}) as service:
        yield service


def test_reviewer_looks_up_a_lead_and_sees_what_changed(
    live_service: tuple[str, Settings],
) -> None:
    sync_api = playwright_api()
    base, settings = live_service
    template = json.loads(DEMO_REQUEST.read_text())["leads"][0]
    score_ids = []
    for visits, webinars in ((0, 0), (2, 1), (6, 3)):
        body = {
            "leads": [
                dict(template, lead_id=LEAD, rep_visits_90d=visits, webinars_attended_90d=webinars)
            ]
        }
        scored = post_json(
            base + "/v1/leads/score", json.dumps(body).encode(), bearer(settings, "scorer")
        )
        assert scored is not None
        score_ids.append(scored["results"][0]["score_id"])

    with reviewer_page(sync_api, base, settings) as (page, console_errors):
        page.fill("#lead-id", LEAD)
        page.click("#lead-search")
        timeline = page.locator("#lead-timeline circle.tl-point")
        sync_api.expect(timeline).to_have_count(3)
        sync_api.expect(page.locator("#lead-scores tbody tr")).to_have_count(3)
        sync_api.expect(page.locator("#lead-trend")).to_contain_text("Trend:")
        # by default: the last two scores
        view = page.locator("#change-view")
        sync_api.expect(view).to_be_visible()
        sync_api.expect(page.locator("#change-parts")).to_contain_text("went from 2 to 6")
        sync_api.expect(page.locator("#change-waterfall rect.wf-bar").first).to_be_visible()

        # the first score against the last
        page.check(f'[data-testid="change-from-{score_ids[0]}"]')
        sync_api.expect(page.locator("#change-parts")).to_contain_text("went from 0 to 6")
        sync_api.expect(page.locator("#change-caption")).to_contain_text("= later margin")
        page.screenshot(path=str(SCREENSHOTS / "lead_lookup.png"), full_page=True)

        # a lead never scored: the API's words, and the id is not shown back
        page.fill("#lead-id", "NO-SUCH-LEAD-42")
        page.click("#lead-search")
        sync_api.expect(page.locator("#lead-error")).to_contain_text("no scores")
        assert "NO-SUCH-LEAD-42" not in page.locator("#lead-error").inner_text()
        assert not console_errors or all("404" in e for e in console_errors), console_errors

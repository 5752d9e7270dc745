"""The reviewer's page with sales forecasts, in a real headless Chromium (Playwright).

Sign in with a reviewer key, switch the queue to forecasts, open a flagged forecast, read its
weeks, drivers and recent weeks, and override it with a comment. A screenshot is saved to
tests/e2e/screenshots/.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_support import bearer
from browser_support import SCREENSHOTS, playwright_api, review_service, reviewer_page
from live_server import get_json, post_json
from settings_support import SAMPLE_LEADS, make_settings

from candor.models.settings import Settings

HORIZON = 6  # weeks


@pytest.fixture(scope="module")
def forecast_and_leads_home(
    forecast_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The session's forecaster with a lead scorer beside it: /healthz (which `candor_serve`
    waits on) is "ok" only when a lead scorer is served. The forecast home's MLflow store is
    copied (its artifacts stay where they are) so that the session fixture is left unchanged."""
    from candor.training.pipeline import train_leads

    home = tmp_path_factory.mktemp("forecast_and_leads_home")
    shutil.copy2(forecast_settings.home / "mlflow.db", home / "mlflow.db")
    assert train_leads(data=SAMPLE_LEADS, settings=make_settings(home)).gate.promoted
    return home


@pytest.fixture()
def live_service(forecast_and_leads_home: Path, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    """`candor serve` with the session's forecaster and its own audit database; a policy so
    strict that every forecast's 80% interval counts as wide, so every forecast is flagged."""
    env = {"CANDOR_FORECAST_POLICY__WIDE_INTERVAL_RATIO": "0.01"}
    with review_service(home=forecast_and_leads_home, workdir=tmp_path, env=env) as service:
        yield service


def test_reviewer_overrides_a_flagged_forecast_in_the_browser(
    live_service: tuple[str, Settings],
) -> None:
    sync_api = playwright_api()
    base, settings = live_service
    scorer = bearer(settings, "scorer")
    model = get_json(base + "/v1/forecasts/model", scorer)
    assert model is not None
    series = model["series"][0]
    body = {"series": [series], "horizon": HORIZON}
    answer = post_json(base + "/v1/forecasts", json.dumps(body).encode(), scorer)
    assert answer is not None
    [result] = answer["results"]
    assert "wide_interval" in result["review"]["reasons"]
    forecast_id = result["forecast_id"]
    # what will sell in those weeks: 3 units above each point; the reviewer's replacement says
    # so before the actuals are recorded, and is then measured as adding value
    reviewer = bearer(settings, "reviewer")
    actuals = [
        {**series, "week": w["week"], "units": round(w["point"]) + 3} for w in result["forecast"]
    ]

    with reviewer_page(sync_api, base, settings) as (page, console_errors):
        # the reason filter offers the codes of the kind chosen
        reasons = page.locator("#reason-filter option")
        sync_api.expect(reasons).to_have_count(5)
        page.select_option("#kind-filter", "forecast")
        sync_api.expect(reasons).to_have_count(4)
        page.select_option("#reason-filter", "wide_interval")

        row = page.locator(f'#queue tr[data-score-id="{forecast_id}"]')
        sync_api.expect(row).to_be_visible()
        for value in series.values():
            sync_api.expect(row).to_contain_text(value)
        sync_api.expect(row).to_contain_text("Wide interval")
        row.click()

        detail = page.locator("#forecast-body")
        sync_api.expect(detail).to_be_visible()
        sync_api.expect(page.locator("#detail-body")).to_be_hidden()
        for value in series.values():
            sync_api.expect(page.locator("#f-series")).to_contain_text(value)
        sync_api.expect(page.locator("#f-review-reasons")).to_contain_text("Wide interval")
        sync_api.expect(page.locator("#f-review-notes")).to_contain_text("80% interval")
        weeks = page.locator("#f-weeks tbody tr")
        sync_api.expect(weeks).to_have_count(HORIZON)
        first = result["forecast"][0]
        sync_api.expect(weeks.first).to_contain_text(f"{first['point']:,.1f}")
        sync_api.expect(page.locator("#f-drivers rect.dr-seg").first).to_be_attached()
        if result["recent_weeks"] is not None:  # marked where the actual left its 95% band
            back = result["recent_weeks"]
            outside = [
                str(not lo <= actual <= hi).lower()
                for actual, lo, hi in zip(back["actual"], back["lo95"], back["hi95"], strict=True)
            ]
            recent = page.locator("#f-recent tbody tr")
            sync_api.expect(recent).to_have_count(len(outside))
            assert [
                recent.nth(i).get_attribute("data-outside95") for i in range(len(outside))
            ] == outside
        sync_api.expect(page.locator("#f-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
        sync_api.expect(page.locator("#acc-status")).to_contain_text(
            "No forecast week has an actual"
        )

        page.check("#f-decision-override")
        page.click("#f-submit-decision")  # no comment yet: refused with the rule shown
        sync_api.expect(page.locator("#f-form-error")).to_contain_text("comment")
        page.fill("#f-comment", "Promotion cancelled; the launch slipped a month.")
        page.fill("#f-replacement", ", ".join(str(a["units"]) for a in actuals))
        page.click("#f-submit-decision")
        sync_api.expect(page.locator("#f-decision-history")).to_contain_text(
            "Promotion cancelled; the launch slipped a month."
        )
        sync_api.expect(page.locator("#f-standing")).to_contain_text("overridden")
        page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar at the top of the shot
        page.screenshot(path=str(SCREENSHOTS / "review_forecast_detail.png"), full_page=True)

        page.select_option("#status-filter", "decided")
        decided = page.locator(f'#queue tr[data-score-id="{forecast_id}"]')
        sync_api.expect(decided).to_be_visible()
        sync_api.expect(decided).to_contain_text(re.compile("overrid", re.IGNORECASE))

        # the weeks go by and what sold is recorded: the forecast opened again shows how it
        # and the override did, by weeks ahead and over time
        recorded = post_json(
            base + "/v1/sales/actuals", json.dumps({"actuals": actuals}).encode(), reviewer
        )
        assert recorded is not None and recorded["recorded"] == HORIZON
        decided.click()
        sync_api.expect(page.locator("#acc-status")).to_contain_text(f"{HORIZON} forecast weeks")
        sync_api.expect(page.locator("#acc-table tbody tr")).to_have_count(HORIZON + 1)
        sync_api.expect(page.locator("#acc-chart polyline.acc-served")).to_be_attached()
        sync_api.expect(page.locator("#acc-value-added")).to_contain_text("better")

        # back to lead scores: the reason codes and columns are the scores' again
        page.select_option("#kind-filter", "score")
        sync_api.expect(reasons).to_have_count(5)
        sync_api.expect(page.locator("#queue-head")).to_contain_text("Grade")
        sync_api.expect(page.locator("#forecast-body")).to_be_hidden()
    # a CSP violation or a script error would be logged here; the one refused request (422,
    # the override without a comment) is expected
    unexpected = [m for m in console_errors if "status of 422" not in m]
    assert not unexpected, unexpected

    # the decision is in the store, signed with the reviewer key's name, and has no grade
    record = get_json(f"{base}/v1/forecasts/{forecast_id}", bearer(settings, "reviewer"))
    assert record is not None
    last = record["decisions"][-1]
    assert last["decision"] == "override"
    assert last["grade"] is None
    assert last["comment"] == "Promotion cancelled; the launch slipped a month."
    assert last["replacement"] == [float(a["units"]) for a in actuals]
    assert last["decided_by"].startswith("test-reviewer")

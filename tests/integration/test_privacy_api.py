"""Erasure over HTTP and the CLI, retention by the CLI, and the policy the model card states.

Only an admin erases; an auditor sees an erased record's state and that the log still verifies
(what else an auditor may and may not read: test_auditor_role.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import settings_support as support
from api_support import HCP_MODEL, SCORE, demo_lead, error_of, serve, with_overrides
from auth_support import bearer
from fastapi.testclient import TestClient

from candor.cli.main import main as cli
from candor.models.settings import Settings, get_settings

LEAD = "L-PRIVACY-1"
ERASURES = "/v1/privacy/erasures"


@pytest.fixture(scope="module")
def api(trained_settings: Settings) -> Iterator[TestClient]:
    with serve(trained_settings, role="admin") as client:
        yield client


def scored(api: TestClient, lead_id: str) -> dict[str, Any]:
    response = api.post(SCORE, json={"leads": [demo_lead(lead_id=lead_id)]})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]  # type: ignore[no-any-return]


def test_an_admin_erases_a_lead_and_the_record_stays_verifiable(
    api: TestClient, trained_settings: Settings
) -> None:
    result = scored(api, LEAD)
    auditor = bearer(trained_settings, "auditor")
    before = api.get(f"/v1/audit/records/{result['score_id']}", headers=auditor)
    assert before.status_code == 200, before.text
    assert before.json()["state"] == "sealed"
    response = api.post(ERASURES, json={"lead_id": LEAD, "reason": "asked to be forgotten"})
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert LEAD not in response.text  # the raw id is never echoed
    assert receipt["records"] >= 1 and receipt["reason"] == "asked to be forgotten"
    after = api.get(f"/v1/audit/records/{result['score_id']}", headers=auditor)
    assert after.status_code == 200, after.text
    state = after.json()
    assert state["state"] == "erased" and state["removed_at"] == receipt["erased_at"]
    assert state["proof"]["leaf_index"] == state["seq"] - 1
    verified = api.get("/v1/audit/verify", headers=auditor)
    assert verified.status_code == 200 and verified.json()["ok"], verified.text


@pytest.mark.parametrize("role", ["scorer", "reviewer", "auditor"])
def test_only_an_admin_erases(api: TestClient, trained_settings: Settings, role: str) -> None:
    response = api.post(
        ERASURES,
        json={"lead_id": "L-PRIVACY-2", "reason": "x"},
        headers=bearer(trained_settings, role),
    )
    assert response.status_code == 403, response.text


def test_a_blank_reason_and_an_unknown_lead_are_named(api: TestClient) -> None:
    scored(api, "L-PRIVACY-3")
    blank = api.post(ERASURES, json={"lead_id": "L-PRIVACY-3", "reason": "  "})
    assert blank.status_code == 422 and "reason" in error_of(blank)["message"]
    missing = api.post(ERASURES, json={"lead_id": "L-NEVER-SEEN-9", "reason": "asked"})
    assert missing.status_code == 404
    error = error_of(missing)
    assert [d["field"] for d in error["details"]] == ["lead_id"]
    assert "L-NEVER-SEEN-9" not in missing.text


def test_a_retried_erasure_is_replayed_not_logged_again(api: TestClient) -> None:
    scored(api, "L-PRIVACY-6")
    retry = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"lead_id": "L-PRIVACY-6", "reason": "asked to be forgotten"}
    first = api.post(ERASURES, json=body, headers=retry)
    assert first.status_code == 201, first.text
    logged = api.get("/v1/audit/verify").json()["events"]
    again = api.post(ERASURES, json=body, headers=retry)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    verified = api.get("/v1/audit/verify").json()
    assert verified["ok"] and verified["events"] == logged


def test_the_cli_erases_and_purges(
    api: TestClient,
    trained_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    result = scored(api, "L-PRIVACY-5")
    support.no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(trained_settings.home))
    monkeypatch.delenv("CANDOR_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)
    assert cli(["privacy", "erase", "--lead-id", "L-PRIVACY-5", "--reason", "ticket 12"]) == 0
    receipt = json.loads(capsys.readouterr().out)
    assert receipt["records"] == 1 and "L-PRIVACY-5" not in json.dumps(receipt)
    shown = api.get(f"/v1/scores/{result['score_id']}").json()
    assert shown["removed"]["state"] == "erased" and shown["features"] == {}
    monkeypatch.delenv("CANDOR_RETENTION_DAYS", raising=False)
    assert cli(["privacy", "purge"]) == 2
    assert "CANDOR_RETENTION_DAYS" in capsys.readouterr().err
    assert cli(["privacy", "purge", "--retention-days", "3650"]) == 0
    purge = json.loads(capsys.readouterr().out)
    assert purge["retention_days"] == 3650 and purge["records"] == 0
    assert cli(["privacy", "purge", "--retention-days", "10000000000"]) != 0  # not a crash
    assert "retention_days" in capsys.readouterr().err


@pytest.mark.parametrize("days", [None, 30])
def test_the_model_card_states_the_retention_policy_in_force(
    trained_settings: Settings, days: int | None
) -> None:
    settings = with_overrides(trained_settings, retention_days=days)
    with serve(settings) as client:
        card = client.get(f"/v1/models/{HCP_MODEL}/card")
        assert card.status_code == 200, card.text
        privacy = card.json()["privacy"]
        page = client.get(f"/v1/models/{HCP_MODEL}/card", headers={"Accept": "text/html"}).text
    assert privacy["retention_days"] == days
    expected = "kept 30 days" if days else "kept until the lead is erased"
    assert expected in privacy["retention"] and expected in page
    assert "data key is destroyed" in privacy["erasure"]


def test_an_erased_flagged_score_leaves_the_review_queue_and_takes_no_decision(
    api: TestClient,
) -> None:
    flagged = api.post(
        SCORE, json={"leads": [demo_lead(lead_id="L-PRIVACY-8", rep_visits_90d=500)]}
    )
    assert flagged.status_code == 200, flagged.text
    score_id = flagged.json()["results"][0]["score_id"]

    def pending() -> set[str]:
        queue = api.get("/v1/reviews", params={"limit": 200})
        assert queue.status_code == 200, queue.text
        return {item["score_id"] for item in queue.json()["items"]}

    assert score_id in pending()
    erased = api.post(ERASURES, json={"lead_id": "L-PRIVACY-8", "reason": "asked"})
    assert erased.status_code == 201, erased.text

    assert score_id not in pending()
    decided = api.post(
        f"/v1/reviews/{score_id}", json={"decision": "confirm", "comment": "looks right"}
    )
    assert decided.status_code == 409, decided.text
    assert error_of(decided)["code"] == "record_removed"


def test_reports_count_erased_scores_without_their_values(api: TestClient) -> None:
    from datetime import UTC, datetime, timedelta

    scored(api, "L-PRIVACY-9")
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    outcome = api.post(
        "/v1/outcomes", json={"lead_id": "L-PRIVACY-9", "converted": True, "observed_at": soon}
    )
    assert outcome.status_code == 201, outcome.text

    def counts() -> tuple[int, int, int, int]:
        errors = api.get("/v1/reports/errors").json()
        performance = api.get("/v1/monitoring/performance").json()
        return (
            errors["n_outcomes"],
            errors["removed"],
            performance["overall"]["all"]["count"],
            performance["removed_scores"],
        )

    measured, removed, counted, removed_scores = counts()
    erased = api.post(ERASURES, json={"lead_id": "L-PRIVACY-9", "reason": "asked"})
    assert erased.status_code == 201, erased.text
    after = counts()
    assert after[0] == measured - 1 and after[1] == removed + 1
    assert after[2] == counted - 1 and after[3] == removed_scores + 1

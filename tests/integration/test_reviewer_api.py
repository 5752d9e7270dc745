"""The reviewer's API over HTTP: keys and roles, the queue, one score in full, decisions, outcomes.

The module has its own audit database (the session's champion is shared), and a policy that
sends every score to review (random_audit_share=1.0), so the queue is predictable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from api_support import (
    SCORE,
    demo_lead,
    error_of,
    leads_from_frame,
    serve,
    with_overrides,
    with_policy,
)
from auth_support import bearer
from fastapi.testclient import TestClient

from candor.models.contract import HCP_LEADS
from candor.models.settings import Settings

QUEUE = "/v1/reviews"
PII_FIELDS = {f.name for f in HCP_LEADS.pii_fields}
HEX64 = re.compile(r"[0-9a-f]{64}")
HEX32 = re.compile(r"[0-9a-f]{32}")  # a lead key: HMAC-SHA256 truncated to 128 bits


@pytest.fixture(scope="module")
def settings(trained_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    audit_db = tmp_path_factory.mktemp("reviewer_api") / "audit.db"
    isolated = with_overrides(trained_settings, database_url=f"sqlite:///{audit_db}")
    return with_policy(isolated, random_audit_share=1.0)


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    """A client that sends the reviewer's key (pass other headers per request)."""
    with serve(settings, role="reviewer") as client:
        yield client


@pytest.fixture(scope="module")
def reviewer_name(api: TestClient) -> str:
    response = api.get("/v1/whoami")
    assert response.status_code == 200, response.text
    return response.json()["name"]  # type: ignore[no-any-return]


def score(api: TestClient, settings: Settings, leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = api.post(SCORE, json={"leads": leads}, headers=bearer(settings, "scorer"))
    assert response.status_code == 200, response.text
    return response.json()["results"]  # type: ignore[no-any-return]


def score_one(api: TestClient, settings: Settings, **changes: Any) -> dict[str, Any]:
    [result] = score(api, settings, [demo_lead(**changes)])
    assert result["suppressed"] is None
    return result


def queue(api: TestClient, **params: Any) -> dict[str, Any]:
    response = api.get(QUEUE, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def queue_ids(api: TestClient, **params: Any) -> list[str]:
    return [item["score_id"] for item in queue(api, limit=200, **params)["items"]]


def decide(api: TestClient, score_id: str, **body: Any) -> Any:
    return api.post(f"{QUEUE}/{score_id}", json=body)


def error_field(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["details"], error
    return error["details"][0]["field"]  # type: ignore[no-any-return]


# --- keys and roles -----------------------------------------------------------------------

REVIEWER_ENDPOINTS = [
    ("GET", QUEUE, None),
    ("GET", "/v1/scores/0123456789abcdef0123456789abcdef", None),
    ("POST", f"{QUEUE}/0123456789abcdef0123456789abcdef", {"decision": "confirm"}),
    ("POST", "/v1/outcomes", {"lead_id": "x", "converted": True, "observed_at": "2024-01-01"}),
    ("GET", "/v1/reports/errors", None),
]


def send(api: TestClient, method: str, path: str, body: Any, auth: str | None) -> Any:
    """A request with this Authorization header (None: without one, despite the client's)."""
    request = api.build_request(method, path, json=body)
    if auth is None:
        del request.headers["Authorization"]
    else:
        request.headers["Authorization"] = auth
    return api.send(request)


@pytest.mark.parametrize(("method", "path", "body"), REVIEWER_ENDPOINTS)
def test_reviewer_endpoints_refuse_missing_wrong_and_scorer_keys(
    api: TestClient, settings: Settings, method: str, path: str, body: Any
) -> None:
    missing = send(api, method, path, body, None)
    wrong = send(api, method, path, body, "Bearer cnd_not-a-key")
    scorer = send(api, method, path, body, bearer(settings, "scorer")["Authorization"])

    assert missing.status_code == 401 and error_of(missing)["code"] == "unauthenticated"
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "unauthenticated"
    assert scorer.status_code == 403 and error_of(scorer)["code"] == "forbidden"
    assert "reviewer" in error_of(scorer)["message"]


def test_reviewer_may_not_score_leads(api: TestClient) -> None:
    response = api.post(SCORE, json={"leads": [demo_lead()]})

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


@pytest.mark.parametrize("role", ["scorer", "reviewer", "auditor", "admin"])
def test_whoami_names_the_key_and_its_role(api: TestClient, settings: Settings, role: str) -> None:
    response = api.get("/v1/whoami", headers=bearer(settings, role))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["role"] == role
    assert body["name"].startswith(f"test-{role}-")


def test_admin_may_use_the_reviewer_endpoints(api: TestClient, settings: Settings) -> None:
    response = api.get(QUEUE, headers=bearer(settings, "admin"))

    assert response.status_code == 200, response.text


# --- the queue ----------------------------------------------------------------------------


def test_queue_is_newest_first_and_pages_without_duplicates_or_gaps(
    api: TestClient, settings: Settings, sample_frame: pd.DataFrame
) -> None:
    results = score(api, settings, leads_from_frame(sample_frame, 40))
    scored = [r["score_id"] for r in results if r["suppressed"] is None]
    assert len(scored) > 20

    whole = queue(api, limit=200)
    assert whole["next_cursor"] is None
    paged, cursor, pages = [], None, 0
    while True:
        page = queue(api, limit=7, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 7
        paged += [item["score_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor.isdigit()

    all_ids = [item["score_id"] for item in whole["items"]]
    assert paged == all_ids
    assert len(set(paged)) == len(paged)
    assert pages == -(-len(all_ids) // 7)
    # the batch just scored is the newest: it leads the queue, last lead first
    assert all_ids[: len(scored)] == scored[::-1]


def test_queue_items_carry_what_a_reviewer_triages_by(api: TestClient, settings: Settings) -> None:
    result = score_one(api, settings)
    [item] = [i for i in queue(api, limit=200)["items"] if i["score_id"] == result["score_id"]]

    assert set(item) == {
        "score_id",
        "kind",
        "series",
        "created_at",
        "lead_key",
        "score",
        "grade",
        "review_reasons",
        "model",
        "latest_decision",
    }
    assert item["score"] == result["score"] and item["grade"] == result["grade"]
    assert item["review_reasons"] == result["review"]["reasons"]
    assert "random_audit" in item["review_reasons"]
    assert set(item["model"]) == {"name", "version", "run_id", "contract"}
    assert HEX32.fullmatch(item["lead_key"])
    assert item["latest_decision"] is None


def test_queue_filters_by_review_reason(api: TestClient, settings: Settings) -> None:
    unusual = score_one(api, settings, lead_id="R-ood", specialty="Veterinary")
    typical = score_one(api, settings, lead_id="R-typical")
    assert "out_of_distribution" in unusual["review"]["reasons"]
    assert "out_of_distribution" not in typical["review"]["reasons"]

    items = queue(api, reason="out_of_distribution", limit=200)["items"]

    assert all("out_of_distribution" in item["review_reasons"] for item in items)
    ids = {item["score_id"] for item in items}
    assert unusual["score_id"] in ids
    assert typical["score_id"] not in ids
    assert typical["score_id"] in queue_ids(api, reason="random_audit")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "open"}, "status"),
        ({"reason": "gut_feeling"}, "reason"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "-5"}, "cursor"),
        ({"cursor": "0"}, "cursor"),
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "99999999999999999999999"}, "cursor"),
        ({"stauts": "decided"}, "stauts"),
    ],
)
def test_queue_refuses_bad_query_parameters_by_name(
    api: TestClient, params: dict[str, str], field: str
) -> None:
    response = api.get(QUEUE, params=params)

    assert error_field(response, 422) == field
    assert repr(next(iter(params.values()))) in response.text or field == "stauts"


# --- one score in full --------------------------------------------------------------------


def test_score_record_holds_the_whole_explanation_and_no_raw_identity(
    api: TestClient, settings: Settings
) -> None:
    lead = demo_lead(lead_id="PRIVATE-LEAD-7731")
    [result] = score(api, settings, [lead])

    response = api.get(f"/v1/scores/{result['score_id']}")

    assert response.status_code == 200, response.text
    record = response.json()
    assert record["kind"] == "score" and record["suppressed"] is None
    assert record["score"] == result["score"] and record["grade"] == result["grade"]
    assert record["margin"] == pytest.approx(result["margin"], abs=1e-12)
    total = record["base_value"] + sum(c["contribution"] for c in record["contributions"])
    assert total == pytest.approx(record["margin"], abs=1e-6)
    assert record["confidence"] == result["confidence"]
    assert record["review"] == result["review"]
    assert {c["feature"] for c in record["contributions"]} == set(record["features"])
    assert set(record["features"]) == {f.name for f in HCP_LEADS.model_inputs}
    assert not PII_FIELDS & set(record["features"])
    assert record["model"] == api.get("/healthz").json()["model"]
    assert record["requested_by"].startswith("test-scorer-")
    assert HEX32.fullmatch(record["lead_key"]) and HEX64.fullmatch(record["record_hash"])
    assert record["decisions"] == [] and record["outcomes"] == []
    text = response.text
    for secret in ["PRIVATE-LEAD-7731", lead["full_name"], lead["email"]]:
        assert secret not in text
    assert not any(f'"{name}"' in text for name in PII_FIELDS)


def test_suppressed_lead_record_says_why_and_holds_no_score(
    api: TestClient, settings: Settings
) -> None:
    [result] = score(api, settings, [demo_lead(do_not_contact=True)])
    assert result["suppressed"] == "opted_out"

    record = api.get(f"/v1/scores/{result['score_id']}").json()

    assert record["kind"] == "suppression"
    assert record["suppressed"] == "opted_out"
    assert record["score"] is None and record["grade"] is None
    assert record["contributions"] == [] and record["features"] == {}
    assert result["score_id"] not in queue_ids(api) + queue_ids(api, status="decided")


def test_unknown_score_is_404_naming_score_id(api: TestClient) -> None:
    response = api.get("/v1/scores/no-such-score")

    assert error_field(response, 404) == "score_id"
    assert "no-such-score" in error_of(response)["message"]


# --- decisions ----------------------------------------------------------------------------


def test_decisions_append_in_order_and_the_latest_stands(
    api: TestClient, settings: Settings, reviewer_name: str
) -> None:
    score_id = score_one(api, settings)["score_id"]
    assert score_id in queue_ids(api, status="pending")

    confirmed = decide(api, score_id, decision="confirm", comment="checked the CRM notes")
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["decision"]["decision"] == "confirm"
    assert confirmed.json()["decision"]["decided_by"] == reviewer_name
    assert score_id not in queue_ids(api, status="pending")
    assert score_id in queue_ids(api, status="decided")

    overridden = decide(
        api, score_id, decision="override", grade="A", comment="met them at a congress"
    )

    assert overridden.status_code == 201, overridden.text
    body = overridden.json()
    assert body["decision"]["decision"] == "override" and body["decision"]["grade"] == "A"
    assert [d["decision"] for d in body["decisions"]] == ["confirm", "override"]
    assert [d["decided_by"] for d in body["decisions"]] == [reviewer_name] * 2
    assert body["decisions"][0]["grade"] is None
    assert body["decisions"][0]["comment"] == "checked the CRM notes"
    [item] = [
        i for i in queue(api, status="decided", limit=200)["items"] if i["score_id"] == score_id
    ]
    assert item["latest_decision"] == body["decisions"][-1]
    assert api.get(f"/v1/scores/{score_id}").json()["decisions"] == body["decisions"]


def test_admin_decision_is_signed_with_the_admin_key(api: TestClient, settings: Settings) -> None:
    score_id = score_one(api, settings)["score_id"]

    response = api.post(
        f"{QUEUE}/{score_id}", json={"decision": "confirm"}, headers=bearer(settings, "admin")
    )

    assert response.status_code == 201, response.text
    assert response.json()["decision"]["decided_by"].startswith("test-admin-")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "override", "grade": "B"}, "comment"),
        ({"decision": "override", "grade": "B", "comment": "   "}, "comment"),
        ({"decision": "override", "comment": "no grade given"}, "grade"),
        ({"decision": "override", "grade": "E", "comment": "why"}, "grade"),
        ({"decision": "override", "grade": "b", "comment": "why"}, "grade"),
        ({"decision": "confirm", "grade": "A"}, "grade"),
        ({"decision": "approve"}, "decision"),
        ({}, "decision"),
        ({"decision": "confirm", "comment": 5}, "comment"),
        ({"decision": "override", "grade": "A", "comment": "x" * 2001}, "comment"),
        ({"decision": "confirm", "reviewer": "someone else"}, "reviewer"),
    ],
)
def test_bad_decision_is_422_naming_the_field_and_stores_nothing(
    api: TestClient, settings: Settings, body: dict[str, Any], field: str
) -> None:
    score_id = score_one(api, settings)["score_id"]

    response = decide(api, score_id, **body)

    assert error_field(response, 422) == field
    assert api.get(f"/v1/scores/{score_id}").json()["decisions"] == []


def test_decision_on_unknown_score_is_404_naming_score_id(api: TestClient) -> None:
    response = decide(api, "no-such-score", decision="confirm")

    assert error_field(response, 404) == "score_id"


def test_concurrent_decisions_on_one_score_all_survive_in_order(
    api: TestClient, settings: Settings
) -> None:
    score_id = score_one(api, settings)["score_id"]
    comments = [f"reviewer note {i}" for i in range(10)]

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(
            pool.map(lambda c: decide(api, score_id, decision="confirm", comment=c), comments)
        )

    assert [r.status_code for r in responses] == [201] * 10
    # each answer reports its own decision, and all that were stored before it
    for comment, response in zip(comments, responses, strict=True):
        assert response.json()["decision"]["comment"] == comment
        assert response.json()["decisions"][-1]["comment"] == comment
    stored = api.get(f"/v1/scores/{score_id}").json()["decisions"]
    assert sorted(d["comment"] for d in stored) == sorted(comments)
    assert [d["decided_at"] for d in stored] == sorted(d["decided_at"] for d in stored)
    lengths = sorted(len(r.json()["decisions"]) for r in responses)
    assert lengths == list(range(1, 11))


# --- outcomes -----------------------------------------------------------------------------


def record(api: TestClient, **body: Any) -> Any:
    return api.post("/v1/outcomes", json=body)


def test_outcome_links_to_every_score_of_the_lead(api: TestClient, settings: Settings) -> None:
    first = score_one(api, settings, lead_id="OUT-1")
    second = score_one(api, settings, lead_id="OUT-1", rep_visits_90d=4)

    response = record(api, lead_id="OUT-1", converted=True, observed_at="2025-03-01")

    assert response.status_code == 201, response.text
    assert response.json() == {"lead_id": "OUT-1", "matched_scores": 2}
    for result in (first, second):
        [outcome] = api.get(f"/v1/scores/{result['score_id']}").json()["outcomes"]
        assert outcome["converted"] is True
        assert outcome["observed_at"].startswith("2025-03-01T00:00:00")
        assert outcome["recorded_by"].startswith("test-reviewer-")


def test_outcome_accepts_an_integer_lead_id_and_a_datetime(
    api: TestClient, settings: Settings
) -> None:
    score_one(api, settings, lead_id=424242)

    response = record(api, lead_id=424242, converted=False, observed_at="2025-03-01T16:30:00+02:00")

    assert response.status_code == 201, response.text
    assert response.json() == {"lead_id": "424242", "matched_scores": 1}


def test_outcome_for_unknown_or_only_suppressed_lead_is_404_naming_lead_id(
    api: TestClient, settings: Settings
) -> None:
    score(api, settings, [demo_lead(lead_id="OUT-opted-out", do_not_contact=True)])

    for lead_id in ["never-scored", "OUT-opted-out"]:
        response = record(api, lead_id=lead_id, converted=True, observed_at="2025-03-01")
        assert error_field(response, 404) == "lead_id"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"converted": "yes"}, "converted"),
        ({"converted": 1}, "converted"),
        ({"converted": None}, "converted"),
        ({"observed_at": "yesterday"}, "observed_at"),
        ({"observed_at": 20250301}, "observed_at"),
        ({"lead_id": ""}, "lead_id"),
        ({"lead_id": True}, "lead_id"),
        ({"lead_id": 3.5}, "lead_id"),
        ({"lead_id": ["OUT-bad"]}, "lead_id"),
        ({"note": "extra"}, "note"),
    ],
)
def test_bad_outcome_is_422_naming_the_field(
    api: TestClient, settings: Settings, changes: dict[str, Any], field: str
) -> None:
    score_one(api, settings, lead_id="OUT-bad")
    body = {"lead_id": "OUT-bad", "converted": True, "observed_at": "2025-03-01", **changes}

    response = api.post("/v1/outcomes", json=body)

    assert error_field(response, 422) == field


def test_outcome_in_the_future_is_422_naming_observed_at(
    api: TestClient, settings: Settings
) -> None:
    score_one(api, settings, lead_id="OUT-future")
    later = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    soon = (datetime.now(UTC) + timedelta(hours=12)).isoformat()

    refused = record(api, lead_id="OUT-future", converted=True, observed_at=later)
    accepted = record(api, lead_id="OUT-future", converted=True, observed_at=soon)

    assert error_field(refused, 422) == "observed_at"
    assert later in error_of(refused)["message"]
    assert accepted.status_code == 201, accepted.text


def test_no_raw_lead_id_in_any_reviewer_answer(api: TestClient, settings: Settings) -> None:
    result = score_one(api, settings, lead_id="PRIVATE-LEAD-0042")
    record(api, lead_id="PRIVATE-LEAD-0042", converted=False, observed_at="2025-01-02")

    answers = [
        api.get(QUEUE, params={"limit": 200}),
        api.get(f"/v1/scores/{result['score_id']}"),
        decide(api, result["score_id"], decision="confirm"),
        api.get(QUEUE, params={"limit": 200, "status": "decided"}),
        api.get("/v1/reports/errors"),
    ]

    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert "PRIVATE-LEAD-0042" not in json.dumps(answer.json())

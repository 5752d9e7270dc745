"""POST /v1/leads/score: the result shape a CRM integration reads, explanations and batches."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import pytest
from api_support import (
    MODEL_INPUTS,
    REVIEW_CODES,
    SCORE,
    cutoffs_in_force,
    demo_body,
    demo_lead,
    expected_grade,
    leads_from_frame,
)
from fastapi.testclient import TestClient

from candor.models.settings import LEAD_MODEL_NAME
from candor.serving.schemas import ScoreResponse

RESULT_KEYS = {
    "lead_id",
    "score_id",
    "suppressed",
    "score",
    "grade",
    "margin",
    "base_value",
    "reasons",
    "confidence",
    "review",
    "withheld",
    "call_planning_withheld",
    "channels",
}
# what the policy's default widths and margin (models/policy.py) mean for a client
HIGH_WIDTH, MEDIUM_WIDTH, BOUNDARY_MARGIN = 0.10, 0.20, 0.02


def score(api: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(SCORE, json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_sorted_by_effect(reasons: list[dict[str, Any]]) -> None:
    sizes = [abs(r["contribution"]) for r in reasons]
    assert sizes == sorted(sizes, reverse=True), sizes


def test_demo_request_returns_a_complete_result(api: TestClient) -> None:
    body = score(api, demo_body())

    assert body["model"]["name"] == LEAD_MODEL_NAME
    assert isinstance(body["model"]["version"], str) and body["model"]["version"]
    [result] = body["results"]
    assert set(result) == RESULT_KEYS
    assert result["lead_id"] == "L900001"
    assert result["suppressed"] is None
    assert 0.0 <= result["score"] <= 1.0
    assert result["grade"] == expected_grade(result["score"], cutoffs_in_force(api))
    assert math.isfinite(result["margin"]) and math.isfinite(result["base_value"])

    reasons = result["reasons"]
    assert len(reasons) == 5  # the request's top_k, also the default
    for reason in reasons:
        assert set(reason) == {"feature", "value", "contribution", "text"}
        assert reason["feature"] in MODEL_INPUTS
        assert isinstance(reason["text"], str) and reason["text"]
    assert_sorted_by_effect(reasons)

    confidence = result["confidence"]
    assert confidence["level"] in {"high", "medium", "low"}
    lower, upper = confidence["interval"]
    assert lower <= result["score"] <= upper

    review = result["review"]
    assert isinstance(review["required"], bool)
    assert set(review["reasons"]) <= REVIEW_CODES
    assert review["required"] == bool(review["reasons"])


def test_default_top_k_is_five(api: TestClient) -> None:
    body = demo_body()
    del body["top_k"], body["explain"]

    [result] = score(api, body)["results"]

    assert len(result["reasons"]) == 5


def test_top_k_keeps_the_largest_effects(api: TestClient) -> None:
    lead = demo_lead()
    every = score(api, {"leads": [lead], "explain": "all"})["results"][0]["reasons"]
    five = score(api, {"leads": [lead]})["results"][0]["reasons"]
    three = score(api, {"leads": [lead], "top_k": 3})["results"][0]["reasons"]

    assert len(three) == 3
    assert [r["feature"] for r in three] == [r["feature"] for r in five[:3]]
    assert [r["feature"] for r in five] == [r["feature"] for r in every[:5]]
    assert_sorted_by_effect(every)


def test_results_follow_request_order_and_echo_lead_ids(api: TestClient) -> None:
    leads = [
        demo_lead(lead_id="CRM-3"),
        demo_lead(lead_id=12345, rep_visits_90d=4),
        demo_lead(lead_id="CRM-1", webinars_attended_90d=0),
    ]

    results = score(api, {"leads": leads})["results"]

    assert [r["lead_id"] for r in results] == ["CRM-3", "12345", "CRM-1"]
    # different inputs, so a mix-up of rows would show as a score on the wrong lead
    alone = [score(api, {"leads": [lead]})["results"][0]["score"] for lead in leads]
    assert len(set(alone)) == 3
    assert [r["score"] for r in results] == pytest.approx(alone, abs=1e-12)


def test_score_ids_are_unique_within_and_across_calls(api: TestClient) -> None:
    body = {"leads": [demo_lead(), demo_lead(), demo_lead()]}

    ids = [r["score_id"] for _ in range(2) for r in score(api, body)["results"]]

    assert len(ids) == 6
    assert len(set(ids)) == 6
    assert all(isinstance(i, str) and i for i in ids)


def test_explain_all_gives_one_additive_reason_per_input(api: TestClient) -> None:
    [result] = score(api, {"leads": [demo_lead()], "explain": "all"})["results"]

    features = [r["feature"] for r in result["reasons"]]
    assert sorted(features) == sorted(MODEL_INPUTS)
    total = result["base_value"] + sum(r["contribution"] for r in result["reasons"])
    assert total == pytest.approx(result["margin"], abs=1e-6)


def test_reason_texts_are_plain_language(api: TestClient) -> None:
    [result] = score(api, {"leads": [demo_lead()], "explain": "all"})["results"]

    for reason in result["reasons"]:
        text = reason["text"]
        assert reason["feature"] not in text  # a display name, not the column name
        assert "_" not in text
        assert not re.search(r"\b(nan|None|null)\b", text), text
        assert text.endswith("the score"), text  # says how the value moved the score
    by_feature = {r["feature"]: r["text"] for r in result["reasons"]}
    assert by_feature["webinars_attended_90d"].startswith("Attended 3 webinars")


def test_response_does_not_echo_personal_data(api: TestClient) -> None:
    lead = demo_lead(phone="+1-555-0100-4242")

    response = api.post(SCORE, json={"leads": [lead], "explain": "all"})

    assert response.status_code == 200
    for pii in ("full_name", "email", "phone"):
        assert lead[pii] not in response.text


def test_suppressed_result_has_every_documented_key(api: TestClient) -> None:
    """Every result carries the keys of the published LeadResult, null where not applicable.

    A client reading ``result["score"]`` must get null for an opted-out lead, not a KeyError.
    """
    body = score(api, {"leads": [demo_lead(), demo_lead(do_not_contact=True)]})

    scored, suppressed = body["results"]
    assert set(scored) == RESULT_KEYS
    assert set(suppressed) == RESULT_KEYS, f"missing: {sorted(RESULT_KEYS - set(suppressed))}"
    assert ScoreResponse.model_validate(body).model_dump(mode="json") == body


@pytest.fixture(scope="module")
def sample_batch(api: TestClient, sample_frame: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    leads = leads_from_frame(sample_frame, 1000)
    return leads, score(api, {"leads": leads})["results"]


def test_batch_of_1000_sample_leads_is_scored_in_order(
    api: TestClient, sample_batch: tuple
) -> None:
    cutoffs = cutoffs_in_force(api)  # the model's own, chosen from its holdout
    leads, results = sample_batch

    assert len(results) == 1000
    assert [r["lead_id"] for r in results] == [lead["lead_id"] for lead in leads]
    for lead, result in zip(leads, results, strict=True):
        if lead["do_not_contact"]:
            assert result["suppressed"] == "opted_out"
            assert result.get("score") is None
            continue
        assert result["suppressed"] is None
        assert 0.0 <= result["score"] <= 1.0
        assert result["grade"] == expected_grade(result["score"], cutoffs)
        lower, upper = result["confidence"]["interval"]
        assert lower <= result["score"] <= upper
        assert len(result["reasons"]) == 5
    assert sum(r["suppressed"] == "opted_out" for r in results) == sum(
        bool(lead["do_not_contact"]) for lead in leads
    )


def test_batch_review_flags_agree_with_the_published_policy(
    api: TestClient, sample_batch: tuple
) -> None:
    cutoffs = cutoffs_in_force(api)  # the model's own, chosen from its holdout
    _, results = sample_batch

    scored = [r for r in results if r["suppressed"] is None]
    assert len(scored) > 900
    for result in scored:
        review, score_ = result["review"], result["score"]
        lower, upper = result["confidence"]["interval"]
        width = upper - lower
        level = "high" if width <= HIGH_WIDTH else "medium" if width <= MEDIUM_WIDTH else "low"
        assert result["confidence"]["level"] == level
        assert set(review["reasons"]) <= REVIEW_CODES
        assert ("low_confidence" in review["reasons"]) == (level == "low")
        near = any(abs(score_ - cut) < BOUNDARY_MARGIN for cut in cutoffs)
        assert ("near_grade_boundary" in review["reasons"]) == near
        assert ("out_of_distribution" in review["reasons"]) == bool(review["notes"])
        assert review["required"] == bool(review["reasons"])


def test_batch_results_equal_scoring_each_lead_alone(api: TestClient, sample_batch: tuple) -> None:
    leads, results = sample_batch

    for i in (1, 2, 250, 517, 999):
        [alone] = score(api, {"leads": [leads[i]]})["results"]
        in_batch = results[i]
        assert alone["lead_id"] == in_batch["lead_id"]
        assert in_batch["suppressed"] is None  # rows chosen among leads that may be contacted
        assert alone["score"] == pytest.approx(in_batch["score"], abs=1e-12)
        assert alone["grade"] == in_batch["grade"]
        assert [r["feature"] for r in alone["reasons"]] == [
            r["feature"] for r in in_batch["reasons"]
        ]

"""Human-review flags over HTTP: the stable codes a CRM routes leads to a reviewer by."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from api_support import SCORE, demo_lead, expected_grade, leads_from_frame, serve, with_policy
from fastapi.testclient import TestClient

from candor.models.settings import Settings


def score_one(api: TestClient, lead: dict[str, Any], **options: Any) -> dict[str, Any]:
    response = api.post(SCORE, json={"leads": [lead], **options})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    return result  # type: ignore[no-any-return]


def test_typical_lead_is_not_out_of_distribution(api: TestClient) -> None:
    review = score_one(api, demo_lead())["review"]

    assert "out_of_distribution" not in review["reasons"]
    assert review["notes"] == []


def test_unseen_specialty_is_out_of_distribution_and_shown_by_a_keyed_label(
    api: TestClient, trained_settings: Settings
) -> None:
    result = score_one(api, demo_lead(specialty="Veterinary"), explain="all")
    again = score_one(api, demo_lead(specialty="Veterinary"), explain="all")
    other = score_one(api, demo_lead(specialty="someone@example.org"), explain="all")

    review = result["review"]
    assert review["required"] is True
    assert "out_of_distribution" in review["reasons"]
    assert any("specialty" in note and "unseen:" in note for note in review["notes"])
    [reason] = [r for r in result["reasons"] if r["feature"] == "specialty"]
    assert reason["value"].startswith("unseen:")
    assert "not seen in training" in reason["text"]
    # the same value gets the same label, another value another; neither is ever shown
    [reason_again] = [r for r in again["reasons"] if r["feature"] == "specialty"]
    [reason_other] = [r for r in other["reasons"] if r["feature"] == "specialty"]
    assert reason_again["value"] == reason["value"] != reason_other["value"]
    assert "Veterinary" not in str(result) and "example.org" not in str(other)
    with serve(trained_settings, role="reviewer") as reviewer:
        record = reviewer.get(f"/v1/scores/{other['score_id']}").json()
    assert "example.org" not in str(record)
    [stored] = [c for c in record["contributions"] if c["feature"] == "specialty"]
    assert stored["value"] == reason_other["value"]


def test_lead_with_almost_every_field_missing_is_out_of_distribution(api: TestClient) -> None:
    # one consent is all it gives: missing consents count as not given, so without it the lead
    # is suppressed rather than scored
    review = score_one(api, {"lead_id": "sparse-1", "region": "West", "consent_phone": True})[
        "review"
    ]

    assert review["required"] is True
    assert "out_of_distribution" in review["reasons"]
    assert any("missing" in note for note in review["notes"])


def test_lead_without_any_consent_field_is_suppressed_not_scored(api: TestClient) -> None:
    result = score_one(api, {"lead_id": "sparse-2", "region": "West"})

    assert result["suppressed"] == "opted_out"
    assert result["review"] is None


def test_value_far_outside_training_range_is_out_of_distribution(api: TestClient) -> None:
    review = score_one(api, demo_lead(rep_visits_90d=500))["review"]

    assert review["required"] is True
    assert "out_of_distribution" in review["reasons"]
    assert any("rep_visits_90d" in note and "500" in note for note in review["notes"])


@pytest.mark.parametrize("share", [1.0, 0.0])
def test_random_audit_share_from_settings(
    trained_settings: Settings, sample_frame: pd.DataFrame, share: float
) -> None:
    leads = leads_from_frame(sample_frame, 60)
    with serve(with_policy(trained_settings, random_audit_share=share)) as api:
        response = api.post(SCORE, json={"leads": leads})

    assert response.status_code == 200, response.text
    scored = [r for r in response.json()["results"] if r["suppressed"] is None]
    assert len(scored) > 40
    audited = ["random_audit" in r["review"]["reasons"] for r in scored]
    if share == 1.0:
        assert all(audited)
        assert all(r["review"]["required"] is True for r in scored)
    else:
        assert not any(audited)


def test_score_near_a_configured_cutoff_is_flagged(
    trained_settings: Settings, api: TestClient
) -> None:
    lead = demo_lead()
    known = score_one(api, lead)["score"]
    assert 0.1 < known < 0.95, "the demo lead's score leaves no room for the cut-offs below"
    cutoffs = (known + 0.01, known / 2, known / 4)  # only the first is within 0.02 of the score

    with serve(with_policy(trained_settings, grade_cutoffs=cutoffs)) as custom:
        result = score_one(custom, lead)

    assert result["score"] == pytest.approx(known, abs=1e-12)
    assert "near_grade_boundary" in result["review"]["reasons"]
    assert result["review"]["required"] is True
    assert result["grade"] == expected_grade(known, cutoffs) == "B"
    far = (0.999, 0.998, 0.997)  # every cut-off well away from the score
    with serve(with_policy(trained_settings, grade_cutoffs=far)) as custom:
        assert "near_grade_boundary" not in score_one(custom, lead)["review"]["reasons"]

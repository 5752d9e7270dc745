"""Consent and suppression over HTTP: opted-out leads are not scored, unconsented data unused."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import SCORE, demo_lead
from fastapi.testclient import TestClient

SENSITIVE = ("prescribing_decile", "patient_volume_band")


def score_all(api: TestClient, leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = api.post(SCORE, json={"leads": leads, "explain": "all"})
    assert response.status_code == 200, response.text
    return response.json()["results"]  # type: ignore[no-any-return]


def test_do_not_contact_lead_is_suppressed_not_scored(api: TestClient) -> None:
    results = score_all(api, [demo_lead(lead_id="a"), demo_lead(lead_id="b", do_not_contact=True)])

    scored, opted_out = results
    assert scored["suppressed"] is None and scored["score"] is not None
    assert opted_out["lead_id"] == "b"
    assert opted_out["suppressed"] == "opted_out"
    assert opted_out.get("score") is None
    assert opted_out.get("grade") is None
    assert opted_out["reasons"] == []


def test_batch_of_only_opted_out_leads_is_answered(api: TestClient) -> None:
    [result] = score_all(api, [demo_lead(do_not_contact=True)])

    assert result["suppressed"] == "opted_out"
    assert result.get("score") is None


@pytest.mark.parametrize("consent", [False, None], ids=["refused", "not_recorded"])
def test_health_derived_fields_are_withheld_without_consent(
    api: TestClient, consent: bool | None
) -> None:
    lead = demo_lead(data_use_consent=consent, prescribing_decile=9, patient_volume_band="High")

    [result] = score_all(api, [lead])

    assert result["score"] is not None
    assert sorted(result["withheld"]) == sorted(SENSITIVE)
    for reason in result["reasons"]:
        if reason["feature"] in SENSITIVE:
            assert reason["value"] is None
            assert "withheld" in reason["text"]
            assert "9" not in reason["text"] and "High" not in reason["text"]


def test_only_the_given_sensitive_field_is_listed_as_withheld(api: TestClient) -> None:
    [result] = score_all(
        api, [demo_lead(data_use_consent=False, prescribing_decile=4, patient_volume_band=None)]
    )

    assert result["withheld"] == ["prescribing_decile"]


def test_consenting_lead_uses_its_sensitive_fields(api: TestClient) -> None:
    [result] = score_all(api, [demo_lead(data_use_consent=True, prescribing_decile=9)])

    assert result["withheld"] == []
    [decile] = [r for r in result["reasons"] if r["feature"] == "prescribing_decile"]
    assert decile["value"] == 9


def test_withheld_values_do_not_move_the_score(api: TestClient) -> None:
    leads = [
        demo_lead(data_use_consent=False, prescribing_decile=decile, patient_volume_band=band)
        for decile, band in [(1, "Low"), (10, "High"), (None, None)]
    ]

    scores = [r["score"] for r in score_all(api, leads)]

    assert scores[0] == scores[1] == scores[2]


def test_protected_attributes_do_not_move_the_score(api: TestClient) -> None:
    leads = [
        demo_lead(gender="Female", age_band="25-34"),
        demo_lead(gender="Male", age_band="65+"),
        demo_lead(gender=None, age_band=None),
    ]

    results = score_all(api, leads)

    assert results[0]["score"] == results[1]["score"] == results[2]["score"]
    for result in results:
        assert {r["feature"] for r in result["reasons"]}.isdisjoint({"gender", "age_band"})

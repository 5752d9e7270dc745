"""GET /v1/reports/errors on real scores and the sample's true outcomes.

200 sample leads are scored into this module's own audit database with a quarter of scores sent
to random audit, and their true outcomes (the sample's ``converted``) are recorded over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from api_support import SCORE, leads_from_frame, serve, with_overrides, with_policy
from auth_support import bearer
from fastapi.testclient import TestClient

from candor.models.policy import GRADES, ReviewCode
from candor.models.settings import Settings

REPORT = "/v1/reports/errors"
N_LEADS = 200
AUDIT_SHARE = 0.25


@pytest.fixture(scope="module")
def settings(trained_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    audit_db = tmp_path_factory.mktemp("error_report") / "audit.db"
    isolated = with_overrides(trained_settings, database_url=f"sqlite:///{audit_db}")
    return with_policy(isolated, random_audit_share=AUDIT_SHARE)


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    with serve(settings, role="reviewer") as client:
        yield client


@pytest.fixture(scope="module")
def empty_report(api: TestClient) -> dict[str, Any]:
    """The report before anything was scored (module fixtures run in this order)."""
    response = api.get(REPORT)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def scored(
    api: TestClient, settings: Settings, sample_frame: pd.DataFrame, empty_report: Any
) -> list[dict[str, Any]]:
    """Scored (not suppressed) results, each with the lead's true outcome as ``converted``."""
    leads = leads_from_frame(sample_frame, N_LEADS)
    response = api.post(SCORE, json={"leads": leads}, headers=bearer(settings, "scorer"))
    assert response.status_code == 200, response.text
    truth = dict(zip(sample_frame["lead_id"], sample_frame["converted"].astype(bool), strict=True))
    results = [r for r in response.json()["results"] if r["suppressed"] is None]
    for result in results:
        result["converted"] = bool(truth[result["lead_id"]])
        outcome = {
            "lead_id": result["lead_id"],
            "converted": result["converted"],
            "observed_at": "2025-06-30",
        }
        recorded = api.post("/v1/outcomes", json=outcome)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["matched_scores"] == 1
    return results


def report(api: TestClient) -> dict[str, Any]:
    response = api.get(REPORT)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def is_error(grade: str, converted: bool) -> bool:
    return (grade in ("A", "B")) != converted


def test_empty_store_gives_zero_counts_and_null_rates(empty_report: dict[str, Any]) -> None:
    assert empty_report["n_outcomes"] == 0
    assert empty_report["overall"]["count"] == 0
    assert empty_report["overall"]["error_rate"] is None
    assert empty_report["overall"]["error_rate_ci"] is None
    assert all(g["count"] == 0 for g in empty_report["by_grade"].values())
    assert empty_report["random_audit"]["conversion_rate"] is None


def test_counts_add_up(api: TestClient, scored: list[dict[str, Any]]) -> None:
    body = report(api)

    assert len(scored) > 100  # opted-out leads are not scored and have no outcome here
    assert body["n_outcomes"] == body["overall"]["count"] == len(scored)
    assert sum(g["count"] for g in body["by_grade"].values()) == len(scored)
    for grade in GRADES:
        assert body["by_grade"][grade]["count"] == sum(r["grade"] == grade for r in scored)
    by_reason = body["by_review_reason"]
    for code in ReviewCode:
        expected = sum(str(code) in r["review"]["reasons"] for r in scored)
        assert by_reason[str(code)]["count"] == expected
    assert by_reason["none"]["count"] == sum(not r["review"]["reasons"] for r in scored)


def test_rates_match_the_scores_and_true_outcomes(
    api: TestClient, scored: list[dict[str, Any]]
) -> None:
    overall = report(api)["overall"]
    n = len(scored)

    conversion = sum(r["converted"] for r in scored) / n
    mean_score = sum(r["score"] for r in scored) / n
    errors = sum(is_error(r["grade"], r["converted"]) for r in scored) / n
    assert overall["conversion_rate"] == pytest.approx(conversion)
    assert overall["mean_score"] == pytest.approx(mean_score)
    assert overall["calibration_gap"] == pytest.approx(mean_score - conversion)
    assert overall["error_rate"] == pytest.approx(errors)
    low, high = overall["error_rate_ci"]
    assert low < errors < high
    assert overall["error_rate_after_review"] == overall["error_rate"]  # nothing overridden yet


def test_conversion_rises_from_grade_d_to_grade_a(
    api: TestClient, scored: list[dict[str, Any]]
) -> None:
    by_grade = report(api)["by_grade"]

    rates = [by_grade[g]["conversion_rate"] for g in reversed(GRADES)]  # D, C, B, A
    assert all(rate is not None for rate in rates), by_grade
    assert rates == sorted(rates), rates
    assert rates[-1] - rates[0] > 0.3


def test_random_audit_group_is_exactly_the_flagged_records(
    api: TestClient, scored: list[dict[str, Any]]
) -> None:
    body = report(api)

    flagged = [r for r in scored if "random_audit" in r["review"]["reasons"]]
    assert 0 < len(flagged) < len(scored)
    assert body["random_audit"]["count"] == len(flagged)
    assert body["random_audit"] == body["by_review_reason"]["random_audit"]
    errors = sum(is_error(r["grade"], r["converted"]) for r in flagged)
    assert body["random_audit"]["error_rate"] == pytest.approx(errors / len(flagged))
    # a sample of about 50 leaves a wide interval: the report says so
    low, high = body["random_audit"]["error_rate_ci"]
    assert high - low > 0.1


def test_override_changes_only_the_error_rate_after_review_of_its_group(
    api: TestClient, scored: list[dict[str, Any]]
) -> None:
    before = report(api)
    wrong = next(r for r in scored if r["grade"] == "A" and not r["converted"])

    response = api.post(
        f"/v1/reviews/{wrong['score_id']}",
        json={"decision": "override", "grade": "D", "comment": "the practice has closed"},
    )
    assert response.status_code == 201, response.text
    after = report(api)

    for group in (["by_grade", "A"], ["overall"]):
        old, new = before, after
        for key in group:
            old, new = old[key], new[key]
        assert new["error_rate"] == old["error_rate"]  # the model's grade was still wrong
        assert new["error_rate_after_review"] == pytest.approx(
            old["error_rate_after_review"] - 1 / old["count"]
        )
    assert after["by_grade"]["B"] == before["by_grade"]["B"]
    assert after["by_grade"]["D"] == before["by_grade"]["D"]  # grouped by the model's grade


def test_report_defines_an_error(api: TestClient) -> None:
    definition = report(api)["definition"]

    assert "A or B" in definition["error"] and "did not convert" in definition["error"]
    assert "unbiased" in definition["random_audit"]

"""A real export's contract end to end: trained with no id column, a banded age in years, a flag
with a missing token, a sentinel and a yes/no target, then served: the numbers the training file
held are accepted, the sentinel is said in words, and grades follow the model's own cut-offs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from api_support import SCORE, expected_grade, serve, with_policy
from fastapi.testclient import TestClient
from settings_support import make_settings

from candor.models.settings import Settings
from candor.training.pipeline import TrainingSummary, train_leads

pytestmark = pytest.mark.slow

CONTRACT = {
    "name": "telemarketing",
    "version": "1",
    "fields": {
        "age": {"role": "protected", "kind": "numeric", "bins": [30, 40, 50, 60]},
        "store": {"role": "feature", "kind": "categorical", "audit_segment": True},
        "language": {"role": "protected"},  # no kind: text in this file, a number in another
        "prior_customer": {"role": "feature", "kind": "boolean", "missing_tokens": ["unknown"]},
        "days_since_previous": {
            "role": "feature",
            "kind": "numeric",
            "phrase": "Last contacted {value} days ago",
            "sentinels": [
                {"value": 999, "meaning": "never contacted", "phrase": "Never contacted before"}
            ],
        },
        "calls_this_campaign": {"role": "feature", "kind": "numeric"},
        "balance": {"role": "feature", "kind": "numeric"},
        "subscribed": {"role": "target"},
    },
}


def telemarketing_export(rows: int = 3000, seed: int = 4) -> pd.DataFrame:
    """Leads of a campaign, with no id; ``subscribed`` as yes/no; 999 = never contacted."""
    rng = np.random.default_rng(seed)
    never = rng.random(rows) < 0.6
    days = np.where(never, 999, rng.integers(1, 60, rows))
    prior = rng.choice(["yes", "no", "unknown"], rows, p=[0.3, 0.5, 0.2])
    calls = rng.integers(1, 8, rows)
    balance = np.round(rng.lognormal(7, 1, rows), 2)
    logit = (
        -1.2 + 1.1 * (~never) + 0.8 * (prior == "yes") - 0.25 * calls + 0.2 * np.log(balance / 1000)
    )
    subscribed = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "age": rng.integers(20, 80, rows),
            "language": rng.choice(["en", "fr"], rows),
            "store": rng.choice(["1", "2", "3"], rows),
            "prior_customer": prior,
            "days_since_previous": days,
            "calls_this_campaign": calls,
            "balance": balance,
            "subscribed": np.where(subscribed, "yes", "no"),
        }
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, TrainingSummary, str]:
    folder = tmp_path_factory.mktemp("telemarketing")
    contract_path = folder / "contract.yaml"
    contract_path.write_text(yaml.safe_dump(CONTRACT, sort_keys=False))
    data_path = folder / "campaign.csv"
    telemarketing_export().to_csv(data_path, index=False)
    settings = make_settings(folder / "home")
    said: list[str] = []
    summary = train_leads(
        data=data_path, settings=settings, contract_path=contract_path, show=said.append
    )
    return settings, summary, "\n".join(said)


@pytest.fixture(scope="module")
def api(trained: tuple[Settings, TrainingSummary, str]) -> Iterator[TestClient]:
    with serve(trained[0]) as client:
        yield client


def lead(**values: Any) -> dict[str, Any]:
    base = {
        "lead_id": "call-1",
        "age": 28,
        "language": "en",
        "store": "1",
        "prior_customer": True,
        "days_since_previous": 999,
        "calls_this_campaign": 2,
        "balance": 1200.5,
    }
    return {**base, **values}


def test_the_export_trains_with_no_id_and_says_how_it_read_the_target(
    trained: tuple[Settings, TrainingSummary, str],
) -> None:
    _, summary, said = trained
    assert summary.gate.promoted, summary.gate.reason
    assert "target 'subscribed': 'yes' = converted (1), 'no' = not (0)" in said
    assert "grade cut-offs chosen on the holdout" in said


def test_the_audit_compares_age_bands_not_every_age(
    trained: tuple[Settings, TrainingSummary, str],
) -> None:
    _, summary, _ = trained
    assert summary.fairness is not None
    age = summary.fairness["age"]
    assert len(age.groups) == 5  # under 30, 30-39, 40-49, 50-59, 60 and over; not 60 ages


def test_numbers_are_accepted_where_the_training_file_had_numbers(api: TestClient) -> None:
    response = api.post(SCORE, json={"leads": [lead(), lead(lead_id="call-2", age=61.0)]})
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["lead_id"] == "call-1" and second["lead_id"] == "call-2"
    assert 0.0 <= first["score"] <= 1.0


def test_a_protected_label_may_come_as_text_or_as_a_number(api: TestClient) -> None:
    leads = [lead(lead_id="a", language="fr"), lead(lead_id="b", language=7)]
    response = api.post(SCORE, json={"leads": leads})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("field", ["age", "language"])
def test_a_protected_value_of_the_wrong_type_is_named_not_echoed(
    api: TestClient, field: str
) -> None:
    for bad in ({"years": 28}, True, ["x"]):
        response = api.post(SCORE, json={"leads": [lead(**{field: bad})]})
        assert response.status_code == 422, response.text
        [detail] = response.json()["error"]["details"]
        assert detail["field"] == field  # the field, never a branch of its type
        assert "years" not in response.text
    body = '{"leads": [{"lead_id": "x", "' + field + '": NaN}]}'
    response = api.post(SCORE, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field


def test_a_declared_missing_token_of_a_flag_reads_as_not_recorded(api: TestClient) -> None:
    response = api.post(SCORE, json={"leads": [lead(prior_customer="unknown")], "top_k": None})
    assert response.status_code == 200, response.text
    texts = {r["feature"]: r["text"] for r in response.json()["results"][0]["reasons"]}
    assert texts["prior_customer"].startswith("Prior customer is not recorded")
    refused = api.post(SCORE, json={"leads": [lead(prior_customer="maybe")]})
    assert refused.status_code == 422 and "maybe" not in refused.text


def test_the_sentinel_is_said_in_words_and_unknown_flags_are_missing(api: TestClient) -> None:
    body = {"leads": [lead(prior_customer=None)], "top_k": None}
    response = api.post(SCORE, json=body)
    assert response.status_code == 200, response.text
    texts = {r["feature"]: r["text"] for r in response.json()["results"][0]["reasons"]}
    assert texts["days_since_previous"].startswith("Never contacted before")
    assert "999" not in texts["days_since_previous"]
    assert texts["prior_customer"].startswith("Prior customer is not recorded")


def test_grades_follow_the_models_cutoffs_unless_settings_fix_them(
    trained: tuple[Settings, TrainingSummary, str], api: TestClient
) -> None:
    settings = trained[0]
    card = api.get(f"/v1/models/{settings.lead_model_name}/card").json()
    grades = card["grades"]
    assert grades["source"].startswith("the model")
    chosen = tuple(grades["in_force"])
    assert chosen == tuple(grades["chosen_at_training"]["cutoffs"])
    leads = [
        lead(lead_id=f"c{i}", calls_this_campaign=i % 7 + 1, balance=100.0 * (i + 1))
        for i in range(40)
    ]
    results = api.post(SCORE, json={"leads": leads}).json()["results"]
    assert all(r["grade"] == expected_grade(r["score"], chosen) for r in results)
    assert {r["grade"] for r in results} != {"D"}  # grades say something at this base rate

    fixed = (0.9, 0.8, 0.7)
    with serve(with_policy(settings, grade_cutoffs=fixed)) as custom:
        card = custom.get(f"/v1/models/{settings.lead_model_name}/card").json()
        assert tuple(card["grades"]["in_force"]) == fixed
        assert "settings" in card["grades"]["source"]
        results = custom.post(SCORE, json={"leads": leads}).json()["results"]
    assert all(r["grade"] == expected_grade(r["score"], fixed) for r in results)


def test_the_card_page_shows_the_grades(
    api: TestClient, trained: tuple[Settings, TrainingSummary, str]
) -> None:
    page = api.get(f"/v1/models/{trained[0].lead_model_name}/card", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "<h2>Grades</h2>" in page.text and "converted on the holdout" in page.text

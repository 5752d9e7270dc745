"""Transparency: a disclosure on every scoring response, and a model card from MLflow."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import SCORE, demo_body, serve
from fastapi.testclient import TestClient

from candor.models.settings import Settings
from candor.models.transparency import DISCLOSURE_TEXT

SAMPLE = Path(__file__).resolve().parents[2] / "data_samples" / "hcp_leads.csv"
CARD = "/v1/models/candor-lead-scorer/card"


@pytest.fixture(scope="module")
def api(trained_settings: Settings) -> Iterator[TestClient]:
    with serve(trained_settings) as client:
        yield client


def test_every_scoring_response_carries_the_disclosure_and_a_card_link(api: TestClient) -> None:
    body = api.post(SCORE, json=demo_body()).json()
    assert body["disclosure"]["text"] == DISCLOSURE_TEXT
    assert "advisory" in body["disclosure"]["text"]
    assert body["disclosure"]["model_card"] == CARD
    # the link is live, and public: transparency needs no key
    key = api.headers.pop("Authorization")
    try:
        assert api.get(body["disclosure"]["model_card"]).status_code == 200
    finally:
        api.headers["Authorization"] = key


def test_model_card_json_is_rendered_from_the_registered_run(
    api: TestClient, trained_settings: Settings
) -> None:
    card = api.get(CARD).json()
    assert card["name"] == "candor-lead-scorer"
    assert card["status"] == "champion"
    assert card["intended_use"] and card["out_of_scope"] and card["limitations"]
    assert any("patient" in use for use in card["out_of_scope"])
    assert card["data"]["sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert card["data"]["contract"].startswith("hcp-leads@")
    assert 0.7 < card["metrics"]["roc_auc"] < 0.95
    assert card["owner"] == trained_settings.model_owner
    [first] = [v for v in card["version_history"] if v["version"] == card["version"]]
    assert first["promoted_by_gate"] == "True"
    assert "first model" in first["gate_reason"]
    assert card["global_importance"]["mean_abs_shap_log_odds"]
    # how explanations are computed: the exact kernel's tables, not the fallback
    assert card["model"]["explanations"].startswith("exact path-dependent TreeSHAP")


def test_model_card_html_is_a_readable_escaped_page(api: TestClient) -> None:
    page = api.get(CARD, params={"format": "html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for section in (
        "Intended use",
        "Out of scope",
        "Metrics",
        "Fairness",
        "Limitations",
        "Version history",
        "Model",
    ):
        assert f"<h2>{section}" in page.text
    assert DISCLOSURE_TEXT.split(":")[0] in page.text
    by_accept = api.get(CARD, headers={"Accept": "text/html"})
    assert by_accept.text.startswith("<!doctype html>")


def test_model_card_shows_the_last_fairness_audit(api: TestClient) -> None:
    card = api.get(CARD).json()
    fairness = card["fairness"]
    assert fairness["gate"]["passed"] is True
    assert set(fairness["attributes"]) >= {"gender", "age_band", "territory_type", "region"}
    territory = fairness["attributes"]["territory_type"]
    assert territory["disparate_impact_ratio"]["disadvantaged"] == "rural"
    [this] = [v for v in card["version_history"] if v["version"] == card["version"]]
    assert this["fairness_passed"] == "True"
    page = api.get(CARD, params={"format": "html"}).text
    section = page.split("<h2>Fairness (last audit)</h2>")[1].split("<h2>")[0]
    assert "Gate passed" in section
    assert "<td>rural</td>" in section and "<td>territory_type</td>" in section
    assert "rural vs" in section  # the disparity names the disadvantaged group


def test_unknown_model_card_is_404_naming_it(api: TestClient) -> None:
    response = api.get("/v1/models/no-such-model/card")
    assert response.status_code == 404
    assert "no-such-model" in response.json()["error"]["message"]

"""Health, model metadata, OpenAPI, and what the service says when it has no model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from api_support import SCORE, demo_body, error_of, serve, with_overrides
from fastapi.testclient import TestClient

from candor.models.contract import HCP_LEADS
from candor.models.settings import LEAD_MODEL_NAME, Settings


def test_healthz_is_ok_and_names_the_model(api: TestClient) -> None:
    response = api.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["model"]["name"] == LEAD_MODEL_NAME
    assert body["model"]["version"]


def test_current_model_describes_itself(api: TestClient) -> None:
    response = api.get("/v1/models/current")

    assert response.status_code == 200
    info = response.json()
    assert info["name"] == LEAD_MODEL_NAME
    assert info["version"]
    assert 0.5 < info["metrics"]["roc_auc"] <= 1.0
    assert datetime.fromisoformat(info["trained_at"]).tzinfo is not None
    roles = {f["name"]: f["role"] for f in info["contract"]["fields"]}
    assert set(roles) == set(HCP_LEADS.names)
    assert {name for name, role in roles.items() if role == "pii"} == {
        "full_name",
        "email",
        "phone",
    }
    # what a score response names is the model described here
    scored = api.post(SCORE, json=demo_body()).json()["model"]
    assert (scored["name"], scored["version"]) == (info["name"], info["version"])
    assert scored["run_id"] == info["run_id"]


def test_openapi_publishes_the_contracts_lead_schema(api: TestClient) -> None:
    response = api.get("/openapi.json")

    assert response.status_code == 200
    schemas = response.json()["components"]["schemas"]
    lead_in = schemas["LeadIn"]
    assert set(lead_in["properties"]) == {f.name for f in HCP_LEADS.request_fields}
    assert lead_in["required"] == ["lead_id"]
    assert lead_in.get("additionalProperties") is False
    leads = schemas["ScoreRequest"]["properties"]["leads"]
    assert leads["items"] == {"$ref": "#/components/schemas/LeadIn"}


def test_docs_page_is_served(api: TestClient) -> None:
    response = api.get("/docs")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


@pytest.fixture()
def no_model(trained_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with serve(with_overrides(trained_settings, home=tmp_path / "empty_home")) as client:
        yield client


def test_without_a_model_health_is_degraded_and_scoring_is_503(no_model: TestClient) -> None:
    health = no_model.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["model"] is None

    response = no_model.post(SCORE, json=demo_body())
    assert response.status_code == 503
    assert error_of(response)["code"] == "model_unavailable"

    current = no_model.get("/v1/models/current")
    assert current.status_code == 503
    assert error_of(current)["code"] == "model_unavailable"

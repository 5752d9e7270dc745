"""Helpers shared by the HTTP API tests: an app client under given settings, request bodies.

A module, so that tests import these by name; the fixtures live in this folder's conftest.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from auth_support import bearer
from fastapi.testclient import TestClient

from candor.models.contract import HCP_LEADS
from candor.models.policy import ReviewCode
from candor.models.settings import LEAD_MODEL_NAME as HCP_MODEL
from candor.models.settings import Settings, get_settings
from candor.serving.app import create_app

REPO = Path(__file__).resolve().parents[2]
DEMO_REQUEST = REPO / "data_samples" / "demo_request.json"
SCORE = "/v1/leads/score"

MODEL_INPUTS = [f.name for f in HCP_LEADS.model_inputs]
REVIEW_CODES = {str(code) for code in ReviewCode}


@contextmanager
def serve(
    settings: Settings, *, raise_server_exceptions: bool = True, role: str = "scorer"
) -> Iterator[TestClient]:
    """A test client of a fresh app whose settings (and so scoring policy) are ``settings``,
    sending the API key of ``role``."""
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app, raise_server_exceptions=raise_server_exceptions) as client:
        client.headers.update(bearer(settings, role))
        yield client


def with_overrides(settings: Settings, **overrides: Any) -> Settings:
    """The session's settings with some fields replaced (same home, same champion)."""
    return settings.model_copy(update=overrides)


def with_policy(settings: Settings, **changes: Any) -> Settings:
    """The session's settings with some scoring-policy thresholds replaced."""
    return settings.model_copy(update={"policy": dataclasses.replace(settings.policy, **changes)})


def demo_body() -> dict[str, Any]:
    """A fresh copy of data_samples/demo_request.json."""
    return copy.deepcopy(json.loads(DEMO_REQUEST.read_text()))


def demo_lead(**changes: Any) -> dict[str, Any]:
    """The demo request's lead with some fields changed."""
    return {**demo_body()["leads"][0], **changes}


def leads_from_frame(frame: pd.DataFrame, n: int) -> list[dict[str, Any]]:
    """The first ``n`` sample rows as JSON leads: no target, NaN sent as null."""
    rows = frame.head(n).drop(columns=[HCP_LEADS.target_field.name])
    return json.loads(rows.to_json(orient="records"))  # type: ignore[no-any-return]


def cutoffs_in_force(client: TestClient) -> tuple[float, float, float]:
    """The champion's grade cut-offs in force, as its public model card states them."""
    response = client.get(f"/v1/models/{HCP_MODEL}/card")
    assert response.status_code == 200, response.text
    a, b, c = response.json()["grades"]["in_force"]
    return (a, b, c)


def expected_grade(score: float, cutoffs: tuple[float, float, float]) -> str:
    for letter, cut in zip("ABC", cutoffs, strict=True):
        if score >= cut:
            return letter
    return "D"


def error_of(response: Any) -> dict[str, Any]:
    """The ``error`` object of an error response, after checking the envelope's shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    return error  # type: ignore[no-any-return]

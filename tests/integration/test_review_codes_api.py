"""GET /v1/reviews/codes: the review codes and their words, for reviewers and admins only.

The reviewer page shows these and keeps no list of its own, so every code the policy can raise
must be here, with the kind of record it flags, in the policy's order.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import error_of, serve
from auth_support import bearer
from fastapi.testclient import TestClient
from settings_support import make_settings

from candor.models.policy import ForecastReviewCode, ReviewCode
from candor.models.settings import Settings

CODES = "/v1/reviews/codes"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """No model is needed: the codes come from the policy, not from a served model."""
    return make_settings(tmp_path_factory.mktemp("review_codes") / "home")


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    with serve(settings, role="reviewer") as client:
        yield client


def test_every_policy_code_is_listed_once_with_its_kind_in_the_policys_order(
    api: TestClient,
) -> None:
    response = api.get(CODES)

    assert response.status_code == 200, response.text
    listed = [(entry["code"], entry["kind"]) for entry in response.json()]
    assert listed == [(str(code), "score") for code in ReviewCode] + [
        (str(code), "forecast") for code in ForecastReviewCode
    ]


def test_each_code_has_its_words(api: TestClient) -> None:
    entries = {entry["code"]: entry for entry in api.get(CODES).json()}

    for entry in entries.values():
        assert set(entry) == {"code", "kind", "label", "short_label", "description"}
        assert all(isinstance(entry[k], str) and entry[k].strip() for k in entry), entry
    assert entries["out_of_distribution"]["label"] == "Unusual inputs (out of distribution)"
    assert entries["out_of_distribution"]["short_label"] == "Unusual inputs"
    assert "80% interval" in entries["wide_interval"]["description"]


def test_every_listed_code_filters_the_queue_of_its_kind(api: TestClient) -> None:
    for entry in api.get(CODES).json():
        queue = api.get("/v1/reviews", params={"kind": entry["kind"], "reason": entry["code"]})

        assert queue.status_code == 200, queue.text


def test_an_admin_may_read_the_codes(api: TestClient, settings: Settings) -> None:
    response = api.get(CODES, headers=bearer(settings, "admin"))

    assert response.status_code == 200, response.text


def test_a_scorer_key_is_refused_naming_the_roles_it_needs(
    api: TestClient, settings: Settings
) -> None:
    response = api.get(CODES, headers=bearer(settings, "scorer"))

    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "forbidden"
    assert "reviewer" in error["message"]


def test_no_key_is_refused(api: TestClient) -> None:
    request = api.build_request("GET", CODES)
    del request.headers["Authorization"]
    response = api.send(request)

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_the_route_is_documented_in_openapi(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]

    assert "get" in paths[CODES]

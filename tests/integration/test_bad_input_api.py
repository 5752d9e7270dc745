"""Bad requests get a 4xx (never a 500) whose JSON error names the lead and the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from api_support import SCORE, demo_lead, error_of, serve
from fastapi.testclient import TestClient

from candor.models.settings import Settings

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def api(trained_settings: Settings) -> Iterator[TestClient]:
    # a server error must come back as a response to assert on, not as a raised exception
    with serve(trained_settings, raise_server_exceptions=False) as client:
        yield client


def detail_for(error: dict[str, Any], field: str) -> dict[str, Any]:
    found = [d for d in error["details"] if d.get("field") == field]
    assert found, f"no detail names field {field!r}: {error}"
    return found[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("webinars_attended_90d", "3"),
        ("specialty", 3),
        ("do_not_contact", "yes"),
        ("data_use_consent", 1),
        ("practice_size", True),
    ],
)
def test_wrong_type_names_lead_field_and_kind_not_value(
    api: TestClient, field: str, value: Any
) -> None:
    leads = [demo_lead(lead_id="ok"), demo_lead(lead_id="bad", **{field: value})]

    response = api.post(SCORE, json={"leads": leads})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "input_invalid"
    detail = detail_for(error, field)
    assert detail["lead_index"] == 1
    # what kind of value came, never the value: a field may hold a lead's personal data
    kind = {str: "a string", int: "a number", bool: "a boolean"}[type(value)]
    assert f"got {kind}" in detail["message"]
    if isinstance(value, str):
        assert repr(value) not in response.text
    assert "lead 1" in error["message"] and field in error["message"]


def test_unknown_field_on_lead_2_is_refused_by_name(api: TestClient) -> None:
    leads = [demo_lead(), demo_lead(), demo_lead(favourite_colour="teal")]

    response = api.post(SCORE, json={"leads": leads})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "input_invalid"
    assert detail_for(error, "favourite_colour")["lead_index"] == 2
    assert "lead 2" in error["message"] and "favourite_colour" in error["message"]


def test_target_column_is_not_accepted_as_input(api: TestClient) -> None:
    response = api.post(SCORE, json={"leads": [demo_lead(converted=1)]})

    assert response.status_code == 422
    assert detail_for(error_of(response), "converted")["lead_index"] == 0


def test_missing_lead_id_is_refused(api: TestClient) -> None:
    lead = demo_lead()
    del lead["lead_id"]

    response = api.post(SCORE, json={"leads": [demo_lead(), lead]})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "input_invalid"
    assert detail_for(error, "lead_id")["lead_index"] == 1


def test_lead_that_is_not_an_object_is_refused(api: TestClient) -> None:
    response = api.post(SCORE, json={"leads": [demo_lead(), "L900002"]})

    assert response.status_code == 422
    error = error_of(response)
    assert [d.get("lead_index") for d in error["details"]] == [1]


@pytest.mark.parametrize("count", [0, 1001])
def test_lead_count_outside_1_to_1000_is_refused(api: TestClient, count: int) -> None:
    response = api.post(SCORE, json={"leads": [demo_lead(lead_id=f"L{i}") for i in range(count)]})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "input_invalid"
    assert str(count) in detail_for(error, "leads")["message"]
    assert "1000" in error["message"]


@pytest.mark.parametrize(("option", "value"), [("top_k", 0), ("top_k", 101), ("explain", "some")])
def test_bad_option_names_the_option(api: TestClient, option: str, value: Any) -> None:
    response = api.post(SCORE, json={"leads": [demo_lead()], option: value})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "input_invalid"
    assert "Input should" in detail_for(error, option)["message"]


def test_unknown_request_option_is_refused(api: TestClient) -> None:
    response = api.post(SCORE, json={"leads": [demo_lead()], "explain_all": True})

    assert response.status_code == 422
    detail_for(error_of(response), "explain_all")


def test_body_that_is_not_json_is_refused(api: TestClient) -> None:
    response = api.post(SCORE, content=b"lead_id=L1&specialty=Oncology", headers=JSON)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "input_invalid"
    assert "JSON" in error["message"]
    # the body is what is wrong; a character offset is not a field a client could fix
    assert [d["field"] for d in error["details"]] == ["body"]


def test_body_over_1_mb_is_refused_with_413(api: TestClient) -> None:
    filler = "x" * 1_000
    leads = [demo_lead(lead_id=f"L{i}", full_name=filler) for i in range(1_000)]
    content = json.dumps({"leads": leads}).encode()
    assert len(content) > 1_000_000

    response = api.post(SCORE, content=content, headers=JSON)

    assert response.status_code == 413
    assert error_of(response)["code"] == "body_too_large"


def test_chunked_body_over_1_mb_is_refused_like_any_other(api: TestClient) -> None:
    """Chunked uploads carry no Content-Length; the same status and code must come back."""

    def chunks() -> Iterator[bytes]:
        yield b'{"leads": ['
        for _ in range(1_200):
            yield json.dumps(demo_lead(full_name="x" * 1_000)).encode() + b","
        yield json.dumps(demo_lead()).encode() + b"]}"

    response = api.post(SCORE, content=chunks(), headers=JSON)

    assert response.status_code == 413
    assert error_of(response)["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("literal", "explain"), [("Infinity", "all"), ("1e999", "all"), ("-Infinity", "top")]
)
def test_non_finite_number_is_refused_not_a_server_error(
    api: TestClient, literal: str, explain: str
) -> None:
    """Python's json.dumps writes float('inf') as Infinity (and 1e999 parses as infinity).

    Not valid JSON (RFC 8259); accepted, it is a 500 whenever the value is among the reasons
    shown (explain=all) and a 200 otherwise. Either way the client is not told what is wrong.
    """
    body = json.dumps(
        {"leads": [demo_lead(), demo_lead(lead_id="inf", practice_size=0)], "explain": explain}
    )
    body = body.replace('"practice_size": 0', f'"practice_size": {literal}')

    response = api.post(SCORE, content=body.encode(), headers=JSON)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert detail_for(error, "practice_size")["lead_index"] == 1

"""What a hostile or careless client sends gets a 4xx naming the field: never a 500, never the
submitted personal data echoed back, never an ambiguous request read one silent way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import SCORE, demo_lead, error_of, serve, with_overrides
from fastapi.testclient import TestClient

from candor.models.settings import Settings

JSON = {"content-type": "application/json"}
EMAIL = "dr.alvarez@clinic.example"
SURROGATE = "\\ud800"  # a lone high surrogate, as a JSON escape
LOW_SURROGATE = "\\udc80"


@pytest.fixture(scope="module")
def api(trained_settings: Settings) -> Iterator[TestClient]:
    # a server error must come back as a response to assert on, not as a raised exception
    with serve(trained_settings, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def reviewer(trained_settings: Settings) -> Iterator[TestClient]:
    with serve(trained_settings, raise_server_exceptions=False, role="reviewer") as client:
        yield client


def raw_post(client: TestClient, path: str, text: str, **headers: str) -> Any:
    return client.post(path, content=text.encode("utf-8"), headers={**JSON, **headers})


def fields_of(response: Any) -> list[str]:
    assert 400 <= response.status_code < 500, response.text
    return [d["field"] for d in error_of(response)["details"]]


def leads_body(*leads: str) -> str:
    return '{"leads": [' + ", ".join(leads) + "]}"


def lead_json(**changes: Any) -> str:
    """A demo lead as JSON text, with fields replaced by raw JSON fragments."""
    text = json.dumps(demo_lead())
    for name, fragment in changes.items():
        lead = json.loads(text)
        lead.pop(name, None)
        text = json.dumps(lead)[:-1] + f', "{name}": {fragment}}}'
    return text


# --- lone surrogates: a 422 naming the field, everywhere -----------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (leads_body(lead_json(lead_id=f'"{SURROGATE}"')), "lead_id"),
        (leads_body(lead_json(region=f'"{LOW_SURROGATE}"')), "region"),
        (
            leads_body(lead_json(lead_id=f'"A{SURROGATE}"', do_not_contact="true")),
            "lead_id",
        ),
    ],
)
def test_a_lone_surrogate_in_a_lead_is_a_422_naming_the_field(
    api: TestClient, body: str, field: str
) -> None:
    response = raw_post(api, SCORE, body)

    assert response.status_code == 422
    [detail] = error_of(response)["details"]
    assert detail["field"] == field and detail["lead_index"] == 0
    assert "surrogate" in detail["message"]


def test_a_lone_surrogate_in_a_call_plan_is_a_422_naming_the_field(api: TestClient) -> None:
    lead = lead_json(lead_id=f'"{SURROGATE}"')
    plan = '{"capacity": 1, "leads": [' + lead + "]}"
    assert fields_of(raw_post(api, "/v1/call-plans", plan)) == ["lead_id"]

    history = (
        '{"capacity": 1, "contact_history": {"'
        + SURROGATE
        + '": ["2026-11-01"]}, "leads": ['
        + lead_json()
        + "]}"
    )
    assert fields_of(raw_post(api, "/v1/call-plans", history)) == ["contact_history"]


def test_a_lone_surrogate_in_an_outcome_is_a_422_naming_the_field(reviewer: TestClient) -> None:
    body = '{"converted": true, "observed_at": "2026-11-01", "lead_id": "' + SURROGATE + '"}'

    assert fields_of(raw_post(reviewer, "/v1/outcomes", body)) == ["lead_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            '{"series": [{"territory": "T", "product": "P"}], "horizon": 2, '
            '"future_covariates": {"' + SURROGATE + '": [1, 1]}}',
            "future_covariates",
        ),
        ('{"horizon": 2, "series": [{"territory": "T", "' + SURROGATE + '": "x"}]}', "series.0"),
    ],
)
def test_a_lone_surrogate_in_a_forecast_request_is_a_422_naming_the_field(
    api: TestClient, body: str, field: str
) -> None:
    # refused before a forecaster is needed: this home has none, and it still is not a 500
    assert fields_of(raw_post(api, "/v1/forecasts", body)) == [field]


def test_an_escaped_surrogate_pair_is_an_ordinary_character(api: TestClient) -> None:
    # "\ud83d\ude00" is one emoji, well formed: a lead id may hold it
    response = raw_post(api, SCORE, leads_body(lead_json(lead_id='"A\\ud83d\\ude00"')))

    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["lead_id"] == "A\U0001f600"


@pytest.mark.parametrize("value", [1.8446744073709552e19, -1.8446744073709552e19, 1e300])
def test_a_count_past_64_bits_is_scored_flagged_and_answered(api: TestClient, value: float) -> None:
    # found by schemathesis: the reason showed it as an integer no JSON encoder could write
    response = api.post(SCORE, json={"leads": [demo_lead(rep_visits_90d=value)]})

    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert "out_of_distribution" in result["review"]["reasons"]


# --- dates at the edge of the calendar -----------------------------------------------------


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "0001-01-01", "1969-12-31"]
)
def test_an_outcome_date_off_the_calendar_or_before_1970_is_a_422(
    reviewer: TestClient, moment: str
) -> None:
    body = {"lead_id": "L1", "converted": True, "observed_at": moment}

    response = reviewer.post("/v1/outcomes", json=body)

    assert response.status_code == 422
    assert fields_of(response) == ["observed_at"]


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_a_contact_date_off_the_calendar_is_a_422(api: TestClient, moment: str) -> None:
    lead = demo_lead(lead_id="C1")
    body = {"leads": [lead], "capacity": 1, "contact_history": {"C1": [moment]}}

    response = api.post("/v1/call-plans", json=body)

    assert response.status_code == 422
    assert fields_of(response) == ["contact_history.C1.0"]


# --- personal data is never echoed ------------------------------------------------------------


def test_a_text_plain_body_is_a_415_that_echoes_nothing(api: TestClient) -> None:
    leads = [demo_lead(lead_id=f"L{i}", specialty=EMAIL) for i in range(50)]

    response = api.post(
        SCORE, content=json.dumps({"leads": leads}), headers={"content-type": "text/plain"}
    )

    assert response.status_code == 415
    assert fields_of(response) == ["Content-Type"]
    assert EMAIL not in response.text and len(response.content) < 1000


def test_a_json_array_body_is_a_422_that_echoes_nothing(api: TestClient) -> None:
    response = api.post(SCORE, json=[demo_lead(specialty=EMAIL)])

    assert response.status_code == 422
    assert EMAIL not in response.text


def test_a_wrong_type_in_a_personal_field_is_named_not_echoed(api: TestClient) -> None:
    response = api.post(SCORE, json={"leads": [demo_lead(lead_id=["L1", EMAIL])]})

    assert response.status_code == 422
    assert fields_of(response) == ["lead_id"]
    assert EMAIL not in response.text


def test_a_categorical_value_over_the_limit_is_a_422_naming_field_and_limit(
    api: TestClient,
) -> None:
    long_value = EMAIL * 40  # 1,000 characters: a note or a mapped column, not a specialty

    response = api.post(SCORE, json={"leads": [demo_lead(specialty=long_value)]})

    assert response.status_code == 422
    [detail] = error_of(response)["details"]
    assert detail["field"] == "specialty" and "128" in detail["message"]
    assert EMAIL not in response.text


def test_the_categorical_length_limit_is_a_setting(trained_settings: Settings) -> None:
    settings = with_overrides(trained_settings, max_category_length=5)
    with serve(settings, raise_server_exceptions=False) as client:
        response = client.post(SCORE, json={"leads": [demo_lead(region="Northeast")]})

    assert response.status_code == 422
    assert "region" in fields_of(response)
    assert "longer than 5" in error_of(response)["message"] or "at most 5" in response.text


def test_an_unseen_category_is_stored_as_a_keyed_label_never_as_text(
    api: TestClient, trained_settings: Settings
) -> None:
    marker = "unseen-marker-8c1f"

    response = api.post(SCORE, json={"leads": [demo_lead(specialty=marker)]})

    assert response.status_code == 200
    assert marker not in response.text
    stored = b"".join(p.read_bytes() for p in Path(trained_settings.home).glob("audit.db*"))
    assert marker.encode() not in stored


# --- ambiguity is refused by name ------------------------------------------------------------


def test_a_key_given_twice_is_a_422_naming_it(api: TestClient) -> None:
    lead = json.dumps(demo_lead(lead_id="A"))[:-1] + ', "lead_id": "B"}'

    response = raw_post(api, SCORE, leads_body(lead))

    assert response.status_code == 422
    [detail] = error_of(response)["details"]
    assert detail["field"] == "lead_id" and detail["lead_index"] == 0
    assert "more than once" in detail["message"]


def test_a_query_parameter_given_twice_is_a_422_naming_it(reviewer: TestClient) -> None:
    response = reviewer.get("/v1/reviews?status=decided&status=pending")

    assert response.status_code == 422
    assert fields_of(response) == ["status"]


@pytest.mark.parametrize("lead_id", ["", "   ", " L1", "L1\n", "L\x001"])
def test_a_blank_padded_or_control_lead_id_is_a_422(api: TestClient, lead_id: str) -> None:
    response = api.post(SCORE, json={"leads": [demo_lead(lead_id=lead_id)]})

    assert response.status_code == 422
    assert fields_of(response) == ["lead_id"]


def test_an_outcome_with_a_blank_lead_id_is_a_422(reviewer: TestClient) -> None:
    body = {"lead_id": "  ", "converted": True, "observed_at": "2026-11-01"}

    assert fields_of(reviewer.post("/v1/outcomes", json=body)) == ["lead_id"]


# --- malformed bodies: the documented codes, with a field -----------------------------------


@pytest.mark.parametrize(
    ("content", "headers", "status", "field"),
    [
        (b'{"leads": [{"lead_id": "\xff"}]}', JSON, 422, "body"),
        (b"[" * 100_000 + b"]" * 100_000, JSON, 422, "body"),
        (b'{"leads": [], "top_k": ' + b"9" * 5000 + b"}", JSON, 422, "top_k"),
        (b'{"leads": []}', {**JSON, "content-encoding": "gzip"}, 415, "Content-Encoding"),
        (b'{"leads": [', JSON, 422, "body"),
    ],
    ids=["not-utf8", "too-deep", "huge-integer", "gzip", "truncated"],
)
def test_a_malformed_body_answers_its_documented_code_naming_a_field(
    api: TestClient, content: bytes, headers: dict[str, str], status: int, field: str
) -> None:
    response = api.post(SCORE, content=content, headers=headers)

    assert response.status_code == status
    assert fields_of(response) == [field]
    assert error_of(response)["code"] in {"input_invalid", "unsupported_media_type"}


def test_a_lead_id_shaped_like_a_series_key_is_not_a_series_pseudonym(
    trained_settings: Settings,
) -> None:
    from candor.serving.audit.factory import open_store

    store = open_store(trained_settings)
    try:
        series = {"territory": "Eastmoor", "product": "Glucora"}
        lead_id = "series:territory=Eastmoor|product=Glucora"
        assert store.series_key(series) != store.lead_key(lead_id)
        assert store.series_key(series) == store.series_key(dict(reversed(series.items())))
    finally:
        store.close()

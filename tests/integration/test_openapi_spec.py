"""The OpenAPI document as a generated client reads it, and the protocol headers of answers.

Security on each protected operation, function-like operation ids, typed requests and answers,
every status a route can give; 405 with Allow, 401 with WWW-Authenticate, API answers that no
cache keeps, /docs without a third party's script, and the public model card cached and
rate-limited.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from api_support import SCORE, demo_body, error_of, serve, with_overrides
from fastapi.testclient import TestClient

from candor.models.settings import Settings

CARD = "/v1/models/candor-lead-scorer/card"
PUBLIC = {"get_health", "get_current_model", "get_model_card"}
WRITES = {"score_leads", "create_call_plan", "create_forecasts", "decide_score", "record_outcome"}
LEADS_REF = {"$ref": "#/components/schemas/LeadIn"}


@pytest.fixture(scope="module")
def spec(api: TestClient) -> dict[str, Any]:
    return api.get("/openapi.json").json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def forecast_spec(forecast_settings: Settings) -> dict[str, Any]:
    """The document of a service with a forecaster (its series fields become parameters)."""
    with serve(forecast_settings) as client:
        return client.get("/openapi.json").json()  # type: ignore[no-any-return]


@pytest.fixture
def anonymous(trained_settings: Settings) -> Iterator[TestClient]:
    with serve(trained_settings) as client:
        client.headers.pop("Authorization")
        yield client


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for ops in spec["paths"].values() for op in ops.values()}


def component(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]  # type: ignore[no-any-return]


def answer_schema(operation: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return operation["responses"][status]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


# --- the document ---------------------------------------------------------------------------


def test_the_bearer_scheme_is_declared_on_each_protected_operation_only(
    spec: dict[str, Any],
) -> None:
    assert spec["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API key made with `candor keys create`, sent as "
            "`Authorization: Bearer <key>`",
        }
    }
    ops = operations(spec)
    assert set(ops) >= PUBLIC
    for op_id, op in ops.items():
        if op_id in PUBLIC:
            assert "security" not in op, op_id
            assert "401" not in op["responses"], op_id
        else:
            assert op["security"] == [{"bearerAuth": []}], op_id
            assert op["responses"]["401"]["headers"]["WWW-Authenticate"]["required"], op_id


def test_operation_ids_are_unique_function_like_names(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    for op_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", op_id), op_id
        assert "v1" not in op_id and not op_id.endswith(("_get", "_post")), op_id
    assert spec["paths"][SCORE]["post"]["operationId"] == "score_leads"
    assert spec["paths"]["/v1/reviews/{score_id}"]["post"]["operationId"] == "decide_score"


def test_leads_of_scores_and_call_plans_are_the_contracts_lead_with_their_bounds(
    spec: dict[str, Any], trained_settings: Settings
) -> None:
    lead = component(spec, "LeadIn")
    assert lead["additionalProperties"] is False
    assert set(demo_body()["leads"][0]) <= set(lead["properties"])
    text = lead["properties"]["lead_id"]["anyOf"][0]
    assert text["minLength"] == 1 and text["maxLength"] == trained_settings.max_lead_id_length
    for request in ("ScoreRequest", "CallPlanRequest"):
        leads = component(spec, request)["properties"]["leads"]
        assert leads["items"] == LEADS_REF, request
        assert leads["minItems"] == 1, request
        assert leads["maxItems"] == trained_settings.max_leads_per_request, request


def test_health_forecaster_and_forecast_record_answers_are_typed(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    for op_id, model in {
        "get_health": "Health",
        "get_forecast_model": "ForecastModelInfo",
        "get_forecast": "ForecastRecordOut",
    }.items():
        assert answer_schema(ops[op_id]) == {"$ref": f"#/components/schemas/{model}"}, op_id
    record = component(spec, "ForecastRecordOut")
    assert record["properties"]["model"] == {"$ref": "#/components/schemas/ModelRef"}
    assert "forecast" in record["required"] and "decisions" in record["required"]
    health = component(spec, "Health")["properties"]
    assert health["status"]["enum"] == ["ok", "degraded"]


def test_the_plot_is_binary_and_names_a_series_or_a_node_by_query_parameters(
    forecast_spec: dict[str, Any],
) -> None:
    plot = operations(forecast_spec)["get_forecast_plot"]
    assert plot["responses"]["200"]["content"] == {
        "image/png": {"schema": {"type": "string", "format": "binary"}}
    }
    params = {p["name"]: p for p in plot["parameters"]}
    # the sample's hierarchy: a series by territory and product, a node by its groups too;
    # a hierarchy left out is its total, so none is required
    assert set(params) == {"territory", "region", "product", "product_line", "horizon"}
    for name in ("territory", "region", "product", "product_line"):
        assert params[name]["in"] == "query" and not params[name]["required"], name
        assert params[name]["schema"]["enum"], name
    assert params["region"]["schema"]["enum"] == ["Central", "North", "South"]
    assert not params["horizon"]["required"]
    assert params["horizon"]["schema"]["type"] == "integer"
    assert params["horizon"]["schema"]["maximum"] == 8  # the session forecaster's horizon
    series = component(forecast_spec, "ForecastSeries")
    assert series["required"] == []
    assert set(series["properties"]) == {
        "territory",
        "region",
        "product",
        "product_line",
        "future_covariates",
    }
    assert "national total" in series["description"]
    assert component(forecast_spec, "ForecastRequest")["properties"]["series"]["items"] == {
        "$ref": "#/components/schemas/ForecastSeries"
    }


def test_cursor_and_observed_at_state_their_formats(spec: dict[str, Any]) -> None:
    queue = operations(spec)["list_reviews"]
    cursor = next(p for p in queue["parameters"] if p["name"] == "cursor")
    assert cursor["schema"]["pattern"] == "^[1-9][0-9]{0,17}$"
    limit = next(p for p in queue["parameters"] if p["name"] == "limit")
    assert limit["schema"]["type"] == "integer" and limit["schema"]["maximum"] == 200
    assert component(spec, "ReviewQueue")["properties"]["next_cursor"]["pattern"]
    formats = [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
    assert component(spec, "OutcomeIn")["properties"]["observed_at"]["anyOf"] == formats
    history = component(spec, "CallPlanRequest")["properties"]["contact_history"]
    assert history["additionalProperties"]["items"]["anyOf"] == formats


def test_every_status_a_route_can_answer_is_declared(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    for op_id in WRITES:
        op = ops[op_id]
        assert {"401", "403", "409", "413", "415", "422", "503"} <= set(op["responses"]), op_id
        [key] = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["in"] == "header" and not key["required"], op_id
    card = ops["get_model_card"]["responses"]
    assert {"200", "304", "404", "422", "429"} <= set(card)
    assert card["429"]["headers"]["Retry-After"]["required"]
    assert set(card["200"]["content"]) == {"application/json", "text/html"}
    assert set(ops["get_current_model"]["responses"]) == {"200", "503"}
    # every error answer is the service's error body, FastAPI's own 422 included
    for op_id, op in ops.items():
        for status in op["responses"]:
            if status.startswith(("4", "5")):
                assert answer_schema(op, status) == {
                    "$ref": "#/components/schemas/ErrorResponse"
                }, (op_id, status)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


# --- protocol headers -----------------------------------------------------------------------


def test_a_method_not_allowed_names_the_allowed_ones(api: TestClient) -> None:
    response = api.delete(SCORE)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert error_of(response)["code"] == "http_405"


def test_a_missing_key_is_a_401_naming_the_bearer_scheme(anonymous: TestClient) -> None:
    response = anonymous.get("/v1/whoami")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    error = error_of(response)
    assert error["code"] == "unauthenticated"
    assert error["message"] == "missing API key: send 'Authorization: Bearer <key>'"
    wrong = anonymous.get("/v1/whoami", headers={"Authorization": "Bearer not-a-key"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
    assert error_of(wrong)["message"] == "unknown or revoked API key"
    basic = anonymous.get("/v1/whoami", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401 and error_of(basic)["message"].startswith("missing API key")


def test_api_answers_are_not_cached_nor_sniffed(
    api: TestClient, anonymous: TestClient, trained_settings: Settings
) -> None:
    answers = [
        api.get("/healthz"),
        api.get("/v1/whoami"),
        api.post(SCORE, json=demo_body()),
        api.post(SCORE, json={"leads": []}),  # a 422
        api.delete(SCORE),  # a 405
        anonymous.get("/v1/reviews"),  # a 401
    ]
    small = with_overrides(trained_settings, max_body_bytes=10)
    with serve(small) as limited:
        answers.append(limited.post(SCORE, json=demo_body()))  # a middleware's 413
    assert [a.status_code for a in answers] == [200, 200, 200, 422, 405, 401, 413]
    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store", answer.request.url
        assert answer.headers["X-Content-Type-Options"] == "nosniff", answer.request.url


def test_docs_load_nothing_from_another_host(api: TestClient) -> None:
    page = api.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "SwaggerUIBundle" in html and "/openapi.json" in html
    assert not re.search(r"https?://", html), "an absolute URL in /docs"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
    for asset in assets:
        assert api.get(asset).status_code == 200, asset
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in policy and "connect-src 'self'" in policy
    assert api.get("/redoc").status_code == 404  # FastAPI's, from a CDN, is off


# --- the public model card -----------------------------------------------------------------


def test_the_model_card_is_built_once_and_revalidated_by_its_etag(
    trained_settings: Settings,
) -> None:
    with serve(trained_settings) as client:
        first, second = client.get(CARD), client.get(CARD)
        html = client.get(CARD, params={"format": "html"})
        assert [first.status_code, second.status_code, html.status_code] == [200, 200, 200]
        assert first.headers["X-Cache"] == "miss"
        assert second.headers["X-Cache"] == "hit" and html.headers["X-Cache"] == "hit"
        assert second.content == first.content
        assert second.headers["ETag"] == first.headers["ETag"] != html.headers["ETag"]
        assert first.headers["Cache-Control"] == "no-cache"  # public: kept, but revalidated
        assert first.headers["Vary"] == "Accept"
        unchanged = client.get(CARD, headers={"If-None-Match": first.headers["ETag"]})
        assert unchanged.status_code == 304 and not unchanged.content
        assert unchanged.headers["ETag"] == first.headers["ETag"]
    with serve(with_overrides(trained_settings, model_card_cache_seconds=0)) as uncached:
        assert [uncached.get(CARD).headers["X-Cache"] for _ in range(2)] == ["miss", "miss"]


def test_the_model_card_is_rate_limited_per_client(trained_settings: Settings) -> None:
    tiny = with_overrides(trained_settings, model_card_burst=2, model_card_rate_per_minute=1)
    with serve(tiny) as client:
        answers = [client.get(CARD), client.get("/v1/models/no-such-model/card"), client.get(CARD)]
        assert [a.status_code for a in answers] == [200, 404, 429]
        refused = answers[-1]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        error = error_of(refused)
        assert error["code"] == "rate_limited"
        assert "retry in" in error["message"]
        assert refused.headers["Cache-Control"] == "no-store"
        # the limit is the card's own: scoring goes on
        assert client.post(SCORE, json=demo_body()).status_code == 200


def test_a_forecast_record_names_its_model(forecast_settings: Settings) -> None:
    with serve(forecast_settings) as scorer:
        series = scorer.get("/v1/forecasts/model").json()["series"][0]
        [result] = scorer.post("/v1/forecasts", json={"series": [series], "horizon": 2}).json()[
            "results"
        ]
    with serve(forecast_settings, role="reviewer") as reviewer:
        record = reviewer.get(f"/v1/forecasts/{result['forecast_id']}").json()
    assert set(record["model"]) == {"name", "version", "run_id", "contract"}
    assert record["model"]["name"] == "candor-sales-forecaster"
    assert record["series"] == series and record["horizon"] == 2

"""POST /v1/forecasts and its neighbours, against a forecaster trained on the sample sales."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from api_support import serve
from fastapi.testclient import TestClient
from settings_support import FORECAST_HORIZON

from candor.models.settings import Settings
from candor.models.transparency import FORECAST_DISCLOSURE_TEXT
from candor.serving.audit.factory import open_store
from candor.serving.state import serving_state

FORECASTS = "/v1/forecasts"
PLOT = "/v1/forecasts/plot.png"
GROUPS = {"recent_level", "seasonality", "activity"}


@pytest.fixture(scope="module")
def api(forecast_settings: Settings) -> Iterator[TestClient]:
    with serve(forecast_settings) as client:
        yield client


@pytest.fixture(scope="module")
def series(api: TestClient) -> list[dict[str, str]]:
    known: list[dict[str, str]] = api.get("/v1/forecasts/model").json()["series"]
    assert len(known) == 24  # 6 territories x 4 products in the sample
    return known


def post(api: TestClient, body: dict[str, Any]) -> Any:
    return api.post(FORECASTS, json=body)


def error_fields(response: Any) -> list[str]:
    assert 400 <= response.status_code < 500, response.text
    return [d["field"] for d in response.json()["error"]["details"]]


def test_one_result_per_series_with_nested_intervals_and_drivers_that_add_up(
    api: TestClient, series: list[dict[str, str]]
) -> None:
    asked = [series[0], series[7]]
    response = post(api, {"series": asked, "horizon": 6})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"]["name"] == "candor-sales-forecaster"
    assert body["model"]["max_horizon"] == FORECAST_HORIZON
    assert [{k: r[k] for k in ("territory", "product")} for r in body["results"]] == asked
    for result in body["results"]:
        weeks = result["forecast"]
        assert len(weeks) == 6
        last = date.fromisoformat(result["last_observed_week"])
        assert [w["week_start"] for w in weeks] == [
            (last + timedelta(weeks=i)).isoformat() for i in range(1, 7)
        ]
        for w in weeks:
            assert 0 <= w["lo95"] <= w["lo80"] <= w["point"] <= w["hi80"] <= w["hi95"]
            assert w["hi95"] - w["lo95"] > w["hi80"] - w["lo80"] > 0
            assert set(w["drivers"]) == GROUPS
            assert sum(w["drivers"].values()) == pytest.approx(w["point"], abs=1e-6)
        assert set(result["review"]) == {"required", "reasons", "notes"}
        assert len(result["recent_weeks"]["actual"]) == 4


def test_every_forecast_carries_the_disclosure_and_the_forecasters_card(
    api: TestClient, series: list[dict[str, str]]
) -> None:
    body = post(api, {"series": series[:1], "horizon": 1}).json()
    assert body["disclosure"]["text"] == FORECAST_DISCLOSURE_TEXT
    card_path = body["disclosure"]["model_card"]
    assert card_path == "/v1/models/candor-sales-forecaster/card"
    card = api.get(card_path).json()
    assert card["version"] == body["model"]["version"]
    assert card["metrics"]["mase"] > 0 and "coverage80" in card["metrics"]
    assert card["model"]["strategy"] == "direct"
    assert "person" in card["fairness_note"]
    assert api.get(card_path, params={"format": "html"}).text.startswith("<!doctype html>")


def test_planned_promotions_raise_the_activity_driver_and_are_echoed(
    api: TestClient, series: list[dict[str, str]]
) -> None:
    h = 4
    base = {"series": [series[2]], "horizon": h}
    none = post(api, {**base, "future_covariates": {"promo": [0] * h}}).json()["results"][0]
    every = post(api, {**base, "future_covariates": {"promo": [1] * h}}).json()["results"][0]
    assert every["planned_covariates"] == {"promo": [1.0] * h}
    assert "promo" not in every["assumed_covariates"]
    assert "rep_calls" in every["assumed_covariates"]
    # the sample's promotions lift sales: the model learned it and says so in the drivers
    lift = [
        e["drivers"]["activity"] - n["drivers"]["activity"]
        for e, n in zip(every["forecast"], none["forecast"], strict=True)
    ]
    assert all(d > 0 for d in lift)
    assert sum(e["point"] for e in every["forecast"]) > sum(n["point"] for n in none["forecast"])
    # a series' own plan overrides the shared one
    own = {**series[2], "future_covariates": {"promo": [0] * h}}
    mixed = post(
        api, {"series": [own], "horizon": h, "future_covariates": {"promo": [1] * h}}
    ).json()["results"][0]
    assert [w["point"] for w in mixed["forecast"]] == [w["point"] for w in none["forecast"]]


def test_each_forecast_is_audited_before_the_answer_and_a_reviewer_reads_it(
    api: TestClient, forecast_settings: Settings, series: list[dict[str, str]]
) -> None:
    body = post(api, {"series": series[3:5], "horizon": 3}).json()
    store = open_store(forecast_settings)
    try:
        for result in body["results"]:
            # a fresh connection sees it
            record = store.get_record(result["forecast_id"], reader="test")
            assert record["kind"] == "forecast"
            assert record["requested_by"].startswith("test-scorer")
            assert record["payload"]["forecast"] == result["forecast"]
            assert record["payload"]["series"] == {k: result[k] for k in ("territory", "product")}
        assert store.verify().ok
    finally:
        store.engine.dispose()
    forecast_id = body["results"][0]["forecast_id"]
    assert api.get(f"{FORECASTS}/{forecast_id}").status_code == 403  # a scorer key
    with serve(forecast_settings, role="reviewer") as reviewer:
        full = reviewer.get(f"{FORECASTS}/{forecast_id}").json()
        assert full["forecast_id"] == forecast_id
        assert full["forecast"] == body["results"][0]["forecast"]
        assert full["horizon"] == 3 and full["record_hash"]
        not_a_score = reviewer.get(f"/v1/scores/{forecast_id}")
        assert not_a_score.status_code == 404
        assert f"/v1/forecasts/{forecast_id}" in not_a_score.json()["error"]["message"]
        assert post(reviewer, {"series": series[:1], "horizon": 1}).status_code == 403


def test_flagged_forecasts_wait_for_review_and_take_a_decision_without_a_grade(
    forecast_settings: Settings, series: list[dict[str, str]]
) -> None:
    strict = forecast_settings.model_copy(
        update={
            "forecast_policy": dataclasses.replace(
                forecast_settings.forecast_policy, wide_interval_ratio=0.01
            )
        }
    )
    with serve(strict) as api:
        [result] = post(api, {"series": series[5:6], "horizon": 2}).json()["results"]
    assert result["review"]["required"]
    assert "wide_interval" in result["review"]["reasons"]
    assert "80% interval" in result["review"]["notes"][0]
    with serve(strict, role="reviewer") as reviewer:
        queue = reviewer.get("/v1/reviews", params={"kind": "forecast", "limit": 200}).json()
        item = next(i for i in queue["items"] if i["score_id"] == result["forecast_id"])
        assert item["kind"] == "forecast" and item["review_reasons"] == ["wide_interval"]
        assert item["series"] == series[5]
        scores = reviewer.get("/v1/reviews", params={"limit": 200}).json()["items"]
        assert all(i["kind"] == "score" for i in scores)
        bad_reason = reviewer.get("/v1/reviews", params={"kind": "forecast", "reason": "x"})
        assert error_fields(bad_reason) == ["reason"]
        path = f"/v1/reviews/{result['forecast_id']}"
        graded = reviewer.post(path, json={"decision": "override", "grade": "A", "comment": "x"})
        assert error_fields(graded) == ["grade"]
        bare = reviewer.post(path, json={"decision": "override"})
        assert error_fields(bare) == ["comment"]
        done = reviewer.post(path, json={"decision": "override", "comment": "promo cancelled"})
        assert done.status_code == 201
        assert done.json()["decision"]["decided_by"].startswith("test-reviewer")


FC = "future_covariates"
ONE = "SERIES0"  # replaced by the first known series


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"series": [{"territory": "Atlantis", "product": "Glucora"}], "horizon": 2}, "series[0]"),
        ({"series": ONE, "horizon": 0}, "horizon"),
        ({"series": ONE, "horizon": FORECAST_HORIZON + 1}, "horizon"),
        ({"series": ONE, "horizon": "4"}, "horizon"),
        ({"series": ONE, "horizon": 2.5}, "horizon"),
        ({"series": ONE, "horizon": 2, FC: {"promo": [1]}}, f"{FC}.promo"),
        ({"series": ONE, "horizon": 2, FC: {"promo": [1, -1]}}, f"{FC}.promo[1]"),
        ({"series": ONE, "horizon": 2, FC: {"promo": [1, "yes"]}}, f"{FC}.promo[1]"),
        ({"series": ONE, "horizon": 2, FC: {"samples_dropped": [1, 1]}}, f"{FC}.samples_dropped"),
        ({"series": ONE, "horizon": 2, FC: {"weather": [1, 1]}}, f"{FC}.weather"),
        ({"series": ONE, "horizon": 2, FC: {"promo": [1, 10**400]}}, f"{FC}.promo[1]"),
        ({"series": ONE, "horizon": 2, FC: {"promo": [0, 5]}}, f"{FC}.promo[1]"),
        ({"series": ONE, "horizon": 2, FC: {"rep_calls": [1e308, 3]}}, f"{FC}.rep_calls[0]"),
        (
            {
                "series": [{"territory": "Eastmoor", "product": "Glucora", FC: {"promo": [2, 0]}}],
                "horizon": 2,
            },
            f"series[0].{FC}.promo[0]",
        ),
        (
            {"series": [{"territory": "Eastmoor", "product": "Glucora", FC: []}], "horizon": 2},
            f"series[0].{FC}",
        ),
        (
            {"series": [{"territory": "Eastmoor", "product": "Glucora"}] * 2, "horizon": 2},
            "series[1]",
        ),
        ({"series": [{"territory": "Eastmoor", "product": ""}], "horizon": 2}, "series[0].product"),
        (
            {"series": [{"territory": "Eastmoor", "product": "Glucora", "x": 1}], "horizon": 2},
            "series[0].x",
        ),
        ({"series": [], "horizon": 2}, "series"),
        ({"series": ONE, "horizon": 2, "extra": 1}, "extra"),
    ],
)
def test_bad_requests_are_4xx_naming_the_field(
    api: TestClient, series: list[dict[str, str]], body: dict[str, Any], field: str
) -> None:
    if body["series"] == ONE:
        body = {**body, "series": series[:1]}
    response = post(api, body)
    assert response.status_code == 422
    assert field in error_fields(response)


def test_an_unknown_series_lists_the_known_values(api: TestClient) -> None:
    response = post(
        api, {"series": [{"territory": "Atlantis", "product": "Glucora"}], "horizon": 1}
    )
    message = response.json()["error"]["details"][0]["message"]
    assert "territory 'Atlantis' is unknown" in message and "Eastmoor" in message
    assert "product" not in message.split("unknown (")[0].split("territory")[0]


def test_too_many_series_is_refused(
    forecast_settings: Settings, series: list[dict[str, str]]
) -> None:
    with serve(forecast_settings.model_copy(update={"max_series_per_request": 3})) as api:
        assert error_fields(post(api, {"series": series[:4], "horizon": 1})) == ["series"]


def test_forecasts_need_a_scorer_key(
    forecast_settings: Settings, series: list[dict[str, str]]
) -> None:
    with serve(forecast_settings) as api:
        api.headers.pop("Authorization")
        assert post(api, {"series": series[:1], "horizon": 1}).status_code == 401


def test_the_plot_is_a_png_of_the_series_with_a_link_to_the_card(
    api: TestClient, series: list[dict[str, str]]
) -> None:
    response = api.get(PLOT, params={**series[1], "horizon": 6})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n") and len(response.content) > 5000
    assert "candor-sales-forecaster/card" in response.headers["link"]
    assert response.headers["x-candor-disclosure"] == FORECAST_DISCLOSURE_TEXT
    for params, field in [
        ({**series[1], "horizon": FORECAST_HORIZON + 1}, "horizon"),
        ({**series[1], "horizon": "six"}, "horizon"),
        ({"territory": "Atlantis", "product": series[1]["product"]}, "territory,product"),
        ({"territory": series[1]["territory"], "product": ""}, "product"),
        ({"region": "Atlantis"}, "region"),  # a node of the sample's hierarchy
        ({**series[1], "horizon": "\u00b2"}, "horizon"),  # a superscript two is no number
        ({**series[1], "colour": "red"}, "colour"),
    ]:
        assert field in error_fields(api.get(PLOT, params=params))


def test_without_a_trained_forecaster_forecasts_are_503_and_scoring_still_works(
    trained_settings: Settings,
) -> None:
    with serve(trained_settings) as api:
        response = post(api, {"series": [{"territory": "a", "product": "b"}], "horizon": 1})
        assert response.status_code == 503
        assert "candor train forecast" in response.json()["error"]["message"]
        health = api.get("/healthz").json()
        assert health["status"] == "ok"  # the lead scorer is what health is about
        assert "candor train forecast" in health["forecaster"]["detail"]


def test_health_names_the_forecaster_being_served(api: TestClient) -> None:
    health = api.get("/healthz").json()
    assert health["forecaster"]["name"] == "candor-sales-forecaster"
    assert health["forecaster"]["version"] == api.get("/v1/forecasts/model").json()["version"]


def test_a_series_that_collapsed_lately_is_flagged_for_review(
    forecast_settings: Settings, series: list[dict[str, str]]
) -> None:
    with serve(forecast_settings) as api:
        service = serving_state(api.app).forecasting
        assert service is not None
        key = tuple(series[9].values())
        history = service.forecaster.history_[key]
        history.units[-4:] = history.units[-4:] * 0.3  # a lost account: sales fall by 70%
        [result] = post(api, {"series": [series[9]], "horizon": 2}).json()["results"]
        [steady] = post(api, {"series": [series[10]], "horizon": 2}).json()["results"]
    review = result["review"]
    assert review["required"]
    assert {"recent_break", "last_actuals_outside_interval"} <= set(review["reasons"])
    assert any("below their one-week-ahead forecasts" in note for note in review["notes"])
    recent = result["recent_weeks"]
    assert all(a < lo for a, lo in zip(recent["actual"], recent["lo80"], strict=True))
    assert not {"recent_break", "last_actuals_outside_interval"} & set(steady["review"]["reasons"])


def test_the_demo_forecast_request_works(api: TestClient) -> None:
    from api_support import REPO

    body = json.loads((REPO / "data_samples" / "demo_forecast_request.json").read_text())
    response = post(api, body)
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == len(body["series"])


def test_an_unknown_forecast_id_is_404_naming_it(forecast_settings: Settings) -> None:
    with serve(forecast_settings, role="reviewer") as reviewer:
        response = reviewer.get(f"{FORECASTS}/0123456789abcdef")
    assert response.status_code == 404
    assert error_fields(response) == ["forecast_id"]

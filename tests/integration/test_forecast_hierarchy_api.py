"""POST /v1/forecasts for any node of the sample's hierarchy (territory -> region -> national,
product -> product line): reconciled forecasts that add up exactly, each naming what it sums."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import settings_support as support
from api_support import serve
from auth_support import bearer
from fastapi.testclient import TestClient

from candor.models.settings import Settings

FORECASTS = "/v1/forecasts"
ACCURACY = "/v1/forecasts/accuracy"
HORIZON = 4


@pytest.fixture(scope="module")
def api(forecast_settings: Settings) -> Iterator[TestClient]:
    with serve(forecast_settings) as client:
        yield client


def forecast(api: TestClient, *series: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    response = api.post(FORECASTS, json={"series": list(series), "horizon": HORIZON, **extra})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def points(result: dict[str, Any]) -> list[float]:
    return [w["point"] for w in result["forecast"]]


def test_the_model_lists_its_hierarchy(api: TestClient) -> None:
    info = api.get("/v1/forecasts/model").json()
    hierarchy = info["hierarchy"]
    assert [d["level"] for d in hierarchy["levels"]] == ["territory", "product"]
    assert {
        "level": "region/product_line",
        "node": {"region": "North", "product_line": "Respiratory"},
        "series": 4,
    } in hierarchy["nodes"]
    assert len(info["series"]) == 24


def test_a_region_and_product_line_is_the_exact_sum_of_its_series(api: TestClient) -> None:
    [node] = forecast(api, {"region": "North", "product_line": "Respiratory"})
    assert node["region"] == "North" and node["product_line"] == "Respiratory"
    assert node["hierarchy_level"] == "region/product_line"
    sums = node["sums"]
    assert {(s["territory"], s["product"]) for s in sums} == {
        (t, p) for t in ("Northgate", "Highland") for p in ("Bronchivent", "Flumistar")
    }
    parts = forecast(api, *sums)
    for week, value in enumerate(points(node)):
        assert value == pytest.approx(sum(points(p)[week] for p in parts), rel=1e-9)
    for w in node["forecast"]:
        assert 0 <= w["lo95"] <= w["lo80"] <= w["point"] <= w["hi80"] <= w["hi95"]
        assert sum(w["drivers"].values()) == pytest.approx(w["point"], abs=1e-6)


def test_every_level_adds_up_to_the_national_total(api: TestClient) -> None:
    national, *regions = forecast(
        api, {}, {"region": "North"}, {"region": "Central"}, {"region": "South"}
    )
    assert national["hierarchy_level"] == "all/all"
    assert len(national["sums"]) == 24
    lines = forecast(api, {"product_line": "Respiratory"}, {"product_line": "Cardiometabolic"})
    for week, total in enumerate(points(national)):
        assert total == pytest.approx(sum(points(r)[week] for r in regions), rel=1e-9)
        assert total == pytest.approx(sum(points(p)[week] for p in lines), rel=1e-9)


def test_a_plan_shared_by_the_request_holds_for_every_node_asked_so_they_add_up(
    api: TestClient,
) -> None:
    regions = [{"region": r} for r in ("North", "Central", "South")]
    national, *parts = forecast(api, {}, *regions, future_covariates={"promo": [1] * HORIZON})
    for week, total in enumerate(points(national)):
        assert total == pytest.approx(sum(points(r)[week] for r in parts), rel=1e-9)
    [unplanned] = forecast(api, {})
    assert sum(points(national)) > sum(points(unplanned))  # the promotion everywhere lifts it


def test_a_series_answers_as_before_with_what_it_sums(api: TestClient) -> None:
    [one] = forecast(api, {"territory": "Eastmoor", "product": "Glucora"})
    assert one["hierarchy_level"] == "territory/product"
    assert one["sums"] == [{"territory": "Eastmoor", "product": "Glucora"}]


@pytest.mark.parametrize(
    ("series", "field"),
    [
        ({"region": "Atlantis"}, "series[0].region"),
        ({"region": "North", "territory": "Northgate", "product": "Glucora"}, "series[0].region"),
        ({"district": "North"}, "series[0].district"),
        ({"region": ["North"]}, "series[0].region"),
        ({"region": 2.0}, "series[0].region"),
        ({"territory": "region=North"}, "series[0].territory"),  # a node's label, not a series
    ],
)
def test_a_node_that_is_not_in_the_hierarchy_is_refused_by_field(
    api: TestClient, series: dict[str, Any], field: str
) -> None:
    response = api.post(FORECASTS, json={"series": [series], "horizon": HORIZON})
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_a_promotion_planned_for_a_region_lifts_the_region(api: TestClient) -> None:
    plan = {"promo": [1] * HORIZON}
    [base] = forecast(api, {"region": "South", "product_line": "Respiratory"})
    [promo] = forecast(
        api, {"region": "South", "product_line": "Respiratory", "future_covariates": plan}
    )
    assert promo["planned_covariates"] == {"promo": [1.0] * HORIZON}
    assert sum(points(promo)) > sum(points(base))


@pytest.fixture(scope="module")
def measured(
    forecast_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Settings]]:
    """The sample forecaster, with an audit store of this test's own, as an admin."""
    settings = support.with_own_audit_store(forecast_settings, tmp_path_factory.mktemp("levels"))
    with serve(settings, role="admin") as client:
        yield client, settings


def test_accuracy_per_level_sums_the_series_actuals(measured) -> None:  # type: ignore[no-untyped-def]
    api, settings = measured
    reviewer = bearer(settings, "reviewer")
    [node] = forecast(api, {"region": "South", "product_line": "Respiratory"})
    # a reviewer reading the audited record sees the level and the series it sums
    record = api.get(f"{FORECASTS}/{node['forecast_id']}", headers=reviewer)
    assert record.status_code == 200, record.text
    assert record.json()["hierarchy_level"] == "region/product_line"
    assert record.json()["sums"] == node["sums"]
    parts = forecast(api, *node["sums"])
    # each series sells exactly its forecast, except one week of one series left unrecorded
    actuals = [
        {**p["sums"][0], "week": w["week"], "units": w["point"]}
        for p in parts
        for w in p["forecast"]
    ]
    missing = actuals.pop()  # the last week of the last series: the node's last week is open
    response = api.post("/v1/sales/actuals", json={"actuals": actuals}, headers=reviewer)
    assert response.status_code == 201, response.text

    region = api.get(ACCURACY, params={"level": "region/product_line"}, headers=reviewer).json()
    assert region["level"] == "region/product_line"
    assert region["forecasts"] == 1
    assert region["overall"]["weeks"] == HORIZON - 1  # the open week is not measured
    assert region["unmeasured"]["no_actual"] == 1
    assert region["overall"]["mase"] == pytest.approx(0.0, abs=1e-6)  # sums are exact

    series = api.get(ACCURACY, params={"level": "territory/product"}, headers=reviewer).json()
    assert series["forecasts"] == 4 and series["overall"]["weeks"] == 4 * HORIZON - 1
    everything = api.get(ACCURACY, headers=reviewer).json()
    assert everything["forecasts"] == 5

    response = api.post("/v1/sales/actuals", json={"actuals": [missing]}, headers=reviewer)
    assert response.status_code == 201, response.text
    region = api.get(ACCURACY, params={"level": "region/product_line"}, headers=reviewer).json()
    assert region["overall"]["weeks"] == HORIZON


def test_an_unknown_level_is_refused_naming_the_levels(measured) -> None:  # type: ignore[no-untyped-def]
    api, settings = measured
    response = api.get(ACCURACY, params={"level": "district"}, headers=bearer(settings, "reviewer"))
    assert response.status_code == 422
    assert "region/product_line" in response.json()["error"]["details"][0]["message"]


def test_the_demo_hierarchy_request_works(api: TestClient) -> None:
    body = json.loads((support.REPO / "data_samples" / "demo_hierarchy_request.json").read_text())
    response = api.post(FORECASTS, json=body)
    assert response.status_code == 200, response.text
    levels = [r["hierarchy_level"] for r in response.json()["results"]]
    assert levels == ["region/product_line", "region/all", "all/all"]


def test_the_plot_draws_a_node(api: TestClient) -> None:
    response = api.get("/v1/forecasts/plot.png", params={"region": "South"})
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\x89PNG")


def test_scenarios_for_a_node_say_what_a_promotion_adds_to_the_region(api: TestClient) -> None:
    node = {"region": "Central", "product_line": "Respiratory"}
    plans = {"baseline": {"promo": [0] * HORIZON}, "promo": {"promo": [1] * HORIZON}}
    response = api.post(
        "/v1/forecasts/scenarios", json={"series": node, "horizon": HORIZON, "scenarios": plans}
    )
    assert response.status_code == 200, response.text
    base, promo = response.json()["scenarios"]
    assert (base["name"], promo["against"]) == ("baseline", "baseline")
    assert promo["forecast"]["hierarchy_level"] == "region/product_line"
    assert len(promo["forecast"]["sums"]) == 4
    assert promo["total_difference"] > 0
    for week in promo["difference"]:
        assert sum(week["drivers"].values()) == pytest.approx(week["difference"], abs=1e-6)

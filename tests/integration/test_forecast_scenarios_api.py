"""POST /v1/forecasts/scenarios: one series under named plans, side by side, audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import settings_support as support
from api_support import error_of, serve
from auth_support import bearer
from fastapi.testclient import TestClient

from candor.models.settings import Settings

SCENARIOS = "/v1/forecasts/scenarios"
WEEKS = 4


@pytest.fixture(scope="module")
def settings(forecast_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return support.with_own_audit_store(forecast_settings, tmp_path_factory.mktemp("scenarios"))


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    with serve(settings) as client:
        yield client


@pytest.fixture(scope="module")
def series(api: TestClient) -> dict[str, Any]:
    return api.get("/v1/forecasts/model").json()["series"][3]  # type: ignore[no-any-return]


def ask(api: TestClient, series: dict[str, Any], plans: dict[str, Any]) -> Any:
    return api.post(SCENARIOS, json={"series": series, "horizon": WEEKS, "scenarios": plans})


def test_plans_are_answered_side_by_side_with_their_difference_by_driver(
    api: TestClient, settings: Settings, series: dict[str, Any]
) -> None:
    response = ask(
        api, series, {"baseline": {"promo": [0] * WEEKS}, "spring_promo": {"promo": [0, 1, 1, 0]}}
    )
    assert response.status_code == 200, response.text
    base, promo = response.json()["scenarios"]
    assert (base["name"], base["against"], base["difference"]) == ("baseline", None, [])
    assert promo["name"] == "spring_promo" and promo["against"] == "baseline"
    assert promo["forecast"]["planned_covariates"] == {"promo": [0.0, 1.0, 1.0, 0.0]}
    for week, mine, theirs in zip(
        promo["difference"],
        promo["forecast"]["forecast"],
        base["forecast"]["forecast"],
        strict=True,
    ):
        assert week["week"] == mine["week"] == theirs["week"]
        assert week["difference"] == pytest.approx(mine["point"] - theirs["point"])
        assert sum(week["drivers"].values()) == pytest.approx(week["difference"], abs=1e-6)
        half = (theirs["hi80"] - theirs["lo80"]) / 2
        assert week["within_80"] is (abs(week["difference"]) < half)
    total = sum(w["difference"] for w in promo["difference"])
    assert promo["total_difference"] == pytest.approx(total)
    # the sample's promotions lift sales: the model says so in the activity driver
    assert all(w["drivers"]["activity"] > 0 for w in promo["difference"][1:3])
    assert promo["total_difference"] > 0
    # each plan's forecast is audited, with the plan's name
    record = api.get(
        f"/v1/forecasts/{promo['forecast']['forecast_id']}", headers=bearer(settings, "reviewer")
    )
    assert record.status_code == 200, record.text
    assert record.json()["scenario"] == "spring_promo"
    assert record.json()["planned_covariates"] == {"promo": [0.0, 1.0, 1.0, 0.0]}
    # what-if plans are not measured as forecasts once actuals arrive
    sold = [{**series, "week": w["week"], "units": 50} for w in base["forecast"]["forecast"]]
    reviewer = bearer(settings, "reviewer")
    assert (
        api.post("/v1/sales/actuals", json={"actuals": sold}, headers=reviewer).status_code == 201
    )
    accuracy = api.get("/v1/forecasts/accuracy", headers=reviewer).json()
    assert accuracy["forecasts"] == 0 and accuracy["overall"]["weeks"] == 0


def test_a_plan_outside_the_training_range_is_refused_by_name(
    api: TestClient, series: dict[str, Any]
) -> None:
    flag = ask(api, series, {"baseline": {}, "bad": {"promo": [0, 2, 0, 0]}})
    assert flag.status_code == 422, flag.text
    assert "scenarios.bad.promo[1]" in [d["field"] for d in error_of(flag)["details"]]
    unknown = ask(api, series, {"baseline": {}, "odd": {"weather": [1, 1, 1, 1]}})
    assert unknown.status_code == 422
    assert any(d["field"].startswith("scenarios.odd") for d in error_of(unknown)["details"])
    lonely = ask(api, series, {"baseline": {}})
    assert lonely.status_code == 422 and "scenarios" in error_of(lonely)["message"]
    named = ask(api, series, {"baseline": {}, "has space": {}})
    assert named.status_code == 422
    nowhere = ask(api, {**series, "territory": "Atlantis"}, {"a": {}, "b": {}})
    assert nowhere.status_code == 422
    assert [d["field"] for d in error_of(nowhere)["details"]] == ["series"]

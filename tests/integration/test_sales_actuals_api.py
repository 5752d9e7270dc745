"""Sales actuals (POST /v1/sales/actuals and `candor sales actuals`) and forecast accuracy
(GET /v1/forecasts/accuracy): MASE, bias and coverage by weeks ahead beside seasonal naive, and
the value a reviewer's override with replacement units added.

The forecasts are the sample forecaster's; the actuals are made from them (each week's point,
one week moved by a known amount), so every figure the report gives is known exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import settings_support as support
from api_support import error_of, serve
from auth_support import bearer
from fastapi.testclient import TestClient

from candor.cli.main import main as cli
from candor.models.settings import Settings, get_settings
from candor.serving.audit.factory import open_store

ACTUALS = "/v1/sales/actuals"
ACCURACY = "/v1/forecasts/accuracy"
WEEKS = 4


@pytest.fixture(scope="module")
def settings(forecast_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The sample forecaster, with an audit store of this module's own."""
    return support.with_own_audit_store(forecast_settings, tmp_path_factory.mktemp("actuals"))


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    with serve(settings, role="admin") as client:
        yield client


@pytest.fixture(scope="module")
def forecasts(api: TestClient) -> list[dict[str, Any]]:
    series = api.get("/v1/forecasts/model").json()["series"][:2]
    response = api.post("/v1/forecasts", json={"series": series, "horizon": WEEKS})
    assert response.status_code == 200, response.text
    return response.json()["results"]  # type: ignore[no-any-return]


def series_of(result: dict[str, Any]) -> dict[str, str]:
    return {"territory": result["territory"], "product": result["product"]}


def actuals_of(result: dict[str, Any], moved: dict[int, float] | None = None) -> list[dict]:
    """The forecast's weeks with each point as the actual (plus ``moved[i]`` in week i)."""
    moved = moved or {}
    return [
        {**series_of(result), "week": w["week"], "units": w["point"] + moved.get(i, 0.0)}
        for i, w in enumerate(result["forecast"])
    ]


def test_actuals_are_recorded_corrected_and_measured(
    api: TestClient, settings: Settings, forecasts: list[dict[str, Any]]
) -> None:
    exact, off = forecasts
    reviewer = bearer(settings, "reviewer")
    first = api.post(
        ACTUALS, json={"actuals": actuals_of(exact) + actuals_of(off)}, headers=reviewer
    )
    assert first.status_code == 201, first.text
    assert first.json()["recorded"] == 2 * WEEKS and first.json()["corrected"] == 0

    perfect = api.get(ACCURACY, headers=reviewer).json()
    assert perfect["forecasts"] == 2 and perfect["overall"]["weeks"] == 2 * WEEKS
    assert perfect["overall"]["mase"] == pytest.approx(0.0, abs=1e-9)
    assert perfect["overall"]["bias"] == pytest.approx(0.0, abs=1e-9)
    assert perfect["overall"]["coverage_80"] == 1.0 == perfect["overall"]["coverage_95"]
    # the sample's history holds the weeks a year before: seasonal naive is scored beside
    assert perfect["overall"]["naive_weeks"] == 2 * WEEKS
    assert perfect["overall"]["naive_mase"] > 0 and perfect["overall"]["relative_mase"] == 0
    assert [s["weeks_ahead"] for s in perfect["by_weeks_ahead"]] == list(range(1, WEEKS + 1))
    assert all(s["weeks"] == 2 for s in perfect["by_weeks_ahead"])

    # the same week again with other units: a correction, and the newest value stands;
    # moved 50 units past the top of the week's 95% interval
    moved = off["forecast"][2]["hi95"] - off["forecast"][2]["point"] + 50.0
    corrected = api.post(ACTUALS, json={"actuals": actuals_of(off, {2: moved})}, headers=reviewer)
    assert corrected.status_code == 201, corrected.text
    assert corrected.json() | {"first_seq": 0, "last_seq": 0} == {
        "recorded": 0,
        "corrected": 1,
        "unchanged": WEEKS - 1,
        "first_seq": 0,
        "last_seq": 0,
    }
    after = api.get(ACCURACY, headers=reviewer).json()
    assert after["overall"]["bias"] == pytest.approx(-moved / (2 * WEEKS))
    assert after["overall"]["mase"] > 0
    third = next(s for s in after["by_weeks_ahead"] if s["weeks_ahead"] == 3)
    assert third["bias"] == pytest.approx(-moved / 2)
    assert third["coverage_95"] == 0.5 and third["coverage_80"] == 0.5
    assert [w["week"] for w in after["over_time"]] == sorted(w["week"] for w in off["forecast"])

    # a window that ends before the forecast weeks measures nothing
    start = off["forecast"][0]["week"]
    empty = api.get(ACCURACY, params={"until": start}, headers=reviewer).json()
    assert empty["forecasts"] == 0 and empty["unmeasured"] == {"no_actual": 0, "no_scale": 0}
    assert empty["overall"]["mase"] is None

    store = open_store(settings)
    try:
        assert store.verify().ok  # actuals and the correction are in the signed log
    finally:
        store.close()


def test_an_override_with_replacement_units_is_measured_as_value_added(
    api: TestClient, settings: Settings, forecasts: list[dict[str, Any]]
) -> None:
    reviewer = bearer(settings, "reviewer")
    third = api.get("/v1/forecasts/model").json()["series"][2]
    made = api.post("/v1/forecasts", json={"series": [third], "horizon": WEEKS})
    assert made.status_code == 200, made.text
    [ahead] = made.json()["results"]
    moved = 120.0
    # the reviewer expected the jump that happened in the third week, before it happened
    replacement = [w["point"] + (moved if i == 2 else 0.0) for i, w in enumerate(ahead["forecast"])]
    decided = api.post(
        f"/v1/reviews/{ahead['forecast_id']}",
        json={
            "decision": "override",
            "comment": "a tender lands in week 3",
            "replacement": replacement,
        },
        headers=reviewer,
    )
    assert decided.status_code == 201, decided.text
    assert decided.json()["decision"]["replacement"] == replacement
    recorded = api.post(ACTUALS, json={"actuals": actuals_of(ahead, {2: moved})}, headers=reviewer)
    assert recorded.status_code == 201, recorded.text
    # an override written once the actuals were known is hindsight: not measured
    exact, _ = forecasts
    hindsight = [w["point"] for w in exact["forecast"]]
    late = api.post(
        f"/v1/reviews/{exact['forecast_id']}",
        json={
            "decision": "override",
            "comment": "with the actuals in hand",
            "replacement": hindsight,
        },
        headers=reviewer,
    )
    assert late.status_code == 201, late.text

    added = api.get(ACCURACY, headers=reviewer).json()["value_added"]
    assert added["overrides"] == 1 and added["weeks"] == WEEKS
    assert added["override_mase"] == pytest.approx(0.0, abs=1e-9)
    assert added["served_mase"] > 0 and added["value_added"] == pytest.approx(added["served_mase"])


def test_a_replacement_is_refused_where_it_cannot_be_measured(
    api: TestClient, settings: Settings, forecasts: list[dict[str, Any]]
) -> None:
    exact, _ = forecasts
    reviewer = bearer(settings, "reviewer")
    path = f"/v1/reviews/{exact['forecast_id']}"
    short = api.post(
        path, json={"decision": "override", "comment": "x", "replacement": [1.0]}, headers=reviewer
    )
    assert short.status_code == 422 and error_of(short)["details"][0]["field"] == "replacement"
    negative = api.post(
        path,
        json={"decision": "override", "comment": "x", "replacement": [-1.0] * WEEKS},
        headers=reviewer,
    )
    assert negative.status_code == 422 and "replacement[0]" in error_of(negative)["message"]
    confirm = api.post(
        path, json={"decision": "confirm", "replacement": [1.0] * WEEKS}, headers=reviewer
    )
    assert confirm.status_code == 422 and "override" in error_of(confirm)["message"]


def test_bad_actuals_are_refused_naming_the_field(
    api: TestClient, settings: Settings, forecasts: list[dict[str, Any]]
) -> None:
    exact, _ = forecasts
    reviewer = bearer(settings, "reviewer")
    week = date.fromisoformat(exact["forecast"][0]["week"])
    good = {**series_of(exact), "week": week.isoformat(), "units": 5}
    cases = {
        "actuals[0]": {**good, "territory": "Atlantis"},  # no such series
        "actuals[0].product": {**good, "product": None},
        "actuals[0].week": {**good, "week": (week + timedelta(days=1)).isoformat()},
        "actuals[0].units": {**good, "units": -3},
        "actuals[0].colour": {**good, "colour": "red"},
    }
    for field, item in cases.items():
        response = api.post(ACTUALS, json={"actuals": [item]}, headers=reviewer)
        assert response.status_code == 422, (field, response.text)
        assert field in [d["field"] for d in error_of(response)["details"]], field
    future = date.today() + timedelta(weeks=2)
    future -= timedelta(days=(future.weekday() - week.weekday()) % 7)
    ahead = api.post(
        ACTUALS, json={"actuals": [{**good, "week": future.isoformat()}]}, headers=reviewer
    )
    assert ahead.status_code == 422 and "future" in error_of(ahead)["message"]
    twice = api.post(ACTUALS, json={"actuals": [good, {**good, "units": 6}]}, headers=reviewer)
    assert twice.status_code == 422 and "actuals[1]" in error_of(twice)["message"]
    flag = api.post(ACTUALS, json={"actuals": [{**good, "units": True}]}, headers=reviewer)
    assert flag.status_code == 422
    huge = api.post(
        ACTUALS,
        content=b'{"actuals": [{"territory": "%s", "product": "%s", "week": "%s", "units": %s}]}'
        % (
            exact["territory"].encode(),
            exact["product"].encode(),
            good["week"].encode(),
            b"9" * 400,
        ),
        headers={**reviewer, "Content-Type": "application/json"},
    )
    assert huge.status_code == 422 and error_of(huge)["details"][0]["field"] == "actuals[0].units"
    scorer = api.post(ACTUALS, json={"actuals": [good]}, headers=bearer(settings, "scorer"))
    assert scorer.status_code == 403
    bad_level = api.get(ACCURACY, params={"level": "galaxy"}, headers=reviewer)
    assert bad_level.status_code == 422 and error_of(bad_level)["details"][0]["field"] == "level"
    bad_date = api.get(ACCURACY, params={"since": "last tuesday"}, headers=reviewer)
    assert bad_date.status_code == 422 and error_of(bad_date)["details"][0]["field"] == "since"


def test_the_cli_records_actuals_from_a_file(
    settings: Settings,
    forecasts: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    _, off = forecasts
    path = tmp_path / "actuals.csv"
    rows = ["week,territory,product,units"] + [
        f"{w['week']},{off['territory']},{off['product']},{round(w['point']) + 1}"
        for w in off["forecast"]
    ]
    path.write_text("\n".join(rows) + "\n")
    support.no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(settings.home))
    monkeypatch.setenv("CANDOR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CANDOR_AUDIT_CHECKPOINTS", str(settings.audit_checkpoints))
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)

    assert cli(["sales", "actuals", "--data", str(path), "--by", "ops"]) == 0
    receipt = json.loads(capsys.readouterr().out)
    assert receipt["corrected"] + receipt["recorded"] == WEEKS
    assert cli(["sales", "actuals", "--data", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == WEEKS

    path.write_text("week,territory,product,units\n2025-01-06,Nowhere,Glucora,3\n")
    assert cli(["sales", "actuals", "--data", str(path)]) != 0
    error = capsys.readouterr().err
    assert "row[1]" in error and "Nowhere" in error


def test_the_demo_actuals_measure_the_demo_forecast(settings: Settings, tmp_path: Path) -> None:
    """`make demo`'s curls: the demo forecast, then its actuals, then the accuracy report."""
    repo = Path(__file__).resolve().parents[2] / "data_samples"
    own = support.with_own_audit_store(settings, tmp_path)
    with serve(own, role="admin") as client:
        forecast = json.loads((repo / "demo_forecast_request.json").read_text())
        assert client.post("/v1/forecasts", json=forecast).status_code == 200
        actuals = json.loads((repo / "demo_actuals.json").read_text())
        recorded = client.post(ACTUALS, json=actuals)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["recorded"] == len(actuals["actuals"])
        report = client.get(ACCURACY).json()
    assert report["overall"]["weeks"] == len(actuals["actuals"]) and report["forecasts"] == 2
    assert report["overall"]["mase"] is not None and report["overall"]["naive_mase"] is not None

"""A real export's shape end to end: 140 weeks (under the 182 the default backtest windows
need), numbered stores, weeks labelled by the Friday that ends them, sales in dollars and a
Californian calendar. It trains and backtests with the defaults, says what it chose and how
long each part took, and is served in the file's terms: its week labels and its key types.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from auth_support import bearer
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient
from settings_support import make_settings

from candor.data_samples.generate_sales import generate_sales
from candor.models.settings import Settings, get_settings
from candor.serving.app import create_app
from candor.training.forecast.backtest import AUTO_ETS, CONFORMAL, MODEL, SEASONAL_NAIVE
from candor.training.forecast.pipeline import FINAL_FIT, ForecastTrainingSummary, train_forecast

pytestmark = pytest.mark.slow

WEEKS = 140
STORES = {"Lakeshore": "1", "Highland": "2"}  # the generator's territories, as store numbers
PRICE = 12.5  # dollars a unit


@dataclass
class Export:
    settings: Settings
    summary: ForecastTrainingSummary
    said: list[str]


def write_export(folder: Path) -> tuple[Path, Path]:
    """One product in two stores, the week's Friday in `week_ending`, sales in dollars."""
    frame = generate_sales(weeks=WEEKS, seed=5, territories={t: 1.0 for t in STORES})
    frame = frame[frame["product"] == "Cardiolex"]
    export = pd.DataFrame(
        {
            # the generator's weeks start on Monday; the export labels each by its Friday
            "week_ending": (pd.to_datetime(frame["week"]) + pd.Timedelta(days=4)).dt.strftime(
                "%Y-%m-%d"
            ),
            "store": frame["territory"].map(STORES),
            "sales": frame["units"] * PRICE,
            "promo": frame["promo"],
        }
    )
    data = folder / "store_sales.csv"
    export.to_csv(data, index=False)
    contract = {
        "name": "store-sales",
        "version": "1",
        "layout": {"week_label": "end"},
        "holidays": {"country": "US", "subdiv": "CA"},
        "fields": [
            {"name": "week_ending", "role": "date", "description": "the Friday ending the week"},
            {"name": "store", "role": "series", "description": "store number"},
            {"name": "sales", "role": "target", "unit": "USD"},
            {"name": "promo", "role": "covariate", "kind": "boolean", "known_in_future": True},
        ],
    }
    path = folder / "store_sales.yaml"
    path.write_text(yaml.safe_dump(contract, sort_keys=False))
    return data, path


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    folder = tmp_path_factory.mktemp("store_export")
    data, contract = write_export(folder)
    settings = make_settings(folder / "home")
    said: list[str] = []
    summary = train_forecast(
        data=data, settings=settings, contract_path=contract, horizon=4, say=said.append
    )
    return Export(settings, summary, said)


@pytest.fixture(scope="module")
def api(export: Export) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: export.settings
    with TestClient(app) as client:
        client.headers.update(bearer(export.settings, "scorer"))
        yield client


def forecast(api: TestClient, store: Any, horizon: int = 4) -> Any:
    return api.post("/v1/forecasts", json={"series": [{"store": store}], "horizon": horizon})


def test_a_140_week_history_trains_and_backtests_with_the_defaults(export: Export) -> None:
    summary = export.summary
    assert summary.gate.promoted
    config = summary.backtest.config
    assert (config.calibration_weeks, config.eval_weeks) == (26, 26)
    assert summary.windows.sized == ("calibration_weeks", "eval_weeks")
    assert summary.windows.shortest == WEEKS
    assert set(summary.backtest.tables) == {MODEL, SEASONAL_NAIVE, AUTO_ETS}
    assert summary.metrics["n"] == 2 * 23 * 4  # 2 stores x origins -26..-4 x 4 weeks ahead


def test_training_states_the_windows_and_each_parts_time(export: Export) -> None:
    windows = next(line for line in export.said if line.startswith("backtest: 26 calibration"))
    assert windows == export.summary.windows.describe()
    assert "sized to the shortest series of 140 weeks" in windows
    assert "at least 104" in windows  # the minimum
    parts = [f"backtest {MODEL}: ", f"backtest {CONFORMAL}: ", f"backtest {SEASONAL_NAIVE}: "]
    parts += [f"backtest {AUTO_ETS}: ", f"{FINAL_FIT}: "]
    for part in parts:
        line = next(x for x in export.said if x.startswith(part))
        assert line[len(part) :].split(" ")[1] == "s"  # "<seconds> s (...)"
    assert set(export.summary.seconds) >= {MODEL, CONFORMAL, SEASONAL_NAIVE, AUTO_ETS, FINAL_FIT}
    client = MlflowClient(tracking_uri=export.settings.tracking_uri)
    run = client.get_run(export.summary.run_id)
    for part in export.summary.seconds:
        assert run.data.metrics[f"seconds_{part}"] >= 0.0
    params = run.data.params
    assert params["backtest_windows"] == windows
    assert (params["backtest_calibration_weeks"], params["backtest_eval_weeks"]) == ("26", "26")
    assert params["holidays"].startswith("public holidays of US-CA")
    assert "holidays package" in params["holidays"]


def test_every_date_of_a_forecast_is_the_files_friday(api: TestClient) -> None:
    assert api.get("/v1/forecasts/model").json()["week_label"] == "end"
    response = forecast(api, "1")
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    last = date.fromisoformat(result["last_observed_week"])
    assert last.strftime("%A") == "Friday"
    weeks = [date.fromisoformat(w["week"]) for w in result["forecast"]]
    assert weeks == [last + timedelta(weeks=i) for i in range(1, 5)]
    recent = [date.fromisoformat(w) for w in result["recent_weeks"]["weeks"]]
    assert recent == [last - timedelta(weeks=i) for i in (3, 2, 1, 0)]
    # the week's first day is still given, named as what it is
    assert [date.fromisoformat(w["week_start"]) for w in result["forecast"]] == [
        w - timedelta(days=6) for w in weeks
    ]


def test_a_numeric_store_key_finds_the_series_its_text_names(api: TestClient) -> None:
    as_text = forecast(api, "1").json()["results"][0]
    for store in (1, 1.0):
        response = forecast(api, store)
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        assert result["store"] == "1"
        assert [w["point"] for w in result["forecast"]] == [w["point"] for w in as_text["forecast"]]


@pytest.mark.parametrize(
    ("store", "says"),
    [
        (True, "got a boolean"),
        ({"secret": "s3cr3t"}, "got an object"),
        (["s3cr3t"], "got an array of 1 items"),
        (None, "required"),
        ("", "required"),
    ],
)
def test_a_key_of_another_type_is_a_422_naming_the_field_without_echoing_it(
    api: TestClient, store: Any, says: str
) -> None:
    response = forecast(api, store)
    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "series[0].store"
    assert says in detail["message"]
    assert "s3cr3t" not in response.text and "true" not in response.text.lower()


def test_an_unknown_numeric_store_lists_the_known_ones(api: TestClient) -> None:
    response = forecast(api, 3)
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "series[0]"
    assert "store '3' is unknown (known: 1, 2)" in detail["message"]

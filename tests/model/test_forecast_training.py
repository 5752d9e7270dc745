"""Training the sales forecaster on the committed sample: registry, gate, intervals, drivers.

One module-scoped history: a forecaster trained with a short backtest (champion), then a
deliberately weak one (3 trees per booster) on the same data, which the gate must refuse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from settings_support import make_settings

from candor.explain.forecast_drivers import week_drivers
from candor.models.contract import SALES_WEEKLY
from candor.models.errors import InputValidationError, OptionError
from candor.models.forecast import FEATURE_GROUPS, SalesForecaster, build_features
from candor.models.settings import Settings
from candor.registry import FORECAST, LoadedModel, load_model
from candor.registry.loader import load_pyfunc
from candor.training.forecast.backtest import AUTO_ETS, MODEL, SEASONAL_NAIVE, BacktestConfig
from candor.training.forecast.data import read_hierarchy, read_panel
from candor.training.forecast.fit import BoosterParams
from candor.training.forecast.pipeline import (
    ForecastTrainingSummary,
    data_fingerprint,
    forecast_gate,
    train_forecast,
)
from candor.training.forecast.reconcile import RECONCILED

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data_samples" / "sales_weekly.csv"
HORIZON = 3
BACKTEST = BacktestConfig(eval_weeks=8, horizon=3, step=4, calibration_weeks=16, refit_every=12)
WEAK = BoosterParams(n_estimators=3)


@dataclass
class Trained:
    settings: Settings
    first: ForecastTrainingSummary
    weak: ForecastTrainingSummary
    champion: LoadedModel[SalesForecaster]

    @property
    def forecaster(self) -> SalesForecaster:
        return self.champion.model


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    settings = make_settings(tmp_path_factory.mktemp("forecast_home"))
    first = train_forecast(data=SAMPLE, settings=settings, horizon=HORIZON, backtest=BACKTEST)
    weak = train_forecast(
        data=SAMPLE,
        settings=settings,
        horizon=HORIZON,
        backtest=replace(BACKTEST, baselines=False),
        params=WEAK,
    )
    yield Trained(settings, first, weak, load_model(settings, kind=FORECAST))


def version_tags(settings: Settings, version: str) -> dict[str, str]:
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    return dict(client.get_model_version(settings.forecast_model_name, version).tags)


def test_first_model_is_registered_and_becomes_champion(trained: Trained) -> None:
    first = trained.first
    assert first.model_name == "candor-sales-forecaster"
    assert first.version == "1"
    assert first.gate.promoted
    assert trained.champion.version == "1"
    assert trained.champion.alias == "champion"
    tags = version_tags(trained.settings, "1")
    assert tags["gate.promoted"] == "True"
    assert tags["contract"] == SALES_WEEKLY.version_tag
    assert tags["data_sha256"] == data_fingerprint(SAMPLE)


def test_gate_refuses_a_worse_model_on_the_same_data(trained: Trained) -> None:
    weak = trained.weak
    assert weak.version == "2"  # registered all the same, for the record
    assert not weak.gate.promoted
    assert weak.gate.compared == "stored"
    assert weak.gate.champion_version == "1"
    assert weak.gate.new_mase > weak.gate.champion_mase  # type: ignore[operator]
    assert "worse than champion v1" in weak.gate.reason
    assert version_tags(trained.settings, "2")["gate.promoted"] == "False"
    assert trained.champion.version == "1"


def test_gate_backtests_the_champion_when_the_data_changed(trained: Trained) -> None:
    """On other data the champion's settings are backtested here: same settings, same MASE."""
    frame, panel = read_panel(SAMPLE, SALES_WEEKLY)
    gate = forecast_gate(
        trained.first.backtest,
        panel=panel,
        contract=SALES_WEEKLY,
        data_sha256="another file",
        settings=trained.settings,
        hierarchy=read_hierarchy(frame, SALES_WEEKLY, panel),
    )
    assert gate.compared == "rerun"
    assert gate.champion_mase == pytest.approx(trained.first.metrics["mase"], rel=1e-9)
    assert gate.promoted  # equal is good enough


def test_backtest_reports_model_and_baselines_on_the_same_origins(trained: Trained) -> None:
    tables = trained.first.backtest.tables
    # the sample's hierarchy: every node backtested, and the reconciled forecasts served
    assert set(tables) == {MODEL, SEASONAL_NAIVE, AUTO_ETS, RECONCILED}
    assert trained.first.backtest.served == RECONCILED
    counts = {m: t["overall"]["n"] for m, t in tables.items()}
    # 70 nodes (24 series) x 2 scored origins (weeks -8 and -4) x 3 weeks ahead
    assert counts == {m: 70 * 2 * 3 for m in tables}
    for table in tables.values():
        assert len(table) == 71  # every node and overall
        for metrics in table.values():
            assert {"mase", "smape", "rmse", "coverage80", "coverage95", "winkler80"} <= set(
                metrics
            )
    # on the sample the model should beat both baselines clearly
    assert tables[MODEL]["overall"]["mase"] < 0.9 * tables[AUTO_ETS]["overall"]["mase"]
    assert tables[MODEL]["overall"]["mase"] < tables[SEASONAL_NAIVE]["overall"]["mase"]


def test_run_holds_metrics_table_plot_and_contract(trained: Trained) -> None:
    client = MlflowClient(tracking_uri=trained.settings.tracking_uri)
    run = client.get_run(trained.first.run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "candor-forecast"
    for key in ("backtest_mase", "backtest_coverage80", "seasonal_naive_mase", "auto_ets_mase"):
        assert key in run.data.metrics
    assert run.data.metrics["backtest_mase"] == pytest.approx(trained.first.metrics["mase"])
    assert run.data.tags["gate.promoted"] == "True"
    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"forecast_plot.png", "contract.yaml", "gate.json", "backtest"} <= top
    tables = {a.path for a in client.list_artifacts(run.info.run_id, "backtest")}
    assert tables == {
        "backtest/backtest_table.csv",
        "backtest/backtest_table.json",
        "backtest/hierarchy_levels.json",
    }
    levels = json.loads(
        Path(
            client.download_artifacts(run.info.run_id, "backtest/hierarchy_levels.json")
        ).read_text()
    )
    rows = {(r["method"], r["level"]) for r in levels["levels"]}
    assert ("min_trace", "all/all") in rows and ("bottom_up", "territory/product") in rows
    plot = Path(client.download_artifacts(run.info.run_id, "forecast_plot.png"))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_registered_model_holds_no_pickle(trained: Trained) -> None:
    uri = trained.settings.tracking_uri
    source = MlflowClient(tracking_uri=uri).get_model_version_download_uri(
        trained.settings.forecast_model_name, "1"
    )
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=uri))
    files = [p.name for p in local.rglob("*") if p.is_file()]
    assert "forecast_pyfunc_entry.py" in files  # models from code
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))]
    assert "booster_h01.txt" in files


def test_intervals_nest_around_the_point(trained: Trained) -> None:
    for series in trained.forecaster.forecast(horizon=HORIZON, explain="none"):
        for w in series.weeks:
            assert 0 <= w.lower[95] <= w.lower[80] <= w.point <= w.upper[80] <= w.upper[95]
            assert w.upper[95] > w.lower[95]


def test_drivers_and_base_add_up_to_the_point(trained: Trained) -> None:
    for series in trained.forecaster.forecast(horizon=HORIZON, explain="all"):
        for w in series.weeks:
            assert w.contributions is not None
            drivers = week_drivers(w, trained.forecaster.layout_)
            assert set(drivers) == set(FEATURE_GROUPS)
            assert sum(drivers.values()) == pytest.approx(w.point, rel=1e-9, abs=1e-9)
            assert w.baseline is not None
            if w.point > 0:  # not clipped at 0 units
                total = w.baseline + sum(w.contributions.values())
                assert total == pytest.approx(w.point, rel=1e-9)


def test_weeks_follow_the_last_observed_week(trained: Trained) -> None:
    [series] = trained.forecaster.forecast(keys=[("Northgate", "Flumistar")], horizon=HORIZON)
    assert series.last_observed_week == "2024-12-30"
    assert [w.week for w in series.weeks] == ["2025-01-06", "2025-01-13", "2025-01-20"]
    assert series.key == {"territory": "Northgate", "product": "Flumistar"}


def test_planned_promotion_raises_the_forecast_through_activity(trained: Trained) -> None:
    key = ("Lakeshore", "Cardiolex")
    forecasts = {}
    for flag in (0.0, 1.0):
        plan = {key: {"promo": [flag] * HORIZON, "rep_calls": [9.0] * HORIZON}}
        [forecasts[flag]] = trained.forecaster.forecast(
            keys=[key], horizon=HORIZON, future_covariates=plan
        )
    for off, on in zip(forecasts[0.0].weeks, forecasts[1.0].weeks, strict=True):
        assert on.point > 1.1 * off.point  # the true lift is 30%
        activity_on = week_drivers(on, trained.forecaster.layout_)["activity"]
        activity_off = week_drivers(off, trained.forecaster.layout_)["activity"]
        assert activity_on > activity_off + 0.05 * off.point
    assert forecasts[0.0].assumed == []


def test_unplanned_covariates_are_assumed_and_listed(trained: Trained) -> None:
    [series] = trained.forecaster.forecast(keys=[("Lakeshore", "Glucora")], horizon=2)
    assert series.assumed == ["promo", "rep_calls"]
    assert len(series.weeks) == 2


def test_winter_is_credited_to_seasonality_for_respiratory_products(trained: Trained) -> None:
    keys = [(t, "Flumistar") for t in trained.forecaster.categories_["territory"]]
    for series in trained.forecaster.forecast(keys=keys, horizon=HORIZON):
        drivers = week_drivers(series.weeks[0], trained.forecaster.layout_)
        assert drivers["seasonality"] > 0, series.key


NF = ("Northgate", "Flumistar")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"keys": [("Atlantis", "Flumistar")]}, "series"),
        ({"keys": [("Northgate",)]}, "series"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": HORIZON + 1}, "horizon"),
        ({"horizon": "2"}, "horizon"),
        ({"future_covariates": {("Northgate", "Glucora"): {"promo": [1, 0, 0]}}},
         "future_covariates"),
        ({"future_covariates": {NF: {"promo": [1, 0]}}}, "future_covariates.promo"),
        ({"future_covariates": {NF: {"promo": [2, 0, 0]}}}, "future_covariates.promo"),
        ({"future_covariates": {NF: {"rep_calls": ["x", 1, 1]}}}, "future_covariates.rep_calls"),
        ({"future_covariates": {NF: {"rep_calls": [1, float("nan"), 1]}}},
         "future_covariates.rep_calls"),
        ({"future_covariates": {NF: {"samples_dropped": [1, 1, 1]}}},
         "future_covariates.samples_dropped"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_field(trained: Trained, kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    args = {"keys": [NF], "horizon": HORIZON, **kwargs}
    with pytest.raises(InputValidationError) as caught:
        trained.forecaster.forecast(**args)
    assert caught.value.code == "input_invalid"
    assert [d.field for d in caught.value.details] == [field]


def test_stored_history_gives_the_forecast_of_the_full_history(trained: Trained) -> None:
    """Train/serve parity: the history kept with the model is enough to forecast (to 1e-3:
    the exponentially weighted levels start at the first week kept, a node's can cross a
    tree's threshold, and reconciliation spreads each node's difference over its series)."""
    _, panel = read_panel(SAMPLE, SALES_WEEKLY)
    stored = trained.forecaster.forecast(horizon=HORIZON, explain="none")
    full = trained.forecaster.forecast(horizon=HORIZON, history=panel, explain="none")
    for a, b in zip(stored, full, strict=True):
        assert [w.point for w in a.weeks] == pytest.approx([w.point for w in b.weeks], rel=1e-3)


def test_serving_forecasts_are_the_training_transformation_reconciled(
    trained: Trained,
) -> None:
    """Serving forecasts every node in one booster call per week ahead, from features split
    into origin and week-ahead parts, then reconciles them. The points must be those of
    training's ``build_features`` for each node alone, mapped by the model's MinTrace
    projection (``S @ max(P @ base, 0)``), in the order asked."""
    f = trained.forecaster
    hierarchy = f.hierarchy_
    assert hierarchy is not None and f.reconciliation_ is not None
    nodes = f.node_histories()
    base = np.zeros((len(hierarchy.nodes), HORIZON))
    for i, key in enumerate(hierarchy.keys):
        extended, _ = f._extend(nodes[key], HORIZON, {})
        origin = np.array([len(nodes[key]) - 1])
        for h in range(1, HORIZON + 1):
            x, level = build_features(
                extended, origin, h, layout=f.layout_, contract=f.contract_, codes=f.codes_for(key)
            )
            base[i, h - 1] = max(float(f.predict_ratio(x, h)[0]) * float(level[0]), 0.0)
    coherent = hierarchy.summing_matrix() @ np.maximum(f.reconciliation_ @ base, 0.0)
    keys = f.series_keys[::-1]  # not the stored order
    together = f.forecast(keys=keys, horizon=HORIZON, explain="none")
    for key, result in zip(keys, together, strict=True):
        assert tuple(result.key.values()) == key
        row = hierarchy.keys.index(key)
        assert [w.point for w in result.weeks] == pytest.approx(coherent[row], rel=1e-9)


def test_plain_file_round_trip(trained: Trained, tmp_path: Path) -> None:
    trained.forecaster.save(tmp_path / "f")
    again = SalesForecaster.load(tmp_path / "f")
    assert again.series_keys == trained.forecaster.series_keys
    assert again.contract_ == trained.forecaster.contract_
    a = trained.forecaster.forecast(horizon=HORIZON, explain="none")
    b = again.forecast(horizon=HORIZON, explain="none")
    assert [w.to_dict() for s in a for w in s.weeks] == [w.to_dict() for s in b for w in s.weeks]


def test_conformal_quantiles_come_from_the_backtest(trained: Trained) -> None:
    for level in (80, 95):
        np.testing.assert_allclose(
            trained.forecaster.quantiles_[level], trained.first.backtest.quantiles[level]
        )


def test_pyfunc_predict_gives_one_row_per_series_and_week(trained: Trained) -> None:
    _, model = load_pyfunc(trained.settings, name=trained.settings.forecast_model_name, ref="1")
    frame = model.predict(
        pd.DataFrame(
            {"territory": ["Northgate", "Southvale"], "product": ["Flumistar", "Glucora"]}
        ),
        params={"horizon": 2},
    )
    assert list(frame.columns) == [
        "territory", "product", "step", "week", "point", "lo80", "hi80", "lo95", "hi95",
    ]  # fmt: skip
    assert len(frame) == 4
    [direct] = trained.forecaster.forecast(keys=[("Southvale", "Glucora")], horizon=2)
    assert frame["point"].iloc[2:].tolist() == pytest.approx([w.point for w in direct.weeks])


def test_a_hierarchy_needs_calibration_weeks_to_fit_min_trace_on(tmp_path: Path) -> None:
    """MinTrace is fitted on calibration errors only: without them it would see the scored
    weeks, and the report would flatter it."""
    with pytest.raises(OptionError) as caught:
        train_forecast(
            data=SAMPLE,
            settings=make_settings(tmp_path),
            horizon=HORIZON,
            backtest=replace(BACKTEST, calibration_weeks=1),
        )
    assert [d.field for d in caught.value.details] == ["calibration_weeks"]

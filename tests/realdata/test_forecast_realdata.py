"""The public weekly pharmacy sales (../shared/data/salesweekly.csv) train from a YAML contract.

Wide file, dates as M/D/YYYY labelling the week's last day, no covariates: only the contract
in data_samples/contracts/pharmacy_sales_weekly.yaml describes it. Skipped, with the reason,
where ../shared/data is absent. The full 52-week backtest is `make bench`; this one is short.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from settings_support import make_settings, no_tracking_server

from candor.cli.main import main as candor
from candor.explain.forecast_drivers import week_drivers
from candor.models.contract import load_sales_contract
from candor.models.settings import get_settings
from candor.registry import FORECAST, load_model
from candor.training.forecast.backtest import AUTO_ETS, MODEL, SEASONAL_NAIVE
from candor.training.forecast.data import read_panel

pytestmark = pytest.mark.realdata

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "data_samples" / "contracts" / "pharmacy_sales_weekly.yaml"
CATEGORIES = ["M01AB", "M01AE", "N02BA", "N02BE", "N05B", "N05C", "R03", "R06"]


def test_the_wide_export_reads_as_eight_weekly_series(shared_data: Path) -> None:
    contract = load_sales_contract(CONTRACT)
    frame, panel = read_panel(shared_data / "salesweekly.csv", contract)
    assert sorted(k[1] for k in panel) == CATEGORIES
    assert {len(s) for s in panel.values()} == {300}
    first = panel[("pharmacy", "M01AB")]
    # 5 January 2014 is the Sunday that ends the first week (Monday 30 December 2013)
    assert str(first.first_week) == "2014-01-05"
    assert first.units[:2].tolist() == [14.0, 29.33]
    assert np.isclose(frame["units"].sum(), sum(s.units.sum() for s in panel.values()))


def test_cli_trains_backtests_and_registers_from_the_contract_alone(
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        code = candor(
            [
                "train", "forecast",
                "--data", str(shared_data / "salesweekly.csv"),
                "--contract", str(CONTRACT),
                "--horizon", "4",
                "--eval-weeks", "12",
                "--step", "4",
                "--calibration-weeks", "26",
            ]
        )  # fmt: skip
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert code == 0
    assert "gate: promoted to champion: first model" in out
    for method in (MODEL, SEASONAL_NAIVE, AUTO_ETS):
        assert f"| {method} |" in out
    loaded = load_model(make_settings(tmp_path), kind=FORECAST)
    assert loaded.contract.startswith("pharmacy-sales-weekly@1+")
    metrics = loaded.metrics
    # 8 series x 3 origins x 4 weeks: a short backtest; the model beats seasonal naive
    assert metrics["mase"] < 1.0
    assert 0.6 <= metrics["coverage80"] <= 0.95
    [r06] = loaded.model.forecast(keys=[("pharmacy", "R06")], horizon=4)
    assert [w.week for w in r06.weeks] == ["2019-10-06", "2019-10-13", "2019-10-20", "2019-10-27"]
    drivers = week_drivers(r06.weeks[0], loaded.model.layout_)
    assert sum(drivers.values()) == pytest.approx(r06.weeks[0].point)
    # the contract's ATC groups: R sums R03 and R06, reconciled (MinTrace) week by week
    assert "| territory/atc_group (3) / min_trace |" in out
    hierarchy = loaded.model.hierarchy_
    assert hierarchy is not None
    group = hierarchy.find({"atc_group": "R"})
    [r, r03] = loaded.model.forecast(keys=[group.key, ("pharmacy", "R03")], horizon=4)
    assert r.sums == [{"territory": "pharmacy", "product": p} for p in ("R03", "R06")]
    for total, a, b in zip(r.weeks, r03.weeks, r06.weeks, strict=True):
        assert total.point == pytest.approx(a.point + b.point, rel=1e-9)

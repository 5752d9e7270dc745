"""The forecast plot says the contract's unit on its axis, not "units" whatever the target."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import yaml

from candor.explain.forecast_plots import ForecastPanel, forecast_figure, target_unit
from candor.models.contract import SALES_WEEKLY, dump_sales_contract, sales_contract_from_dict
from candor.models.forecast import SeriesForecast, SeriesHistory, WeekForecast


def dollars_contract(unit: str) -> dict[str, object]:
    raw = yaml.safe_load(dump_sales_contract(SALES_WEEKLY))
    target = next(f for f in raw["fields"] if f["name"] == "units")
    target["name"], target["unit"] = "revenue", unit
    return raw


def panel() -> ForecastPanel:
    history = SeriesHistory(("North", "A"), np.datetime64("2024-01-01"), np.arange(20.0), {})
    weeks = [
        WeekForecast(h, str(history.week(19 + h)), 20.0, {80: 18.0, 95: 15.0}, {80: 22, 95: 25})
        for h in (1, 2)
    ]
    return ForecastPanel(history, SeriesForecast({}, "2024-05-13", 10.0, 1.0, weeks, []), "A")


def test_the_unit_comes_from_the_contracts_target() -> None:
    assert target_unit(SALES_WEEKLY) == "units"
    assert target_unit(sales_contract_from_dict(dollars_contract("USD"))) == "USD"
    assert target_unit(sales_contract_from_dict(dollars_contract(""))) == "revenue"


def test_the_axis_is_labelled_in_that_unit() -> None:
    fig = forecast_figure([panel(), panel()], unit="USD")
    try:
        visible = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_ylabel() for ax in visible] == ["USD / week", "USD / week"]
    finally:
        plt.close(fig)

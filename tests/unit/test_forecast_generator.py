"""The synthetic sales generator: reproducible, contract-shaped, with its documented effects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from candor.data_samples import SALES_WEEKLY_CSV
from candor.data_samples.generate_sales import (
    DEFAULT_WEEKS,
    RESPIRATORY,
    expected_units,
    generate_sales,
    holiday_factor,
    seasonal_factor,
    week_starts,
)
from candor.models.contract import SALES_WEEKLY
from candor.training.forecast.data import read_panel


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    return generate_sales(weeks=120, seed=3)


def test_committed_sample_is_the_default_output() -> None:
    committed = pd.read_csv(SALES_WEEKLY_CSV)
    pd.testing.assert_frame_equal(committed, generate_sales(), check_dtype=False)
    assert SALES_WEEKLY_CSV.stat().st_size < 1_000_000
    assert len(committed) == 24 * DEFAULT_WEEKS


def test_columns_follow_the_contract_and_the_file_reads(
    sales: pd.DataFrame, tmp_path: Path
) -> None:
    assert list(sales.columns) == SALES_WEEKLY.names
    path = tmp_path / "s.csv"
    sales.to_csv(path, index=False)
    _, panel = read_panel(path, SALES_WEEKLY)
    assert len(panel) == 24
    assert {len(s) for s in panel.values()} == {120}
    assert set(sales["promo"]) == {0, 1}
    assert (sales[["units", "rep_calls", "samples_dropped"]] >= 0).all().all()


def test_weeks_start_on_monday() -> None:
    assert all(pd.Timestamp(w).day_name() == "Monday" for w in week_starts(10))
    with pytest.raises(ValueError, match="Monday"):
        week_starts(3, "2021-01-05")


def test_respiratory_products_peak_in_winter(sales: pd.DataFrame) -> None:
    month = pd.to_datetime(sales["week"]).dt.month
    winter, summer = month.isin([12, 1, 2]), month.isin([6, 7, 8])
    for product in RESPIRATORY:
        mine = sales["product"] == product
        ratio = sales.loc[mine & winter, "units"].mean() / sales.loc[mine & summer, "units"].mean()
        assert ratio > 1.8, product
    weeks = week_starts(52)
    assert seasonal_factor("Cardiolex", weeks).max() < 1.05


def test_holiday_weeks_sell_less() -> None:
    weeks = week_starts(52, "2024-01-01")
    factor = holiday_factor(weeks)
    christmas = np.flatnonzero(weeks == np.datetime64("2024-12-23"))[0]
    assert factor[christmas] == pytest.approx(0.55)
    assert factor[0] == pytest.approx(0.70)  # 2024-01-01 is New Year's Day
    assert factor[10] == 1.0


def test_promotion_and_calls_move_expected_units_as_documented() -> None:
    weeks = week_starts(6)
    calls, samples = np.full(6, 9.0), np.zeros(6)
    base = expected_units("Lakeshore", "Cardiolex", weeks, rep_calls=calls, samples=samples,
                          promo=np.zeros(6))  # fmt: skip
    promo = np.array([0.0, 0, 1, 0, 0, 0])
    with_promo = expected_units("Lakeshore", "Cardiolex", weeks, rep_calls=calls,
                                samples=samples, promo=promo)  # fmt: skip
    assert with_promo / base == pytest.approx([1, 1, 1.3, 0.9, 1, 1])
    more_calls = calls.copy()
    more_calls[1] += 5
    with_calls = expected_units("Lakeshore", "Cardiolex", weeks, rep_calls=more_calls,
                                samples=samples, promo=np.zeros(6))  # fmt: skip
    assert np.log(with_calls / base) == pytest.approx([0, 0.10, 0.05, 0, 0, 0])
    more_samples = samples.copy()
    more_samples[1] = 10
    with_samples = expected_units("Lakeshore", "Cardiolex", weeks, rep_calls=calls,
                                  samples=more_samples, promo=np.zeros(6))  # fmt: skip
    assert np.log(with_samples / base) == pytest.approx([0, 0, 0.025, 0.025, 0, 0])


def test_promotion_weeks_sell_more_in_the_data(sales: pd.DataFrame) -> None:
    lift = sales.groupby(["territory", "product", "promo"])["units"].mean().unstack()
    assert (lift[1] > lift[0]).mean() > 0.8


def test_cli_writes_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from candor.cli.main import main

    out = tmp_path / "sales.csv"
    assert main(["data", "generate", "sales", "--out", str(out), "--seed", "11"]) == 0
    assert out.read_bytes() == SALES_WEEKLY_CSV.read_bytes()
    assert "24 series x 209 weeks" in capsys.readouterr().out

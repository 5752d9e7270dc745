"""Reading weekly sales through a contract: reshaping, and refusals that name the column."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from candor.models.contract import SALES_WEEKLY, GapPolicy, load_sales_contract
from candor.models.errors import DataValidationError
from candor.training.forecast.data import check_aligned, check_lengths, read_panel

REPO = Path(__file__).resolve().parents[2]
PHARMACY = load_sales_contract(REPO / "data_samples" / "contracts" / "pharmacy_sales_weekly.yaml")


def long_frame(weeks: int = 6) -> pd.DataFrame:
    rows = []
    for product in ("A", "B"):
        for i, week in enumerate(pd.date_range("2024-01-01", periods=weeks, freq="7D")):
            rows.append(
                {
                    "week": week.strftime("%Y-%m-%d"),
                    "territory": "T1",
                    "region": "R1",
                    "product": product,
                    "product_line": "L1",
                    "units": 10 + i,
                    "rep_calls": 3,
                    "samples_dropped": 5,
                    "promo": i % 2,
                }
            )
    return pd.DataFrame(rows)


def write(frame: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    return path


def refusal(frame: pd.DataFrame, tmp_path: Path) -> DataValidationError:
    with pytest.raises(DataValidationError) as caught:
        read_panel(write(frame, tmp_path), SALES_WEEKLY)
    return caught.value


def test_long_file_becomes_one_contiguous_series_per_key(tmp_path: Path) -> None:
    _, panel = read_panel(write(long_frame(), tmp_path), SALES_WEEKLY)
    assert list(panel) == [("T1", "A"), ("T1", "B")]
    series = panel[("T1", "A")]
    assert series.units.tolist() == [10, 11, 12, 13, 14, 15]
    assert series.covariates["promo"].tolist() == [0, 1, 0, 1, 0, 1]
    assert str(series.last_week) == "2024-02-05"


def test_wide_file_is_melted_with_the_constant_territory(tmp_path: Path) -> None:
    wide = pd.DataFrame(
        {"datum": ["1/7/2024", "1/14/2024", "1/21/2024"]}
        | {c: [1.5, 2.0, 2.5] for c in PHARMACY.wide.value_columns}  # type: ignore[union-attr]
    )
    _, panel = read_panel(write(wide, tmp_path), PHARMACY)
    assert len(panel) == 8
    assert ("pharmacy", "R06") in panel
    assert panel[("pharmacy", "R06")].units.tolist() == [1.5, 2.0, 2.5]


def test_missing_column_is_named(tmp_path: Path) -> None:
    error = refusal(long_frame().drop(columns=["rep_calls"]), tmp_path)
    assert "['rep_calls']" in error.message
    assert [d.field for d in error.details] == ["rep_calls"]


def test_unknown_column_is_named(tmp_path: Path) -> None:
    error = refusal(long_frame().assign(district="x"), tmp_path)
    assert "['district'] are not in sales contract" in error.message


def test_a_missing_week_names_the_series_and_the_week(tmp_path: Path) -> None:
    frame = long_frame()
    frame = frame[~((frame["product"] == "B") & (frame["week"] == "2024-01-15"))]
    error = refusal(frame, tmp_path)
    assert "'product': 'B'" in error.message
    assert "2024-01-15" in error.message
    assert error.details[0].field == "week"


def test_gaps_zero_fills_the_missing_week_with_nothing_sold(tmp_path: Path) -> None:
    frame = long_frame()
    frame = frame[~((frame["product"] == "B") & (frame["week"] == "2024-01-15"))]
    _, panel = read_panel(write(frame, tmp_path), replace(SALES_WEEKLY, gaps=GapPolicy.ZERO))
    assert panel[("T1", "B")].units.tolist() == [10, 11, 0, 13, 14, 15]


def test_negative_units_and_text_in_numbers_are_refused(tmp_path: Path) -> None:
    frame = long_frame()
    frame.loc[3, "units"] = -2
    assert "negative" in refusal(frame, tmp_path).message
    frame = long_frame().astype({"rep_calls": "str"})
    frame.loc[0, "rep_calls"] = "many"
    error = refusal(frame, tmp_path)
    assert "'rep_calls'" in error.message and "many" in error.message


def test_promo_must_be_a_flag(tmp_path: Path) -> None:
    frame = long_frame()
    frame.loc[0, "promo"] = 2
    error = refusal(frame, tmp_path)
    assert "'promo' is boolean" in error.message


def test_duplicate_week_and_bad_dates_are_refused(tmp_path: Path) -> None:
    frame = pd.concat([long_frame(), long_frame().iloc[[0]]])
    assert "share a (series, week)" in refusal(frame, tmp_path).message
    frame = long_frame()
    frame.loc[1, "week"] = "next monday"
    error = refusal(frame, tmp_path)
    assert "'week'" in error.message and "next monday" in error.message


def test_mixed_weekdays_are_refused(tmp_path: Path) -> None:
    frame = long_frame()
    frame.loc[frame["product"] == "B", "week"] = (
        pd.to_datetime(frame.loc[frame["product"] == "B", "week"])
        .add(pd.Timedelta(days=2))
        .dt.strftime("%Y-%m-%d")
    )
    assert "mixes weekdays" in refusal(frame, tmp_path).message


def test_series_that_end_early_and_short_series_are_named(tmp_path: Path) -> None:
    frame = long_frame()
    frame = frame[~((frame["product"] == "B") & (frame["week"] == "2024-02-05"))]
    assert "end before the last week" in refusal(frame, tmp_path).message
    _, panel = read_panel(write(long_frame(), tmp_path), SALES_WEEKLY)
    check_aligned(panel, SALES_WEEKLY)
    with pytest.raises(DataValidationError, match="at least 10 weeks are needed"):
        check_lengths(panel, SALES_WEEKLY, minimum=10, why="test")


def test_rows_in_any_order_give_series_in_week_order(tmp_path: Path) -> None:
    frame = long_frame().sample(frac=1.0, random_state=0)
    _, panel = read_panel(write(frame, tmp_path), SALES_WEEKLY)
    assert np.all(np.diff(panel[("T1", "A")].units) == 1)


def test_a_territory_in_two_regions_is_refused_by_the_group_column(tmp_path: Path) -> None:
    from candor.training.forecast.data import read_hierarchy

    frame = long_frame()
    frame.loc[frame.index[-1], "region"] = "R2"  # T1 in R1 and, one week, in R2
    path = write(frame, tmp_path)
    long, panel = read_panel(path, SALES_WEEKLY)
    with pytest.raises(DataValidationError) as caught:
        read_hierarchy(long, SALES_WEEKLY, panel)
    assert caught.value.details[0].field == "region"
    assert "more than one group" in caught.value.message


def test_an_empty_product_line_is_refused_by_name(tmp_path: Path) -> None:
    from candor.training.forecast.data import read_hierarchy

    frame = long_frame()
    frame.loc[frame.index[0], "product_line"] = None
    long, panel = read_panel(write(frame, tmp_path), SALES_WEEKLY)
    with pytest.raises(DataValidationError) as caught:
        read_hierarchy(long, SALES_WEEKLY, panel)
    assert caught.value.details[0].field == "product_line"

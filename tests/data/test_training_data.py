"""Reading a CRM export: every refusal names the column (or file) a user must fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from candor.data_samples.generate_leads import generate_leads
from candor.models.contract import HCP_LEADS
from candor.models.errors import DataValidationError
from candor.models.leads.features import build_features, fit_schema
from candor.training.data import MIN_PER_CLASS, columns_of, read_table, validate_frame


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return generate_leads(rows=400, seed=3)


def load(tmp_path: Path, frame: pd.DataFrame, name: str = "leads.csv") -> np.ndarray:
    """Write ``frame`` as a CSV export, then read and validate it as training does."""
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return validate_frame(read_table(path, HCP_LEADS), HCP_LEADS)


def refusal(tmp_path: Path, frame: pd.DataFrame) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load(tmp_path, frame)
    assert info.value.code == "data_invalid"
    return info.value


def test_valid_export_gives_a_binary_target(tmp_path: Path, leads: pd.DataFrame) -> None:
    target = load(tmp_path, leads)
    assert target.tolist() == leads["converted"].tolist()
    assert set(np.unique(target)) == {0, 1}


def test_export_without_pii_or_protected_columns_is_accepted(tmp_path, leads) -> None:
    stripped = leads.drop(columns=["full_name", "email", "phone", "gender", "age_band"])
    assert len(load(tmp_path, stripped)) == len(leads)


@pytest.mark.parametrize("spelling", [("yes", "no"), ("True", "False"), ("1.0", "0.0"), ("Y", "N")])
def test_target_spellings_are_read(tmp_path, leads, spelling) -> None:
    frame = leads.copy()
    frame["converted"] = np.where(leads["converted"] == 1, spelling[0], spelling[1])
    assert load(tmp_path, frame).tolist() == leads["converted"].tolist()


def test_missing_target_column_is_named(tmp_path, leads) -> None:
    error = refusal(tmp_path, leads.drop(columns=["converted"]))
    assert "'converted'" in str(error)
    assert "missing" in str(error)
    assert error.details[0].field == "converted"


def test_non_binary_target_is_refused_naming_column_and_values(tmp_path, leads) -> None:
    frame = leads.copy()
    frame["converted"] = frame["converted"].astype(str)
    frame.loc[[3, 7], "converted"] = ["2", "maybe"]
    error = refusal(tmp_path, frame)
    assert "'converted'" in str(error)
    assert "not binary" in str(error)
    assert "'2'" in str(error)
    assert "'maybe'" in str(error)


def test_missing_target_values_are_refused(tmp_path, leads) -> None:
    frame = leads.copy().astype({"converted": "float64"})
    frame.loc[5, "converted"] = np.nan
    error = refusal(tmp_path, frame)
    assert "'converted'" in str(error)
    assert "1 missing value" in str(error)


def test_empty_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "empty_export.csv"
    path.write_bytes(b"")
    with pytest.raises(DataValidationError) as info:
        read_table(path, HCP_LEADS)
    assert "empty_export.csv" in str(info.value)
    assert "empty" in str(info.value)


def test_header_only_file_is_refused_naming_the_file(tmp_path, leads) -> None:
    path = tmp_path / "header_only.csv"
    leads.head(0).to_csv(path, index=False)
    with pytest.raises(DataValidationError) as info:
        read_table(path, HCP_LEADS)
    assert "header_only.csv" in str(info.value)
    assert "no rows" in str(info.value)


def test_absent_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"nowhere\.csv"):
        read_table(tmp_path / "nowhere.csv", HCP_LEADS)


@pytest.mark.parametrize("label", [0, 1])
def test_too_few_examples_of_a_class_is_refused(tmp_path, leads, label: int) -> None:
    kept = leads[leads["converted"] == label].head(MIN_PER_CLASS - 1)
    frame = pd.concat([leads[leads["converted"] != label], kept])
    error = refusal(tmp_path, frame)
    assert "'converted'" in str(error)
    assert f"{MIN_PER_CLASS - 1} example(s) of class {label}" in str(error)


def test_exactly_the_minimum_per_class_is_accepted(tmp_path, leads) -> None:
    frame = pd.concat(
        [leads[leads["converted"] == 0], leads[leads["converted"] == 1].head(MIN_PER_CLASS)]
    )
    assert int(load(tmp_path, frame).sum()) == MIN_PER_CLASS


def test_unknown_column_is_refused_naming_it(tmp_path, leads) -> None:
    frame = leads.assign(sales_rep_notes="called twice", favourite_colour="blue")
    error = refusal(tmp_path, frame)
    assert "sales_rep_notes" in str(error)
    assert "favourite_colour" in str(error)
    assert {d.field for d in error.details} == {"sales_rep_notes", "favourite_colour"}


@pytest.mark.parametrize("column", ["webinars_attended_90d", "specialty", "prescribing_decile"])
def test_missing_model_input_column_is_refused_naming_it(tmp_path, leads, column: str) -> None:
    error = refusal(tmp_path, leads.drop(columns=[column]))
    assert repr(column) in str(error)
    assert [d.field for d in error.details] == [column]


def test_text_columns_stay_text(tmp_path: Path, leads: pd.DataFrame) -> None:
    path = tmp_path / "leads.csv"
    leads.to_csv(path, index=False)
    frame = read_table(path, HCP_LEADS)
    for name in ("specialty", "lead_id", "phone", "data_use_consent"):
        assert pd.api.types.is_string_dtype(frame[name]), name
    for name in ("rep_visits_90d", "days_since_last_contact"):
        assert pd.api.types.is_numeric_dtype(frame[name]), name


def test_parquet_reads_the_same_as_csv(tmp_path: Path, leads: pd.DataFrame) -> None:
    csv, parquet = tmp_path / "leads.csv", tmp_path / "leads.parquet"
    leads.to_csv(csv, index=False)
    leads.to_parquet(parquet, index=False)
    from_csv, from_parquet = read_table(csv, HCP_LEADS), read_table(parquet, HCP_LEADS)
    assert list(from_parquet.columns) == list(from_csv.columns)
    np.testing.assert_array_equal(
        validate_frame(from_parquet, HCP_LEADS), validate_frame(from_csv, HCP_LEADS)
    )
    csv_columns, parquet_columns = columns_of(from_csv), columns_of(from_parquet)
    schema = fit_schema(csv_columns, HCP_LEADS)
    assert fit_schema(parquet_columns, HCP_LEADS) == schema
    a = build_features(csv_columns, schema=schema, n_rows=len(leads))
    b = build_features(parquet_columns, schema=schema, n_rows=len(leads))
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.withheld, b.withheld)
    assert not a.unseen.any() and not b.unseen.any()

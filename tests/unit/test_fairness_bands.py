"""A numeric protected attribute (age in years) is audited by band, not by value."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from candor.models.contract import Contract, Field, Kind, Role
from candor.models.errors import DataValidationError
from candor.training.fairness import (
    MISSING_GROUP,
    Banding,
    audit_scores,
    band_edges,
    band_labels,
    sensitive_features,
)
from candor.training.fairness.groups import attribute_labels

BANDS = ["under 30", "30 to <40", "40 to <50", "50 to <60", "60 and over"]


def contract(**age: object) -> Contract:
    return Contract(
        "banded",
        "1",
        (
            Field("lead_id", Role.ID),
            Field("age", Role.PROTECTED, kind=Kind.NUMERIC, **age),  # type: ignore[arg-type]
            Field("webinars", Role.FEATURE, kind=Kind.NUMERIC),
            Field("converted", Role.TARGET),
        ),
    )


def test_bins_label_every_value_by_its_band_and_missing_by_its_own_group() -> None:
    assert band_labels((30.0, 40.0, 50.0, 60.0)) == BANDS
    ages = np.array([29.9, 30.0, 39.99, 40.0, 59.0, 60.0, 91.0, np.nan, 18.0])
    labels = sensitive_features(
        {"age": ages}, np.arange(len(ages)), contract(bins=(30.0, 40.0, 50.0, 60.0))
    )["age"]
    assert labels.tolist() == [
        "under 30",
        "30 to <40",
        "30 to <40",
        "40 to <50",
        "50 to <60",
        "60 and over",
        "60 and over",
        MISSING_GROUP,
        "under 30",
    ]


def test_an_audit_of_76_ages_shows_five_bands_in_band_order_with_their_edges() -> None:
    rng = np.random.default_rng(0)
    n = 6000
    age = rng.integers(25, 101, size=n).astype(float)  # 76 distinct ages
    assert len(np.unique(age)) == 76
    score = rng.uniform(0.05, 0.6, n)
    outcome = (rng.uniform(size=n) < score).astype(int)
    terms = contract(bins=(30.0, 40.0, 50.0, 60.0))
    bands = band_edges(terms, {"age": age})
    result = audit_scores(
        outcome=outcome,
        score=score,
        lower=score - 0.03,
        upper=score + 0.03,
        sensitive=sensitive_features({"age": age}, np.arange(n), terms, bands),
        protected={"age"},
        threshold=0.4,
        resamples=50,
        bands=bands,
    )
    audited = result["age"]
    assert [g.group for g in audited.groups] == BANDS  # band order, not text order
    assert audited.disparate_impact is not None  # a ratio between bands, not between two ages
    record = result.to_dict()["attributes"]["age"]
    assert record["bands"]["method"] == "bins"
    assert record["bands"]["edges"] == [30.0, 40.0, 50.0, 60.0]
    assert record["bands"]["labels"] == BANDS
    assert [g["group"] for g in record["groups"]] == BANDS


def test_quantile_edges_come_from_every_training_row_not_the_holdout() -> None:
    rng = np.random.default_rng(1)
    age = rng.integers(25, 90, size=5000).astype(float)
    holdout = np.flatnonzero(age < 40)  # a holdout of young leads only
    terms = contract(quantiles=4)
    bands = band_edges(terms, {"age": age})
    want = np.quantile(age, [0.25, 0.5, 0.75], method="inverted_cdf")
    assert bands["age"].edges == tuple(want)
    assert bands["age"].edges != tuple(
        np.quantile(age[holdout], [0.25, 0.5, 0.75], method="inverted_cdf")
    )
    labels = sensitive_features({"age": age}, holdout, terms, bands)["age"]
    assert set(labels.tolist()) <= {f"under {want[0]:g}", f"{want[0]:g} to <{want[1]:g}"}
    assert bands["age"].to_dict()["source"] == "4 quantiles of the training data"


def test_quantiles_on_a_column_of_few_values_are_deduplicated() -> None:
    age = np.r_[np.full(700, 40.0), np.full(200, 50.0), np.full(100, 60.0)]
    bands = band_edges(contract(quantiles=5), {"age": age})
    edges = bands["age"].edges
    assert list(edges) == sorted(set(edges))  # strictly ascending
    assert edges == (50.0,)  # 40 fills the first three fifths; an edge at the minimum is dropped
    assert bands["age"].labels == ["under 50", "50 and over"]


def test_numbers_written_as_text_are_read_and_missing_tokens_stay_missing() -> None:
    terms = contract(bins=(30.0, 60.0), missing_tokens=("unknown",))
    for column in (
        ["45", "unknown", "", None, "61.5"],
        pa.array(["45", "unknown", "", None, "61.5"]),
    ):
        labels = sensitive_features({"age": column}, np.arange(5), terms)["age"]
        assert labels.tolist() == [
            "30 to <60",
            MISSING_GROUP,
            MISSING_GROUP,
            MISSING_GROUP,
            "60 and over",
        ]


@pytest.mark.parametrize("column", [["41", "forty", "55", "old"], [41.0, "forty", 55.0, "old"]])
def test_text_where_a_number_is_expected_names_the_field_not_the_value(
    column: list[object],
) -> None:
    with pytest.raises(DataValidationError) as error:
        sensitive_features({"age": column}, np.arange(4), contract(bins=(30.0, 60.0)))
    assert error.value.code == "data_invalid"
    # a protected attribute's values are counted, never shown
    assert (
        "'age'" in error.value.message and "2 value(s) that are not numbers" in error.value.message
    )
    assert "forty" not in error.value.message and "'old'" not in error.value.message
    assert error.value.details[0].field == "age"
    assert "forty" not in error.value.details[0].message


def test_reweighing_and_per_group_thresholds_group_by_band_too() -> None:
    ages = np.array([25.0, 35.0, 36.0, 70.0])
    terms = contract(bins=(30.0, 40.0, 50.0, 60.0))
    assert attribute_labels({"age": ages}, "age", terms).tolist() == [
        "under 30",
        "30 to <40",
        "30 to <40",
        "60 and over",
    ]
    assert attribute_labels({"age": ages}, "age").tolist() == ["25.0", "35.0", "36.0", "70.0"]


def test_a_banding_describes_its_edges_for_people() -> None:
    banding = Banding("age", "bins", (30.0, 40.5))
    assert banding.describe() == "banded at 30, 40.5 (edges from the contract)"
    assert banding.labels == ["under 30", "30 to <40.5", "40.5 and over"]

"""build_features: the one encoding used by training and serving (no train/serve skew)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from candor.models.contract import HCP_LEADS, ConsentScope, Contract, Field, Kind, Role
from candor.models.errors import InputValidationError
from candor.models.leads.features import (
    FeatureSchema,
    build_features,
    columns_from_records,
    display_value,
    fit_schema,
    out_of_range,
)
from candor.training.data import columns_of, read_table

SAMPLE = Path(__file__).resolve().parents[2] / "data_samples" / "hcp_leads.csv"

TINY = Contract(
    "tiny",
    "1",
    (
        Field("lead_id", Role.ID),
        Field("specialty", Role.FEATURE, Kind.CATEGORICAL, missing_tokens=("Select",)),
        Field("visits", Role.FEATURE, Kind.NUMERIC),
        Field("is_kol", Role.FEATURE, Kind.BOOLEAN),
        Field("decile", Role.SENSITIVE, Kind.NUMERIC),
        Field("volume", Role.SENSITIVE, Kind.CATEGORICAL),
        Field("consent", Role.CONSENT, scope=ConsentScope.DATA_USE),
        Field("converted", Role.TARGET),
    ),
)
SPECIALTY, VISITS, IS_KOL, DECILE, VOLUME = range(5)

TRAIN = {
    "specialty": ["Oncology", "Cardiology", "Select", "Oncology", None, " Cardiology "],
    "visits": [0, 5, 2, None, 3, 1],
    "is_kol": ["yes", "no", True, None, "0", "1"],
    "decile": [1, 10, 99, 5, 4, 3],
    "volume": ["Low", "High", "Secret", "Low", None, "Medium"],
    "consent": [True, "yes", False, "true", None, 1],
}


@pytest.fixture(scope="module")
def schema() -> FeatureSchema:
    return fit_schema(TRAIN, TINY)


def build(schema: FeatureSchema, columns: dict[str, list[object]]):
    n = max(len(v) for v in columns.values())
    return build_features(columns, schema=schema, n_rows=n)


def test_schema_learns_sorted_categories_and_numeric_range(schema: FeatureSchema) -> None:
    assert schema.names == ["specialty", "visits", "is_kol", "decile", "volume"]
    assert schema.specs[SPECIALTY].categories == ("Cardiology", "Oncology")
    assert (schema.specs[VISITS].minimum, schema.specs[VISITS].maximum) == (0.0, 5.0)
    assert schema.categorical_indices == [SPECIALTY, VOLUME]
    assert schema.contract_fingerprint == TINY.fingerprint
    assert schema.consent_field == "consent"


def test_schema_ignores_unconsented_sensitive_values(schema: FeatureSchema) -> None:
    # row 2 (decile 99, volume "Secret") and row 4 (no consent flag) lack consent
    assert (schema.specs[DECILE].minimum, schema.specs[DECILE].maximum) == (1.0, 10.0)
    assert schema.specs[VOLUME].categories == ("High", "Low", "Medium")


def test_schema_survives_its_dict_form(schema: FeatureSchema) -> None:
    again = FeatureSchema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert again == schema
    assert again.lookup(SPECIALTY) == {"Cardiology": 0, "Oncology": 1}


def test_categories_become_codes_and_unseen_values_nan_with_a_flag(schema) -> None:
    m = build(schema, {"specialty": ["Oncology", "Cardiology", " Oncology", "Dermatology"]})
    col = m.values[:, SPECIALTY]
    assert col[:3].tolist() == [1.0, 0.0, 1.0]
    assert math.isnan(col[3])
    assert m.unseen[:, SPECIALTY].tolist() == [False, False, False, True]
    assert display_value(schema.specs[SPECIALTY], col[0]) == "Oncology"


@pytest.mark.parametrize("token", ["Select", " Select ", "", None, float("nan"), pd.NA])
def test_missing_tokens_become_nan_without_unseen_flag(schema, token) -> None:
    m = build(schema, {"specialty": [token]})
    assert math.isnan(m.values[0, SPECIALTY])
    assert not m.unseen[0, SPECIALTY]


def test_absent_columns_are_missing(schema) -> None:
    m = build_features({}, schema=schema, n_rows=2)
    assert m.values.shape == (2, 5)
    assert np.isnan(m.values).all()
    assert not m.unseen.any()
    assert not m.withheld.any()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", 1.0), ("YES", 1.0), ("y", 1.0), ("true", 1.0), ("True", 1.0), ("1", 1.0),
        (1, 1.0), (1.0, 1.0), (True, 1.0), (np.True_, 1.0),
        ("no", 0.0), ("n", 0.0), ("false", 0.0), ("0", 0.0), (0, 0.0), ("0.0", 0.0),
        (False, 0.0),
    ],
)  # fmt: skip
def test_booleans_are_parsed_from_crm_spellings(schema, raw, expected) -> None:
    m = build(schema, {"is_kol": [raw]})
    assert m.values[0, IS_KOL] == expected


def test_missing_boolean_is_nan(schema) -> None:
    m = build(schema, {"is_kol": [None, "", float("nan")]})
    assert np.isnan(m.values[:, IS_KOL]).all()


def test_unreadable_boolean_names_field_and_row(schema) -> None:
    with pytest.raises(InputValidationError) as info:
        build(schema, {"is_kol": ["yes", "maybe"]})
    assert "'is_kol'" in str(info.value)
    assert "maybe" in str(info.value)
    detail = info.value.details[0]
    assert (detail.field, detail.lead_index) == ("is_kol", 1)
    assert info.value.code == "input_invalid"


@pytest.mark.parametrize("bad", ["three", True, "12 visits"])
def test_non_numeric_value_names_field_and_row(schema, bad) -> None:
    with pytest.raises(InputValidationError) as info:
        build(schema, {"visits": [1, "2", bad]})
    assert "'visits'" in str(info.value)
    detail = info.value.details[0]
    assert (detail.field, detail.lead_index) == ("visits", 2)
    assert detail.to_dict() == {"field": "visits", "message": detail.message, "lead_index": 2}


def test_numeric_strings_are_numbers(schema) -> None:
    m = build(schema, {"visits": ["3", " 4.5 ", 2]})
    assert m.values[:, VISITS].tolist() == [3.0, 4.5, 2.0]


def test_sensitive_values_are_withheld_without_data_use_consent(schema) -> None:
    columns = {
        "decile": [7, 7, 7, 7, None, 7],
        "volume": ["High", "High", "Made-up", "High", "High", "High"],
        "consent": [True, False, "no", None, False, "unreadable"],
    }
    m = build(schema, columns)
    consented = [True, False, False, False, False, False]
    for j in (DECILE, VOLUME):
        assert (~np.isnan(m.values[:, j])).tolist() == consented
    assert m.values[0, DECILE] == 7.0
    # a withheld value is flagged, never reported as unseen; a missing value is not "withheld"
    assert m.withheld[:, DECILE].tolist() == [False, True, True, True, False, True]
    assert m.withheld[:, VOLUME].tolist() == [False, True, True, True, True, True]
    assert not m.unseen[:, VOLUME].any()
    # non-sensitive inputs are untouched by consent
    assert not m.withheld[:, [SPECIALTY, VISITS, IS_KOL]].any()


def test_sensitive_values_are_withheld_when_the_consent_column_is_absent(schema) -> None:
    m = build(schema, {"decile": [3, 4], "volume": ["Low", "High"], "visits": [1, 2]})
    assert np.isnan(m.values[:, [DECILE, VOLUME]]).all()
    assert m.withheld[:, [DECILE, VOLUME]].all()
    assert m.values[:, VISITS].tolist() == [1.0, 2.0]


def test_out_of_range_flags_numeric_values_outside_training_range(schema) -> None:
    m = build(
        schema,
        {
            "visits": [-1, 0, 5, 6, None],
            "specialty": ["Oncology"] * 5,
            "decile": [11, 10, 1, 0, 5],
            "consent": [True] * 5,
        },
    )
    flags = out_of_range(m.values, schema)
    assert flags[:, VISITS].tolist() == [True, False, False, True, False]
    assert flags[:, DECILE].tolist() == [True, False, False, True, False]
    assert not flags[:, SPECIALTY].any()
    assert not flags[:, IS_KOL].any()


def test_columns_from_records_fills_absent_keys_with_none() -> None:
    columns = columns_from_records([{"a": 1}, {"b": "x"}, {"a": 3, "b": None}])
    assert columns == {"a": [1, None, 3], "b": [None, "x", None]}


# --- train/serve skew on the real sample ------------------------------------------------------


def _records_with_none(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


@pytest.mark.parametrize("typed", [False, True], ids=["as-lists", "typed-arrays"])
def test_training_frame_and_json_records_give_identical_matrices(typed: bool) -> None:
    """The training path (read_table -> columns_of, as values or as typed arrays) and the
    serving path (JSON leads) must agree: the same schema, the same matrix."""
    frame = read_table(SAMPLE, HCP_LEADS)
    train_columns = columns_of(frame, HCP_LEADS if typed else None)
    schema = fit_schema(train_columns, HCP_LEADS)
    assert schema == fit_schema(columns_of(frame), HCP_LEADS)
    trained = build_features(train_columns, schema=schema, n_rows=len(frame))

    raw = pd.read_csv(SAMPLE)
    as_json = json.loads(raw.to_json(orient="records"))
    for records in (_records_with_none(raw), as_json):
        served = build_features(columns_from_records(records), schema=schema, n_rows=len(records))
        np.testing.assert_array_equal(served.values, trained.values)
        np.testing.assert_array_equal(served.unseen, trained.unseen)
        np.testing.assert_array_equal(served.withheld, trained.withheld)

    # the comparison is not vacuous: real values, missing values and withheld values all occur
    assert not np.isnan(trained.values).all(axis=0).any()
    assert np.isnan(trained.values).any()
    assert trained.withheld.any()
    assert not trained.unseen.any()


def test_a_typed_training_column_that_does_not_fit_its_field_is_named() -> None:
    frame = read_table(SAMPLE, HCP_LEADS).head(50).astype({"practice_size": object})
    frame.loc[7, "practice_size"] = "many"
    columns = columns_of(frame, HCP_LEADS)
    schema = fit_schema(columns_of(read_table(SAMPLE, HCP_LEADS)), HCP_LEADS)

    with pytest.raises(InputValidationError) as caught:
        build_features(columns, schema=schema, n_rows=len(frame))

    assert "practice_size" in caught.value.message and "many" in caught.value.message


CODED = Contract(
    "coded",
    "1",
    (
        Field("lead_id", Role.ID),
        Field("days_since_contact", Role.FEATURE, Kind.NUMERIC, missing_tokens=("-1",)),
        Field("area_code", Role.FEATURE, Kind.CATEGORICAL, missing_tokens=("0",)),
        Field("converted", Role.TARGET),
    ),
)


def test_numeric_looking_missing_token_is_missing_however_the_value_arrives() -> None:
    """CRMs code "unknown" as -1 or 0. A CSV column may arrive as text or numbers, a JSON lead
    as a number or a string; the token must mean "missing" in every case, or training and
    serving encode the same lead differently."""
    schema = fit_schema({"days_since_contact": [1, 5, 9], "area_code": ["1", "2", "1"]}, CODED)
    m = build_features(
        {"days_since_contact": ["-1", -1, -1.0], "area_code": ["0", 0, "0"]},
        schema=schema,
        n_rows=3,
    )
    assert np.isnan(m.values).all(), m.values
    assert not m.unseen.any(), m.unseen


@pytest.mark.parametrize(
    "lead_id", ["L1", "A B", "Dr. Álvarez-7", "", " ", " L1", "L1 ", "L\n1", "L\x7f", "L\x9f"]
)
def test_the_spec_pattern_of_a_lead_id_says_what_the_rule_says(lead_id: str) -> None:
    import re

    from candor.models.leads.input_limits import DEFAULT_LIMITS, LEAD_ID_PATTERN

    accepted_by_rule = DEFAULT_LIMITS.lead_id_problem(lead_id) is None
    assert (re.fullmatch(LEAD_ID_PATTERN, lead_id) is not None) == accepted_by_rule

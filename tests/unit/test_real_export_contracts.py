"""Contracts for the columns real exports have: no id, banded protected numbers, missing tokens
on flags, sentinels with their own meaning, yes/no targets; and grade cut-offs chosen from the
holdout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from candor.explain.lead_reasons import describe
from candor.models.contract import contract_from_dict
from candor.models.errors import ContractError, DataValidationError
from candor.models.leads.features import build_features, fit_schema
from candor.models.policy import DEFAULT_GRADE_CUTOFFS, ScoringPolicy, grade_indices
from candor.training.data import columns_of, target_statement, validate_frame
from candor.training.grading import choose_cutoffs


def calls_contract(**extra_fields: dict[str, object]) -> dict[str, object]:
    """A telemarketing export's contract: no id column, age in years, a yes/no target."""
    return {
        "name": "calls",
        "fields": {
            "age": {"role": "protected", "kind": "numeric", "bins": [30, 40, 50, 60]},
            "prior_customer": {"role": "feature", "kind": "boolean", "missing_tokens": ["unknown"]},
            "days_since_previous": {
                "role": "feature",
                "kind": "numeric",
                "phrase": "Last contacted {value} days ago",
                "sentinels": [{"value": 999, "meaning": "never contacted before"}],
            },
            "calls_this_campaign": {"role": "feature", "kind": "numeric"},
            **extra_fields,
            "subscribed": {"role": "target"},
        },
    }


def calls_frame(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    yes = rng.random(rows) < 0.3
    return pd.DataFrame(
        {
            "age": rng.integers(20, 80, rows),
            "prior_customer": rng.choice(["yes", "no", "unknown"], rows),
            "days_since_previous": np.where(rng.random(rows) < 0.7, 999, rng.integers(1, 30, rows)),
            "calls_this_campaign": rng.integers(1, 6, rows),
            "subscribed": np.where(yes, "yes", "no"),
        }
    )


def test_a_contract_without_an_id_serves_with_lead_id() -> None:
    contract = contract_from_dict(calls_contract())
    assert not contract.declares_id
    assert contract.id_field.name == "lead_id"
    assert contract.request_fields[0].name == "lead_id"
    assert contract.unknown(["lead_id", "age", "mystery"]) == ["mystery"]
    frame = calls_frame()
    outcome = validate_frame(frame, contract)  # training needs no id
    assert outcome.sum() == (frame["subscribed"] == "yes").sum()


def test_a_declared_id_missing_from_the_file_is_an_error() -> None:
    raw = calls_contract(call_ref={"role": "id"})
    with pytest.raises(DataValidationError, match="'call_ref'") as caught:
        validate_frame(calls_frame(), contract_from_dict(raw))
    assert caught.value.details[0].field == "call_ref"


def test_a_field_named_lead_id_must_be_the_id() -> None:
    with pytest.raises(ContractError, match="lead_id"):
        contract_from_dict(calls_contract(lead_id={"role": "feature", "kind": "categorical"}))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"role": "feature", "kind": "numeric", "bins": [1, 2]}, "protected attribute or audit"),
        ({"role": "protected", "kind": "numeric", "bins": [40, 30]}, "strictly ascending"),
        ({"role": "protected", "bins": [30], "quantiles": 4}, "not both"),
        ({"role": "protected", "quantiles": 1}, "2 to 20"),
        ({"role": "protected", "kind": "categorical", "bins": [1]}, "numeric"),
        ({"role": "protected", "bins": ["thirty"]}, "list of numbers"),
        ({"role": "feature", "kind": "categorical", "sentinels": {999: "never"}}, "numeric"),
        (
            {"role": "feature", "kind": "numeric", "missing_tokens": [-1], "sentinels": {-1: "x"}},
            "both a missing token and a sentinel",
        ),
        ({"role": "feature", "kind": "numeric", "sentinels": [{"value": 1}]}, "meaning"),
    ],
)
def test_bad_bands_and_sentinels_are_refused_by_name(spec: dict, message: str) -> None:
    with pytest.raises(ContractError, match=message) as caught:
        contract_from_dict(calls_contract(odd=spec))
    assert "odd" in str(caught.value)


def test_missing_tokens_count_as_missing_on_boolean_fields() -> None:
    contract = contract_from_dict(calls_contract())
    frame = calls_frame()
    columns = columns_of(frame, contract)
    schema = fit_schema(columns, contract)
    matrix = build_features(columns, schema=schema, n_rows=len(frame))
    j = schema.names.index("prior_customer")
    unknown = (frame["prior_customer"] == "unknown").to_numpy()
    assert np.isnan(matrix.values[unknown, j]).all()
    assert set(np.unique(matrix.values[~unknown, j])) == {0.0, 1.0}
    # the JSON path too (a value as a request or a list column carries it)
    listed = build_features(
        {"prior_customer": ["unknown", "yes", None]}, schema=schema, n_rows=3
    ).values[:, j]
    assert np.isnan(listed[0]) and listed[1] == 1.0 and np.isnan(listed[2])


def test_a_sentinel_is_said_in_its_own_words_not_as_a_number_or_as_missing() -> None:
    field = contract_from_dict(calls_contract())["days_since_previous"]
    assert describe(field, value=999, contribution=-0.4).startswith("Never contacted before")
    assert describe(field, value=12, contribution=0.4).startswith("Last contacted 12 days ago")
    assert describe(field, value=None, contribution=0.1).startswith(
        "Days since previous is not recorded"
    )


@pytest.mark.parametrize(
    ("yes", "no"), [("yes", "no"), ("True", "False"), ("1", "0"), ("Y", "N"), (1, 0)]
)
def test_yes_no_targets_are_read_and_stated(yes: object, no: object) -> None:
    contract = contract_from_dict(calls_contract())
    frame = calls_frame(200)
    frame["subscribed"] = np.where(frame["subscribed"] == "yes", yes, no)
    outcome = validate_frame(frame, contract)
    said = target_statement(frame, contract, outcome)
    assert f"{str(yes)!r} = converted (1)" in said and f"{str(no)!r} = not (0)" in said
    assert f"{int(outcome.sum()):,} of 200 leads" in said


def test_grade_cutoffs_give_the_top_shares_of_the_holdout() -> None:
    rng = np.random.default_rng(3)
    score = rng.beta(1, 8, 20_000)  # an 11% base rate: fixed cut-offs would grade ~all D
    outcome = rng.random(20_000) < score
    fixed = np.bincount(grade_indices(score, ScoringPolicy()), minlength=4) / score.size
    assert fixed[3] > 0.75  # what the fixed 0.6 / 0.4 / 0.2 do

    grades = choose_cutoffs(score, outcome)
    assert grades.realised == pytest.approx((0.10, 0.20, 0.30, 0.40), abs=1e-3)
    a, b, c, d = grades.conversion
    assert a is not None and b is not None and c is not None and d is not None
    assert a > b > c > d  # a grade says something: each converts more than the next
    served = ScoringPolicy().for_model(grades.cutoffs)
    counts = np.bincount(grade_indices(score, served), minlength=4)
    assert tuple(counts.tolist()) == grades.counts


def test_ties_share_a_grade_and_cutoffs_stay_strictly_descending() -> None:
    score = np.repeat([0.9, 0.5, 0.2, 0.05], [5, 45, 25, 25])  # one value holds 45%
    grades = choose_cutoffs(score, np.zeros(100))
    a, b, c = grades.cutoffs
    assert a > b > c
    assert sum(grades.counts) == 100
    zeros = choose_cutoffs(np.repeat([0.0, 0.5], 50), np.zeros(100))  # half score exactly 0
    assert zeros.cutoffs[0] > zeros.cutoffs[1] > zeros.cutoffs[2] > 0
    one = choose_cutoffs(np.full(50, 0.3), np.zeros(50))  # a single distinct score
    assert one.cutoffs[0] > one.cutoffs[1] > one.cutoffs[2] > 0


def test_settings_cutoffs_override_the_models_and_old_models_keep_the_defaults() -> None:
    model = (0.3, 0.2, 0.1)
    assert ScoringPolicy().for_model(model).cutoffs == model
    fixed = ScoringPolicy(grade_cutoffs=(0.7, 0.5, 0.3))
    assert fixed.for_model(model).cutoffs == (0.7, 0.5, 0.3)
    assert ScoringPolicy().for_model(None).cutoffs == DEFAULT_GRADE_CUTOFFS

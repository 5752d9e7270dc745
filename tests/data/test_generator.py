"""The synthetic lead generator: reproducible, contract-shaped, no real PII, documented bias."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from candor.data_samples.generate_leads import (
    DRIVERS,
    NO_DIRECT_EFFECT,
    generate_leads,
    true_driver_ranking,
    true_logit_terms,
    true_probability,
)
from candor.models.contract import HCP_LEADS, Kind, Role


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return generate_leads(rows=6000, seed=2024)


def test_columns_follow_the_contract(leads: pd.DataFrame) -> None:
    assert list(leads.columns) == HCP_LEADS.names


def test_column_types_match_the_contract_kinds(leads: pd.DataFrame) -> None:
    for f in HCP_LEADS.fields:
        column = leads[f.name]
        if f.kind is Kind.NUMERIC:
            assert pd.api.types.is_numeric_dtype(column), f.name
        elif f.role is Role.CONSENT:
            assert pd.api.types.is_bool_dtype(column), f.name
        elif f.role is Role.TARGET:
            assert pd.api.types.is_integer_dtype(column)
            assert set(column.unique()) == {0, 1}
        else:
            assert pd.api.types.is_string_dtype(column), f.name
    assert leads["lead_id"].is_unique
    assert leads["days_since_last_contact"].isna().any()  # never contacted
    assert not leads.drop(columns=["days_since_last_contact"]).isna().any().any()


def test_rows_must_be_positive() -> None:
    for rows in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="rows"):
            generate_leads(rows=rows, seed=1)  # type: ignore[arg-type]


def test_no_pii_looks_real(leads: pd.DataFrame) -> None:
    assert leads["email"].str.endswith("@example.org").all()
    assert leads["email"].is_unique
    assert leads["phone"].str.contains("555-01", regex=False).all()
    assert leads["phone"].str.fullmatch(r"\+1-555-01\d\d-\d{4}").all()


def test_rural_leads_get_fewer_rep_visits_and_convert_less(leads: pd.DataFrame) -> None:
    by_territory = leads.groupby("territory_type")[["rep_visits_90d", "converted"]].mean()
    rural, urban = by_territory.loc["rural"], by_territory.loc["urban"]
    assert rural["rep_visits_90d"] < 0.5 * urban["rep_visits_90d"]
    assert rural["converted"] < urban["converted"] - 0.03


def test_territory_gap_flows_through_rep_visits_only(leads: pd.DataFrame) -> None:
    terms = true_logit_terms(leads)
    assert list(terms.columns) == list(DRIVERS)
    for name in NO_DIRECT_EFFECT:
        assert (terms[name] == 0.0).all(), name
    # reassigning territories (or protected attributes) leaves every true probability unchanged
    shuffled = leads.copy()
    rng = np.random.default_rng(0)
    for name in NO_DIRECT_EFFECT:
        shuffled[name] = rng.permutation(shuffled[name].to_numpy())
    np.testing.assert_array_equal(true_probability(shuffled), true_probability(leads))
    # ... while fewer rep visits do lower them
    fewer = leads.assign(rep_visits_90d=0)
    assert (true_probability(fewer) <= true_probability(leads)).all()
    assert (true_probability(fewer) < true_probability(leads)).any()


def test_outcome_follows_the_true_probability(leads: pd.DataFrame) -> None:
    p = true_probability(leads)
    assert ((p > 0) & (p < 1)).all()
    assert abs(leads["converted"].mean() - p.mean()) < 0.02
    high, low = p > np.quantile(p, 0.8), p < np.quantile(p, 0.2)
    assert leads["converted"][high].mean() > leads["converted"][low].mean() + 0.3


def test_documented_strong_drivers_lead_the_true_ranking(leads: pd.DataFrame) -> None:
    ranking = true_driver_ranking(leads)
    assert ranking[:3] == ["webinars_attended_90d", "samples_requested_90d", "rep_visits_90d"]
    assert set(ranking[-4:]) == set(NO_DIRECT_EFFECT)

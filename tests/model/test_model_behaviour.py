"""The session champion on fresh leads: accuracy, calibration, faithful explanations, invariance."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from candor.data_samples.generate_leads import generate_leads, true_driver_ranking
from candor.explain.lead_explanations import explain_rows, global_importance
from candor.models.contract import HCP_LEADS
from candor.models.leads.features import build_features, columns_from_records
from candor.training.data import columns_of
from candor.training.metrics import expected_calibration_error

STRONG_DRIVERS = ["webinars_attended_90d", "samples_requested_90d", "rep_visits_90d"]


@pytest.fixture(scope="module")
def fresh() -> pd.DataFrame:
    """Leads the champion never saw (the sample was drawn with another seed)."""
    return generate_leads(rows=3000, seed=123)


@pytest.fixture(scope="module")
def fresh_values(scorer, fresh: pd.DataFrame) -> np.ndarray:
    return build_features(columns_of(fresh), schema=scorer.schema_, n_rows=len(fresh)).values


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Leads as a JSON client sends them: NaN becomes null."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def serve_matrix(scorer, leads: list[dict[str, Any]]) -> np.ndarray:
    columns = columns_from_records(leads)
    return build_features(columns, schema=scorer.schema_, n_rows=len(leads)).values


def test_champion_separates_fresh_leads(scorer, fresh, fresh_values) -> None:
    auc = roc_auc_score(fresh["converted"], scorer.predict_proba(fresh_values))
    assert auc >= 0.78


def test_champion_is_calibrated_on_fresh_leads(scorer, fresh, fresh_values) -> None:
    score = scorer.predict_proba(fresh_values)
    outcome = fresh["converted"].to_numpy()
    assert expected_calibration_error(outcome, score) <= 0.06
    assert abs(score.mean() - outcome.mean()) < 0.03


def test_scorer_inputs_exclude_pii_and_protected(scorer, sample_frame) -> None:
    contract = scorer.contract_
    hidden = {f.name for f in contract.pii_fields + contract.protected_fields}
    assert hidden == {"full_name", "email", "phone", "gender", "age_band"}
    assert not hidden & set(scorer.feature_names)
    assert scorer.feature_names == [f.name for f in contract.model_inputs]
    assert set(scorer.feature_names) < set(sample_frame.columns)
    # the contract that travelled with the model is the one its schema was fitted under
    assert scorer.contract_.fingerprint == scorer.schema_.contract_fingerprint
    assert scorer.contract_.fingerprint == HCP_LEADS.fingerprint


def test_true_top_drivers_lead_global_shap_importance_in_order(scorer, fresh, fresh_values):
    assert true_driver_ranking(fresh)[:3] == STRONG_DRIVERS  # what the generator documents
    importance = global_importance(scorer.contributions(fresh_values), scorer.feature_names)
    assert [name for name, _ in importance[:3]] == STRONG_DRIVERS
    # ... and no input without a direct effect comes close
    ranked = [name for name, _ in importance]
    assert ranked.index("territory_type") > 5
    assert ranked.index("patient_volume_band") > 5


def test_contributions_add_up_to_the_margin(scorer, fresh_values) -> None:
    contributions = scorer.contributions(fresh_values)
    assert contributions.shape == (len(fresh_values), len(scorer.feature_names) + 1)
    base = contributions[:, -1]
    assert np.ptp(base) == 0.0  # one base value for every lead
    np.testing.assert_allclose(
        base + contributions[:, :-1].sum(axis=1), scorer.margins(fresh_values), rtol=0, atol=1e-6
    )


def test_venn_abers_interval_contains_the_score(scorer, fresh_values) -> None:
    calibrated = scorer.calibrate(scorer.margins(fresh_values))
    assert (calibrated.lower <= calibrated.score).all()
    assert (calibrated.score <= calibrated.upper).all()
    assert (calibrated.lower >= 0).all() and (calibrated.upper <= 1).all()
    assert (calibrated.upper - calibrated.lower > 0).mean() > 0.9  # a real interval, not a point


def test_scorer_rejects_a_matrix_of_the_wrong_width(scorer, fresh_values) -> None:
    with pytest.raises(ValueError, match=f"expecting {len(scorer.feature_names)}"):
        scorer.predict_proba(fresh_values[:, :-1])


@pytest.mark.parametrize(
    "change",
    [
        {"full_name": "Someone Else", "email": "someone.else@example.org"},
        {"phone": "+1-555-0100-0000"},
        {"email": None, "full_name": None, "phone": None},
        {"gender": "Female"},
        {"gender": "Non-binary", "age_band": "65+"},
        {"age_band": "<35"},
    ],
)
def test_pii_and_protected_fields_do_not_move_the_score(scorer, fresh, change) -> None:
    leads = records(fresh.head(200))
    changed = [{**lead, **change} for lead in leads]
    dropped = [{k: v for k, v in lead.items() if k not in change} for lead in leads]
    before = scorer.predict_proba(serve_matrix(scorer, leads))
    for variant in (changed, dropped):
        after = scorer.predict_proba(serve_matrix(scorer, variant))
        np.testing.assert_array_equal(after, before)


def test_sensitive_values_without_consent_do_not_move_the_score(scorer, fresh) -> None:
    leads = [{**lead, "data_use_consent": False} for lead in records(fresh.head(200))]
    before = scorer.predict_proba(serve_matrix(scorer, leads))
    altered = [{**lead, "prescribing_decile": 10, "patient_volume_band": "High"} for lead in leads]
    np.testing.assert_array_equal(scorer.predict_proba(serve_matrix(scorer, altered)), before)
    # with consent the same change does matter, so the check above is not vacuous
    consented = [{**lead, "data_use_consent": True} for lead in leads]
    altered_consented = [{**lead, "data_use_consent": True} for lead in altered]
    assert not np.array_equal(
        scorer.predict_proba(serve_matrix(scorer, consented)),
        scorer.predict_proba(serve_matrix(scorer, altered_consented)),
    )


def test_more_webinars_raise_the_mean_margin(scorer, fresh) -> None:
    leads = records(fresh.head(200))
    none = scorer.margins(serve_matrix(scorer, [{**x, "webinars_attended_90d": 0} for x in leads]))
    three = scorer.margins(serve_matrix(scorer, [{**x, "webinars_attended_90d": 3} for x in leads]))
    assert three.mean() > none.mean() + 1.0  # the true effect is +0.9 log-odds per webinar
    assert (three >= none).mean() > 0.95


def test_explanations_hide_withheld_values_and_add_up(scorer, fresh) -> None:
    leads = records(fresh.head(50))
    for i, lead in enumerate(leads):
        lead["data_use_consent"] = i % 2 == 0
    columns = columns_from_records(leads)
    matrix = build_features(columns, schema=scorer.schema_, n_rows=len(leads))
    contributions = scorer.contributions(matrix.values)
    explanations = explain_rows(
        contributions=contributions, matrix=matrix, columns=columns, schema=scorer.schema_,
        contract=scorer.contract_, top_k=None,
    )  # fmt: skip
    np.testing.assert_allclose(
        [e.margin for e in explanations], scorer.margins(matrix.values), atol=1e-6
    )
    for i, (lead, explanation) in enumerate(zip(leads, explanations, strict=True)):
        sizes = [abs(r.contribution) for r in explanation.reasons]
        assert sizes == sorted(sizes, reverse=True)
        by_name = {r.feature: r for r in explanation.reasons}
        assert set(by_name) == set(scorer.feature_names)
        decile = by_name["prescribing_decile"]
        if i % 2 == 0:
            assert decile.value == lead["prescribing_decile"]
            assert str(lead["prescribing_decile"]) in decile.text
        else:
            assert decile.value is None
            assert "withheld" in decile.text
            assert by_name["patient_volume_band"].value is None
            assert lead["patient_volume_band"] not in by_name["patient_volume_band"].text

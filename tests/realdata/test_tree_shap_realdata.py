"""The TreeSHAP kernel is exact on a 31-leaf lead model trained on the public X Education export
(../shared/data/Leads.csv) through Candor's own training: equal to ``pred_contrib`` within 1e-9
and additive on every row. Skipped, with the reason, where ../shared/data is absent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from candor.models.contract import load_contract
from candor.models.leads.features import build_features
from candor.models.tree_shap import TreeShap

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "data_samples" / "contracts" / "x_education_leads.yaml"
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def trained(shared_data: Path) -> tuple[Any, np.ndarray]:
    """A scorer of 31-leaf trees of any depth (the training grid's largest shape, forced)."""
    from candor.training.data import columns_of, read_table, validate_frame
    from candor.training.fit import TreeShape, fit_lead_scorer

    contract = load_contract(CONTRACT)
    frame = read_table(shared_data / "Leads.csv", contract)
    outcome = validate_frame(frame, contract)
    columns = columns_of(frame)
    result = fit_lead_scorer(columns, outcome, contract, shapes=(TreeShape(31, -1),))
    scorer = result.scorer
    values = build_features(columns, schema=scorer.schema_, n_rows=len(outcome)).values
    return scorer, values


def test_the_model_has_31_leaf_trees(trained: tuple[Any, np.ndarray]) -> None:
    scorer, _ = trained
    leaves = [t["num_leaves"] for t in scorer.booster_.dump_model()["tree_info"]]
    assert max(leaves) == 31


def test_every_row_of_the_export_is_explained_exactly(trained: tuple[Any, np.ndarray]) -> None:
    scorer, values = trained
    booster = scorer.booster_
    explainer = TreeShap(booster)
    assert explainer.info.method == "tables", explainer.info.reason
    got = explainer.contributions(values)
    want = np.asarray(booster.predict(values, pred_contrib=True), dtype=np.float64)
    assert got.shape == want.shape == (len(values), booster.num_feature() + 1)
    gap = np.abs(got - want)
    assert gap.max() <= TOLERANCE, f"kernel differs from pred_contrib by {gap.max():.3g}"
    margin = np.asarray(booster.predict(values, raw_score=True), dtype=np.float64)
    assert np.abs(got.sum(axis=1) - margin).max() <= TOLERANCE


def test_edge_values_on_the_export_model(trained: tuple[Any, np.ndarray]) -> None:
    """Rows of the export with one input at a time set to NaN, zero, +-inf, codes past the last
    category, negative and fractional codes."""
    scorer, values = trained
    booster = scorer.booster_
    explainer = TreeShap(booster)
    base = values[:: max(1, len(values) // 60)]
    categorical = set(scorer.schema_.categorical_indices)
    rows = [base]
    for j in range(values.shape[1]):
        edges = [np.nan, 0.0, -0.0, -np.inf, -1e300, 1e301, np.inf]
        if j in categorical:
            n = len(scorer.schema_.specs[j].categories)
            edges += [float(n), float(n + 100), -1.0, -0.5, 2.7, 2147483648.0]
        for v in edges:
            block = base.copy()
            block[:, j] = v
            rows.append(block)
    queries = np.vstack(rows)
    got = explainer.contributions(queries)
    want = np.asarray(booster.predict(queries, pred_contrib=True), dtype=np.float64)
    assert np.abs(got - want).max() <= TOLERANCE
    margin = np.asarray(booster.predict(queries, raw_score=True), dtype=np.float64)
    assert np.abs(got.sum(axis=1) - margin).max() <= TOLERANCE

"""The TreeSHAP kernel is exact on the lead model the session trains from data_samples/: equal to
``pred_contrib`` within 1e-9 and additive on every row, for matrices built as serving builds
them (JSON-like records -> columns -> ``build_features``) and at the model's own split edges."""

from __future__ import annotations

import csv
from typing import Any

import numpy as np
import pytest
import settings_support as support

from candor.models.contract import Kind
from candor.models.leads.features import build_features, columns_from_records
from candor.models.tree_shap import TreeShap

pytestmark = pytest.mark.slow

TOLERANCE = 1e-9


def _records() -> list[dict[str, Any]]:
    with support.SAMPLE_LEADS.open(newline="") as f:
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(f)]


def _assert_exact(booster: Any, explainer: TreeShap, values: np.ndarray) -> None:
    got = explainer.contributions(values)
    want = np.asarray(booster.predict(values, pred_contrib=True), dtype=np.float64)
    assert got.shape == want.shape
    gap = np.abs(got - want)
    assert gap.max() <= TOLERANCE, f"kernel differs from pred_contrib by {gap.max():.3g}"
    margin = np.asarray(booster.predict(values, raw_score=True), dtype=np.float64)
    assert np.abs(got.sum(axis=1) - margin).max() <= TOLERANCE


@pytest.fixture(scope="module")
def explainer(scorer: Any) -> TreeShap:
    explainer = TreeShap(scorer.booster_)
    assert explainer.info.method == "tables", explainer.info.reason
    return explainer


def test_sample_leads_as_serving_builds_them(scorer: Any, explainer: TreeShap) -> None:
    records = _records()
    matrix = build_features(
        columns_from_records(records), schema=scorer.schema_, n_rows=len(records)
    )
    assert np.isnan(matrix.values).any()  # the sample has gaps; they are part of the check
    _assert_exact(scorer.booster_, explainer, matrix.values)


def test_leads_with_unseen_and_missing_values(scorer: Any, explainer: TreeShap) -> None:
    """Categories never seen in training, missing fields and blanked numbers."""
    records = _records()[:500]
    rng = np.random.default_rng(0)
    for i, record in enumerate(records):
        for name in rng.choice(list(record), size=3, replace=False):
            record[str(name)] = None if i % 2 else f"never seen {i}"
    columns = columns_from_records(records)
    for spec in scorer.schema_.specs:  # numbers and booleans cannot be text: blank them
        if spec.kind is not Kind.CATEGORICAL and spec.name in columns:
            columns[spec.name] = [
                None if isinstance(v, str) and v.startswith("never seen") else v
                for v in columns[spec.name]
            ]
    matrix = build_features(columns, schema=scorer.schema_, n_rows=len(records))
    assert matrix.unseen.any()
    _assert_exact(scorer.booster_, explainer, matrix.values)


def test_the_models_own_thresholds_and_edges(scorer: Any, explainer: TreeShap) -> None:
    """Each input at each of its split thresholds (and one ulp either side), at zero, NaN and
    +/-inf, and each categorical input at codes past its last category and below zero."""
    booster = scorer.booster_
    records = _records()[:50]
    base = build_features(
        columns_from_records(records), schema=scorer.schema_, n_rows=len(records)
    ).values
    edges = {j: {0.0, -0.0, np.nan, np.inf, -np.inf} for j in range(base.shape[1])}

    def visit(node: dict[str, Any]) -> None:
        if "split_index" not in node:
            return
        j = int(node["split_feature"])
        if node["decision_type"] == "<=":
            t = float(node["threshold"])
            edges[j] |= {t, np.nextafter(t, np.inf), np.nextafter(t, -np.inf)}
        else:
            edges[j] |= {float(c) for c in str(node["threshold"]).split("||")}
        visit(node["left_child"])
        visit(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        visit(tree["tree_structure"])
    for j in scorer.schema_.categorical_indices:
        n = len(scorer.schema_.specs[j].categories)
        edges[j] |= {float(n), float(n + 40), -1.0, -0.5, 2.7, 2147483648.0, 1e10}
    rows = [base]
    for j, values in edges.items():
        block = np.repeat(base[:1], len(values), axis=0)
        block[:, j] = sorted(values, key=lambda v: (np.isnan(v), v))
        rows.append(block)
    _assert_exact(booster, explainer, np.vstack(rows))


def test_the_scorers_contributions_are_exact(scorer: Any) -> None:
    """However the scorer computes them (kernel or pred_contrib), they are LightGBM's."""
    records = _records()[:1000]
    values = build_features(
        columns_from_records(records), schema=scorer.schema_, n_rows=len(records)
    ).values
    got = np.asarray(scorer.contributions(values), dtype=np.float64)
    want = np.asarray(scorer.booster_.predict(values, pred_contrib=True), dtype=np.float64)
    assert np.abs(got - want).max() <= TOLERANCE

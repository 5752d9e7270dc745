"""Leakage guard: find inputs that give the outcome away before a model learns to cheat.

Two signals: a single input that separates the classes almost perfectly on its own (ROC-AUC
above a threshold, computed out-of-fold for categories so that rare values cannot flatter
themselves), and a name or a contract declaration that says the column was filled in after the
outcome was known (for example a sales rep's tags).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from candor.models.contract import AFTER_THE_FACT_TOKENS, Contract, Kind, name_tokens
from candor.models.leads.features import FeatureMatrix

AUC_THRESHOLD = 0.90


@dataclass(frozen=True)
class LeakageFinding:
    feature: str
    single_feature_auc: float | None
    reasons: tuple[str, ...]
    excluded: bool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def warning(self) -> str:
        """The line shown as training runs: a leak is the most common way a lead model lies."""
        action = "EXCLUDED" if self.excluded else "KEPT (use --exclude to drop it)"
        return f"LEAKAGE WARNING: {self.feature!r}: {'; '.join(self.reasons)} -> {action}"


def single_feature_auc(
    column: np.ndarray, outcome: np.ndarray, *, categorical: bool, seed: int = 0
) -> float:
    """ROC-AUC of one input alone, direction-free (max of AUC and 1 - AUC); missing is a value."""
    if categorical:
        # out-of-fold target mean per category (missing is its own category)
        keys = np.where(np.isnan(column), -1.0, column)
        folds = np.random.default_rng(seed).integers(0, 2, size=len(keys))
        prior = float(outcome.mean())
        encoded = np.empty(len(keys))
        for fold in (0, 1):
            fit, apply = folds != fold, folds == fold
            cats, inverse = np.unique(keys[fit], return_inverse=True)
            sums = np.bincount(inverse, weights=outcome[fit])
            counts = np.bincount(inverse)
            means = (sums + prior * 5) / (counts + 5)
            lookup = dict(zip(cats.tolist(), means.tolist(), strict=True))
            encoded[apply] = [lookup.get(k, prior) for k in keys[apply].tolist()]
        score = encoded
    else:
        finite = column[np.isfinite(column)]
        fill = float(finite.min()) - 1.0 if finite.size else 0.0
        score = np.where(np.isnan(column), fill, column)
    if len(np.unique(score)) < 2:
        return 0.5
    auc = float(roc_auc_score(outcome, score))
    return max(auc, 1.0 - auc)


def scan(
    *,
    matrix: FeatureMatrix,
    outcome: np.ndarray,
    contract: Contract,
    excluded: frozenset[str] = frozenset(),
) -> list[LeakageFinding]:
    """Findings for the model inputs in ``matrix`` and the contract's after-the-fact fields.

    Args:
        matrix: features built with the full (pre-exclusion) schema.
        excluded: names dropped by ``--exclude`` or by the contract's after_the_fact flag.
    """
    findings: list[LeakageFinding] = []
    inputs = [f for f in contract.fields if f.is_model_input]
    for j, f in enumerate(inputs):
        reasons: list[str] = []
        auc = single_feature_auc(
            matrix.values[:, j], outcome, categorical=f.kind is Kind.CATEGORICAL
        )
        if auc > AUC_THRESHOLD:
            reasons.append(f"single-feature ROC-AUC {auc:.3f} > {AUC_THRESHOLD}")
        if f.after_the_fact:
            reasons.append("declared after_the_fact in the contract")
        hits = sorted(name_tokens(f.name) & AFTER_THE_FACT_TOKENS)
        if hits:
            reasons.append(f"name suggests it is recorded after the outcome ({', '.join(hits)})")
        if reasons:
            findings.append(
                LeakageFinding(f.name, round(auc, 4), tuple(reasons), f.name in excluded)
            )
    return findings

"""Leakage guard: find inputs that give the outcome away before a model learns to cheat.

Three signals: a single input that separates the classes almost perfectly on its own (ROC-AUC
above a threshold, computed out-of-fold for categories so that rare values cannot flatter
themselves); an input that dominates all the others (``training.leakage_dominance``: alone as
good as the rest together, a removal cost or a mean |SHAP| far beyond the next input's), which
catches a leak recorded during the contact at a modest ROC-AUC; and a name or a contract
declaration that says the column was filled in after the outcome was known (a sales rep's tags).

A finding is resolved when its input is excluded (by the contract's ``after_the_fact`` or by
``--exclude`` on the command line, each said as such) or its risk is accepted by name
(``--accept-leakage-risk COLUMN``, kept with the version and on its model card). A version with
an unresolved finding is registered, never promoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from candor.models.contract import AFTER_THE_FACT_TOKENS, Contract, Kind, name_tokens
from candor.models.leads.features import FeatureMatrix
from candor.training.leakage_dominance import Dominance

AUC_THRESHOLD = 0.90


CONTRACT = "contract"  # excluded by the contract's after_the_fact
COMMAND_LINE = "command line"  # excluded by --exclude


@dataclass(frozen=True)
class LeakageFinding:
    """One suspicious input and what was done about it.

    Attributes:
        excluded_by: ``"contract"`` or ``"command line"`` when the input was left out of
            training; None when it was trained on.
        accepted: kept on purpose: ``--accept-leakage-risk`` named it.
    """

    feature: str
    single_feature_auc: float | None
    reasons: tuple[str, ...]
    excluded: bool
    excluded_by: str | None = None
    accepted: bool = False

    @property
    def resolved(self) -> bool:
        return self.excluded or self.accepted

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "resolved": self.resolved}

    def warning(self) -> str:
        """The line shown as training runs: a leak is the most common way a lead model lies."""
        if self.excluded:
            action = f"EXCLUDED ({self.excluded_by_words})"
        elif self.accepted:
            action = "KEPT: risk accepted with --accept-leakage-risk"
        else:
            action = (
                "KEPT, and this version will not be promoted (use --exclude to drop it, or "
                "--accept-leakage-risk to keep it on purpose)"
            )
        return f"LEAKAGE WARNING: {self.feature!r}: {'; '.join(self.reasons)} -> {action}"

    @property
    def excluded_by_words(self) -> str:
        if self.excluded_by == COMMAND_LINE:
            return "by --exclude on the command line"
        return "declared after_the_fact in the contract"


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
    on_command_line: frozenset[str] = frozenset(),
    accepted: frozenset[str] = frozenset(),
    standings: Dominance | None = None,
) -> list[LeakageFinding]:
    """Findings for the model inputs in ``matrix`` and the contract's after-the-fact fields.

    Args:
        matrix: features built with the full (pre-exclusion) schema.
        excluded: names left out of training (by ``--exclude`` or the contract).
        on_command_line: those of ``excluded`` that ``--exclude`` left out.
        accepted: names whose risk ``--accept-leakage-risk`` accepted.
        standings: the kept inputs' standing against each other (``leakage_dominance``).
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
        if standings is not None and f.name not in excluded:
            reasons += standings.reasons(f.name, auc)
        if f.name in on_command_line:
            reasons.append("excluded by --exclude on the command line")
        elif f.after_the_fact:
            reasons.append("declared after_the_fact in the contract")
        hits = sorted(name_tokens(f.name) & AFTER_THE_FACT_TOKENS)
        if hits:
            reasons.append(f"name suggests it is recorded after the outcome ({', '.join(hits)})")
        if reasons:
            out = f.name in excluded
            by = (COMMAND_LINE if f.name in on_command_line else CONTRACT) if out else None
            findings.append(
                LeakageFinding(
                    f.name, round(auc, 4), tuple(reasons), out, by, not out and f.name in accepted
                )
            )
    return findings


def unresolved(findings: Sequence[LeakageFinding]) -> list[str]:
    """The inputs trained on with a finding nobody accepted: they block promotion."""
    return [f.feature for f in findings if not f.resolved]

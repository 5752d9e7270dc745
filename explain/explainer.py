"""Per-lead explanations from LightGBM's native TreeSHAP contributions (log-odds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from explain.reasons import describe
from models.contract import Contract
from models.features import FeatureMatrix, FeatureSchema, display_value


@dataclass(frozen=True)
class Reason:
    feature: str
    value: Any
    contribution: float  # log-odds
    text: str


@dataclass(frozen=True)
class Explanation:
    """``base_value + sum(all contributions) == margin`` (log-odds)."""

    margin: float
    base_value: float
    reasons: tuple[Reason, ...]


def explain_rows(
    *,
    contributions: np.ndarray,
    matrix: FeatureMatrix,
    columns: Mapping[str, Sequence[Any]],
    schema: FeatureSchema,
    contract: Contract,
    top_k: int | None,
) -> list[Explanation]:
    """Turn a batch of contributions (n, k + 1) into explanations, largest effects first.

    Args:
        top_k: keep this many reasons per lead; None keeps every input.
    """
    n_inputs = len(schema.specs)
    out: list[Explanation] = []
    for i in range(contributions.shape[0]):
        row = contributions[i]
        order = np.argsort(-np.abs(row[:n_inputs]), kind="stable")
        if top_k is not None:
            order = order[:top_k]
        reasons = []
        for j in order:
            spec = schema.specs[j]
            withheld = bool(matrix.withheld[i, j])
            unseen = bool(matrix.unseen[i, j])
            if withheld:
                value = None
            elif unseen:
                value = columns[spec.name][i]
            else:
                value = display_value(spec, float(matrix.values[i, j]))
            contribution = float(row[j])
            text = describe(
                contract[spec.name],
                value=value,
                contribution=contribution,
                withheld=withheld,
                unseen=unseen,
            )
            reasons.append(Reason(spec.name, value, contribution, text))
        out.append(Explanation(float(row.sum()), float(row[n_inputs]), tuple(reasons)))
    return out


def global_importance(contributions: np.ndarray, names: Sequence[str]) -> list[tuple[str, float]]:
    """Mean absolute contribution (log-odds) per input, largest first."""
    mean_abs = np.abs(contributions[:, : len(names)]).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    return [(names[j], float(mean_abs[j])) for j in order]

"""Per-lead explanations from LightGBM's native TreeSHAP contributions (log-odds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from candor.explain.lead_reasons import describe
from candor.models.contract import Contract
from candor.models.leads.features import FeatureMatrix, FeatureSchema, display_value


@dataclass(frozen=True, slots=True)
class Reason:
    feature: str
    value: Any
    contribution: float  # log-odds
    text: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a reason, in answers and in the audit record alike."""
        return {
            "feature": self.feature,
            "value": self.value,
            "contribution": self.contribution,
            "text": self.text,
        }


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
    # whole-batch NumPy work first, then plain Python lists: per-cell NumPy indexing is slow
    orders = np.argsort(-np.abs(contributions[:, :n_inputs]), axis=1, kind="stable")
    if top_k is not None:
        orders = orders[:, :top_k]
    margins = contributions.sum(axis=1).tolist()
    rows, values = contributions.tolist(), matrix.values.tolist()
    withheld_rows, unseen_rows = matrix.withheld.tolist(), matrix.unseen.tolist()
    fields = [contract[spec.name] for spec in schema.specs]
    out: list[Explanation] = []
    for i, order in enumerate(orders.tolist()):
        row, withheld_row, unseen_row = rows[i], withheld_rows[i], unseen_rows[i]
        reasons = []
        for j in order:
            spec = schema.specs[j]
            withheld, unseen = withheld_row[j], unseen_row[j]
            if withheld:
                value = None
            elif unseen:
                value = columns[spec.name][i]
            else:
                value = display_value(spec, values[i][j])
            text = describe(
                fields[j], value=value, contribution=row[j], withheld=withheld, unseen=unseen
            )
            reasons.append(Reason(spec.name, value, row[j], text))
        out.append(Explanation(margins[i], row[n_inputs], tuple(reasons)))
    return out


def global_importance(contributions: np.ndarray, names: Sequence[str]) -> list[tuple[str, float]]:
    """Mean absolute contribution (log-odds) per input, largest first."""
    mean_abs = np.abs(contributions[:, : len(names)]).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    return [(names[j], float(mean_abs[j])) for j in order]

"""Per-lead explanations from LightGBM's native TreeSHAP contributions (log-odds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from candor.explain.lead_reasons import describe, direction
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
    inputs = contributions[:, :n_inputs]
    orders = np.argsort(-np.abs(inputs), axis=1, kind="stable")
    if top_k is not None:
        orders = orders[:, :top_k]
    margins = contributions.sum(axis=1).tolist()
    bases = contributions[:, n_inputs].tolist()
    picked = [
        np.take_along_axis(a, orders, axis=1).tolist()
        for a in (inputs, matrix.values, matrix.withheld, matrix.unseen)
    ]
    specs, fields = schema.specs, [contract[spec.name] for spec in schema.specs]
    # the same input, encoded value and direction give the same value and sentence; batches
    # repeat them a lot. NaN keys never match (NaN != NaN), so a missing value is redone.
    seen: dict[tuple[Any, ...], tuple[Any, str]] = {}
    out: list[Explanation] = []
    for i, (order, cs, vs, ws, us) in enumerate(zip(orders.tolist(), *picked, strict=True)):
        reasons = []
        for j, contribution, encoded, withheld, unseen in zip(order, cs, vs, ws, us, strict=True):
            spec = specs[j]
            if unseen:  # the raw value, as sent: not worth keeping
                value = columns[spec.name][i]
                text = describe(fields[j], value=value, contribution=contribution, unseen=True)
            else:
                key = (j, encoded, withheld, direction(contribution))
                known = seen.get(key)
                if known is None:
                    value = None if withheld else display_value(spec, encoded)
                    text = describe(
                        fields[j], value=value, contribution=contribution, withheld=withheld
                    )
                    seen[key] = (value, text)
                else:
                    value, text = known
            reasons.append(Reason(spec.name, value, contribution, text))
        out.append(Explanation(margins[i], bases[i], tuple(reasons)))
    return out


def global_importance(contributions: np.ndarray, names: Sequence[str]) -> list[tuple[str, float]]:
    """Mean absolute contribution (log-odds) per input, largest first."""
    mean_abs = np.abs(contributions[:, : len(names)]).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    return [(names[j], float(mean_abs[j])) for j in order]

"""Per-lead explanations from LightGBM's native TreeSHAP contributions (log-odds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from candor.explain.reason_columns import ReasonColumns, reason_columns
from candor.models.contract import Contract
from candor.models.leads.features import FeatureMatrix, FeatureSchema


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
    table = reason_columns(
        contributions=contributions,
        matrix=matrix,
        columns=columns,
        schema=schema,
        contract=contract,
        top_k=top_k,
    )
    return explanations_of(table, contributions=contributions, schema=schema)


def explanations_of(
    table: ReasonColumns, *, contributions: np.ndarray, schema: FeatureSchema
) -> list[Explanation]:
    """One :class:`Explanation` per row of ``table`` (the rows of ``contributions``)."""
    n_inputs = len(schema.specs)
    margins = contributions.sum(axis=1).tolist()
    bases = contributions[:, n_inputs].tolist()
    names, values, texts = schema.names, table.values, table.texts
    return [
        Explanation(
            margins[i],
            bases[i],
            tuple(
                Reason(names[j], values[e], c, texts[e])
                for j, c, e in zip(inputs, effects, entries, strict=True)
            ),
        )
        for i, (inputs, effects, entries) in enumerate(
            zip(
                table.inputs.tolist(),
                table.contributions.tolist(),
                table.entries.tolist(),
                strict=True,
            )
        )
    ]


def global_importance(contributions: np.ndarray, names: Sequence[str]) -> list[tuple[str, float]]:
    """Mean absolute contribution (log-odds) per input, largest first."""
    mean_abs = np.abs(contributions[:, : len(names)]).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    return [(names[j], float(mean_abs[j])) for j in order]

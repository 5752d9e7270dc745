"""The top reasons of a whole batch of leads as columns: NumPy in, arrays and few strings out.

Every sentence depends only on (input, encoded value, withheld or missing, the contribution's
direction in words), and a batch repeats those a lot: the cells are factorised on that key in
NumPy and pandas, and :func:`~candor.explain.lead_reasons.describe` runs once per distinct key,
not once per reason. Categories not seen in training are the exception: their sentence names
the raw value as sent, so each such cell gets its own entry.

The result serves every path the same way: the HTTP answer takes ``Reason`` objects of it
(:meth:`ReasonColumns.row`), the batch file and Spark take Arrow columns of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from candor.explain.lead_reasons import SLIGHT_LOG_ODDS, STRONG_LOG_ODDS, describe
from candor.models.contract import Contract
from candor.models.leads.features import FeatureMatrix, FeatureSchema, display_value

# a cell's state: its value shown, missing, withheld (no consent) or unseen in training
_PRESENT, _MISSING, _WITHHELD, _UNSEEN = 0, 1, 2, 3


def direction_buckets(contributions: np.ndarray) -> np.ndarray:
    """The :func:`~candor.explain.lead_reasons.direction` class of each contribution, 0..6.

    0: no change; 1..3: slightly, plainly, strongly lowers; 4..6: the same, raises.
    """
    size = np.abs(contributions)
    strength = np.where(size >= STRONG_LOG_ODDS, 3, np.where(size < SLIGHT_LOG_ODDS, 1, 2))
    bucket = strength + np.where(contributions > 0, 3, 0)
    return np.where(size < 1e-9, 0, bucket).astype(np.int64)


@dataclass(frozen=True)
class ReasonColumns:
    """The ``top_k`` largest contributions of each lead, as arrays of shape (n, top_k).

    Attributes:
        inputs: the input's position in the schema, per reason.
        contributions: its contribution (log-odds).
        entries: per reason, an index into ``values`` and ``texts``.
        values: the value shown to a person (category, number, bool, None), per entry.
        texts: the sentence, per entry.
    """

    inputs: np.ndarray
    contributions: np.ndarray
    entries: np.ndarray
    values: list[Any]
    texts: list[str]

    @property
    def top_k(self) -> int:
        return int(self.inputs.shape[1])


def reason_columns(
    *,
    contributions: np.ndarray,
    matrix: FeatureMatrix,
    columns: Mapping[str, Any],
    schema: FeatureSchema,
    contract: Contract,
    top_k: int | None,
) -> ReasonColumns:
    """The largest effects first (ties in input order); ``top_k`` None keeps every input.

    Args:
        contributions: (n, k + 1) TreeSHAP contributions, the base value last.
        matrix: the encoded inputs of the same n leads.
        columns: what to show for the cells of categories unseen in training (only those are
            read): their labels, never the text sent.
    """
    n_inputs = len(schema.specs)
    n_rows = contributions.shape[0]
    effects = contributions[:, :n_inputs]
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")
    if top_k is not None:
        order = order[:, : min(top_k, n_inputs)]
    picked = np.take_along_axis(effects, order, axis=1)
    encoded = np.take_along_axis(matrix.values, order, axis=1).ravel()
    withheld = np.take_along_axis(matrix.withheld, order, axis=1).ravel()
    unseen = np.take_along_axis(matrix.unseen, order, axis=1).ravel()
    state = np.where(
        unseen, _UNSEEN, np.where(withheld, _WITHHELD, np.where(np.isnan(encoded), _MISSING, 0))
    )
    flat_inputs = order.ravel()
    buckets = direction_buckets(picked.ravel())
    value_codes, _ = pd.factorize(np.where(state == _PRESENT, encoded, 0.0))
    key = ((value_codes.astype(np.int64) * n_inputs + flat_inputs) * 4 + state) * 8 + buckets
    entries, distinct = pd.factorize(key)
    entries = entries.astype(np.int64)
    first = np.full(len(distinct), -1, dtype=np.int64)
    first[entries[::-1]] = np.arange(len(entries) - 1, -1, -1)  # first cell of each key
    specs, fields = schema.specs, [contract[spec.name] for spec in schema.specs]
    values: list[Any] = []
    texts: list[str] = []
    flat_effects = picked.ravel()
    for cell in first.tolist():
        j, s, c = int(flat_inputs[cell]), int(state[cell]), float(flat_effects[cell])
        value = None if s != _PRESENT else display_value(specs[j], float(encoded[cell]))
        values.append(value)
        texts.append(describe(fields[j], value=value, contribution=c, withheld=s == _WITHHELD))
    # an unseen category's sentence names the raw value sent: an entry per such cell
    for cell in np.flatnonzero(state == _UNSEEN).tolist():
        j, row = int(flat_inputs[cell]), cell // order.shape[1]
        raw = columns[specs[j].name][row]
        entries[cell] = len(values)
        values.append(raw)
        texts.append(
            describe(fields[j], value=raw, contribution=float(flat_effects[cell]), unseen=True)
        )
    return ReasonColumns(
        inputs=order,
        contributions=picked,
        entries=entries.reshape(n_rows, order.shape[1]),
        values=values,
        texts=texts,
    )

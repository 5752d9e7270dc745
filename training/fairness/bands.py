"""Bands of a numeric protected attribute or audit segment: age in years audited as age bands.

A contract field may band itself for the audit: ``bins: [30, 40, 50, 60]`` gives the edges,
``quantiles: 5`` asks for five bands of about equal share, their edges the quantiles of the
column over every row of the training data the audit is given (not only the holdout; the
``inverted_cdf`` quantiles, so that each edge is a value the data holds), deduplicated (a column
with few distinct values gets fewer bands). Serving still takes the number; only the audit
groups by band.

A value ``v`` falls in the band ``[edge_i, edge_i+1)``. The labels read
``"under 30"``, ``"30 to <40"``, ``"40 to <50"``, ``"50 to <60"``, ``"60 and over"``, and a
missing value keeps its own group (``MISSING_GROUP``). As text the labels do not sort in band
order ("under 30" would come last), so a :class:`Banding` carries its labels in band order, and
the audit lists a banded attribute's groups lowest band first, missing last
(``training.fairness.groups``).

A value that is not a number (text in an age column) is an error naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from candor.models.contract import Contract, Field
from candor.models.errors import DataValidationError, ErrorDetail
from candor.training.fairness.jsonsafe import json_safe

BINS, QUANTILES = "bins", "quantiles"


@dataclass(frozen=True)
class Banding:
    """How one numeric attribute is banded: the edges used and the labels, in band order."""

    attribute: str
    method: str  # BINS or QUANTILES
    edges: tuple[float, ...]  # strictly ascending inner edges
    quantiles: int | None = None  # the bands asked for (QUANTILES), before deduplication

    @property
    def labels(self) -> list[str]:
        """Each band's label, lowest first."""
        return band_labels(self.edges)

    def to_dict(self) -> dict[str, Any]:
        source = (
            f"{self.quantiles} quantiles of the training data"
            if self.method == QUANTILES
            else "edges from the contract"
        )
        return json_safe(
            {
                "method": self.method,
                "quantiles": self.quantiles,
                "edges": list(self.edges),
                "labels": band_labels(self.edges),
                "source": source,
            }
        )

    def describe(self) -> str:
        """``"banded at 30, 40, 50, 60 (edges from the contract)"``, for people."""
        return f"banded at {', '.join(_edge_texts(self.edges))} ({self.to_dict()['source']})"


def _edge_texts(edges: Sequence[float]) -> list[str]:
    """Each edge as short text (``30``, ``41.5``), as long as needed to tell them apart."""
    short = [f"{e:g}" for e in edges]
    return short if len(set(short)) == len(short) else [repr(float(e)) for e in edges]


def band_labels(edges: Sequence[float]) -> list[str]:
    """The labels of the ``len(edges) + 1`` bands the inner ``edges`` cut, lowest first."""
    if not len(edges):
        return ["all values"]
    text = _edge_texts(edges)
    middle = [f"{low} to <{high}" for low, high in pairwise(text)]
    return [f"under {text[0]}", *middle, f"{text[-1]} and over"]


def numbers_of(values: Any, field: Field) -> np.ndarray:
    """A banded column as float64, missing values (and the field's missing tokens) as NaN.

    Raises:
        DataValidationError: a value is text that is not a number; the message names the field,
            the first such value and how many there are.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        numbers = values.astype(np.float64)
        tokens = [float(t) for t in field.missing_tokens if _is_float(t)]
        if tokens:
            numbers[np.isin(numbers, tokens)] = np.nan
        return numbers
    if hasattr(values, "to_pylist") and not isinstance(values, np.ndarray):  # pyarrow
        values = values.to_pylist()
    series = pd.Series(np.asarray(list(values), dtype=object), dtype=object)
    text = series.astype("string").str.strip()
    said_missing = text.isin(list(field.missing_tokens))
    missing = (series.isna() | text.isna() | (text == "") | said_missing).to_numpy(bool)
    numbers = pd.to_numeric(text.mask(missing), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = ~missing & np.isnan(numbers)
    if bad.any():
        raise _not_numbers(field, series[bad].tolist())
    return numbers


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _not_numbers(field: Field, bad: list[Any]) -> DataValidationError:
    how = f"bins {list(field.bins)}" if field.bins else f"quantiles: {field.quantiles}"
    # the values are a protected attribute's: counted, never shown
    count = f"{len(bad)} value(s) that are not numbers"
    message = (
        f"field {field.name!r} is banded for the fairness audit ({how}) and needs numbers; "
        f"it holds {count}"
    )
    return DataValidationError(message, [ErrorDetail(field.name, count)])


def banding_of(field: Field, values: Any) -> Banding:
    """The banding of ``field`` (``is_banded``), its quantile edges from ``values`` (all rows)."""
    if field.bins:
        return Banding(field.name, BINS, tuple(float(e) for e in field.bins))
    if field.quantiles is None:
        raise ValueError(f"field {field.name!r} is not banded (no bins, no quantiles)")
    numbers = numbers_of(values, field)
    finite = numbers[np.isfinite(numbers)]
    q = field.quantiles
    if not len(finite):
        return Banding(field.name, QUANTILES, (), q)
    probabilities = np.arange(1, q) / q
    edges = np.unique(np.quantile(finite, probabilities, method="inverted_cdf"))
    edges = edges[edges > finite.min()]  # an edge at the minimum would leave "under" empty
    return Banding(field.name, QUANTILES, tuple(float(e) for e in edges), q)


def band_edges(contract: Contract, columns: Mapping[str, Any]) -> dict[str, Banding]:
    """The banding of every banded audited field present in ``columns`` (all training rows).

    Raises:
        DataValidationError: a banded column holds text that is not a number.
    """
    audited = {f.name: f for f in contract.audit_segments}
    return {
        name: banding_of(f, columns[name])
        for name, f in audited.items()
        if f.is_banded and name in columns
    }

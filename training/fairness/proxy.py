"""Proxies: model inputs strongly associated with a protected attribute.

A protected attribute is never a model input, but an input that tracks it (a practice postcode
for ethnicity, years in practice for age) lets the model use it all the same. For every model
input and every protected attribute the audit reports the bias-corrected Cramer's V
(Bergsma 2013) of their contingency table on the holdout, or on a seeded sample of
:data:`PROXY_ROWS` of its leads when it holds more:

    phi2 = chi2 / n,  phi2~ = max(0, phi2 - (k - 1)(r - 1) / (n - 1)),
    k~ = k - (k - 1)^2 / (n - 1),  r~ = r - (r - 1)^2 / (n - 1),
    V = sqrt(phi2~ / min(k~ - 1, r~ - 1))

(0: independent; 1: either determines the other). The correction removes the upward bias of
the plain V on small tables with many levels, where independent columns otherwise read 0.1 or
more. A numeric input with more than :data:`DECILES` distinct values is cut at its deciles on
the sample (deduplicated); fewer values, a flag, or a text input count each value as a level;
a missing value is a level of its own, so that "missing more often for one group" shows too.
The protected side is the audit's groups (bands for a banded attribute).

An association at or above the threshold (``fairness_proxy_threshold``) is an alert: a warning,
a metric and a line on the model card, never a gate (the input may be a legitimate driver; the
user decides). Everything is counted with ``np.bincount``: no Python call per lead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from candor.models.contract import Kind
from candor.training.fairness.jsonsafe import json_safe

PROXY_ROWS = 50_000
DECILES = 10

METHOD = (
    "bias-corrected Cramer's V (Bergsma 2013) of input x protected attribute on the holdout "
    f"(a seeded sample of {PROXY_ROWS:,} leads when larger); numeric inputs with more than "
    f"{DECILES} values cut at their deciles; missing values a level of their own"
)


@dataclass(frozen=True)
class ProxyAssociation:
    """How strongly one model input tracks one protected attribute."""

    input: str
    attribute: str
    cramers_v: float | None  # None: a side with one level only (no association to measure)
    input_levels: int
    rows: int

    def alert(self, threshold: float) -> bool:
        return self.cramers_v is not None and self.cramers_v >= threshold

    def describe(self, threshold: float) -> str:
        return (
            f"model input {self.input!r} is a proxy of protected attribute {self.attribute!r}: "
            f"bias-corrected Cramer's V {self.cramers_v:.2f} >= {threshold:g} on {self.rows:,} "
            "holdout leads"
        )

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))


def cramers_v(a: np.ndarray, b: np.ndarray) -> float | None:
    """Bias-corrected Cramer's V of two code arrays (non-negative integers, one per lead).

    None when, after dropping empty levels, either side has a single level or there are fewer
    than two leads.
    """
    a, b = np.asarray(a, np.intp), np.asarray(b, np.intp)
    n = len(a)
    if n < 2:
        return None
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(float)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, k = table.shape
    if r < 2 or k < 2:
        return None
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(np.sum((table - expected) ** 2 / expected))
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    r_corr = r - (r - 1) ** 2 / (n - 1)
    k_corr = k - (k - 1) ** 2 / (n - 1)
    denominator = min(k_corr - 1, r_corr - 1)
    if denominator <= 0:
        return None
    return min(1.0, math.sqrt(phi2 / denominator))


def level_codes(values: Any, kind: Kind | None) -> np.ndarray:
    """Each lead's level of one input (see the module docstring): codes ``0 .. levels - 1``."""
    if hasattr(values, "to_pylist") and not isinstance(values, np.ndarray):  # pyarrow
        values = values.to_pylist()
    array = values if isinstance(values, np.ndarray) else np.asarray(list(values), dtype=object)
    if kind is Kind.NUMERIC or array.dtype.kind in "iuf":
        numbers = pd.to_numeric(pd.Series(array), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        missing = np.isnan(numbers)
        finite = numbers[~missing]
        distinct = np.unique(finite)
        if len(distinct) <= DECILES:
            codes = np.searchsorted(distinct, numbers)
        else:
            edges = np.unique(np.quantile(finite, np.arange(1, DECILES) / DECILES))
            codes = np.searchsorted(edges, numbers, side="right")
        codes = np.asarray(codes, np.intp)
        codes[missing] = int(codes[~missing].max(initial=-1)) + 1
        return codes
    codes, _ = pd.factorize(pd.Series(array, dtype=object))  # missing: -1
    codes = np.asarray(codes, np.intp)
    codes[codes < 0] = int(codes.max(initial=-1)) + 1
    return codes


def proxy_associations(
    *,
    inputs: Mapping[str, tuple[Any, Kind | None]],
    protected: Mapping[str, np.ndarray],
) -> tuple[ProxyAssociation, ...]:
    """Every (input, protected attribute) association on the leads given (one sample).

    Args:
        inputs: model input name -> (its values for the sampled leads, its kind).
        protected: protected attribute name -> its group label per sampled lead.
    """
    groups = {
        name: pd.factorize(np.asarray(labels, dtype=object))[0]
        for name, labels in protected.items()
    }
    found = []
    for name, (values, kind) in inputs.items():
        codes = level_codes(values, kind)
        levels = len(np.unique(codes))
        for attribute, group in groups.items():
            found.append(
                ProxyAssociation(name, attribute, cramers_v(codes, group), levels, len(codes))
            )
    return tuple(found)


def sample_rows(rows: np.ndarray, *, limit: int = PROXY_ROWS, seed: int = 0) -> np.ndarray:
    """Positions (into ``rows``) of a seeded sample of at most ``limit``, in ascending order."""
    n = len(rows)
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))

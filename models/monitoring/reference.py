"""The reference distributions a lead scorer is trained with, and the one way inputs are binned.

Training computes a :class:`DriftReference` on its holdout (``candor.training.drift_reference``)
and keeps it in the model's meta (``meta_["drift_reference"]``, JSON), so that serving and the
CLI read it from the loaded model alone. Everything is in the *encoded* space of
``models.leads.features.build_features``, the space of the ``inputs`` of audited score events:
categories are integer codes of the model's schema, booleans 0/1, and a missing, withheld or
unseen value is NaN (an unseen one is also named by the event's ``unseen``).

Bins (every reference and every observed sample of an input uses the same ones):

* numeric input (and the score): right-closed quantile bins ``(e[i-1], e[i]]`` between the
  distinct deciles ``e`` of the holdout's values, open at both ends (``<= e[0]`` and
  ``> e[-1]``), then one bin for missing values;
* categorical input: one bin per category (at most :data:`MAX_CATEGORY_BINS`, the most frequent
  on the holdout; the rest share ``(other)``), then ``(unseen)`` (a value the model never saw
  in training) and ``(missing)``;
* boolean input: ``false``, ``true``, ``(missing)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

QUANTILE_BINS = 10  # deciles: at most 9 inner edges, 10 bins (fewer when values tie)
MAX_CATEGORY_BINS = 30  # categories kept as bins of their own; the others share OTHER
MISSING = "(missing)"
UNSEEN = "(unseen)"
OTHER = "(other)"
SCORE = "score"  # the name the score's distribution goes by beside the inputs
FORMAT = 1  # the layout of to_dict(); from_dict refuses another

NUMERIC, CATEGORICAL, BOOLEAN = "numeric", "categorical", "boolean"


@dataclass(frozen=True)
class InputReference:
    """One input's (or the score's) bins and their shares on the holdout.

    Attributes:
        name: the model input (or :data:`SCORE`).
        kind: ``numeric``, ``categorical`` or ``boolean``.
        labels: one per bin, in bin order (see the module docstring).
        shares: the holdout's share of rows in each bin (sums to 1).
        edges: numeric: the inner edges of the right-closed quantile bins.
        category_bins: categorical: the bin of each category code of the model's schema.
        minimum, maximum: numeric: the training range (serving flags a value outside it as out
            of distribution); None for the score and for an input never given in training.
        out_of_range_share: the holdout's share of values outside that range.
        unseen_share: categorical: the holdout's share of categories unseen in training.
    """

    name: str
    kind: str
    labels: tuple[str, ...]
    shares: tuple[float, ...]
    edges: tuple[float, ...] = ()
    category_bins: tuple[int, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    out_of_range_share: float = 0.0
    unseen_share: float = 0.0

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.shares):
            raise ValueError(
                f"{self.name}: {len(self.labels)} labels for {len(self.shares)} shares"
            )
        if self.kind not in (NUMERIC, CATEGORICAL, BOOLEAN):
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")

    @property
    def n_bins(self) -> int:
        return len(self.labels)

    def bins(self, values: np.ndarray, unseen: np.ndarray | None = None) -> np.ndarray:
        """The bin of each encoded value (NaN: missing; ``unseen`` True: an unseen category)."""
        values = np.asarray(values, dtype=np.float64)
        missing = np.isnan(values)
        if self.kind == NUMERIC:
            out = np.searchsorted(np.asarray(self.edges, dtype=np.float64), values, side="left")
            out[missing] = self.n_bins - 1
            return out.astype(np.intp)
        if self.kind == BOOLEAN:
            out = np.where(missing, 2, np.where(values >= 0.5, 1, 0))
            return out.astype(np.intp)
        # categorical: codes -> their bins; NaN -> unseen or missing
        unseen_bin, missing_bin = self.n_bins - 2, self.n_bins - 1
        lookup = np.asarray(self.category_bins, dtype=np.intp)
        codes = np.where(missing, -1, values).astype(np.int64)
        known = ~missing & (codes >= 0) & (codes < len(lookup))
        out = np.full(len(values), missing_bin, dtype=np.intp)
        out[known] = lookup[codes[known]]
        out[~missing & ~known] = unseen_bin  # a code the schema does not have
        if unseen is not None:
            out[missing & np.asarray(unseen, dtype=bool)] = unseen_bin
        return out

    def shares_of(self, values: np.ndarray, unseen: np.ndarray | None = None) -> np.ndarray:
        """The share of ``values`` in each bin (zeros when there are none)."""
        return bin_shares(self.bins(values, unseen), self.n_bins)

    def out_of_range(self, values: np.ndarray) -> np.ndarray:
        """True where a numeric value lies outside the training range (serving's rule)."""
        values = np.asarray(values, dtype=np.float64)
        if self.kind != NUMERIC or self.minimum is None or self.maximum is None:
            return np.zeros(len(values), dtype=bool)
        with np.errstate(invalid="ignore"):
            return (values < self.minimum) | (values > self.maximum)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "labels": list(self.labels),
            "shares": list(self.shares),
        }
        if self.kind == NUMERIC:
            out.update(
                edges=list(self.edges),
                minimum=self.minimum,
                maximum=self.maximum,
                out_of_range_share=self.out_of_range_share,
            )
        if self.kind == CATEGORICAL:
            out.update(category_bins=list(self.category_bins), unseen_share=self.unseen_share)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> InputReference:
        return cls(
            name=str(raw["name"]),
            kind=str(raw["kind"]),
            labels=tuple(str(x) for x in raw["labels"]),
            shares=tuple(float(x) for x in raw["shares"]),
            edges=tuple(float(x) for x in raw.get("edges", ())),
            category_bins=tuple(int(x) for x in raw.get("category_bins", ())),
            minimum=_optional_float(raw.get("minimum")),
            maximum=_optional_float(raw.get("maximum")),
            out_of_range_share=float(raw.get("out_of_range_share", 0.0)),
            unseen_share=float(raw.get("unseen_share", 0.0)),
        )


@dataclass(frozen=True)
class SegmentReference:
    """The holdout's shares within one group of an audit segment that is a model input.

    ``inputs`` maps each input (and :data:`SCORE`) to its shares over the overall reference's
    bins; ``rows`` is the group's holdout rows (a small group's shares are noisy).
    """

    segment: str
    group: str
    rows: int
    inputs: dict[str, tuple[float, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "group": self.group,
            "rows": self.rows,
            "inputs": {k: list(v) for k, v in self.inputs.items()},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SegmentReference:
        return cls(
            segment=str(raw["segment"]),
            group=str(raw["group"]),
            rows=int(raw["rows"]),
            inputs={str(k): tuple(float(x) for x in v) for k, v in raw["inputs"].items()},
        )


@dataclass(frozen=True)
class DriftReference:
    """What a version's audited scores are compared with: its holdout, binned.

    Attributes:
        rows: holdout rows the reference was computed on.
        inputs: one per model input, in the schema's order (the order of audited ``inputs``).
        score: the calibrated score's bins (probability of conversion).
        review_rates: each review code's share of holdout leads, as the policy at training
            would have flagged them.
        review_not_computed: review codes with no holdout rate, and why.
        policy: the scoring policy's thresholds the rates were computed with.
        segments: per group of each audit segment that is a model input.
        segments_not_inputs: audit segments (and protected attributes) that are not model
            inputs, so not in the audited inputs, and why they cannot be compared.
    """

    rows: int
    inputs: tuple[InputReference, ...]
    score: InputReference
    review_rates: dict[str, float] = field(default_factory=dict)
    review_not_computed: dict[str, str] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    segments: tuple[SegmentReference, ...] = ()
    segments_not_inputs: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.inputs]

    def input(self, name: str) -> InputReference:
        """The reference of input ``name`` (or of the score); KeyError when there is none."""
        if name == SCORE:
            return self.score
        for ref in self.inputs:
            if ref.name == name:
                return ref
        raise KeyError(name)

    def segment_groups(self, segment: str) -> dict[str, SegmentReference]:
        return {s.group: s for s in self.segments if s.segment == segment}

    @property
    def segment_names(self) -> list[str]:
        return list(dict.fromkeys(s.segment for s in self.segments))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rows": self.rows,
            "bins": f"deciles of the holdout (at most {QUANTILE_BINS} bins) per numeric input "
            f"and for the score, right-closed, plus {MISSING}; categories (at most "
            f"{MAX_CATEGORY_BINS}, the rest {OTHER}) plus {UNSEEN} and {MISSING}",
            "inputs": [i.to_dict() for i in self.inputs],
            "score": self.score.to_dict(),
            "review_rates": dict(self.review_rates),
            "review_not_computed": dict(self.review_not_computed),
            "policy": dict(self.policy),
            "segments": [s.to_dict() for s in self.segments],
            "segments_not_inputs": dict(self.segments_not_inputs),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DriftReference:
        if int(raw.get("format", 0)) != FORMAT:
            raise ValueError(f"drift reference format {raw.get('format')!r}, expected {FORMAT}")
        return cls(
            rows=int(raw["rows"]),
            inputs=tuple(InputReference.from_dict(i) for i in raw["inputs"]),
            score=InputReference.from_dict(raw["score"]),
            review_rates={str(k): float(v) for k, v in raw.get("review_rates", {}).items()},
            review_not_computed={
                str(k): str(v) for k, v in raw.get("review_not_computed", {}).items()
            },
            policy=dict(raw.get("policy", {})),
            segments=tuple(SegmentReference.from_dict(s) for s in raw.get("segments", ())),
            segments_not_inputs={
                str(k): str(v) for k, v in raw.get("segments_not_inputs", {}).items()
            },
        )


def bin_shares(bins: np.ndarray, n_bins: int) -> np.ndarray:
    """The share of entries of ``bins`` (bin indices) in each of ``n_bins`` bins."""
    counts = np.bincount(np.asarray(bins, dtype=np.intp), minlength=n_bins).astype(np.float64)
    total = counts.sum()
    return counts / total if total else counts


def quantile_edges(values: np.ndarray, bins: int = QUANTILE_BINS) -> tuple[float, ...]:
    """The distinct inner quantile edges of the finite ``values`` (none when there are none)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return ()
    # edges at values the data holds (no interpolation): a count's bins stay whole numbers
    inner = np.quantile(finite, np.arange(1, bins) / bins, method="inverted_cdf")
    return tuple(float(e) for e in np.unique(inner))


def numeric_labels(edges: Sequence[float]) -> tuple[str, ...]:
    """Bin labels of right-closed bins between ``edges``, then the missing bin."""
    if not edges:
        return ("all values", MISSING)
    labels = [f"<= {edges[0]:g}"]
    labels += [f"({a:g}, {b:g}]" for a, b in itertools.pairwise(edges)]
    labels.append(f"> {edges[-1]:g}")
    return (*labels, MISSING)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)

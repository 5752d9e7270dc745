"""Drift of audited scores against a model's training reference: pure maths on arrays.

The population stability index of an observed distribution ``o`` against a reference ``r``
over the same bins is ``PSI = sum_i (o_i - r_i) * ln(o_i / r_i)`` (shares, not counts). A bin
empty on either side would make it infinite, so each share below :data:`EPSILON` (1e-4) is
raised to it before the sum (the shares are not renormalised: the change is at most 1e-4 per
bin). PSI is 0 for identical shares and grows with the shift; the usual reading, and the
default thresholds in settings: below 0.1 stable (``ok``), 0.1 to 0.25 a moderate shift
(``warn``), 0.25 and above a major one (``alert``).

A group of fewer than ``drift_min_scores`` scores is ``too_small``: no PSI is computed for it
(with a handful of scores every input would look drifted); so is a segment group whose holdout
reference holds fewer than ``drift_min_scores`` leads. A group's status is the worst of its
inputs' and its score's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from candor.models.monitoring.reference import (
    CATEGORICAL,
    NUMERIC,
    SCORE,
    DriftReference,
    InputReference,
)

EPSILON = 1e-4  # the least share a bin counts with in the PSI (an empty bin would be infinite)


class DriftStatus(StrEnum):
    OK = "ok"
    WARN = "warn"
    ALERT = "alert"
    TOO_SMALL = "too_small"  # fewer scores than drift_min_scores: not judged
    NO_REFERENCE = "no_reference"  # nothing to compare with (a version without a reference)


# how bad a status is, to take the worst of several (a judged status outranks an unjudged one)
SEVERITY = {
    DriftStatus.NO_REFERENCE: 0,
    DriftStatus.TOO_SMALL: 1,
    DriftStatus.OK: 2,
    DriftStatus.WARN: 3,
    DriftStatus.ALERT: 4,
}


def worst(statuses: Sequence[DriftStatus], *, default: DriftStatus) -> DriftStatus:
    """The most severe of ``statuses`` (``default`` when there are none)."""
    return max(statuses, key=SEVERITY.__getitem__, default=default)


@dataclass(frozen=True)
class Thresholds:
    """PSI thresholds and the smallest group judged (``Settings.drift_*``)."""

    warn: float = 0.1
    alert: float = 0.25
    min_scores: int = 200

    def __post_init__(self) -> None:
        if not 0.0 < self.warn < self.alert:
            raise ValueError(f"need 0 < warn < alert, got warn {self.warn}, alert {self.alert}")
        if self.min_scores < 1:
            raise ValueError(f"min_scores must be at least 1, got {self.min_scores}")

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        return cls(settings.drift_warn_psi, settings.drift_alert_psi, settings.drift_min_scores)

    def status(self, psi: float) -> DriftStatus:
        """``alert`` at or above the alert threshold, ``warn`` at or above warn, else ``ok``."""
        if psi >= self.alert:
            return DriftStatus.ALERT
        if psi >= self.warn:
            return DriftStatus.WARN
        return DriftStatus.OK

    def to_dict(self) -> dict[str, float | int]:
        return {"warn_psi": self.warn, "alert_psi": self.alert, "min_scores": self.min_scores}


def psi(reference: Sequence[float] | np.ndarray, observed: Sequence[float] | np.ndarray) -> float:
    """The population stability index of ``observed`` shares against ``reference`` shares.

    Both are shares over the same bins; a share below :data:`EPSILON` counts as EPSILON.
    """
    r = np.asarray(reference, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    if r.shape != o.shape:
        raise ValueError(f"{r.shape[0]} reference bins against {o.shape[0]} observed")
    r = np.maximum(r, EPSILON)
    o = np.maximum(o, EPSILON)
    return float(np.sum((o - r) * np.log(o / r)))


@dataclass(frozen=True)
class Observed:
    """Audited scores of one model version, as numbers in the reference's encoded space.

    Attributes:
        values: (n, k) encoded inputs in the reference's input order; NaN where missing.
        unseen: (n, k) True where the input held a category unseen in training.
        score: (n,) calibrated scores (probabilities).
        review: per score, its review codes.
    """

    values: np.ndarray
    unseen: np.ndarray
    score: np.ndarray
    review: Sequence[Sequence[str]]

    @property
    def n(self) -> int:
        return int(self.score.shape[0])

    def where(self, mask: np.ndarray) -> Observed:
        """The scores where the boolean ``mask`` is True."""
        rows = np.flatnonzero(mask)
        return Observed(
            self.values[rows],
            self.unseen[rows],
            self.score[rows],
            [self.review[i] for i in rows.tolist()],
        )


@dataclass(frozen=True)
class InputDrift:
    """One input's (or the score's) drift in a group of scores.

    ``psi`` and ``status`` are None / ``too_small`` when the group is too small; the shares
    are over the reference's bins (``labels``); ``unseen_share`` and ``out_of_range_share``
    (observed, beside the holdout's) are None where they do not apply to the input's kind.
    """

    name: str
    kind: str
    status: DriftStatus
    psi: float | None
    labels: tuple[str, ...]
    reference_shares: tuple[float, ...]
    observed_shares: tuple[float, ...]
    unseen_share: float | None = None
    reference_unseen_share: float | None = None
    out_of_range_share: float | None = None
    reference_out_of_range_share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": str(self.status),
            "psi": self.psi,
            "labels": list(self.labels),
            "reference_shares": list(self.reference_shares),
            "observed_shares": list(self.observed_shares),
            "unseen_share": self.unseen_share,
            "reference_unseen_share": self.reference_unseen_share,
            "out_of_range_share": self.out_of_range_share,
            "reference_out_of_range_share": self.reference_out_of_range_share,
        }


@dataclass(frozen=True)
class ReviewRate:
    """One review code's share of the group's scores beside the holdout's (None: not computed
    at training; ``note`` says why)."""

    code: str
    observed: float | None
    reference: float | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "observed": self.observed,
            "reference": self.reference,
            "note": self.note,
        }


@dataclass(frozen=True)
class GroupDrift:
    """The drift of one group of scores (all of a version's, or one segment group's).

    ``worst_input`` is the input with the largest PSI, or :data:`SCORE` when the score's is
    larger; None when the group is too small.
    """

    scores: int
    status: DriftStatus
    inputs: tuple[InputDrift, ...]
    score: InputDrift
    review_rates: tuple[ReviewRate, ...] = ()
    worst_input: str | None = None
    worst_psi: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": self.scores,
            "status": str(self.status),
            "worst_input": self.worst_input,
            "worst_psi": self.worst_psi,
            "inputs": [i.to_dict() for i in self.inputs],
            "score": self.score.to_dict(),
            "review_rates": [r.to_dict() for r in self.review_rates],
        }


def compare_input(
    ref: InputReference,
    values: np.ndarray,
    unseen: np.ndarray | None,
    thresholds: Thresholds,
    *,
    reference_shares: Sequence[float] | None = None,
    judged: bool | None = None,
) -> InputDrift:
    """One input's drift: its observed shares over ``ref``'s bins against the reference
    shares (``ref.shares``, or ``reference_shares``: a segment group's), PSI and status.
    ``judged`` (default: at least ``min_scores`` values) says whether a PSI is computed."""
    n = len(values)
    expected = tuple(reference_shares) if reference_shares is not None else ref.shares
    observed = ref.shares_of(values, unseen)
    if judged is None:
        judged = n >= thresholds.min_scores
    value = psi(expected, observed) if judged else None
    status = thresholds.status(value) if value is not None else DriftStatus.TOO_SMALL
    unseen_share = ref_unseen = out_share = ref_out = None
    if ref.kind == CATEGORICAL:
        ref_unseen = ref.unseen_share
        unseen_share = float(np.mean(unseen)) if unseen is not None and n else 0.0
    if ref.kind == NUMERIC and ref.name != SCORE:
        ref_out = ref.out_of_range_share
        out_share = float(np.mean(ref.out_of_range(values))) if n else 0.0
    return InputDrift(
        name=ref.name,
        kind=ref.kind,
        status=status,
        psi=value,
        labels=ref.labels,
        reference_shares=tuple(float(x) for x in expected),
        observed_shares=tuple(float(x) for x in observed),
        unseen_share=unseen_share,
        reference_unseen_share=ref_unseen,
        out_of_range_share=out_share,
        reference_out_of_range_share=ref_out,
    )


def review_rates(
    reference: DriftReference, review: Sequence[Sequence[str]], codes: Sequence[str]
) -> tuple[ReviewRate, ...]:
    """Each code's observed share of ``review`` (one list of codes per score) beside the
    reference's rate."""
    n = len(review)
    out = []
    for code in codes:
        observed = sum(code in r for r in review) / n if n else None
        out.append(
            ReviewRate(
                code,
                observed,
                reference.review_rates.get(code),
                reference.review_not_computed.get(code),
            )
        )
    return tuple(out)


def compare(
    reference: DriftReference,
    observed: Observed,
    thresholds: Thresholds,
    *,
    codes: Sequence[str] = (),
    reference_shares: Mapping[str, Sequence[float]] | None = None,
    reference_rows: int | None = None,
) -> GroupDrift:
    """A group of scores against the reference: every input, the score, the review codes.

    ``reference_shares`` replaces the reference's shares per input (a segment group's holdout
    shares, over the same bins, from ``reference_rows`` holdout leads); an input it lacks is
    compared with the overall reference. The group is too small when it has fewer than
    ``min_scores`` scores, or its reference fewer than ``min_scores`` leads (a PSI between
    two small samples is mostly noise).
    """
    if observed.values.shape[1] != len(reference.inputs):
        raise ValueError(
            f"{observed.values.shape[1]} observed inputs against {len(reference.inputs)} in the "
            "reference"
        )
    own = reference_shares or {}
    judged = observed.n >= thresholds.min_scores and (
        reference_rows is None or reference_rows >= thresholds.min_scores
    )
    inputs = tuple(
        compare_input(
            ref,
            observed.values[:, j],
            observed.unseen[:, j],
            thresholds,
            reference_shares=own.get(ref.name),
            judged=judged,
        )
        for j, ref in enumerate(reference.inputs)
    )
    score = compare_input(
        reference.score,
        observed.score,
        None,
        thresholds,
        reference_shares=own.get(SCORE),
        judged=judged,
    )
    rates = review_rates(reference, observed.review, codes)
    if not judged:
        return GroupDrift(observed.n, DriftStatus.TOO_SMALL, inputs, score, rates)
    every = [*inputs, score]
    top = max(every, key=lambda d: d.psi if d.psi is not None else -1.0)
    status = worst([d.status for d in every], default=DriftStatus.OK)
    return GroupDrift(observed.n, status, inputs, score, rates, top.name, top.psi)


@dataclass(frozen=True)
class DriftSummary:
    """What is kept of one drift check (the audit event ``drift_check``) and shown by
    ``/healthz`` and the model card: the window, the status and the worst input."""

    status: str
    checked_at: str  # ISO 8601, UTC
    since: str  # ISO date
    until: str  # ISO date, inclusive
    worst_input: str | None = None
    worst_psi: float | None = None
    version: str | None = None  # the version the worst input belongs to
    scores: int = 0
    versions: dict[str, str] = field(default_factory=dict)  # version -> its status

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "checked_at": self.checked_at,
            "window": {"since": self.since, "until": self.until},
            "worst_input": self.worst_input,
            "worst_psi": self.worst_psi,
            "version": self.version,
            "scores": self.scores,
            "versions": dict(self.versions),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DriftSummary:
        window = raw.get("window") or {}
        psi_value = raw.get("worst_psi")
        return cls(
            status=str(raw["status"]),
            checked_at=str(raw["checked_at"]),
            since=str(window.get("since", "")),
            until=str(window.get("until", "")),
            worst_input=raw.get("worst_input"),
            worst_psi=None if psi_value is None else float(psi_value),
            version=raw.get("version"),
            scores=int(raw.get("scores", 0)),
            versions={str(k): str(v) for k, v in (raw.get("versions") or {}).items()},
        )

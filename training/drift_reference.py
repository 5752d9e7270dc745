"""The reference distributions kept with a lead scorer: its holdout, binned, in encoded space.

:func:`holdout_reference` encodes the holdout rows with the model's own schema (as serving
encodes a lead), scores them (as serving does: margins, then Venn-Abers) and bins every input
and the score (``candor.models.monitoring.reference``). The review codes are counted as the
scoring policy would flag the holdout leads: ``low_confidence``, ``out_of_distribution`` and
``near_grade_boundary`` by the same rules as serving; ``random_audit`` is drawn from each
score's random id at serving, so it has no holdout rate (its expected rate is the policy's
``random_audit_share``), and the reference says so.

Training stores the result in ``scorer.meta_["drift_reference"]`` and logs it as the run
artifact ``drift_reference.json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from candor.models.contract import Contract, Kind
from candor.models.leads.features import FeatureMatrix, FeatureSchema, build_features, out_of_range
from candor.models.leads.scorer import LeadScorer
from candor.models.monitoring.reference import (
    BOOLEAN,
    CATEGORICAL,
    MAX_CATEGORY_BINS,
    MISSING,
    NUMERIC,
    OTHER,
    SCORE,
    UNSEEN,
    DriftReference,
    InputReference,
    SegmentReference,
    numeric_labels,
    quantile_edges,
)
from candor.models.policy import ReviewCode, ScoringPolicy, review_bits, review_codes
from candor.training.fit import FitResult, take_rows

RANDOM_AUDIT_NOTE = (
    "drawn at serving from each score's random id, not a property of the leads: no holdout "
    "rate; its expected rate is the policy's random_audit_share"
)
NOT_AN_INPUT_NOTE = (
    "not a model input: the audit log keeps only the model's encoded inputs, so scores "
    "cannot be grouped by it"
)


def holdout_reference(
    result: FitResult, columns: Mapping[str, Any], contract: Contract, policy: ScoringPolicy
) -> DriftReference:
    """The reference of a fitted scorer on its holdout rows (``result.splits.holdout``).

    ``policy`` is the settings' scoring policy; the model's own grade cut-offs (in its meta)
    are applied to it as serving applies them.
    """
    scorer = result.scorer
    rows = result.splits.holdout
    matrix = build_features(take_rows(columns, rows), schema=scorer.schema_, n_rows=len(rows))
    calibrated = scorer.calibrate(scorer.margins(matrix.values))
    return build_reference(
        scorer=scorer,
        matrix=matrix,
        score=calibrated.score,
        lower=calibrated.lower,
        upper=calibrated.upper,
        contract=contract,
        policy=policy.for_model(scorer.grade_cutoffs),
    )


def build_reference(
    *,
    scorer: LeadScorer,
    matrix: FeatureMatrix,
    score: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    contract: Contract,
    policy: ScoringPolicy,
) -> DriftReference:
    """The reference of encoded rows ``matrix`` with their calibrated scores and intervals."""
    schema = scorer.schema_
    inputs = tuple(
        input_reference(schema, j, matrix.values[:, j], matrix.unseen[:, j])
        for j in range(len(schema.specs))
    )
    score_ref = _numeric_shares(SCORE, score, quantile_edges(score))
    rates = holdout_review_rates(matrix, schema, score, lower, upper, policy)
    segments, not_inputs = segment_references(contract, schema, inputs, score_ref, matrix, score)
    return DriftReference(
        rows=int(matrix.values.shape[0]),
        inputs=inputs,
        score=score_ref,
        review_rates=rates,
        review_not_computed={str(ReviewCode.RANDOM_AUDIT): RANDOM_AUDIT_NOTE},
        policy=_policy_dict(policy),
        segments=segments,
        segments_not_inputs=not_inputs,
    )


def input_reference(
    schema: FeatureSchema, j: int, values: np.ndarray, unseen: np.ndarray
) -> InputReference:
    """Input ``j``'s bins (see ``models.monitoring.reference``) and its shares in ``values``."""
    spec = schema.specs[j]
    if spec.kind is Kind.NUMERIC:
        ref = _numeric_shares(spec.name, values, quantile_edges(values))
        outside = out_of_range(values[:, None], FeatureSchema((spec,), ""))[:, 0]
        return dataclasses.replace(
            ref,
            minimum=spec.minimum,
            maximum=spec.maximum,
            out_of_range_share=float(outside.mean()) if len(values) else 0.0,
        )
    if spec.kind is Kind.BOOLEAN:
        labels = ("false", "true", MISSING)
        empty = InputReference(spec.name, BOOLEAN, labels, (0.0,) * 3)
        return dataclasses.replace(empty, shares=_tuple(empty.shares_of(values)))
    return _categorical(spec.name, spec.categories, values, unseen)


def _numeric_shares(name: str, values: np.ndarray, edges: tuple[float, ...]) -> InputReference:
    labels = numeric_labels(edges)
    empty = InputReference(name, NUMERIC, labels, (0.0,) * len(labels), edges=edges)
    return dataclasses.replace(empty, shares=_tuple(empty.shares_of(values)))


def _categorical(
    name: str, categories: tuple[str, ...], values: np.ndarray, unseen: np.ndarray
) -> InputReference:
    """One bin per category (the :data:`MAX_CATEGORY_BINS` most frequent on the holdout, in
    the schema's order; the rest in ``(other)``), then ``(unseen)`` and ``(missing)``."""
    codes = values[~np.isnan(values)].astype(np.intp)
    counts = np.bincount(codes, minlength=len(categories))[: len(categories)]
    order = np.argsort(-counts, kind="stable")
    kept = np.sort(order[:MAX_CATEGORY_BINS])
    has_other = len(categories) > MAX_CATEGORY_BINS
    position = {int(code): i for i, code in enumerate(kept.tolist())}
    other_bin = len(kept)
    category_bins = tuple(position.get(code, other_bin) for code in range(len(categories)))
    labels = (
        *(categories[c] for c in kept.tolist()),
        *((OTHER,) if has_other else ()),
        UNSEEN,
        MISSING,
    )
    empty = InputReference(
        name, CATEGORICAL, labels, (0.0,) * len(labels), category_bins=category_bins
    )
    shares = empty.shares_of(values, unseen)
    return dataclasses.replace(
        empty,
        shares=_tuple(shares),
        unseen_share=float(np.mean(unseen)) if len(unseen) else 0.0,
    )


def out_of_distribution(
    matrix: FeatureMatrix, schema: FeatureSchema, policy: ScoringPolicy
) -> np.ndarray:
    """Serving's rule (``candor.serving.scoring.core``): an unseen category, a numeric value
    outside the training range, or more than ``max_missing_share`` of the inputs missing
    (withheld and unseen values are not counted missing)."""
    outside = out_of_range(matrix.values, schema)
    missing = np.isnan(matrix.values) & ~matrix.withheld & ~matrix.unseen
    n_inputs = max(len(schema.specs), 1)
    too_sparse = missing.sum(axis=1) / n_inputs > policy.max_missing_share
    return (matrix.unseen | outside).any(axis=1) | too_sparse


def holdout_review_rates(
    matrix: FeatureMatrix,
    schema: FeatureSchema,
    score: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    policy: ScoringPolicy,
) -> dict[str, float]:
    """Each review code's share of the holdout leads, but ``random_audit`` (see the module)."""
    n = len(score)
    bits = review_bits(
        score=score,
        lower=lower,
        upper=upper,
        out_of_distribution=out_of_distribution(matrix, schema, policy),
        score_ids=[""] * n,  # no draw: the random audit is switched off below
        policy=dataclasses.replace(policy, random_audit_share=0.0),
    )
    flagged = [review_codes(int(b)) for b in bits.tolist()]
    return {
        str(code): (sum(str(code) in f for f in flagged) / n if n else 0.0)
        for code in ReviewCode
        if code is not ReviewCode.RANDOM_AUDIT
    }


def segment_references(
    contract: Contract,
    schema: FeatureSchema,
    inputs: tuple[InputReference, ...],
    score_ref: InputReference,
    matrix: FeatureMatrix,
    score: np.ndarray,
) -> tuple[tuple[SegmentReference, ...], dict[str, str]]:
    """Per group of each audit segment that is a model input, the holdout's shares within it
    (groups are the segment input's own bins); the other segments, with why they are not."""
    names = schema.names
    segments: list[SegmentReference] = []
    not_inputs: dict[str, str] = {}
    for f in contract.audit_segments:
        if f.name not in names:
            not_inputs[f.name] = NOT_AN_INPUT_NOTE
            continue
        j = names.index(f.name)
        groups = inputs[j].bins(matrix.values[:, j], matrix.unseen[:, j])
        for b, label in enumerate(inputs[j].labels):
            rows = groups == b
            if not rows.any():
                continue
            shares = {
                ref.name: _tuple(ref.shares_of(matrix.values[rows, k], matrix.unseen[rows, k]))
                for k, ref in enumerate(inputs)
            }
            shares[SCORE] = _tuple(score_ref.shares_of(score[rows]))
            segments.append(SegmentReference(f.name, label, int(rows.sum()), shares))
    return tuple(segments), not_inputs


def _policy_dict(policy: ScoringPolicy) -> dict[str, Any]:
    raw = dataclasses.asdict(policy)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in raw.items()}


def _tuple(shares: np.ndarray) -> tuple[float, ...]:
    return tuple(float(x) for x in shares)

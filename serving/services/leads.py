"""Score a batch of validated leads: suppress, encode, predict, calibrate, explain, flag.

No HTTP and no DataFrame here: leads arrive as dicts, become columns, then one NumPy matrix
for the whole batch (PERFORMANCE.md: the DataFrame path costs ~18 ms per call). Results are
typed (:class:`LeadScore`); the router maps them to the response and the audit log to its
records, each once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from candor.explain.lead_explanations import Explanation, Reason, explain_rows
from candor.models.leads.features import (
    FeatureMatrix,
    build_features,
    columns_from_records,
    out_of_range,
    parse_bool,
)
from candor.models.leads.scorer import LeadScorer
from candor.models.policy import ReviewFlag, ScoringPolicy, confidence_level, grade, review
from candor.registry import LoadedModel
from candor.serving.requests.leads import LeadRequestValidator

CALIBRATION_METHOD = "inductive Venn-Abers"


def coverage_text(n_calibration: object) -> str:
    """What a Venn-Abers interval promises, in words (answers and audit records alike)."""
    return (
        "one of the two bounds is a calibrated probability of conversion, valid when the "
        f"lead resembles the {n_calibration} calibration leads (exchangeability)"
    )


@dataclass(frozen=True, slots=True)
class Confidence:
    """The Venn-Abers interval around a score (probabilities) and how confident that is."""

    level: str  # high, medium or low
    lower: float
    upper: float
    method: str
    coverage: str  # what the interval promises, in words

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape, in answers and in the audit record alike."""
        return {
            "level": self.level,
            "interval": [self.lower, self.upper],
            "method": self.method,
            "coverage": self.coverage,
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the audit keeps of a scored lead, as numbers: texts are rebuilt from them on read.

    ``inputs`` are the encoded values the model read (category codes, numbers; None where
    missing or withheld), ``contributions`` every input's TreeSHAP contribution (log-odds) and
    the base value last; ``unseen`` the raw values of categories not seen in training.
    """

    inputs: list[float | None]
    contributions: list[float]
    unseen: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LeadScore:
    """One lead's result. A suppressed lead (``suppressed`` set) has no score and no reasons."""

    lead_id: str
    score_id: str
    suppressed: str | None = None
    score: float | None = None  # calibrated probability of conversion
    grade: str | None = None
    explanation: Explanation | None = None  # every input's contribution, largest first
    confidence: Confidence | None = None
    review: ReviewFlag | None = None
    withheld: tuple[str, ...] = ()  # sensitive inputs hidden for lack of consent
    evidence: Evidence | None = None

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self.explanation.reasons if self.explanation is not None else ()


class LeadScoringService:
    """Everything needed to score leads with one loaded model; built once per model load."""

    def __init__(self, loaded: LoadedModel[LeadScorer], policy: ScoringPolicy) -> None:
        self.loaded = loaded
        self.policy = policy
        self.scorer = loaded.model
        self.contract = loaded.model.contract_
        self.schema = loaded.model.schema_
        self.requests = LeadRequestValidator(self.contract)  # the request model of this contract
        self.explainer = self.scorer.explainer_  # TreeSHAP tables built now, at load, not per call
        self.id_field = self.contract.id_field.name
        self.opt_out_fields = [f.name for f in self.contract.contact_opt_outs]
        self.coverage = coverage_text(self.scorer.calibration_.n_calibration)
        self.model_ref = loaded.ref

    def _opted_out(self, lead: Mapping[str, Any]) -> bool:
        return any(parse_bool(lead.get(name)) is True for name in self.opt_out_fields)

    def _notes(
        self,
        row: int,
        columns: Mapping[str, Sequence[Any]],
        matrix: FeatureMatrix,
        outside: np.ndarray,
    ) -> list[str]:
        """Why a lead is out of distribution, in words a reviewer can check."""
        names, specs = self.schema.names, self.schema.specs
        notes = [
            f"{names[j]}: value {columns[names[j]][row]!r} was not seen in training"
            for j in np.flatnonzero(matrix.unseen[row])
        ]
        notes += [
            f"{names[j]}: {matrix.values[row, j]:g} is outside the training range "
            f"[{specs[j].minimum:g}, {specs[j].maximum:g}]"
            for j in np.flatnonzero(outside[row])
        ]
        return notes

    def score(self, leads: Sequence[Mapping[str, Any]], *, top_k: int | None) -> list[LeadScore]:
        """One result per lead, in order, with ``top_k`` reasons in words (None: every input).

        Every contribution is kept as numbers in :attr:`LeadScore.evidence` whatever ``top_k``.
        """
        ids = [(str(lead[self.id_field]), uuid.uuid4().hex) for lead in leads]
        results: list[LeadScore | None] = [None] * len(leads)
        scored: list[int] = []
        for i, lead in enumerate(leads):
            if self._opted_out(lead):
                results[i] = LeadScore(*ids[i], suppressed="opted_out")
            else:
                scored.append(i)
        if scored:
            for i, result in zip(scored, self._score_batch(leads, scored, ids, top_k), strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    def _score_batch(
        self,
        leads: Sequence[Mapping[str, Any]],
        scored: Sequence[int],
        ids: Sequence[tuple[str, str]],
        top_k: int | None,
    ) -> list[LeadScore]:
        batch = [leads[i] for i in scored]
        columns = columns_from_records(batch)
        matrix = build_features(columns, schema=self.schema, n_rows=len(batch))
        # margins from predict(), not from summed contributions: the two differ by ~1e-16, and
        # Venn-Abers is a step function, so the score must come from the very same path as the
        # MLflow pyfunc, the holdout metrics and the champion gate
        calibrated = self.scorer.calibrate(self.scorer.margins(matrix.values))
        contributions = self.scorer.contributions(matrix.values)
        explanations = explain_rows(
            contributions=contributions,
            matrix=matrix,
            columns=columns,
            schema=self.schema,
            contract=self.contract,
            top_k=top_k,
        )
        outside = out_of_range(matrix.values, self.schema)
        missing = np.isnan(matrix.values) & ~matrix.withheld & ~matrix.unseen
        n_inputs = max(len(self.schema.specs), 1)
        names = self.schema.names
        flagged = (matrix.unseen | outside).any(axis=1).tolist()
        missing_counts = missing.sum(axis=1).tolist()
        scores, lowers = calibrated.score.tolist(), calibrated.lower.tolist()
        uppers = calibrated.upper.tolist()
        withheld_rows = matrix.withheld.tolist()
        encoded = matrix.values.astype(object)
        with np.errstate(invalid="ignore"):
            whole = (np.abs(matrix.values) < 2**53) & (matrix.values == np.round(matrix.values))
        encoded[whole] = matrix.values[whole].astype(np.int64)  # 12, not 12.0: compact records
        encoded[np.isnan(matrix.values)] = None
        input_rows: list[list[float | None]] = encoded.tolist()
        contribution_rows = contributions.tolist()
        unseen_any = cast(list[bool], np.asarray(matrix.unseen).any(axis=1).tolist())
        out = []
        for row, i in enumerate(scored):
            lead_id, score_id = ids[i]
            score, lower, upper = scores[row], lowers[row], uppers[row]
            notes = self._notes(row, columns, matrix, outside) if flagged[row] else []
            if missing_counts[row] / n_inputs > self.policy.max_missing_share:
                notes.append(f"{missing_counts[row]} of {n_inputs} inputs are missing")
            flags = review(
                score=score,
                lower=lower,
                upper=upper,
                out_of_distribution=bool(notes),
                score_id=score_id,
                policy=self.policy,
            )
            out.append(
                LeadScore(
                    lead_id=lead_id,
                    score_id=score_id,
                    score=score,
                    grade=grade(score, self.policy),
                    explanation=explanations[row],
                    confidence=Confidence(
                        level=str(confidence_level(lower, upper, self.policy)),
                        lower=lower,
                        upper=upper,
                        method=CALIBRATION_METHOD,
                        coverage=self.coverage,
                    ),
                    review=ReviewFlag(flags.required, tuple(flags.reasons), tuple(notes)),
                    withheld=tuple(names[j] for j, w in enumerate(withheld_rows[row]) if w),
                    evidence=Evidence(
                        input_rows[row],
                        contribution_rows[row],
                        {
                            names[j]: columns[names[j]][row]
                            for j in np.flatnonzero(matrix.unseen[row])
                        }
                        if unseen_any[row]
                        else {},
                    ),
                )
            )
        return out

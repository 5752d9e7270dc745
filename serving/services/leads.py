"""Score a batch of validated JSON leads with the one scoring core, and shape its results.

No HTTP and no DataFrame here: leads arrive as dicts, become columns, then the columnar core
(:mod:`candor.serving.scoring.core`) scores them in one matrix. Results are typed
(:class:`LeadScore`) for the answer; the audit log takes its events from the columnar batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from candor.explain.lead_explanations import Explanation, Reason, explanations_of
from candor.models.contract import Purpose
from candor.models.leads.features import columns_from_records
from candor.models.leads.input_limits import DEFAULT_LIMITS, InputLimits
from candor.models.leads.scorer import LeadScorer
from candor.models.policy import ReviewFlag, ScoringPolicy
from candor.registry import LoadedModel
from candor.serving.audit.labels import UNKEYED, UnseenLabel
from candor.serving.requests.leads import LeadRequestValidator
from candor.serving.scoring.core import OPTED_OUT, LeadBatchScorer, ScoredBatch

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
    """One lead's result. A suppressed lead (``suppressed`` set) has no score and no reasons.

    ``channels``: the channels the lead may be contacted on at the time of the request, in the
    contract's order (empty when suppressed; every channel for a contract without per-channel
    consent). ``withheld``: sensitive inputs the score did not use (no data-use consent of its
    purpose); ``call_planning_withheld``: those call planning may not use.
    """

    lead_id: str
    score_id: str
    suppressed: str | None = None
    channels: tuple[str, ...] = ()
    score: float | None = None  # calibrated probability of conversion
    grade: str | None = None
    explanation: Explanation | None = None  # every input's contribution, largest first
    confidence: Confidence | None = None
    review: ReviewFlag | None = None
    withheld: tuple[str, ...] = ()  # sensitive inputs hidden for lack of consent
    call_planning_withheld: tuple[str, ...] = ()
    evidence: Evidence | None = None

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self.explanation.reasons if self.explanation is not None else ()


class LeadScoringService:
    """Everything needed to score leads with one loaded model; built once per model load."""

    def __init__(
        self,
        loaded: LoadedModel[LeadScorer],
        policy: ScoringPolicy,
        limits: InputLimits = DEFAULT_LIMITS,
        unseen_label: UnseenLabel = UNKEYED,
    ) -> None:
        self.loaded = loaded
        self.policy = policy
        self.scorer = loaded.model
        self.contract = loaded.model.contract_
        self.schema = loaded.model.schema_
        self.limits = limits
        # the request model of this contract
        self.requests = LeadRequestValidator(self.contract, limits)
        self.explainer = self.scorer.explainer_  # TreeSHAP tables built now, at load, not per call
        self.core = LeadBatchScorer(self.scorer, policy, limits, unseen_label)
        self.id_field = self.contract.id_field.name
        self.coverage = coverage_text(self.scorer.calibration_.n_calibration)
        self.model_ref = loaded.ref

    def score_batch(
        self,
        leads: Sequence[Mapping[str, Any]],
        *,
        top_k: int | None,
        now: datetime | None = None,
        purpose: Purpose = Purpose.SCORING,
    ) -> ScoredBatch:
        """The columnar results of validated leads (JSON dicts), for answers and the audit;
        consent is read at ``now`` (default: the clock's) for ``purpose``."""
        return self.core.score(
            columns_from_records(leads),
            n_rows=len(leads),
            score_ids=[uuid.uuid4().hex for _ in leads],
            top_k=top_k,
            now=now,
            purpose=purpose,
        )

    def score(
        self,
        leads: Sequence[Mapping[str, Any]],
        *,
        top_k: int | None,
        now: datetime | None = None,
    ) -> list[LeadScore]:
        """One result per lead, in order, with ``top_k`` reasons in words (None: every input)."""
        return self.results(self.score_batch(leads, top_k=top_k, now=now))

    def results(self, batch: ScoredBatch) -> list[LeadScore]:
        """One :class:`LeadScore` per lead of ``batch``, in order."""
        out = [
            LeadScore(lead_id, score_id, suppressed=OPTED_OUT)
            for lead_id, score_id in zip(batch.lead_ids, batch.score_ids, strict=True)
        ]
        channels = batch.channels
        if not len(batch.rows):
            return out
        explanations: list[Explanation | None] = [None] * len(batch.rows)
        if batch.reasons is not None:
            explanations = list(
                explanations_of(
                    batch.reasons, contributions=batch.contributions, schema=self.schema
                )
            )
        inputs = batch.encoded_inputs()
        contributions = batch.contributions.tolist()
        scores, lowers, uppers = batch.score.tolist(), batch.lower.tolist(), batch.upper.tolist()
        for row, i in enumerate(batch.rows.tolist()):
            out[i] = LeadScore(
                lead_id=batch.lead_ids[i],
                score_id=batch.score_ids[i],
                channels=channels[i],
                score=scores[row],
                grade=batch.grades[row],
                explanation=explanations[row],
                confidence=Confidence(
                    level=batch.levels[row],
                    lower=lowers[row],
                    upper=uppers[row],
                    method=CALIBRATION_METHOD,
                    coverage=self.coverage,
                ),
                review=ReviewFlag(
                    bool(batch.review_mask[row]), batch.review_codes[row], batch.notes[row]
                ),
                withheld=batch.withheld_names[row],
                call_planning_withheld=batch.call_planning_withheld[row],
                evidence=Evidence(
                    inputs[row], contributions[row], batch.unseen_values.get(row, {})
                ),
            )
        return out

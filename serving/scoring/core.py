"""The one scoring core of every path: HTTP, the batch command, Spark and the MLflow model.

Columns in, arrays out: leads no channel may reach (an opt-out, or no live contact consent on
any channel, at the time of the request) are suppressed, the rest encoded into one matrix,
predicted, calibrated, explained (TreeSHAP) and flagged for review in whole-batch NumPy. Strings
are built only for what is returned: the top reasons (:mod:`candor.explain.reason_columns`,
once per distinct sentence) and the notes of out-of-distribution leads. Each path then takes
what it needs from one :class:`ScoredBatch`: the HTTP answer its ``LeadScore`` objects, the
batch file and Spark their Arrow columns, the audit log its events.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

from candor.explain.reason_columns import ReasonColumns, reason_columns
from candor.models.contract import Contract, Purpose
from candor.models.leads.consent import ConsentState, contact_consent, data_use_consent
from candor.models.leads.features import (
    FeatureMatrix,
    FeatureSchema,
    build_features,
    out_of_range,
)
from candor.models.leads.input_limits import DEFAULT_LIMITS, InputLimits
from candor.models.leads.scorer import LeadScorer
from candor.models.policy import (
    CODE_ORDER,
    GRADES,
    LEVELS,
    ScoringPolicy,
    confidence_indices,
    grade_indices,
    review_bits,
    review_codes,
)
from candor.serving.audit.labels import UNKEYED, UnseenLabel

Column: TypeAlias = Sequence[Any] | np.ndarray | pa.Array | pa.ChunkedArray

OPTED_OUT = "opted_out"
_LEVELS = tuple(str(level) for level in LEVELS)
_CODE_SETS = tuple(review_codes(bits) for bits in range(1 << len(CODE_ORDER)))


@dataclass(frozen=True)
class ScoredBatch:
    """The results of n leads; the arrays of scored leads have one row per entry of ``rows``.

    Attributes:
        lead_ids, score_ids: per lead, in input order.
        suppressed: per lead, True where no channel may reach it: an opt-out, or no live
            contact consent on any channel (no score, nothing else).
        consent: per lead, the channels it may be contacted on (at the time of the request).
        purpose: what the scores serve; sensitive inputs were used where the data-use consent
            of that purpose was given and live (``withheld_names`` lists the others).
        call_planning_refused: per scored lead, True where the data-use consent of call
            planning is not given (its present sensitive inputs: ``call_planning_withheld``).
        rows: input positions of the scored (not suppressed) leads, ascending.
        matrix: their encoded inputs (NaN missing; withheld and unseen masks).
        contributions: (m, k + 1) TreeSHAP contributions in log-odds, the base value last.
        score, lower, upper: calibrated probability and its Venn-Abers interval.
        review_mask: bit b set where review code ``policy.CODE_ORDER[b]`` applies.
        notes: per scored lead, why it is out of distribution (empty for most).
        reasons: the ``top_k`` largest contributions in words; None when not asked for.
    """

    lead_ids: list[str]
    score_ids: list[str]
    suppressed: np.ndarray
    rows: np.ndarray
    matrix: FeatureMatrix
    contributions: np.ndarray
    score: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    grade_index: np.ndarray
    level_index: np.ndarray
    review_mask: np.ndarray
    notes: list[tuple[str, ...]]
    unseen_values: dict[int, dict[str, Any]]  # scored-row index -> unseen categories' labels
    reasons: ReasonColumns | None
    schema: FeatureSchema
    consent: ConsentState
    purpose: Purpose
    call_planning_refused: np.ndarray

    @property
    def n_leads(self) -> int:
        return len(self.lead_ids)

    @property
    def margin(self) -> np.ndarray:
        """base value + every contribution (log-odds)."""
        return self.contributions.sum(axis=1)

    @cached_property
    def grades(self) -> list[str]:
        return [GRADES[i] for i in self.grade_index.tolist()]

    @cached_property
    def levels(self) -> list[str]:
        return [_LEVELS[i] for i in self.level_index.tolist()]

    @cached_property
    def review_codes(self) -> list[tuple[str, ...]]:
        return [_CODE_SETS[m] for m in self.review_mask.tolist()]

    @cached_property
    def withheld_names(self) -> list[tuple[str, ...]]:
        names = self.schema.names
        out: list[tuple[str, ...]] = [()] * len(self.rows)
        for i in np.flatnonzero(self.matrix.withheld.any(axis=1)).tolist():
            out[i] = tuple(names[j] for j in np.flatnonzero(self.matrix.withheld[i]).tolist())
        return out

    @cached_property
    def channels(self) -> list[tuple[str, ...]]:
        """Per lead (input order), the channels it may be contacted on, in the contract's
        order: empty for a suppressed lead. With a contract that declares no per-channel
        consent every channel is listed (its opt-outs cover them all)."""
        return self.consent.channels_of(np.arange(self.n_leads))

    @cached_property
    def call_planning_withheld(self) -> list[tuple[str, ...]]:
        """Per scored lead, the sensitive inputs it gave that call planning may not use."""
        names = self.schema.names
        sensitive = np.array([s.sensitive for s in self.schema.specs], dtype=bool)
        present = self.matrix.withheld | ~np.isnan(self.matrix.values) | self.matrix.unseen
        refused = present & sensitive[None, :] & self.call_planning_refused[:, None]
        out: list[tuple[str, ...]] = [()] * len(self.rows)
        for i in np.flatnonzero(refused.any(axis=1)).tolist():
            out[i] = tuple(names[j] for j in np.flatnonzero(refused[i]).tolist())
        return out

    def encoded_inputs(self) -> list[list[float | int | None]]:
        """The inputs as the audit keeps them: whole numbers as integers, None where NaN."""
        values = self.matrix.values
        encoded = values.astype(object)
        with np.errstate(invalid="ignore"):
            whole = (np.abs(values) < 2**53) & (values == np.round(values))
        encoded[whole] = values[whole].astype(np.int64)
        encoded[np.isnan(values)] = None
        rows: list[list[float | int | None]] = encoded.tolist()
        return rows


class LeadBatchScorer:
    """Scores columns of leads with one model and one policy; built once per model load."""

    def __init__(
        self,
        scorer: LeadScorer,
        policy: ScoringPolicy,
        limits: InputLimits = DEFAULT_LIMITS,
        unseen_label: UnseenLabel = UNKEYED,
    ) -> None:
        self.scorer = scorer
        # the model's own grade cut-offs, unless the settings fix them for every model
        self.policy = policy.for_model(scorer.grade_cutoffs)
        self.limits = limits  # what the row checks of a file refuse (the HTTP edge's rules)
        # what answers, notes, reasons and the log show for an unseen category: never its text
        self.unseen_label = unseen_label
        self.schema: FeatureSchema = scorer.schema_
        self.contract: Contract = scorer.contract_
        self.id_field = self.contract.id_field.name

    def score(
        self,
        columns: Mapping[str, Column],
        *,
        n_rows: int,
        score_ids: Sequence[str],
        top_k: int | None,
        explain: bool = True,
        now: datetime | None = None,
        purpose: Purpose = Purpose.SCORING,
    ) -> ScoredBatch:
        """Score ``n_rows`` validated leads given as columns (absent fields count as missing).

        Args:
            score_ids: one per lead; the random-audit draw is derived from it.
            top_k: reasons in words per lead (None: every input); ignored without ``explain``.
            explain: build reasons in words at all (the contributions are computed anyway:
                the audit keeps them).
            now: the moment consent is read at (expiries at or before it have lapsed);
                by default the clock's.
            purpose: what the scores serve: sensitive inputs are used where the data-use
                consent of this purpose is given (call plans score for call planning).
        """
        now = datetime.now(UTC) if now is None else now
        raw_ids = columns[self.id_field]
        ids = raw_ids.to_pylist() if isinstance(raw_ids, pa.Array | pa.ChunkedArray) else raw_ids
        lead_ids = [str(v) for v in ids]
        consent = contact_consent(columns, self.contract, n_rows=n_rows, now=now)
        suppressed = consent.opted_out
        rows = np.flatnonzero(~suppressed)
        if len(rows) < n_rows:
            columns = {name: _take(col, rows) for name, col in columns.items()}
        m = len(rows)
        data_use = data_use_consent(columns, self.contract, n_rows=m, now=now)
        matrix = build_features(columns, schema=self.schema, n_rows=m, consent=data_use[purpose])
        # margins from predict(), not from summed contributions: the two differ by ~1e-16, and
        # Venn-Abers is a step function, so the score must come from the very same path as the
        # holdout metrics and the champion gate
        if m:
            calibrated = self.scorer.calibrate(self.scorer.margins(matrix.values))
            contributions = self.scorer.contributions(matrix.values)
            score, lower, upper = calibrated.score, calibrated.lower, calibrated.upper
        else:
            contributions = np.zeros((0, len(self.schema.specs) + 1))
            score = lower = upper = np.zeros(0)
        scored_ids = [score_ids[i] for i in rows.tolist()]
        unusual, notes, unseen_values = self._out_of_distribution(matrix, columns)
        review_mask = review_bits(
            score=score,
            lower=lower,
            upper=upper,
            out_of_distribution=unusual,
            score_ids=scored_ids,
            policy=self.policy,
        )
        reasons = None
        if explain and m:
            reasons = reason_columns(
                contributions=contributions,
                matrix=matrix,
                columns=_UnseenShown(unseen_values),
                schema=self.schema,
                contract=self.contract,
                top_k=top_k,
            )
        return ScoredBatch(
            lead_ids=lead_ids,
            score_ids=list(score_ids),
            suppressed=suppressed,
            rows=rows,
            matrix=matrix,
            contributions=contributions,
            score=score,
            lower=lower,
            upper=upper,
            grade_index=grade_indices(score, self.policy),
            level_index=confidence_indices(lower, upper, self.policy),
            review_mask=review_mask,
            notes=notes,
            unseen_values=unseen_values,
            reasons=reasons,
            schema=self.schema,
            consent=consent,
            purpose=purpose,
            call_planning_refused=~data_use[Purpose.CALL_PLANNING],
        )

    def _out_of_distribution(
        self, matrix: FeatureMatrix, columns: Mapping[str, Column]
    ) -> tuple[np.ndarray, list[tuple[str, ...]], dict[int, dict[str, Any]]]:
        """Per lead, whether it is out of distribution, the notes saying why, and the labels
        (:class:`UnseenLabel`) of its categories unseen in training."""
        policy, names, specs = self.policy, self.schema.names, self.schema.specs
        outside = out_of_range(matrix.values, self.schema)
        missing = np.isnan(matrix.values) & ~matrix.withheld & ~matrix.unseen
        n_inputs = max(len(specs), 1)
        missing_counts = missing.sum(axis=1)
        too_sparse = missing_counts / n_inputs > policy.max_missing_share
        unusual = (matrix.unseen | outside).any(axis=1)
        notes: list[tuple[str, ...]] = [()] * matrix.values.shape[0]
        unseen_values: dict[int, dict[str, Any]] = {}
        for i in np.flatnonzero(unusual | too_sparse).tolist():
            lines = []
            if unusual[i]:
                unseen_at = np.flatnonzero(matrix.unseen[i]).tolist()
                if unseen_at:
                    unseen_values[i] = {
                        names[j]: self.unseen_label(_value(columns[names[j]], i)) for j in unseen_at
                    }
                lines += [
                    f"{names[j]}: a value not seen in training ({unseen_values[i][names[j]]})"
                    for j in unseen_at
                ]
                lines += [
                    f"{names[j]}: {matrix.values[i, j]:g} is outside the training range "
                    f"[{specs[j].minimum:g}, {specs[j].maximum:g}]"
                    for j in np.flatnonzero(outside[i]).tolist()
                ]
            if too_sparse[i]:
                lines.append(f"{int(missing_counts[i])} of {n_inputs} inputs are missing")
            notes[i] = tuple(lines)
        return unusual | too_sparse, notes, unseen_values


def _take(column: Column, rows: np.ndarray) -> Column:
    if isinstance(column, np.ndarray):
        return column[rows]
    if isinstance(column, pa.Array | pa.ChunkedArray):
        return column.take(pa.array(rows))
    return [column[i] for i in rows.tolist()]


def _value(column: Column, i: int) -> Any:
    if isinstance(column, pa.Array | pa.ChunkedArray):
        return column[i].as_py()
    return column[i]


class _UnseenShown(Mapping[str, Any]):
    """The columns as the reasons read them: only unseen cells are read, and they show their
    label, never the value sent."""

    def __init__(self, labels: Mapping[int, Mapping[str, Any]]) -> None:
        self._labels = labels

    def __getitem__(self, name: str) -> _UnseenColumn:
        return _UnseenColumn(self._labels, name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True)
class _UnseenColumn:
    labels: Mapping[int, Mapping[str, Any]]
    name: str

    def __getitem__(self, row: int) -> Any:
        return self.labels[row][self.name]

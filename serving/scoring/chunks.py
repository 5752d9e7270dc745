"""Score one chunk of a file (an Arrow batch of rows): check, score, explain, tabulate.

The unit of work of every engine: the local batch command calls it per chunk, Spark per Arrow
batch in ``mapInPandas``, the MLflow model per ``predict``. Nothing here writes anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from candor.models.model_ref import ModelRef
from candor.serving.audit.records import score_bodies
from candor.serving.scoring.core import LeadBatchScorer
from candor.serving.scoring.rows import Reject, check_rows
from candor.serving.scoring.table import result_table


def row_score_ids(run_nonce: str, rows: Iterable[int]) -> list[str]:
    """The score ids of input rows ``rows`` (0-based positions in the whole input) of a batch
    run: the first 32 hex digits of sha256("<run_nonce>:<row>"). Deterministic, so a resumed
    run (on either engine) gives a row the same id; unpredictable, since the nonce is secret."""
    return [hashlib.sha256(f"{run_nonce}:{row}".encode()).hexdigest()[:32] for row in rows]


@dataclass(frozen=True)
class ScoredChunk:
    """A chunk's result rows (input order) and its counts."""

    table: pa.Table
    scored: int
    suppressed: int
    rejects: list[Reject]  # indices relative to the chunk

    @property
    def rows(self) -> int:
        return self.table.num_rows


def score_chunk(
    core: LeadBatchScorer,
    data: pa.RecordBatch | pa.Table,
    *,
    score_ids: Sequence[str],
    top_k: int | None,
    explain: bool,
    model: ModelRef,
    audited: bool,
    with_events: bool,
) -> ScoredChunk:
    """Score the rows of ``data`` (file columns named as the contract's fields).

    Args:
        score_ids: one per row (rows that are rejected leave theirs unused).
        top_k: reasons per scored lead (None: every input) when ``explain``.
        with_events: carry each lead's audit event body in two extra columns.
    """
    checked = check_rows(data, core.contract, core.limits)
    id_column = data.column(core.id_field)
    lead_ids = pc.cast(id_column, pa.string()).to_pylist()
    kept = checked.kept
    batch = core.score(
        checked.columns,
        n_rows=len(kept),
        score_ids=[score_ids[i] for i in kept.tolist()],
        top_k=top_k,
        explain=explain,
    )
    table = result_table(
        batch,
        n_rows=data.num_rows,
        kept=kept,
        rejects=checked.rejects,
        lead_ids=lead_ids,
        model=model,
        audited=audited,
        events=score_bodies(batch, model=model) if with_events else None,
    )
    return ScoredChunk(table, len(batch.rows), int(batch.suppressed.sum()), checked.rejects)

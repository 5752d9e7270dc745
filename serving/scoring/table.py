"""One batch's results as Arrow columns: the batch file, Spark and the MLflow model's output.

Field for field the meaning of the HTTP answer (``LeadResult``), flattened for a table:

``lead_id``, ``score_id``; ``score`` (calibrated probability, null when suppressed or
rejected), ``grade``; ``interval_low`` and ``interval_high`` (the Venn-Abers interval),
``confidence`` (high, medium, low); ``review_required``, ``review_reasons`` (stable codes),
``review_notes``; ``margin`` and ``base_value`` (log-odds); ``reasons``: the top reasons, a list
of (feature, value, contribution, text) with the value as text; ``withheld`` (sensitive inputs
hidden for lack of consent); ``call_planning_withheld`` (those call planning may not use);
``channels`` (the channels a lead may be contacted on at the time of scoring, in the
contract's order: empty for a suppressed lead, every channel for a contract without
per-channel consent, null for a rejected row); ``suppressed`` ("opted_out" or null);
``rejected`` (why a row was not scored: "field: message", or null); ``model_name``,
``model_version``, ``model_run_id``; ``audited``: whether each row's score is in Candor's
audit log (false on the paths that cannot write it: the MLflow model loaded directly,
``candor.serving.scoring.spark.score``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from candor.models.model_ref import ModelRef
from candor.serving.scoring.core import OPTED_OUT, ScoredBatch
from candor.serving.scoring.rows import Reject

REASON_TYPE = pa.struct(
    [
        pa.field("feature", pa.string()),
        pa.field("value", pa.string()),
        pa.field("contribution", pa.float64()),
        pa.field("text", pa.string()),
    ]
)

RESULT_SCHEMA = pa.schema(
    [
        pa.field("lead_id", pa.string()),
        pa.field("score_id", pa.string()),
        pa.field("score", pa.float64()),
        pa.field("grade", pa.string()),
        pa.field("interval_low", pa.float64()),
        pa.field("interval_high", pa.float64()),
        pa.field("confidence", pa.string()),
        pa.field("review_required", pa.bool_()),
        pa.field("review_reasons", pa.list_(pa.string())),
        pa.field("review_notes", pa.list_(pa.string())),
        pa.field("margin", pa.float64()),
        pa.field("base_value", pa.float64()),
        pa.field("reasons", pa.list_(REASON_TYPE)),
        pa.field("withheld", pa.list_(pa.string())),
        pa.field("call_planning_withheld", pa.list_(pa.string())),
        pa.field("channels", pa.list_(pa.string())),
        pa.field("suppressed", pa.string()),
        pa.field("rejected", pa.string()),
        pa.field("model_name", pa.string()),
        pa.field("model_version", pa.string()),
        pa.field("model_run_id", pa.string()),
        pa.field("audited", pa.bool_()),
    ]
)

# the audit event of each row, carried beside the results until it is written (then dropped)
EVENT_KIND, EVENT_BODY = "_event_kind", "_event_body"
EVENT_FIELDS = (pa.field(EVENT_KIND, pa.string()), pa.field(EVENT_BODY, pa.string()))
RESULT_WITH_EVENTS = pa.schema([*RESULT_SCHEMA, *EVENT_FIELDS])


def _value_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def result_table(
    batch: ScoredBatch,
    *,
    n_rows: int,
    kept: np.ndarray,
    rejects: Sequence[Reject],
    lead_ids: Sequence[str | None],
    model: ModelRef,
    audited: bool,
    events: Sequence[tuple[str, str]] | None = None,
) -> pa.Table:
    """``n_rows`` result rows, in input order: the scored and suppressed leads of ``batch``
    (at input positions ``kept``) and the ``rejects``.

    Args:
        lead_ids: per input row, its id as sent (None where there was none).
        events: per lead of ``batch``, its (kind, body) audit event, kept as two columns.
    """
    n_scored = len(batch.rows)
    at = kept[batch.rows]  # input positions of the scored leads
    score = np.full(n_rows, np.nan)
    lower, upper = score.copy(), score.copy()
    margin, base = score.copy(), score.copy()
    scored = np.zeros(n_rows, dtype=bool)
    scored[at] = True
    score[at], lower[at], upper[at] = batch.score, batch.lower, batch.upper
    if n_scored:
        margin[at] = batch.margin
        base[at] = batch.contributions[:, -1]
    grade: list[str | None] = [None] * n_rows
    level: list[str | None] = [None] * n_rows
    review_required: list[bool | None] = [None] * n_rows
    codes: list[list[str] | None] = [None] * n_rows
    notes: list[list[str] | None] = [None] * n_rows
    withheld: list[list[str] | None] = [None] * n_rows
    planning_withheld: list[list[str] | None] = [None] * n_rows
    channels: list[list[str] | None] = [None] * n_rows
    for j, i in enumerate(kept.tolist()):
        channels[i] = list(batch.channels[j])
    for row, i in enumerate(at.tolist()):
        grade[i] = batch.grades[row]
        level[i] = batch.levels[row]
        review_required[i] = bool(batch.review_mask[row])
        codes[i] = list(batch.review_codes[row])
        notes[i] = list(batch.notes[row])
        withheld[i] = list(batch.withheld_names[row])
        planning_withheld[i] = list(batch.call_planning_withheld[row])
    suppressed: list[str | None] = [None] * n_rows
    score_ids: list[str | None] = [None] * n_rows
    for j, i in enumerate(kept.tolist()):
        score_ids[i] = batch.score_ids[j]
    for i in kept[batch.suppressed].tolist():
        suppressed[i] = OPTED_OUT
    rejected: list[str | None] = [None] * n_rows
    for r in rejects:
        rejected[r.index] = f"{r.field}: {r.message}"
    columns: dict[str, Any] = {
        "lead_id": pa.array(lead_ids, pa.string()),
        "score_id": pa.array(score_ids, pa.string()),
        "score": pa.array(score, mask=~scored),
        "grade": pa.array(grade, pa.string()),
        "interval_low": pa.array(lower, mask=~scored),
        "interval_high": pa.array(upper, mask=~scored),
        "confidence": pa.array(level, pa.string()),
        "review_required": pa.array(review_required, pa.bool_()),
        "review_reasons": pa.array(codes, pa.list_(pa.string())),
        "review_notes": pa.array(notes, pa.list_(pa.string())),
        "margin": pa.array(margin, mask=~scored),
        "base_value": pa.array(base, mask=~scored),
        "reasons": _reasons(batch, at, n_rows),
        "withheld": pa.array(withheld, pa.list_(pa.string())),
        "call_planning_withheld": pa.array(planning_withheld, pa.list_(pa.string())),
        "channels": pa.array(channels, pa.list_(pa.string())),
        "suppressed": pa.array(suppressed, pa.string()),
        "rejected": pa.array(rejected, pa.string()),
        "model_name": pa.array([model.name] * n_rows, pa.string()),
        "model_version": pa.array([model.version] * n_rows, pa.string()),
        "model_run_id": pa.array([model.run_id] * n_rows, pa.string()),
        "audited": pa.array(np.full(n_rows, audited)),
    }
    schema = RESULT_SCHEMA
    if events is not None:
        kinds: list[str | None] = [None] * n_rows
        bodies: list[str | None] = [None] * n_rows
        for (kind, body), i in zip(events, kept.tolist(), strict=True):
            kinds[i], bodies[i] = kind, body
        columns[EVENT_KIND] = pa.array(kinds, pa.string())
        columns[EVENT_BODY] = pa.array(bodies, pa.string())
        schema = RESULT_WITH_EVENTS
    return pa.table(columns, schema=schema)


def _reasons(batch: ScoredBatch, at: np.ndarray, n_rows: int) -> pa.Array:
    """The ``reasons`` column: a list per row (empty when not asked for; null when unscored)."""
    table = batch.reasons
    k = table.top_k if table is not None else 0
    counts = np.zeros(n_rows, dtype=np.int32)
    counts[at] = k
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    present = np.zeros(n_rows, dtype=bool)
    present[at] = True
    if table is None or k == 0:
        items = pa.array([], REASON_TYPE)
    else:
        names = np.asarray(batch.schema.names, dtype=object)
        entries = table.entries.ravel()
        values = pa.array([_value_text(v) for v in table.values], pa.string())
        texts = pa.array(table.texts, pa.string())
        take = pa.array(entries)
        # rows of ``at`` ascend with the scored leads, so the flat order is already input order
        items = pa.StructArray.from_arrays(
            [
                pa.array(names[table.inputs.ravel()], pa.string()),
                values.take(take),
                pa.array(table.contributions.ravel(), pa.float64()),
                texts.take(take),
            ],
            fields=list(REASON_TYPE),
        )
    return pa.ListArray.from_arrays(
        pa.array(offsets), items, mask=pa.array(~present), type=pa.list_(REASON_TYPE)
    )

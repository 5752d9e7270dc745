"""One lead's audited scores, newest first, found by its keyed pseudonym (never a raw id).

Reading a person's records is itself recorded: one ``access`` event per record shown, committed
before the records are returned, as for a single record (``AuditStore.get_record``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from candor.models.errors import ErrorDetail, NotFoundError
from candor.models.leads.score_trend import TREND_SCORES
from candor.serving.audit import events as ev
from candor.serving.audit.events import NewEvent, body_text
from candor.serving.audit.log import EVENTS
from candor.serving.audit.records import ModelView
from candor.serving.audit.store import OUTCOMES, AuditStore

LEAD_RECORD_KINDS = (ev.SCORE, ev.SUPPRESSION)


@dataclass(frozen=True)
class LeadRecord:
    """One score (or suppression) of the lead, with its model and decisions."""

    seq: int
    score_id: str
    at: str
    kind: str
    requested_by: str
    body: dict[str, Any]
    model: ModelView
    decisions: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class LeadHistory:
    records: tuple[LeadRecord, ...]  # newest first
    outcomes: tuple[dict[str, Any], ...]  # oldest first
    next_cursor: int | None  # the seq to continue below, when there are more
    total: int  # scores and suppressions of the lead in the log
    recent_scores: tuple[float, ...]  # the lead's newest scores, oldest first (its trend)

    def score_ids(self) -> list[str]:
        """The ids of this page's scores (not suppressions), newest first."""
        return [r.score_id for r in self.records if r.kind == ev.SCORE]


def no_scores() -> NotFoundError:
    return NotFoundError(
        "field 'lead_id': no scores of this lead are in the audit log",
        [ErrorDetail("lead_id", "no scores for this lead")],
    )


def read_lead_history(
    store: AuditStore,
    lead_id: str,
    *,
    reader: str,
    limit: int,
    cursor: int | None = None,
) -> LeadHistory:
    """The lead's records newest first (``limit`` of them, below ``cursor``), its outcomes.

    Raises:
        NotFoundError: the log holds no score of this lead.
    """
    key = store.lead_key(lead_id)
    with store.reading("the lead's scores") as conn:
        mine = (EVENTS.c.lead_key == key) & EVENTS.c.kind.in_(LEAD_RECORD_KINDS)
        total = int(conn.execute(select(func.count()).select_from(EVENTS).where(mine)).scalar_one())
        if not total:
            raise no_scores()
        query = select(EVENTS).where(mine)
        if cursor is not None:
            query = query.where(EVENTS.c.seq < cursor)
        rows = list(conn.execute(query.order_by(EVENTS.c.seq.desc()).limit(limit + 1)))
        page = rows[:limit]
        decisions = store.decisions_of(conn, [str(r.subject) for r in page])
        records = []
        for r, body in zip(page, store.opened(conn, page), strict=True):
            records.append(
                LeadRecord(
                    int(r.seq),
                    str(r.subject),
                    str(r.at),
                    str(r.kind),
                    str(r.actor),
                    body,
                    store.model_view(conn, body["model"]),
                    tuple(decisions.get(str(r.subject), [])),
                )
            )
        latest = list(
            conn.execute(
                select(EVENTS)
                .where(EVENTS.c.lead_key == key, EVENTS.c.kind == ev.SCORE)
                .order_by(EVENTS.c.seq.desc())
                .limit(TREND_SCORES)
            )
        )
        # an erased or purged score no longer has a value: the trend is of those that do
        recent = [float(body["score"]) for body in store.opened(conn, latest) if "score" in body]
        outcomes = tuple(
            {
                "converted": bool(o.converted),
                "observed_at": o.observed_at,
                "recorded_by": o.recorded_by,
                "recorded_at": o.recorded_at,
            }
            for o in conn.execute(
                select(OUTCOMES)
                .where(OUTCOMES.c.lead_key == key)
                .order_by(OUTCOMES.c.observed_at, OUTCOMES.c.seq)
            )
        )
    record_reads(store, records, key=key, reader=reader, via="lead_history")
    next_cursor = page[-1].seq if len(rows) > limit else None
    return LeadHistory(tuple(records), outcomes, next_cursor, total, tuple(reversed(recent)))


def lead_score_ids(store: AuditStore, lead_id: str, *, limit: int) -> list[str]:
    """The ids of the lead's newest ``limit`` scores (not suppressions), newest first; an id
    says nothing of the lead, so this read is not an access to its records.

    Raises:
        NotFoundError: the log holds no score of this lead.
    """
    key = store.lead_key(lead_id)
    with store.reading("the lead's scores") as conn:
        ids = [
            str(r[0])
            for r in conn.execute(
                select(EVENTS.c.subject)
                .where(EVENTS.c.lead_key == key, EVENTS.c.kind == ev.SCORE)
                .order_by(EVENTS.c.seq.desc())
                .limit(limit)
            )
        ]
    if not ids:
        raise no_scores()
    return ids


def read_lead_records(
    store: AuditStore, lead_id: str, score_ids: Sequence[str], *, reader: str
) -> dict[str, LeadRecord]:
    """The named records of the lead (each must be one of its scores), read and logged.

    Raises:
        NotFoundError: a score id that is not a score of this lead, named by ``fields``.
    """
    key = store.lead_key(lead_id)
    with store.reading("the lead's scores") as conn:
        rows = {
            str(r.subject): r
            for r in conn.execute(
                select(EVENTS).where(
                    EVENTS.c.subject.in_(list(score_ids)),
                    EVENTS.c.kind.in_(LEAD_RECORD_KINDS),
                    EVENTS.c.lead_key == key,
                )
            )
        }
        out = {}
        for (score_id, r), body in zip(
            rows.items(), store.opened(conn, list(rows.values())), strict=True
        ):
            out[score_id] = LeadRecord(
                int(r.seq),
                score_id,
                str(r.at),
                str(r.kind),
                str(r.actor),
                body,
                store.model_view(conn, body["model"]),
                (),
            )
    record_reads(store, list(out.values()), key=key, reader=reader, via="lead_changes")
    return out


def record_reads(
    store: AuditStore, records: Sequence[LeadRecord], *, key: str, reader: str, via: str
) -> None:
    if not records:
        return
    store.log.append(
        [
            NewEvent(
                ev.ACCESS,
                reader,
                r.score_id,
                body_text({"read": r.kind, "seq": r.seq, "via": via}),
                key,
            )
            for r in records
        ]
    )

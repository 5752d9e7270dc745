"""The audit store adapter: every state change an event in the signed log; reads for reviewers.

Everything a caller must not lose (scores, decisions, outcomes, touches, keys, reads of a
person's record) is committed before the method returns; a database failure becomes
:class:`AuditUnavailableError` (HTTP 503). Reads use snapshots and never wait for a writer.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Connection,
    Table,
    delete,
    exists,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from candor.models.errors import (
    AuditUnavailableError,
    ConflictError,
    ErrorDetail,
    InputValidationError,
    NotFoundError,
)
from candor.models.policy import GRADES
from candor.serving.audit import events as ev
from candor.serving.audit.checkpoints import read_checkpoints
from candor.serving.audit.database import Engines
from candor.serving.audit.events import NewEvent, StoredEvent, body_text
from candor.serving.audit.key_snapshot import read_snapshot, write_snapshot
from candor.serving.audit.labels import UnseenLabel, series_key
from candor.serving.audit.log import EVENTS, HEADS, WRITER, AuditLog, utc_now
from candor.serving.audit.merkle import inclusion_path, leaf_hash, verify_inclusion
from candor.serving.audit.payloads import LEAD_DATA_KEYS, PayloadOpener, replaced_data_keys
from candor.serving.audit.plan_lock import planning_lock
from candor.serving.audit.projections import review_codes
from candor.serving.audit.records import ModelView, render_score
from candor.serving.audit.roles import ROLES
from candor.serving.audit.sealing import (
    ALTERED,
    ERASED,
    PURGED,
    REMOVED,
    UNREADABLE,
    payload_kek,
)
from candor.serving.audit.secrets import hash_api_secret, lead_key, new_api_secret
from candor.serving.audit.signing import TreeHead, public_key_pem
from candor.serving.audit.tables import (
    IdempotencyKey,
    IdempotencyLead,
    ProjectedActual,
    ProjectedApiKey,
    ProjectedDecision,
    ProjectedOutcome,
    ProjectedReview,
    ProjectedReviewReason,
    ProjectedTouch,
)
from candor.serving.audit.verify import Problem, Removals, TreeWalk, VerifyReport, verify_log
from candor.serving.audit.view import Caller, KeyView

__all__ = ["AuditStore", "Caller", "Erasure", "Purge", "utc_now"]

logger = logging.getLogger("candor.audit")
IDEMPOTENCY_KEYS = cast(Table, IdempotencyKey.__table__)
IDEMPOTENCY_LEADS = cast(Table, IdempotencyLead.__table__)

REVIEWS = cast(Table, ProjectedReview.__table__)
REASONS = cast(Table, ProjectedReviewReason.__table__)
DECISIONS = cast(Table, ProjectedDecision.__table__)
OUTCOMES = cast(Table, ProjectedOutcome.__table__)
KEYS = cast(Table, ProjectedApiKey.__table__)
TOUCHES = cast(Table, ProjectedTouch.__table__)
ACTUALS = cast(Table, ProjectedActual.__table__)
PROJECTED = (REVIEWS, REASONS, DECISIONS, OUTCOMES, KEYS, TOUCHES, ACTUALS)

_IN_CHUNK = 500  # bound parameters per IN (...): far below any database's limit
_READ_CHUNK = 5000
DECISION_KINDS = ("confirm", "override")
MAX_RETENTION_DAYS = 36_525  # a century: beyond it the cutoff leaves the calendar


@dataclass(frozen=True)
class Erasure:
    """The receipt of one erasure: which lead key (never the raw id), when, how many records."""

    lead_key: str
    seq: int
    erased_at: str
    records: int  # score records whose inputs and explanation can no longer be read
    reason: str
    # scores written before payloads were sealed: their inputs are in the signed leaf itself
    # and cannot be removed without rewriting the log (said loudly, never hidden)
    unsealed_records: int = 0
    # whether the database's files were cleared of the deleted bytes too (SQLite: the
    # write-ahead log truncated; PostgreSQL: the key table vacuumed); False: a reader held the
    # log open, so the old pages stay until its next checkpoint (the data are unreadable now)
    scrubbed: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "lead_key": self.lead_key,
            "seq": self.seq,
            "erased_at": self.erased_at,
            "records": self.records,
            "reason": self.reason,
            "unsealed_records": self.unsealed_records,
            "scrubbed": self.scrubbed,
        }


@dataclass(frozen=True)
class Purge:
    """The receipt of one retention purge."""

    seq: int
    purged_at: str
    cutoff: str  # payloads of records written before this time were removed
    retention_days: int
    records: int
    scrubbed: bool = True  # as in :class:`Erasure`

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "purged_at": self.purged_at,
            "cutoff": self.cutoff,
            "retention_days": self.retention_days,
            "records": self.records,
            "scrubbed": self.scrubbed,
        }


@dataclass(frozen=True)
class Proof:
    """An inclusion proof of one event under a signed tree head (RFC 9162 2.1.3)."""

    leaf: bytes
    leaf_index: int
    head: TreeHead
    path: tuple[bytes, ...]
    public_key: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "leaf": self.leaf.decode("utf-8", "surrogateescape"),
            "leaf_index": self.leaf_index,
            "tree_head": self.head.to_dict(),
            "inclusion_path": [h.hex() for h in self.path],
            "public_key": self.public_key,
        }


class AuditStore:
    def __init__(self, engines: Engines, *, log: AuditLog, pseudonym_key: bytes) -> None:
        self.engines = engines
        self.log = log
        self._key = pseudonym_key
        self.payloads = PayloadOpener(log.payload_kek or payload_kek(pseudonym_key))
        self.keys = KeyView(mac_key=log.mac_key, public_key=log.signer.public_key)
        log.listeners.append(self.keys.committed)
        self._models: dict[str, ModelView] = {}
        self._models_logged: set[str] = set()
        self._integrity: str | None = None
        self._read_problem: str | None = None
        self.key_snapshot: Path | None = None  # where close() saves the key view

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        """The writing engine (migrations, tests)."""
        return self.engines.write

    def lead_key(self, lead_id: str) -> str:
        return lead_key(self._key, lead_id)

    def series_key(self, series: Mapping[str, Any]) -> str:
        """The keyed hash of a forecast series (never equal to any lead's)."""
        return series_key(self._key, series)

    def planning(self) -> AbstractContextManager[None]:
        """Held while a call plan counts touches and records its own: one plan at a time."""
        return planning_lock(self.engines.write)

    @property
    def unseen_label(self) -> UnseenLabel:
        """How scores stored here show category values unseen in training."""
        return UnseenLabel.keyed(self._key)

    @property
    def pseudonym_key(self) -> bytes:
        """The key of :meth:`lead_key`, for worker processes on this machine that key lead ids
        beside the writer (``candor score batch``); never sent elsewhere."""
        return self._key

    @property
    def problem(self) -> str | None:
        """Why the store is degraded now, or None (for /healthz): it cannot be written, or the
        log failed verification (then keys after the first bad event are not trusted)."""
        if self.log.problem is not None:
            return f"the audit store cannot be written: {self.log.problem}"
        if self._read_problem is not None:
            return f"the audit store cannot be read: {self._read_problem}"
        failed = self.keys.problem
        if failed is not None:
            return (
                f"the audit log failed verification at event {failed.position} ({failed.kind}); "
                "run `candor audit verify`"
            )
        return self._integrity

    def warn(self, problem: str) -> None:
        """An integrity problem found outside the log itself (the checkpoint file): kept and
        logged once."""
        if problem != self._integrity:
            logger.error("AUDIT LOG: %s; run `candor audit verify`", problem)
        self._integrity = problem

    def close(self) -> None:
        if self.key_snapshot is not None:
            self.save_keys()
        self.engines.dispose()

    # --- the trusted key view across processes ---------------------------------------------

    def restore_keys(self, path: Path, *, at_least: int = 0) -> bool:
        """Start the key view from the snapshot at ``path`` (see ``key_snapshot``) when it
        covers more than ``at_least`` events, is Candor's, and the database's signed head of
        its size verifies against it."""
        state = read_snapshot(path, self.log.mac_key)
        if state is None or int(state.get("size", 0)) <= at_least:
            return False
        with self._read("the audit log") as conn:
            row = conn.execute(select(HEADS).where(HEADS.c.tree_size == int(state["size"]))).first()
        if row is None:
            return False
        head = TreeHead(int(row.tree_size), bytes(row.root), row.signed_at, bytes(row.signature))
        try:
            return self.keys.restore(state, head)
        except (KeyError, TypeError, ValueError):
            return False

    def verify_in_background(self) -> threading.Thread:
        """Verify the whole log again in a thread (after a fast start): a failure is logged
        loudly and reported by :attr:`problem` (``/healthz`` then says degraded)."""

        def run() -> None:
            view = KeyView(mac_key=self.log.mac_key, public_key=self.log.signer.public_key)
            try:
                with self._read("the audit log") as conn:
                    latest = conn.execute(select(func.max(HEADS.c.tree_size))).scalar()
                    view.follow(
                        int(latest or 0),
                        lambda size: (
                            self._events(conn, after=size),
                            self._heads(conn, after=size),
                        ),
                    )
            except AuditUnavailableError:
                return  # already logged; /healthz reports the read problem
            failed = view.problem
            if failed is not None:
                self.warn(
                    f"the audit log failed verification at event {failed.position} "
                    f"({failed.kind}): {failed.detail}"
                )

        thread = threading.Thread(target=run, name="candor-audit-verify", daemon=True)
        thread.start()
        return thread

    def save_keys(self) -> None:
        """Write the key view's verified state for the next process (when it is intact)."""
        state = self.keys.snapshot()
        if state is None or self.key_snapshot is None:
            return
        try:
            write_snapshot(self.key_snapshot, state, self.log.mac_key)
        except OSError as exc:
            logger.warning("could not save the key view to %s: %s", self.key_snapshot, exc)

    def reading(self, what: str) -> AbstractContextManager[Connection]:
        """A read connection for queries outside this class (history, drift, performance):
        a failure to read is an ``AuditUnavailableError`` naming ``what`` (503)."""
        return self._read(what)

    def decisions_of(
        self, conn: Connection, score_ids: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """Every decision on each of ``score_ids``, oldest first."""
        return self._decisions(conn, score_ids)

    def opened(self, conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
        """The full bodies of ``rows`` (rows of the events table), sealed payloads opened; a
        record erased or purged reads as its public part with ``unreadable`` and since when."""
        bodies = self.payloads.bodies(conn, rows)
        for row, body in zip(rows, bodies, strict=True):
            removed = self._removed_at(conn, row, body)
            if removed is not None:
                body.update(removed)
        return bodies

    def model_view(self, conn: Connection, subject: str) -> ModelView:
        """The model event ``subject`` (name@version), parsed once and kept."""
        return self._model(conn, subject)

    @contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        try:
            with self.engines.read.connect() as connection:
                yield connection
        except (ConflictError, NotFoundError, InputValidationError):
            raise
        except SQLAlchemyError as exc:
            problem = f"{type(exc).__name__} reading {what}"
            if problem != self._read_problem:
                logger.error("audit store cannot be read: %s", problem)  # once per cause
            self._read_problem = problem
            raise AuditUnavailableError(
                f"the audit store could not be read ({what}): {type(exc).__name__}"
            ) from exc
        if self._read_problem is not None:
            logger.warning("audit store readable again (was: %s)", self._read_problem)
            self._read_problem = None

    # --- writing -------------------------------------------------------------------------

    def append(self, events: Sequence[NewEvent], *, model: NewEvent | None = None) -> None:
        """Write events at the end of the log, all or none, before returning.

        ``model`` is the model version's event; it is written first the first time it is used.
        """
        if not events:
            return
        if model is None or model.subject in self._models_logged:
            self.log.append(events)
            return

        def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
            known = conn.execute(
                select(EVENTS.c.seq).where(
                    EVENTS.c.kind == ev.MODEL, EVENTS.c.subject == model.subject
                )
            ).first()
            return ([*events] if known else [model, *events]), None

        self.log.submit(prepare)
        self._models_logged.add(model.subject)

    # --- verification and proofs -------------------------------------------------------------

    def _events(
        self, conn: Connection, *, after: int = 0
    ) -> Iterator[tuple[StoredEvent, bytes | None]]:
        """Events in seq order (read in chunks), with their MACs."""
        last = after
        while True:
            rows = conn.execute(
                select(EVENTS).where(EVENTS.c.seq > last).order_by(EVENTS.c.seq).limit(_READ_CHUNK)
            ).all()
            for r in rows:
                yield _stored(r), r.mac
            if len(rows) < _READ_CHUNK:
                return
            last = int(rows[-1].seq)

    def _heads(self, conn: Connection, *, after: int = 0) -> list[TreeHead]:
        return [
            TreeHead(int(h.tree_size), bytes(h.root), h.signed_at, bytes(h.signature))
            for h in conn.execute(
                select(HEADS).where(HEADS.c.tree_size > after).order_by(HEADS.c.tree_size)
            )
        ]

    def verify(self) -> VerifyReport:
        checkpoints = read_checkpoints(self.log.checkpoint_path) if self.log.checkpoint_path else []
        with self._read("the audit log") as conn:
            writer = conn.execute(select(WRITER).where(WRITER.c.id == 1)).mappings().first()
            projected = {
                table.name: [dict(r) for r in conn.execute(select(table)).mappings()]
                for table in PROJECTED
            }
            report = verify_log(
                removals=_removals(conn),
                events=self._events(conn),
                heads=self._heads(conn),
                writer=dict(writer) if writer is not None else None,
                checkpoints=checkpoints,
                projected=projected,
                mac_key=self.log.mac_key,
                public_key=self.log.signer.public_key,
            )
            kek = self.log.payload_kek
            replaced = [] if kek is None else replaced_data_keys(conn, kek)
        if not replaced:
            return report
        found = [
            Problem(
                seq,
                "altered",
                f"the data key of lead {key[:12]}... no longer opens its sealed payloads (event "
                f"{seq}): its salt in lead_data_keys was replaced outside Candor, which makes "
                "the lead's records unreadable with no erasure in the log",
            )
            for seq, key in replaced
        ]
        return dataclasses.replace(
            report, problems=tuple(sorted([*report.problems, *found], key=lambda p: p.position))
        )

    def public_key(self) -> str:
        return public_key_pem(self.log.signer.public_key)

    def follow(self) -> None:
        """Bring the trusted key view up to the newest signed head in the database."""
        with self._read("the audit log") as conn:
            latest = conn.execute(select(func.max(HEADS.c.tree_size))).scalar()
            if latest is None or int(latest) <= self.keys.size:
                return

            def read_after(
                size: int,
            ) -> tuple[Iterator[tuple[StoredEvent, bytes | None]], list[TreeHead]]:
                # streamed, not listed: the log may hold millions of events
                return self._events(conn, after=size), self._heads(conn, after=size)

            self.keys.follow(int(latest), read_after)

    def prove(self, score_id: str) -> Proof:
        """The inclusion proof of a record under the newest signed tree head."""
        with self._read("the audit log") as conn:
            found = conn.execute(
                select(EVENTS.c.seq).where(
                    EVENTS.c.subject == score_id, EVENTS.c.kind.in_(ev.RECORD_KINDS)
                )
            ).first()
            if found is None:
                raise _unknown_score(score_id)
            heads = self._heads(conn)
            walk = TreeWalk(self.log.mac_key, self.log.signer.public_key, hashes=[])
            leaf = b""
            for event, mac in self._events(conn):
                walk.feed(event, mac)
                if event.seq == found.seq:
                    leaf = event.leaf()
        assert walk.hashes is not None
        head = next((h for h in reversed(heads) if h.tree_size <= len(walk.hashes)), None)
        if head is None or head.tree_size < found.seq:
            raise AuditUnavailableError("no signed tree head covers this record yet")
        hashes = walk.hashes[: head.tree_size]
        path = inclusion_path(hashes, found.seq - 1)
        if not verify_inclusion(
            hashes[found.seq - 1], found.seq - 1, head.tree_size, path, head.root
        ):
            raise AuditUnavailableError(
                "the log does not match its signed tree head: run `candor audit verify`"
            )
        return Proof(leaf, found.seq - 1, head, tuple(path), self.public_key())

    # --- records -------------------------------------------------------------------------

    def _model(self, conn: Connection, subject: str) -> ModelView:
        view = self._models.get(subject)
        if view is None:
            row = conn.execute(
                select(EVENTS.c.body).where(EVENTS.c.kind == ev.MODEL, EVENTS.c.subject == subject)
            ).first()
            if row is None:
                raise AuditUnavailableError(f"the audit log has no event for model {subject}")
            view = self._models[subject] = ModelView(json.loads(row.body))
        return view

    def count(self) -> int:
        """Score, suppression and forecast records in the log."""
        with self._read("the audit log") as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(EVENTS)
                    .where(EVENTS.c.kind.in_(ev.RECORD_KINDS))
                ).scalar_one()
            )

    def score_ids(self) -> set[str]:
        with self._read("the audit log") as conn:
            return {
                r[0]
                for r in conn.execute(
                    select(EVENTS.c.subject).where(EVENTS.c.kind.in_(ev.RECORD_KINDS))
                )
            }

    def get_record(self, score_id: str, *, reader: str) -> dict[str, Any]:
        """One record in full, with its decisions and the lead's outcomes; the read is logged.

        Health-data rules ask who looked at whose data: the access event is committed before
        the record is returned (no record leaves unlogged).
        """
        with self._read("the audit log") as conn:
            row = conn.execute(
                select(EVENTS).where(
                    EVENTS.c.subject == score_id, EVENTS.c.kind.in_(ev.RECORD_KINDS)
                )
            ).first()
            if row is None:
                raise _unknown_score(score_id)
            decisions = self._decisions(conn, [score_id]).get(score_id, [])
            outcomes = [
                {
                    "converted": bool(o.converted),
                    "observed_at": o.observed_at,
                    "recorded_by": o.recorded_by,
                    "recorded_at": o.recorded_at,
                }
                for o in conn.execute(
                    select(OUTCOMES)
                    .where(OUTCOMES.c.lead_key == row.lead_key)
                    .order_by(OUTCOMES.c.observed_at, OUTCOMES.c.seq)
                )
            ]
            body = self.payloads.one(conn, row)
            removed = self._removed_at(conn, row, body)
            model = self._model(conn, body["model"])
        self.log.append(
            [
                NewEvent(
                    ev.ACCESS,
                    reader,
                    score_id,
                    body_text({"read": row.kind, "seq": int(row.seq)}),
                    row.lead_key,
                )
            ]
        )
        if removed is not None:  # erased or purged: the record is there, its data are not
            payload = removed
        elif "legacy" in body:  # imported from the hash-chained schema: kept as it was
            payload = body["payload"]
        else:
            rendered = row.kind == ev.SCORE and "inputs" in body and model.schema is not None
            payload = render_score(body, model) if rendered else body
        return {
            **_public(row, body, model),
            "payload": payload,
            "decisions": decisions,
            "outcomes": outcomes,
        }

    def access_log(self, score_id: str) -> list[dict[str, Any]]:
        """Who read this record, and when, oldest first."""
        with self._read("the audit log") as conn:
            if (
                conn.execute(select(EVENTS.c.seq).where(EVENTS.c.subject == score_id)).first()
                is None
            ):
                raise _unknown_score(score_id)
            return [
                {"read_by": r.actor, "read_at": r.at, "seq": int(r.seq)}
                for r in conn.execute(
                    select(EVENTS.c.actor, EVENTS.c.at, EVENTS.c.seq)
                    .where(EVENTS.c.subject == score_id, EVENTS.c.kind == ev.ACCESS)
                    .order_by(EVENTS.c.seq)
                )
            ]

    # --- review queue and decisions -------------------------------------------------------

    def review_queue(
        self,
        *,
        status: str,
        reason: str | None,
        limit: int,
        cursor: int | None,
        kind: str = "score",
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Newest first; ``cursor`` is the seq to continue below; ``kind``: score or forecast."""
        if status not in ("pending", "decided"):
            raise InputValidationError(
                f"field 'status': expected pending or decided, got {status!r}",
                [ErrorDetail("status", "unknown status")],
            )
        if status == "pending":
            decided = exists(
                select(DECISIONS.c.seq).where(DECISIONS.c.score_id == REVIEWS.c.score_id)
            )
            # a record whose payload was erased or purged has nothing left to review
            removed = exists(
                select(EVENTS.c.seq).where(
                    EVENTS.c.seq == REVIEWS.c.seq,
                    EVENTS.c.sealed.is_not(None),
                    EVENTS.c.payload.is_(None),
                )
            )
            query = select(REVIEWS.c.seq).where(REVIEWS.c.kind == kind, ~decided, ~removed)
            if reason:
                query = query.where(
                    REVIEWS.c.seq.in_(select(REASONS.c.seq).where(REASONS.c.code == reason))
                )
            if cursor is not None:
                query = query.where(REVIEWS.c.seq < cursor)
            query = query.order_by(REVIEWS.c.seq.desc()).limit(limit + 1)
        else:
            query = select(EVENTS.c.seq).where(
                EVENTS.c.kind == kind,
                EVENTS.c.subject.in_(select(DECISIONS.c.score_id)),
            )
            if reason:
                query = query.where(
                    EVENTS.c.seq.in_(select(REASONS.c.seq).where(REASONS.c.code == reason))
                )
            if cursor is not None:
                query = query.where(EVENTS.c.seq < cursor)
            query = query.order_by(EVENTS.c.seq.desc()).limit(limit + 1)
        with self._read("the review queue") as conn:
            seqs = [int(r[0]) for r in conn.execute(query)]
            page_seqs = seqs[:limit]
            rows = (
                {
                    int(r.seq): r
                    for r in conn.execute(select(EVENTS).where(EVENTS.c.seq.in_(page_seqs)))
                }
                if page_seqs
                else {}
            )
            page = [rows[s] for s in page_seqs if s in rows]
            decisions = self._decisions(conn, [r.subject for r in page])
            items = []
            for r, body in zip(page, self.payloads.bodies(conn, page), strict=True):
                model = self._model(conn, body["model"])
                items.append(
                    {
                        **_public(r, body, model),
                        "series": body.get("series") if kind == "forecast" else None,
                        "latest_decision": _last(decisions.get(r.subject, [])),
                    }
                )
        next_cursor = page_seqs[-1] if len(seqs) > limit else None
        return items, next_cursor

    def _decisions(
        self, conn: Connection, score_ids: Any, *, up_to: int | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Decisions per score id, oldest first; ``score_ids`` is a list or a subquery;
        ``up_to``: only those at or before this position (a decision and its history)."""
        out: dict[str, list[dict[str, Any]]] = {}
        if isinstance(score_ids, list) and not score_ids:
            return out
        query = select(DECISIONS).where(DECISIONS.c.score_id.in_(score_ids))
        if up_to is not None:
            query = query.where(DECISIONS.c.seq <= up_to)
        query = query.order_by(DECISIONS.c.seq)
        for d in conn.execute(query):
            out.setdefault(d.score_id, []).append(
                {
                    "decision": d.decision,
                    "grade": d.grade,
                    "comment": d.comment,
                    "decided_by": d.decided_by,
                    "decided_at": d.decided_at,
                    "replacement": None if d.replacement is None else json.loads(d.replacement),
                }
            )
        return out

    def add_decision(
        self,
        *,
        score_id: str,
        decision: str,
        grade: str | None,
        comment: str,
        decided_by: str,
        replacement: Sequence[float] | None = None,
    ) -> list[dict[str, Any]]:
        """Append a decision (never overwrite); the record's decisions up to this one, oldest
        first (so the last is this one, whatever was decided concurrently).

        A lead score's override sets the grade that should stand; a forecast has no grade, so
        its override (the forecast should not be used as is) needs only the comment, and may
        carry ``replacement``: the units the reviewer expects instead, one per forecast week,
        so that the value the override adds can be measured against actuals.
        """

        def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
            found = conn.execute(
                select(EVENTS.c.kind, EVENTS.c.sealed, EVENTS.c.payload, EVENTS.c.body).where(
                    EVENTS.c.subject == score_id,
                    EVENTS.c.kind.in_((ev.SCORE, ev.FORECAST, ev.SUPPRESSION)),
                )
            ).first()
            if found is None:
                raise _unknown_score(score_id)
            if found.sealed is not None and found.payload is None:
                raise ConflictError(
                    f"score {score_id!r}: its inputs and explanation were erased or purged; "
                    "nothing is left to review (its record and earlier decisions stay)",
                    [ErrorDetail("score_id", "erased or purged")],
                    code="record_removed",
                )
            _check_decision(decision, grade, comment, kind=found.kind)
            body: dict[str, Any] = {
                "decision": decision,
                "grade": grade if decision == "override" else None,
                "comment": comment.strip(),
            }
            if replacement is not None:
                weeks = len(json.loads(found.body).get("forecast", ())) if found.body else 0
                _check_replacement(replacement, decision, kind=found.kind, weeks=weeks)
                body["replacement"] = [float(u) for u in replacement]
            return [NewEvent(ev.DECISION, decided_by, score_id, body_text(body))], None

        (own,) = self.log.submit(prepare).seqs
        with self._read("decisions") as conn:
            return self._decisions(conn, [score_id], up_to=own)[score_id]

    # --- outcomes -------------------------------------------------------------------------

    def add_outcome(
        self, *, lead_id: str, converted: bool, observed_at: str, recorded_by: str
    ) -> int:
        """Record a real outcome; the number of stored scores of that lead it links to."""
        key = self.lead_key(lead_id)

        def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
            matched = int(
                conn.execute(
                    select(func.count())
                    .select_from(EVENTS)
                    .where(EVENTS.c.lead_key == key, EVENTS.c.kind == ev.SCORE)
                ).scalar_one()
            )
            if matched == 0:
                raise NotFoundError(
                    "field 'lead_id': no scored lead with this id; an outcome must follow a score",
                    [ErrorDetail("lead_id", "no scores for this lead")],
                )
            body = {"converted": bool(converted), "observed_at": observed_at}
            return [NewEvent(ev.OUTCOME, recorded_by, "outcome", body_text(body), key)], matched

        return int(self.log.submit(prepare).result)

    def evaluation_rows(self) -> list[dict[str, Any]]:
        """Scored records that have an outcome: score, grades, reasons and the latest outcome;
        one whose inputs were erased or purged is only ``{"score_id", "removed": True}``."""
        with self._read("the audit log") as conn:
            latest: dict[str, bool] = {}
            for o in conn.execute(
                select(OUTCOMES).order_by(OUTCOMES.c.observed_at, OUTCOMES.c.seq)
            ):
                latest[o.lead_key] = bool(o.converted)
            if not latest:
                return []
            with_outcome = select(OUTCOMES.c.lead_key)
            scored = select(EVENTS.c.subject).where(
                EVENTS.c.kind == ev.SCORE, EVENTS.c.lead_key.in_(with_outcome)
            )
            rows = list(
                conn.execute(
                    select(
                        EVENTS.c.seq,
                        EVENTS.c.subject,
                        EVENTS.c.lead_key,
                        EVENTS.c.body,
                        EVENTS.c.sealed,
                        EVENTS.c.payload,
                    ).where(EVENTS.c.kind == ev.SCORE, EVENTS.c.lead_key.in_(with_outcome))
                )
            )
            bodies = self.payloads.bodies(conn, rows)
            # subqueries, not lists of ids: a report over many leads must not hit the
            # database's limit on bound parameters
            decisions = self._decisions(conn, scored)
        out = []
        for r, body in zip(rows, bodies, strict=True):
            if UNREADABLE in body:  # erased or purged: counted, its score no longer known
                out.append({"score_id": r.subject, "removed": True})
                continue
            final = decisions.get(r.subject, [])
            final_grade = next(
                (d["grade"] for d in reversed(final) if d["decision"] == "override"), body["grade"]
            )
            out.append(
                {
                    "score_id": r.subject,
                    "score": float(body["score"]),
                    "grade": body["grade"],
                    "final_grade": final_grade,
                    "reasons": list(body["review"]),
                    "converted": latest[r.lead_key],
                }
            )
        return out

    # --- erasure and retention -----------------------------------------------------------

    def erase_lead(self, lead_id: str, *, reason: str, by: str) -> Erasure:
        """Destroy the lead's data key and its sealed payloads, and log the erasure.

        Every score record of the lead stays in the log (score id, time, model version,
        review codes) and still verifies; its inputs and explanation can no longer be read by
        anyone. One transaction, written alone: no score of the lead is sealed under the old
        key after it, and the next score of the lead gets a new key.
        """
        why = reason.strip()
        if not why:
            raise InputValidationError(
                "field 'reason': say why the lead's data are erased (it is kept in the log)",
                [ErrorDetail("reason", "required")],
            )
        key = self.lead_key(lead_id)

        def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
            if conn.execute(select(EVENTS.c.seq).where(EVENTS.c.lead_key == key)).first() is None:
                raise NotFoundError(
                    "field 'lead_id': the audit log holds no record of this lead",
                    [ErrorDetail("lead_id", "no records for this lead")],
                )
            records = int(
                conn.execute(
                    select(func.count())
                    .select_from(EVENTS)
                    .where(EVENTS.c.lead_key == key, EVENTS.c.sealed.is_not(None))
                ).scalar_one()
            )
            unsealed = int(
                conn.execute(
                    select(func.count())
                    .select_from(EVENTS)
                    .where(
                        EVENTS.c.lead_key == key,
                        EVENTS.c.kind == ev.SCORE,
                        EVENTS.c.sealed.is_(None),
                    )
                ).scalar_one()
            )
            conn.execute(delete(LEAD_DATA_KEYS).where(LEAD_DATA_KEYS.c.lead_key == key))
            conn.execute(
                update(EVENTS)
                .where(EVENTS.c.lead_key == key, EVENTS.c.payload.is_not(None))
                .values(payload=None)
            )
            # answers kept for Idempotency-Key retries that are about the lead: a retry
            # would replay its id and data (the request then runs again, scored afresh)
            answers = [
                str(i)
                for i in conn.execute(
                    select(IDEMPOTENCY_LEADS.c.idempotency_id).where(
                        IDEMPOTENCY_LEADS.c.lead_key == key
                    )
                ).scalars()
            ]
            for i in range(0, len(answers), 500):
                chunk = answers[i : i + 500]
                conn.execute(
                    delete(IDEMPOTENCY_LEADS).where(IDEMPOTENCY_LEADS.c.idempotency_id.in_(chunk))
                )
                conn.execute(delete(IDEMPOTENCY_KEYS).where(IDEMPOTENCY_KEYS.c.id.in_(chunk)))
            body = {"reason": why, "records": records}
            if unsealed:
                body["unsealed_records"] = unsealed
            return [NewEvent(ev.ERASURE, by, key, body_text(body), key)], (records, unsealed)

        done = self.log.submit(prepare, exclusive=True)
        scrubbed = self._scrub()
        records, unsealed = done.result
        if unsealed:
            logger.warning(
                "erasure %s: %d score record(s) of this lead were written before payloads were "
                "sealed; their inputs are part of the signed log and stay readable",
                done.seqs[0],
                unsealed,
            )
        return Erasure(
            key, done.seqs[0], done.at, int(records), why, int(unsealed), scrubbed=scrubbed
        )

    def purge(self, *, retention_days: int, by: str, now: datetime | None = None) -> Purge:
        """Remove the sealed payloads of scores older than ``retention_days`` and log it.

        The records stay (and verify); a lead whose every payload is gone loses its data key
        too, so nothing sealed under it can be read from any copy of the database again.
        """
        if not 1 <= retention_days <= MAX_RETENTION_DAYS:
            raise InputValidationError(
                f"field 'retention_days': expected a whole number of days from 1 to "
                f"{MAX_RETENTION_DAYS} (a century), got {retention_days}",
                [ErrorDetail("retention_days", f"1 to {MAX_RETENTION_DAYS}")],
            )
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        cutoff = (moment - timedelta(days=retention_days)).isoformat(timespec="microseconds")

        def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
            old = (
                EVENTS.c.sealed.is_not(None),
                EVENTS.c.payload.is_not(None),
                EVENTS.c.at < cutoff,
            )
            records = int(
                conn.execute(select(func.count()).select_from(EVENTS).where(*old)).scalar_one()
            )
            conn.execute(update(EVENTS).where(*old).values(payload=None))
            still_sealed = select(EVENTS.c.lead_key).where(EVENTS.c.payload.is_not(None))
            conn.execute(
                delete(LEAD_DATA_KEYS).where(LEAD_DATA_KEYS.c.lead_key.not_in(still_sealed))
            )
            body = body_text(
                {"cutoff": cutoff, "retention_days": retention_days, "records": records}
            )
            return [NewEvent(ev.PURGE, by, f"retention:{retention_days}d", body)], records

        done = self.log.submit(prepare, exclusive=True)
        scrubbed = self._scrub()
        return Purge(
            done.seqs[0], done.at, cutoff, retention_days, int(done.result), scrubbed=scrubbed
        )

    def _scrub(self, attempts: int = 3) -> bool:
        """After removing data: what the database files keep of deleted rows goes as well;
        whether it did.

        SQLite overwrites deleted content (``secure_delete``) and the write-ahead log is
        truncated here: a checkpoint that a reader holds back ("busy", after the connection's
        busy timeout) is tried ``attempts`` times. PostgreSQL's key table is vacuumed, so the
        dead row of a destroyed salt is not kept until autovacuum. A failure is logged and
        returned: the data are already unreadable (the keys are gone from every live row).
        """
        try:
            if self.engines.write.dialect.name == "sqlite":
                # outside any transaction (the engine's BEGIN IMMEDIATE would hold the lock)
                raw = self.engines.write.raw_connection()
                try:
                    for _ in range(attempts):
                        cursor = raw.cursor()
                        busy, *_ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                        cursor.close()
                        if not busy:
                            return True
                finally:
                    raw.close()
                logger.warning(
                    "the audit database's write-ahead log could not be truncated after removing "
                    "data (a reader held it); its old pages go at the next checkpoint"
                )
                return False
            with self.engines.write.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as conn:
                conn.exec_driver_sql(f"VACUUM {LEAD_DATA_KEYS.name}")
            return True
        except (SQLAlchemyError, sqlite3.Error) as exc:  # the raw connection raises the driver's
            logger.error("could not scrub the audit database after removing data: %s", exc)
            return False

    def _removed_at(
        self, conn: Connection, row: Any, body: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """For a record whose payload can no longer be read: the erasure or purge that removed
        it, and when (``unreadable: removed`` with no time where the log accounts for neither:
        ``candor audit verify`` reports it)."""
        if body.get(UNREADABLE) in (None, ALTERED):
            return None  # whole, or altered: the reader is told so, verify names the event
        erased = conn.execute(
            select(EVENTS.c.at)
            .where(
                EVENTS.c.kind == ev.ERASURE,
                EVENTS.c.lead_key == row.lead_key,
                EVENTS.c.seq > row.seq,
            )
            .order_by(EVENTS.c.seq)
            .limit(1)
        ).first()
        if erased is not None:
            return {UNREADABLE: ERASED, "erased_at": erased.at}
        for purge in conn.execute(
            select(EVENTS.c.at, EVENTS.c.body)
            .where(EVENTS.c.kind == ev.PURGE, EVENTS.c.seq > row.seq)
            .order_by(EVENTS.c.seq)
        ):
            if str(json.loads(purge.body).get("cutoff", "")) > str(row.at):
                return {UNREADABLE: PURGED, "purged_at": purge.at}
        return {UNREADABLE: REMOVED}

    # --- call-plan touches ---------------------------------------------------------------

    def touches_event(
        self,
        lead_ids: Sequence[str],
        *,
        plan_id: str,
        requested_by: str,
        score_ids: Sequence[str | None] | None = None,
        channels: Sequence[str | None] | None = None,
    ) -> NewEvent:
        """The event placing each lead on a call plan (``score_ids`` and ``channels`` parallel
        to ``lead_ids``). Each touch is ``[lead_key, score_id]``, with the channel third when
        it has one: a touch without a channel is written as it always was."""
        for name, parallel in (("score ids", score_ids), ("channels", channels)):
            if parallel is not None and len(parallel) != len(lead_ids):
                raise ValueError(f"{len(parallel)} {name} for {len(lead_ids)} leads")
        links = score_ids if score_ids is not None else [None] * len(lead_ids)
        on = channels if channels is not None else [None] * len(lead_ids)
        touches = [
            [self.lead_key(i), s] if c is None else [self.lead_key(i), s, c]
            for i, s, c in zip(lead_ids, links, on, strict=True)
        ]
        return NewEvent(ev.TOUCHES, requested_by, plan_id, body_text({"touches": touches}))

    def record_touches(
        self,
        lead_ids: Sequence[str],
        *,
        plan_id: str,
        requested_by: str,
        score_ids: Sequence[str | None] | None = None,
        channels: Sequence[str | None] | None = None,
    ) -> None:
        """Record each lead as touched by a call plan, all or none, before returning."""
        if not lead_ids:
            return
        self.log.append(
            [
                self.touches_event(
                    lead_ids,
                    plan_id=plan_id,
                    requested_by=requested_by,
                    score_ids=score_ids,
                    channels=channels,
                )
            ]
        )

    def touches_since(self, lead_ids: Sequence[str], since_iso: str) -> dict[str, int]:
        """Call-plan touches per lead at or after ``since_iso`` (ISO 8601; UTC if no offset).

        Every asked lead id is a key (0 when it has none); leads are matched by keyed hash.
        """
        by_channel = self.touches_by_channel_since(lead_ids, since_iso)
        return {lead_id: sum(by_channel[lead_id].values()) for lead_id in lead_ids}

    def touches_by_channel_since(
        self, lead_ids: Sequence[str], since_iso: str
    ) -> dict[str, dict[str | None, int]]:
        """Call-plan touches per lead and channel (None: recorded without one) at or after
        ``since_iso`` (ISO 8601; UTC if no offset); every asked lead id is a key."""
        since = datetime.fromisoformat(since_iso)
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
        # planned_at is stored as utc_now() text: the same format compares in time order
        since_text = since.isoformat(timespec="microseconds")
        ids_by_key = {self.lead_key(lead_id): lead_id for lead_id in lead_ids}
        counts: dict[str, dict[str | None, int]] = {lead_id: {} for lead_id in lead_ids}
        keys = list(ids_by_key)
        with self._read("call-plan touches") as conn:
            for start in range(0, len(keys), _IN_CHUNK):
                query = (
                    select(TOUCHES.c.lead_key, TOUCHES.c.channel, func.count())
                    .where(
                        TOUCHES.c.lead_key.in_(keys[start : start + _IN_CHUNK]),
                        TOUCHES.c.planned_at >= since_text,
                    )
                    .group_by(TOUCHES.c.lead_key, TOUCHES.c.channel)
                )
                for key, channel, n in conn.execute(query):
                    counts[ids_by_key[key]][channel] = int(n)
        return counts

    # --- API keys -------------------------------------------------------------------------

    def create_key(self, *, name: str, role: str, created_by: str = "cli") -> str:
        """Log a new key's hash; the secret is returned once and never stored."""
        if role not in ROLES:
            raise InputValidationError(
                f"field 'role': expected one of {list(ROLES)}, got {role!r}",
                [ErrorDetail("role", "unknown role")],
            )
        if not name.strip():
            raise InputValidationError(
                "field 'name': a key needs a name", [ErrorDetail("name", "empty")]
            )
        secret = new_api_secret()

        def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
            if conn.execute(select(KEYS.c.name).where(KEYS.c.name == name)).first() is not None:
                raise ConflictError(
                    f"an API key named {name!r} already exists", [ErrorDetail("name", "taken")]
                )
            body = {"role": role, "secret_hash": hash_api_secret(secret)}
            return [NewEvent(ev.KEY_CREATED, created_by, name, body_text(body))], None

        self.log.submit(prepare, exclusive=True)
        return secret

    def revoke_key(self, name: str, *, revoked_by: str = "cli") -> None:
        def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
            active = conn.execute(
                select(KEYS.c.name).where(KEYS.c.name == name, KEYS.c.revoked_seq.is_(None))
            ).first()
            if active is None:
                raise NotFoundError(
                    f"no active API key named {name!r}",
                    [ErrorDetail("name", "unknown or already revoked")],
                )
            return [NewEvent(ev.KEY_REVOKED, revoked_by, name, body_text({}))], None

        self.log.submit(prepare, exclusive=True)

    def authenticate(self, secret: str) -> Caller | None:
        """The caller of a key whose creation, and no revocation, is in the verified log."""
        self.follow()
        return self.keys.caller(hash_api_secret(secret))

    def list_keys(self) -> list[dict[str, Any]]:
        with self._read("API keys") as conn:
            return [
                {
                    "name": r.name,
                    "role": r.role,
                    "created_at": r.created_at,
                    "revoked_at": r.revoked_at,
                }
                for r in conn.execute(select(KEYS).order_by(KEYS.c.created_seq))
            ]

    # --- batch runs ------------------------------------------------------------------------

    def append_chunk(
        self, events: Sequence[NewEvent], *, chunk: NewEvent, model: NewEvent | None = None
    ) -> bool:
        """Write one chunk of a batch run (its events, then ``chunk``) unless a chunk event of
        the same subject is already in the log: then nothing is written and False returned.

        The check and the write are one transaction, so a resumed run never audits a chunk
        twice, whatever happened between this commit and the output file.
        """

        def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
            done = conn.execute(
                select(EVENTS.c.seq).where(
                    EVENTS.c.kind == ev.BATCH_CHUNK, EVENTS.c.subject == chunk.subject
                )
            ).first()
            if done is not None:
                return [], False
            head: list[NewEvent] = []
            if model is not None and model.subject not in self._models_logged:
                known = conn.execute(
                    select(EVENTS.c.seq).where(
                        EVENTS.c.kind == ev.MODEL, EVENTS.c.subject == model.subject
                    )
                ).first()
                if known is None:
                    head = [model]
            return [*head, *events, chunk], True

        written = bool(self.log.submit(prepare).result)
        if model is not None:
            self._models_logged.add(model.subject)
        return written

    def batch_chunks(self, run_id: str) -> dict[str, dict[str, Any]]:
        """The chunk events already written for batch run ``run_id``: subject -> body."""
        with self._read("the batch run's chunks") as conn:
            rows = conn.execute(
                select(EVENTS.c.subject, EVENTS.c.body).where(
                    EVENTS.c.kind == ev.BATCH_CHUNK, EVENTS.c.subject.like(f"{run_id}:%")
                )
            ).all()
        return {str(r.subject): json.loads(r.body) for r in rows}

    def record_batch_run(self, body: dict[str, Any], *, run_id: str, by: str) -> None:
        """The end of a batch run: what it read, with which model, and what it wrote."""
        self.log.append([NewEvent(ev.BATCH_RUN, by, run_id, body_text(body))])

    # --- promotions ----------------------------------------------------------------------

    def record_promotion(self, record: dict[str, Any], *, by: str) -> None:
        """A move of a champion alias (the training gate's, a promotion, a rollback: the body
        of :class:`candor.registry.champion_moves.ChampionMove`), as an event. Older logs hold
        a body with ``version`` where this one has ``to``."""
        version = record["to"] if "to" in record else record["version"]
        subject = f"{record['model']}@{version or 'none'}"
        self.log.append([NewEvent(ev.PROMOTION, by, subject, body_text(_jsonable(record)))])

    # --- champion history ----------------------------------------------------------------

    def champion_history(self, model: str) -> list[StoredEvent]:
        """The ``promotion`` events of ``model``, each a move of its champion alias (read by
        :func:`candor.registry.champion_moves.move_from_event`), oldest first."""
        with self._read("the champion history") as conn:
            rows = conn.execute(
                select(EVENTS)
                .where(
                    EVENTS.c.kind == ev.PROMOTION,
                    EVENTS.c.subject.startswith(f"{model}@", autoescape=True),
                )
                .order_by(EVENTS.c.seq)
            ).all()
        return [_stored(r) for r in rows]

    def results_per_model(self, model: str, *, since: datetime, until: datetime) -> dict[str, int]:
        """Scores and forecasts of ``model``'s versions committed from ``since`` to ``until``
        (both included): ``name@version`` (their ``model`` field) -> count."""
        ref = type_coerce(EVENTS.c.body, JSON)["model"].as_string()
        with self._read("the audited results") as conn:
            rows = conn.execute(
                select(ref, func.count())
                .where(
                    EVENTS.c.kind.in_((ev.SCORE, ev.FORECAST)),
                    EVENTS.c.at >= since.astimezone(UTC).isoformat(timespec="microseconds"),
                    EVENTS.c.at <= until.astimezone(UTC).isoformat(timespec="microseconds"),
                    ref.startswith(f"{model}@", autoescape=True),
                )
                .group_by(ref)
            ).all()
        return {str(name): int(n) for name, n in rows}


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return {
        str(k): (
            v
            if isinstance(v, str | int | float | bool) or v is None
            else {str(a): str(b) for a, b in v.items()}
            if isinstance(v, dict)
            else str(v)
        )
        for k, v in record.items()
    }


def _cell(value: Any) -> Any:
    """A text column SQLite returns as a BLOB was rewritten outside the service: it becomes
    text that can never equal what was hashed, so the event's MAC fails and verify names it."""
    return f"blob:{value.hex()}" if isinstance(value, bytes) else value


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        int(row.seq),
        str(_cell(row.kind)),
        str(_cell(row.at)),
        str(_cell(row.actor)),
        str(_cell(row.subject)),
        _cell(row.lead_key),
        str(_cell(row.body)),
        _cell(row.sealed),
        None if row.payload is None else bytes(row.payload),
    )


def _removals(conn: Connection) -> Removals:
    """What the log says was erased or purged, and the lead keys whose readable payloads have
    no data key (a key destroyed outside the service)."""
    erased: dict[str, int] = {}
    purges: list[tuple[int, str]] = []
    for r in conn.execute(
        select(EVENTS.c.seq, EVENTS.c.kind, EVENTS.c.lead_key, EVENTS.c.body)
        .where(EVENTS.c.kind.in_((ev.ERASURE, ev.PURGE)))
        .order_by(EVENTS.c.seq)
    ):
        if r.kind == ev.ERASURE and r.lead_key is not None:
            erased[str(r.lead_key)] = int(r.seq)
        elif r.kind == ev.PURGE:
            with suppress(ValueError, KeyError, TypeError):  # an unreadable body: its MAC
                purges.append((int(r.seq), str(json.loads(r.body)["cutoff"])))
    keyless = [
        str(k)
        for (k,) in conn.execute(
            select(EVENTS.c.lead_key)
            .where(
                EVENTS.c.sealed.is_not(None),
                EVENTS.c.payload.is_not(None),
                EVENTS.c.lead_key.not_in(select(LEAD_DATA_KEYS.c.lead_key)),
            )
            .distinct()
        )
    ]
    return Removals(erased, purges, keyless)


def _unknown_score(score_id: str) -> NotFoundError:
    return NotFoundError(
        f"no score with score_id {score_id!r}", [ErrorDetail("score_id", "unknown score id")]
    )


def _check_decision(decision: str, grade: str | None, comment: str, *, kind: str) -> None:
    problems = []
    if decision not in DECISION_KINDS:
        problems.append(
            ErrorDetail("decision", f"expected one of {list(DECISION_KINDS)}, got {decision!r}")
        )
    if kind == ev.FORECAST:
        if grade is not None:
            problems.append(ErrorDetail("grade", "a forecast has no grade; send none"))
    elif decision == "override":
        if grade not in GRADES:
            problems.append(
                ErrorDetail("grade", f"an override needs a grade in {list(GRADES)}, got {grade!r}")
            )
    elif grade is not None and grade not in GRADES:
        problems.append(ErrorDetail("grade", f"expected one of {list(GRADES)}, got {grade!r}"))
    if decision == "override" and not comment.strip():
        problems.append(ErrorDetail("comment", "an override needs a comment saying why"))
    if problems:
        raise InputValidationError(f"field {problems[0].field!r}: {problems[0].message}", problems)


def _check_replacement(
    replacement: Sequence[float], decision: str, *, kind: str, weeks: int
) -> None:
    """A replacement forecast: with an override of a forecast, one value per week it holds."""
    field = "replacement"
    if kind != ev.FORECAST or decision != "override":
        raise InputValidationError(
            f"field {field!r}: replacement units go with an override of a forecast only",
            [ErrorDetail(field, "only with decision 'override' of a forecast")],
        )
    if len(replacement) != weeks:
        raise InputValidationError(
            f"field {field!r}: expected {weeks} values (one per forecast week), got "
            f"{len(replacement)}",
            [ErrorDetail(field, f"expected {weeks} values")],
        )
    for i, units in enumerate(replacement):
        if not (isinstance(units, int | float) and not isinstance(units, bool)) or not (
            math.isfinite(units) and units >= 0
        ):
            raise InputValidationError(
                f"field '{field}[{i}]': expected a finite number of units of at least 0",
                [ErrorDetail(f"{field}[{i}]", "a finite number >= 0")],
            )


def _last(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    return items[-1] if items else None


def _public(row: Any, body: dict[str, Any], model: ModelView) -> dict[str, Any]:
    codes = review_codes(row.kind, body)
    return {
        "score_id": row.subject,
        "created_at": row.at,
        "kind": row.kind,
        "lead_key": row.lead_key,
        "requested_by": row.actor,
        "score": body.get("score"),
        "grade": body.get("grade"),
        "review_required": bool(codes),
        "review_reasons": codes,
        "model": model.ref(),
        "record_hash": leaf_hash(_stored(row).leaf()).hex(),  # the Merkle leaf hash
        "seq": int(row.seq),
    }

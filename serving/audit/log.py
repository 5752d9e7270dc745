"""The audit log writer: group commit, one signed Merkle tree head per committed group.

Concurrent callers hand their events to :meth:`AuditLog.append`; whoever finds no write in
progress becomes the leader, takes every submission waiting, and writes them in one
transaction: the events, their projected rows, the new tree head (signed) and the writer row.
Each caller returns only once its own events are committed, so nothing is answered that is not
durable, and a burst of requests costs one commit, not one per request. A caller waits for the
write lock at most ``write_timeout`` seconds, then gets :class:`AuditUnavailableError` (503).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from candor.models.errors import AuditUnavailableError, CandorError
from candor.serving.audit import answered_leads, projections, sealing
from candor.serving.audit import events as ev
from candor.serving.audit.canonical import canonical_bytes, canonical_text
from candor.serving.audit.checkpoints import append_checkpoint
from candor.serving.audit.events import NewEvent, StoredEvent, leaf_mac
from candor.serving.audit.merkle import Frontier, leaf_hash
from candor.serving.audit.payloads import ensure_salts
from candor.serving.audit.signing import HeadSigner, TreeHead
from candor.serving.audit.tables import AuditEvent, AuditTreeHead, AuditWriter, Base

log = logging.getLogger("candor.audit")

EVENTS = cast(Table, AuditEvent.__table__)
HEADS = cast(Table, AuditTreeHead.__table__)
WRITER = cast(Table, AuditWriter.__table__)
MAX_GROUP_EVENTS = 20_000  # one transaction stays bounded whatever the burst

Prepare = Callable[[Connection], tuple[Sequence[NewEvent], Any]]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Appended:
    """What one submission got: its events' positions, their time, and ``prepare``'s result."""

    seqs: tuple[int, ...]
    at: str
    result: Any = None
    lead_keys: frozenset[str] = frozenset()  # of the leads its events are about


@dataclass
class _Submission:
    prepare: Prepare
    exclusive: bool
    done: threading.Event = field(default_factory=threading.Event)
    taken: bool = False
    outcome: Appended | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class CommittedGroup:
    """A group as committed: handed to listeners (the key view) after the commit."""

    start_size: int
    events: tuple[StoredEvent, ...]
    hashes: tuple[bytes, ...]
    head: TreeHead


class AuditLog:
    def __init__(
        self,
        *,
        write_engine: Engine,
        read_engine: Engine,
        mac_key: bytes,
        signer: HeadSigner,
        checkpoint_path: Path | None,
        write_timeout: float,
        payload_kek: bytes | None = None,
    ) -> None:
        self.write_engine = write_engine
        self.read_engine = read_engine
        self.mac_key = mac_key
        self.signer = signer
        self.checkpoint_path = checkpoint_path
        self.write_timeout = write_timeout
        # None: nothing is sealed (only tools that rebuild a log from rows they already hold)
        self.payload_kek = payload_kek
        self.listeners: list[Callable[[CommittedGroup], None]] = []
        self._queue: list[_Submission] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()
        self._problem: str | None = None
        self._problem_lock = threading.Lock()

    # --- health ------------------------------------------------------------------------

    @property
    def problem(self) -> str | None:
        """Why the log cannot be written now (None: the last write succeeded)."""
        return self._problem

    def _set_problem(self, problem: str | None) -> None:
        with self._problem_lock:
            if problem == self._problem:
                return
            if problem is None:
                log.warning("audit store writable again (was: %s)", self._problem)
            else:
                log.error("audit store cannot be written: %s", problem)  # once per cause
            self._problem = problem

    def probe(self) -> None:
        """Take and release the write lock: tells at start-up whether the store is writable."""
        try:
            with self.write_engine.begin() as conn:
                conn.execute(select(WRITER.c.tree_size).where(WRITER.c.id == 1).with_for_update())
                conn.rollback()
        except SQLAlchemyError as exc:
            self._set_problem(_describe(exc))
        else:
            self._set_problem(None)

    # --- appending ---------------------------------------------------------------------

    def append(self, events: Sequence[NewEvent]) -> Appended:
        return self.submit(lambda _conn: (events, None))

    def submit(self, prepare: Prepare, *, exclusive: bool = False) -> Appended:
        """Write the events ``prepare`` gives (inside the write transaction), then return.

        ``prepare`` may read the database (in the same transaction) and raise a
        :class:`CandorError` to refuse; only its own events are then left out.
        ``exclusive`` writes the submission in a group of its own.
        """
        submission = _Submission(prepare, exclusive)
        deadline = time.monotonic() + self.write_timeout
        with self._queue_lock:
            self._queue.append(submission)
        while not submission.done.is_set():
            remaining = deadline - time.monotonic()
            if not self._leader.acquire(timeout=max(remaining, 0.0)):
                with self._queue_lock:
                    if not submission.taken:
                        self._queue.remove(submission)
                        raise self._timeout()
                submission.done.wait()  # a leader is writing it: its outcome is bounded
                break
            try:
                if not submission.done.is_set():
                    self._lead()
            finally:
                self._leader.release()
        if submission.error is not None:
            raise submission.error
        assert submission.outcome is not None
        answered_leads.note(submission.outcome.lead_keys)
        return submission.outcome

    def _timeout(self) -> AuditUnavailableError:
        problem = f"the write lock was not free within {self.write_timeout:g} s"
        self._set_problem(problem)
        return AuditUnavailableError(f"the audit store could not record the request: {problem}")

    def _take(self) -> list[_Submission]:
        with self._queue_lock:
            group: list[_Submission] = []
            while self._queue:
                nxt = self._queue[0]
                if group and (nxt.exclusive or group[0].exclusive):
                    break
                group.append(self._queue.pop(0))
                nxt.taken = True
                if nxt.exclusive:
                    break
            return group

    def _lead(self) -> None:
        group = self._take()
        if not group:
            return
        try:
            committed = self._write(group)
        except BaseException as exc:
            error: BaseException = exc
            if isinstance(exc, SQLAlchemyError):
                self._set_problem(_describe(exc))
                error = _unavailable(exc)
            for s in group:
                if s.error is None:
                    s.error = error
                s.done.set()
            return
        for s in group:
            s.done.set()
        if committed is not None:
            self._after_commit(committed)

    def _write(self, group: list[_Submission]) -> CommittedGroup | None:
        with self.write_engine.begin() as conn:
            writer = conn.execute(
                select(WRITER.c.tree_size, WRITER.c.frontier)
                .where(WRITER.c.id == 1)
                .with_for_update()
            ).one()
            start = int(writer.tree_size)
            frontier = Frontier.from_hex(start, json.loads(writer.frontier))
            at = utc_now()
            seq = start
            rows: list[dict[str, Any]] = []
            stored: list[StoredEvent] = []
            hashes: list[bytes] = []
            changes: dict[str, list[dict[str, Any]]] = {}
            updates: list[projections.Change] = []
            prepared: list[tuple[_Submission, Sequence[NewEvent], Any]] = []
            for submission in group:
                try:
                    events, result = submission.prepare(conn)
                except CandorError as exc:
                    submission.error = exc
                    continue
                prepared.append((submission, events, result))
            salts = (
                ensure_salts(
                    conn,
                    (
                        e.lead_key
                        for _, events, _ in prepared
                        for e in events
                        if e.lead_key is not None and sealing.is_sealed_kind(e.kind, e.lead_key)
                    ),
                )
                if self.payload_kek is not None
                else {}
            )
            for submission, events, result in prepared:
                first = seq + 1
                for event in events:
                    seq += 1
                    event_at = event.at or at
                    body, sealed, payload, parsed = self._seal(event, seq, salts)
                    stored_event = StoredEvent(
                        seq,
                        event.kind,
                        event_at,
                        event.actor,
                        event.subject,
                        event.lead_key,
                        body,
                        sealed,
                        payload,
                    )
                    hashed = leaf_hash(stored_event.leaf())
                    frontier.append(hashed)
                    hashes.append(hashed)
                    stored.append(stored_event)
                    rows.append(
                        {
                            "seq": seq,
                            "kind": event.kind,
                            "at": event_at,
                            "actor": event.actor,
                            "subject": event.subject,
                            "lead_key": event.lead_key,
                            "body": body,
                            "mac": leaf_mac(self.mac_key, hashed),
                            "sealed": sealed,
                            "payload": payload,
                        }
                    )
                    for change in projections.changes(stored_event, parsed):
                        if change.update:
                            updates.append(change)
                        else:
                            changes.setdefault(change.table, []).append(change.row)
                submission.outcome = Appended(
                    tuple(range(first, seq + 1)),
                    at,
                    result,
                    # an erasure's own event holds no data of its lead (its receipt neither)
                    frozenset(
                        e.lead_key
                        for e in events
                        if e.lead_key is not None and e.kind != ev.ERASURE
                    ),
                )
            if not rows:
                conn.rollback()
                return None
            if conn.dialect.name == "sqlite":
                # the driver's executemany with plain tuples: SQLAlchemy's per-row parameter
                # processing is a third of a large batch's write time, and on SQLite every
                # column type here is stored as given
                conn.exec_driver_sql(
                    _SQLITE_INSERT, [tuple(row[c] for c in _EVENT_COLUMNS) for row in rows]
                )
            else:
                conn.execute(insert(EVENTS), rows)
            for name, table_rows in changes.items():
                conn.execute(insert(Base.metadata.tables[name]), table_rows)
            for change in updates:
                projected = Base.metadata.tables[change.table]
                keys = projections.PROJECTIONS[change.table]
                conn.execute(
                    update(projected)
                    .where(*(projected.c[k] == change.row[k] for k in keys))
                    .values({k: v for k, v in change.row.items() if k not in keys})
                )
            head = self.signer.sign(seq, frontier.root(), at)
            conn.execute(
                insert(HEADS).values(
                    tree_size=head.tree_size,
                    root=head.root,
                    signed_at=head.signed_at,
                    signature=head.signature,
                )
            )
            conn.execute(
                update(WRITER)
                .where(WRITER.c.id == 1)
                .values(tree_size=seq, frontier=json.dumps(frontier.to_hex()))
            )
        return CommittedGroup(start, tuple(stored), tuple(hashes), head)

    def _seal(
        self, event: NewEvent, seq: int, salts: dict[str, bytes]
    ) -> tuple[str, str | None, bytes | None, dict[str, Any] | None]:
        """(body to store, payload digest, sealed payload, parsed body for the projections).

        A lead's score is split here, on every path (HTTP, batch, Spark, legacy import):
        whatever built the event, its inputs and explanation reach the database sealed."""
        lead = event.lead_key
        if self.payload_kek is None or lead is None or not sealing.is_sealed_kind(event.kind, lead):
            return event.body, None, None, None
        public, private = sealing.split_body(orjson.loads(event.body))
        key = sealing.data_key(self.payload_kek, salts[lead], lead)
        payload = sealing.seal(key, canonical_bytes(private), seq=seq, lead_key=lead)
        return canonical_text(public), sealing.payload_digest(payload), payload, public

    def _after_commit(self, committed: CommittedGroup) -> None:
        self._set_problem(None)
        if self.checkpoint_path is not None:
            try:
                append_checkpoint(self.checkpoint_path, committed.head)
            except OSError as exc:
                # the events are committed and signed in the database; the copy outside it lags
                log.error(
                    "could not append to the checkpoint file %s: %s", self.checkpoint_path, exc
                )
        for listener in self.listeners:
            listener(committed)


_EVENT_COLUMNS = (
    "seq",
    "kind",
    "at",
    "actor",
    "subject",
    "lead_key",
    "body",
    "mac",
    "sealed",
    "payload",
)
_SQLITE_INSERT = (
    f"INSERT INTO {EVENTS.name} ({', '.join(_EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)})"
)


def _describe(exc: BaseException) -> str:
    original = getattr(exc, "orig", None)
    return f"{type(original or exc).__name__}: {str(original or exc).splitlines()[0][:200]}"


def _unavailable(exc: BaseException) -> AuditUnavailableError:
    if isinstance(exc, AuditUnavailableError):
        return exc
    return AuditUnavailableError(f"the audit store could not record the request ({_describe(exc)})")

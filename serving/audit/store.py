"""The audit store adapter: append-only writes under one lock, reads for reviewers.

Everything a caller must not lose (audit records, decisions, outcomes) is committed before the
method returns; a database failure becomes :class:`AuditUnavailableError` (HTTP 503).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from candor.models.errors import (
    AuditUnavailableError,
    ConflictError,
    ErrorDetail,
    InputValidationError,
    NotFoundError,
)
from candor.models.policy import GRADES
from candor.serving.audit.chain import ChainReport, canonical_json, record_hash, verify_chain
from candor.serving.audit.secrets import hash_api_secret, lead_key, new_api_secret
from candor.serving.audit.tables import (
    ApiKey,
    AuditRecord,
    AuditReviewReason,
    CallPlanTouch,
    ChainHead,
    Decision,
    Outcome,
)

RECORDS = cast(Table, AuditRecord.__table__)
REASONS = cast(Table, AuditReviewReason.__table__)
HEAD = cast(Table, ChainHead.__table__)
DECISIONS = cast(Table, Decision.__table__)
OUTCOMES = cast(Table, Outcome.__table__)
KEYS = cast(Table, ApiKey.__table__)
TOUCHES = cast(Table, CallPlanTouch.__table__)

ROLES = ("scorer", "reviewer", "admin")
_IN_CHUNK = 500  # bound parameters per IN (...): far below any database's limit
DECISION_KINDS = ("confirm", "override")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class NewRecord:
    """One scored (or suppressed) lead, as the scoring path hands it over."""

    score_id: str
    kind: str  # score | suppression
    lead_id: str
    model_name: str
    model_version: str
    run_id: str
    contract: str
    requested_by: str
    score: float | None = None
    grade: str | None = None
    review_required: bool = False
    review_reasons: tuple[str, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Caller:
    name: str
    role: str


class AuditStore:
    def __init__(self, engine: Engine, *, pseudonym_key: bytes) -> None:
        self.engine = engine
        self._key = pseudonym_key

    def lead_key(self, lead_id: str) -> str:
        return lead_key(self._key, lead_id)

    def _write(self, action: str) -> AbstractContextManager[Connection]:
        """One transaction, committed on leaving; a database failure is audit_unavailable."""
        return self._guarded(self.engine.begin, f"could not record {action}")

    def _read(self, what: str) -> AbstractContextManager[Connection]:
        return self._guarded(self.engine.connect, f"could not be read ({what})")

    @contextmanager
    def _guarded(
        self, open_connection: Callable[[], AbstractContextManager[Connection]], failure: str
    ) -> Iterator[Connection]:
        try:
            with open_connection() as connection:
                yield connection
        except (ConflictError, NotFoundError, InputValidationError):
            raise
        except SQLAlchemyError as exc:
            raise AuditUnavailableError(f"the audit store {failure}: {type(exc).__name__}") from exc

    # --- scores -------------------------------------------------------------------------

    def append(self, records: Sequence[NewRecord]) -> None:
        """Write records at the end of the hash chain, all or none, before returning."""
        if not records:
            return
        with self._write(f"{len(records)} score(s)") as conn:
            head = conn.execute(select(HEAD).where(HEAD.c.id == 1).with_for_update()).one()
            seq, previous = int(head.last_seq), str(head.last_hash)
            created_at = utc_now()
            rows, reasons = [], []
            for record in records:
                seq += 1
                fields = {
                    "seq": seq,
                    "score_id": record.score_id,
                    "kind": record.kind,
                    "created_at": created_at,
                    "model_name": record.model_name,
                    "model_version": record.model_version,
                    "run_id": record.run_id,
                    "contract": record.contract,
                    "lead_key": self.lead_key(record.lead_id),
                    "requested_by": record.requested_by,
                    "score": record.score,
                    "grade": record.grade,
                    "review_required": record.review_required,
                    "review_reasons": ",".join(record.review_reasons),
                    "payload": canonical_json(record.payload),
                }
                digest = record_hash(previous, fields)
                rows.append({**fields, "prev_hash": previous, "record_hash": digest})
                reasons += [{"seq": seq, "code": code} for code in record.review_reasons]
                previous = digest
            conn.execute(insert(RECORDS), rows)
            if reasons:
                conn.execute(insert(REASONS), reasons)
            conn.execute(
                update(HEAD).where(HEAD.c.id == 1).values(last_seq=seq, last_hash=previous)
            )

    def verify(self) -> ChainReport:
        with self._read("audit records") as conn:
            head = conn.execute(select(HEAD).where(HEAD.c.id == 1)).one()
            rows = conn.execute(select(RECORDS).order_by(RECORDS.c.seq)).mappings()
            return verify_chain(
                (dict(r) for r in rows), head_seq=int(head.last_seq), head_hash=head.last_hash
            )

    def count(self) -> int:
        with self._read("audit records") as conn:
            return int(conn.execute(select(func.count()).select_from(RECORDS)).scalar_one())

    def score_ids(self) -> set[str]:
        with self._read("audit records") as conn:
            return {r[0] for r in conn.execute(select(RECORDS.c.score_id))}

    def get_record(self, score_id: str) -> dict[str, Any]:
        with self._read("audit records") as conn:
            row = (
                conn.execute(select(RECORDS).where(RECORDS.c.score_id == score_id))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(
                    f"no score with score_id {score_id!r}",
                    [ErrorDetail("score_id", "unknown score id")],
                )
            decisions = self._decisions(conn, [score_id]).get(score_id, [])
            outcomes = [
                {
                    "converted": o.converted,
                    "observed_at": o.observed_at,
                    "recorded_by": o.recorded_by,
                    "recorded_at": o.recorded_at,
                }
                for o in conn.execute(
                    select(OUTCOMES)
                    .where(OUTCOMES.c.lead_key == row["lead_key"])
                    .order_by(OUTCOMES.c.observed_at, OUTCOMES.c.id)
                )
            ]
        return {
            **_public(row),
            "payload": json.loads(row["payload"]),
            "decisions": decisions,
            "outcomes": outcomes,
        }

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
        decided = exists(select(DECISIONS.c.id).where(DECISIONS.c.score_id == RECORDS.c.score_id))
        query = select(RECORDS).where(RECORDS.c.kind == kind)
        if status == "pending":
            query = query.where(RECORDS.c.review_required.is_(True), ~decided)
        else:
            query = query.where(decided)
        if reason:
            query = query.where(
                RECORDS.c.seq.in_(select(REASONS.c.seq).where(REASONS.c.code == reason))
            )
        if cursor is not None:
            query = query.where(RECORDS.c.seq < cursor)
        query = query.order_by(RECORDS.c.seq.desc()).limit(limit + 1)
        with self._read("audit records") as conn:
            rows = list(conn.execute(query).mappings())
            page = rows[:limit]
            decisions = self._decisions(conn, [r["score_id"] for r in page])
        items = [
            {
                **_public(r),
                "series": json.loads(r["payload"]).get("series") if kind == "forecast" else None,
                "latest_decision": _last(decisions.get(r["score_id"], [])),
            }
            for r in page
        ]
        next_cursor = int(page[-1]["seq"]) if len(rows) > limit else None
        return items, next_cursor

    def _decisions(self, conn: Connection, score_ids: Any) -> dict[str, list[dict]]:
        """Decisions per score id, oldest first; ``score_ids`` is a list or a subquery."""
        out: dict[str, list[dict]] = {}
        if isinstance(score_ids, list) and not score_ids:
            return out
        query = (
            select(DECISIONS).where(DECISIONS.c.score_id.in_(score_ids)).order_by(DECISIONS.c.id)
        )
        for d in conn.execute(query):
            out.setdefault(d.score_id, []).append(
                {
                    "decision": d.decision,
                    "grade": d.grade,
                    "comment": d.comment,
                    "decided_by": d.decided_by,
                    "decided_at": d.decided_at,
                }
            )
        return out

    def add_decision(
        self, *, score_id: str, decision: str, grade: str | None, comment: str, decided_by: str
    ) -> list[dict[str, Any]]:
        """Append a decision (never overwrite); all decisions of the record, oldest first.

        A lead score's override sets the grade that should stand; a forecast has no grade, so
        its override (the forecast should not be used as is) needs only the comment.
        """
        with self._write("the decision") as conn:
            # lock the score's row: concurrent decisions queue, so id order == time order
            found = conn.execute(
                select(RECORDS.c.seq, RECORDS.c.kind)
                .where(RECORDS.c.score_id == score_id)
                .with_for_update()
            ).first()
            if found is None:
                raise NotFoundError(
                    f"no score with score_id {score_id!r}",
                    [ErrorDetail("score_id", "unknown score id")],
                )
            _check_decision(decision, grade, comment, kind=found.kind)
            conn.execute(
                insert(DECISIONS).values(
                    score_id=score_id,
                    decision=decision,
                    grade=grade if decision == "override" else None,
                    comment=comment.strip(),
                    decided_by=decided_by,
                    decided_at=utc_now(),
                )
            )
            return self._decisions(conn, [score_id])[score_id]

    # --- outcomes -------------------------------------------------------------------------

    def add_outcome(
        self, *, lead_id: str, converted: bool, observed_at: str, recorded_by: str
    ) -> int:
        """Record a real outcome; the number of stored scores of that lead it links to."""
        key = self.lead_key(lead_id)
        with self._write("the outcome") as conn:
            matched = int(
                conn.execute(
                    select(func.count())
                    .select_from(RECORDS)
                    .where(RECORDS.c.lead_key == key, RECORDS.c.kind == "score")
                ).scalar_one()
            )
            if matched == 0:
                raise NotFoundError(
                    f"field 'lead_id': no scored lead with id {lead_id!r}; an outcome must "
                    "follow a score",
                    [ErrorDetail("lead_id", "no scores for this lead")],
                )
            conn.execute(
                insert(OUTCOMES).values(
                    lead_key=key,
                    converted=converted,
                    observed_at=observed_at,
                    recorded_by=recorded_by,
                    recorded_at=utc_now(),
                )
            )
        return matched

    def evaluation_rows(self) -> list[dict[str, Any]]:
        """Scored records that have an outcome: score, grades, reasons and the latest outcome."""
        with self._read("audit records") as conn:
            latest: dict[str, bool] = {}
            for o in conn.execute(select(OUTCOMES).order_by(OUTCOMES.c.observed_at, OUTCOMES.c.id)):
                latest[o.lead_key] = bool(o.converted)
            if not latest:
                return []
            with_outcome = select(OUTCOMES.c.lead_key)
            rows = list(
                conn.execute(
                    select(
                        RECORDS.c.score_id,
                        RECORDS.c.lead_key,
                        RECORDS.c.score,
                        RECORDS.c.grade,
                        RECORDS.c.review_reasons,
                    ).where(RECORDS.c.kind == "score", RECORDS.c.lead_key.in_(with_outcome))
                )
            )
            # subqueries, not lists of ids: a report over many leads must not hit the
            # database's limit on bound parameters
            decisions = self._decisions(
                conn,
                select(RECORDS.c.score_id).where(
                    RECORDS.c.kind == "score", RECORDS.c.lead_key.in_(with_outcome)
                ),
            )
        out = []
        for r in rows:
            final = decisions.get(r.score_id, [])
            final_grade = next(
                (d["grade"] for d in reversed(final) if d["decision"] == "override"), r.grade
            )
            out.append(
                {
                    "score_id": r.score_id,
                    "score": float(r.score),
                    "grade": r.grade,
                    "final_grade": final_grade,
                    "reasons": [c for c in r.review_reasons.split(",") if c],
                    "converted": latest[r.lead_key],
                }
            )
        return out

    # --- call-plan touches ---------------------------------------------------------------

    def record_touches(
        self,
        lead_ids: Sequence[str],
        *,
        plan_id: str,
        requested_by: str,
        score_ids: Sequence[str | None] | None = None,
    ) -> None:
        """Record each lead as touched by a call plan, all or none, before returning.

        ``score_ids`` (parallel to ``lead_ids``) link each touch to the audited score that put
        the lead on the plan.
        """
        if score_ids is not None and len(score_ids) != len(lead_ids):
            raise ValueError(f"{len(score_ids)} score ids for {len(lead_ids)} leads")
        if not lead_ids:
            return
        planned_at = utc_now()
        links = score_ids if score_ids is not None else [None] * len(lead_ids)
        rows = [
            {
                "lead_key": self.lead_key(lead_id),
                "planned_at": planned_at,
                "plan_id": plan_id,
                "requested_by": requested_by,
                "score_id": score_id,
            }
            for lead_id, score_id in zip(lead_ids, links, strict=True)
        ]
        with self._write(f"{len(rows)} call-plan touch(es)") as conn:
            conn.execute(insert(TOUCHES), rows)

    def touches_since(self, lead_ids: Sequence[str], since_iso: str) -> dict[str, int]:
        """Call-plan touches per lead at or after ``since_iso`` (ISO 8601; UTC if no offset).

        Every asked lead id is a key (0 when it has none); leads are matched by keyed hash.
        """
        since = datetime.fromisoformat(since_iso)
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
        # planned_at is stored as utc_now() text: the same format compares in time order
        since_text = since.isoformat(timespec="microseconds")
        ids_by_key = {self.lead_key(lead_id): lead_id for lead_id in lead_ids}
        counts = dict.fromkeys(lead_ids, 0)
        keys = list(ids_by_key)
        with self._read("call-plan touches") as conn:
            for start in range(0, len(keys), _IN_CHUNK):
                query = (
                    select(TOUCHES.c.lead_key, func.count())
                    .where(
                        TOUCHES.c.lead_key.in_(keys[start : start + _IN_CHUNK]),
                        TOUCHES.c.planned_at >= since_text,
                    )
                    .group_by(TOUCHES.c.lead_key)
                )
                for key, n in conn.execute(query):
                    counts[ids_by_key[key]] = int(n)
        return counts

    # --- API keys -------------------------------------------------------------------------

    def create_key(self, *, name: str, role: str) -> str:
        """Store a new key's hash; the secret is returned once and never stored."""
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
        try:
            with self._write("the API key") as conn:
                conn.execute(
                    insert(KEYS).values(
                        name=name,
                        role=role,
                        secret_hash=hash_api_secret(secret),
                        created_at=utc_now(),
                    )
                )
        except AuditUnavailableError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise ConflictError(
                    f"an API key named {name!r} already exists", [ErrorDetail("name", "taken")]
                ) from exc
            raise
        return secret

    def revoke_key(self, name: str) -> None:
        with self._write("the revocation") as conn:
            done = conn.execute(
                update(KEYS)
                .where(KEYS.c.name == name, KEYS.c.revoked_at.is_(None))
                .values(revoked_at=utc_now())
            )
            if done.rowcount == 0:
                raise NotFoundError(
                    f"no active API key named {name!r}",
                    [ErrorDetail("name", "unknown or already revoked")],
                )

    def authenticate(self, secret: str) -> Caller | None:
        with self._read("API keys") as conn:
            row = conn.execute(
                select(KEYS.c.name, KEYS.c.role).where(
                    KEYS.c.secret_hash == hash_api_secret(secret), KEYS.c.revoked_at.is_(None)
                )
            ).first()
        return Caller(row.name, row.role) if row else None

    def list_keys(self) -> list[dict[str, Any]]:
        with self._read("API keys") as conn:
            return [
                dict(r)
                for r in conn.execute(
                    select(KEYS.c.name, KEYS.c.role, KEYS.c.created_at, KEYS.c.revoked_at).order_by(
                        KEYS.c.id
                    )
                ).mappings()
            ]


def _check_decision(decision: str, grade: str | None, comment: str, *, kind: str) -> None:
    problems = []
    if decision not in DECISION_KINDS:
        problems.append(
            ErrorDetail("decision", f"expected one of {list(DECISION_KINDS)}, got {decision!r}")
        )
    if kind == "forecast":
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


def _last(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    return items[-1] if items else None


def _public(row: Any) -> dict[str, Any]:
    return {
        "score_id": row["score_id"],
        "created_at": row["created_at"],
        "kind": row["kind"],
        "lead_key": row["lead_key"],
        "requested_by": row["requested_by"],
        "score": row["score"],
        "grade": row["grade"],
        "review_required": bool(row["review_required"]),
        "review_reasons": [c for c in row["review_reasons"].split(",") if c],
        "model": {
            "name": row["model_name"],
            "version": row["model_version"],
            "run_id": row["run_id"],
            "contract": row["contract"],
        },
        "record_hash": row["record_hash"],
        "seq": int(row["seq"]),
    }

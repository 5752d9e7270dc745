"""SQLAlchemy tables of the audit store (storage models: never serialised to a client as is).

``audit_events`` is the log: append-only, one row per state change, each a leaf of the Merkle
tree whose signed heads are in ``audit_tree_heads`` (and in the checkpoint file outside the
database). ``audit_writer`` is the one row that moves: where the next writer continues the
tree. Every ``projected_*`` table is derived from the log, so the API can read it quickly;
``candor audit verify`` rebuilds each from the events and reports any row that differs.

Payloads are ``jsonb`` and times ``timestamptz`` on PostgreSQL (so reporting tools can read
them); on SQLite both are text, byte for byte as hashed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from candor.serving.audit.canonical import canonical_text

SEQ = BigInteger().with_variant(Integer, "sqlite")


class CanonicalJSON(TypeDecorator[str]):
    """Canonical JSON text in Python; ``jsonb`` on PostgreSQL, the text itself elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is not None and dialect.name == "postgresql":
            import json

            return json.loads(value)  # JSONB encodes it again; the hash is over canonical text
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or isinstance(value, str | bytes):
            return value
        return canonical_text(value)


class IsoTime(TypeDecorator[str]):
    """An ISO 8601 UTC time with microseconds in Python; ``timestamptz`` on PostgreSQL."""

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is not None and dialect.name == "postgresql":
            return datetime.fromisoformat(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, datetime):
            at = value if value.tzinfo else value.replace(tzinfo=UTC)
            return at.astimezone(UTC).isoformat(timespec="microseconds")
        return value


class Base(DeclarativeBase):
    pass


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)  # 1-based
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    at: Mapped[str] = mapped_column(IsoTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    # what the event is about: a score id, a key name, a plan id, a model version
    subject: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    lead_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    body: Mapped[str] = mapped_column(CanonicalJSON, nullable=False)
    # HMAC of the leaf under a key outside the database: names the exact event changed
    mac: Mapped[bytes] = mapped_column(LargeBinary(16), nullable=False)
    # a lead's score: hex SHA-256 of the sealed payload (in the leaf), and the sealed bytes
    # (not in the leaf; NULL once purged or erased): candor.serving.audit.sealing
    sealed: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    # windows of one kind of event (drift, performance, a day's scores per champion)
    __table_args__ = (Index("ix_audit_events_kind_at", "kind", "at"),)


class AuditTreeHead(Base):
    __tablename__ = "audit_tree_heads"

    tree_size: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    signed_at: Mapped[str] = mapped_column(IsoTime, nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)


class AuditWriter(Base):
    """Where the next writer continues: the tree's size and its perfect subtrees (hex)."""

    __tablename__ = "audit_writer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    frontier: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list of hex hashes


class ProjectedReview(Base):
    """A flagged score or forecast: the review queue."""

    __tablename__ = "projected_reviews"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    score_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)


class ProjectedReviewReason(Base):
    __tablename__ = "projected_review_reasons"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class ProjectedDecision(Base):
    __tablename__ = "projected_decisions"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    score_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    decision: Mapped[str] = mapped_column(String(16), nullable=False)  # confirm | override
    grade: Mapped[str | None] = mapped_column(String(1), nullable=True)
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    decided_by: Mapped[str] = mapped_column(String(100), nullable=False)
    decided_at: Mapped[str] = mapped_column(IsoTime, nullable=False)
    # a forecast override's replacement units, one per week, as canonical JSON (else null)
    replacement: Mapped[str | None] = mapped_column(Text, nullable=True)


class ProjectedOutcome(Base):
    __tablename__ = "projected_outcomes"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    lead_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    converted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    observed_at: Mapped[str] = mapped_column(String(40), nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(100), nullable=False)
    recorded_at: Mapped[str] = mapped_column(IsoTime, nullable=False)


class ProjectedActual(Base):
    """Units a series sold in a week, one row per recording: the newest row of a series and
    week stands (a later one is a correction); forecast accuracy reads them."""

    __tablename__ = "projected_actuals"
    __table_args__ = (Index("ix_projected_actuals_series_week", "series_key", "week"),)

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    series_key: Mapped[str] = mapped_column(String(64), nullable=False)
    week: Mapped[str] = mapped_column(String(10), nullable=False)  # ISO date, as forecasts say
    units: Mapped[float] = mapped_column(Float, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(100), nullable=False)
    recorded_at: Mapped[str] = mapped_column(IsoTime, nullable=False)


class ProjectedApiKey(Base):
    __tablename__ = "projected_api_keys"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[str] = mapped_column(IsoTime, nullable=False)
    revoked_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_at: Mapped[str | None] = mapped_column(IsoTime, nullable=True)


class ProjectedTouch(Base):
    """One lead placed on one call plan: a planned contact, counted by the contact cap."""

    __tablename__ = "projected_touches"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    lead_key: Mapped[str] = mapped_column(String(64), nullable=False)
    planned_at: Mapped[str] = mapped_column(String(40), nullable=False)  # ISO 8601, UTC
    plan_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    score_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # the channel the plan placed the lead on; None: a plan without one (or before channels)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (Index("ix_projected_touches_lead_key_planned_at", "lead_key", "planned_at"),)


class IdempotencyKey(Base):
    """The first answer to a POST sent with an ``Idempotency-Key``, replayed to its retries.

    Not part of the log: a retry writes nothing, and an expired row is deleted. The id is a
    keyed hash of the caller, method, path and key (never the raw key); the body is sealed
    (AES-256-GCM) under a key that needs the server secret, the caller's Authorization value
    and the raw key, so the database alone reads neither the leads nor the scores in it.
    """

    __tablename__ = "idempotency_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # HMAC-SHA256, hex
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)  # HMAC of the request
    state: Mapped[str] = mapped_column(String(8), nullable=False)  # pending | done
    created_at: Mapped[str] = mapped_column(IsoTime, nullable=False, index=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # nonce + sealed


class IdempotencyLead(Base):
    """A lead a stored ``Idempotency-Key`` answer is about (its keyed hash): erasing the lead
    deletes the answer, so that no retry replays the lead's id or data afterwards."""

    __tablename__ = "idempotency_leads"

    idempotency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lead_key: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class LeadDataKey(Base):
    """The salt of one lead's data key (:mod:`candor.serving.audit.sealing`).

    Not part of the log: deleting the row is the erasure (crypto-shredding); the log keeps
    the erasure as an event. One row per lead ever scored, created with its first score.
    """

    __tablename__ = "lead_data_keys"

    lead_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_at: Mapped[str] = mapped_column(IsoTime, nullable=False)

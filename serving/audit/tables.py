"""SQLAlchemy tables of the audit store (storage models: never serialised to a client as is).

Append-only by design: the service inserts audit records, decisions and outcomes and never
updates or deletes them; ``chain_head`` is the one row that moves, under a lock, to record the
end of the hash chain (so that deleting the last records is detected too).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AuditRecord(Base):
    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    score_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # score | suppression
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)  # ISO 8601, UTC
    model_name: Mapped[str] = mapped_column(String(200), nullable=False)
    model_version: Mapped[str] = mapped_column(String(40), nullable=False)
    run_id: Mapped[str] = mapped_column(String(64), nullable=False)
    contract: Mapped[str] = mapped_column(String(200), nullable=False)
    lead_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    requested_by: Mapped[str] = mapped_column(String(100), nullable=False)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(1), nullable=True)
    review_required: Mapped[bool] = mapped_column(Boolean, nullable=False)
    review_reasons: Mapped[str] = mapped_column(String(200), nullable=False)  # comma-separated
    payload: Mapped[str] = mapped_column(Text, nullable=False)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    record_hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (Index("ix_audit_records_review", "review_required", "seq"),)


class AuditReviewReason(Base):
    """One row per (record, review code): the review queue filters on it."""

    __tablename__ = "audit_review_reasons"

    seq: Mapped[int] = mapped_column(ForeignKey("audit_records.seq"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class ChainHead(Base):
    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    score_id: Mapped[str] = mapped_column(
        ForeignKey("audit_records.score_id"), nullable=False, index=True
    )
    decision: Mapped[str] = mapped_column(String(16), nullable=False)  # confirm | override
    grade: Mapped[str | None] = mapped_column(String(1), nullable=True)
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    decided_by: Mapped[str] = mapped_column(String(100), nullable=False)
    decided_at: Mapped[str] = mapped_column(String(40), nullable=False)


class Outcome(Base):
    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    converted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    observed_at: Mapped[str] = mapped_column(String(40), nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(100), nullable=False)
    recorded_at: Mapped[str] = mapped_column(String(40), nullable=False)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    revoked_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class CallPlanTouch(Base):
    """One lead placed on one call plan: a planned contact, counted by the contact cap.

    Appended, never updated; like every other table it holds the lead's keyed hash, never its id.
    """

    __tablename__ = "call_plan_touches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_key: Mapped[str] = mapped_column(String(64), nullable=False)
    planned_at: Mapped[str] = mapped_column(String(40), nullable=False)  # ISO 8601, UTC
    plan_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    requested_by: Mapped[str] = mapped_column(String(100), nullable=False)
    # the audited score that put the lead on the plan (null for a touch recorded without one)
    score_id: Mapped[str | None] = mapped_column(
        ForeignKey("audit_records.score_id"), nullable=True
    )

    __table_args__ = (Index("ix_call_plan_touches_lead_key_planned_at", "lead_key", "planned_at"),)

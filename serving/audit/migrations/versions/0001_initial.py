"""Initial audit store: records, review reasons, chain head, decisions, outcomes, API keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("score_id", sa.String(32), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(40), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("contract", sa.String(200), nullable=False),
        sa.Column("lead_key", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("grade", sa.String(1), nullable=True),
        sa.Column("review_required", sa.Boolean, nullable=False),
        sa.Column("review_reasons", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_records_lead_key", "audit_records", ["lead_key"])
    op.create_index("ix_audit_records_review", "audit_records", ["review_required", "seq"])
    op.create_table(
        "audit_review_reasons",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            sa.ForeignKey("audit_records.seq"),
            primary_key=True,
        ),
        sa.Column("code", sa.String(40), primary_key=True),
    )
    op.create_index("ix_audit_review_reasons_code", "audit_review_reasons", ["code"])
    op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(
        sa.table(
            "chain_head",
            sa.column("id", sa.Integer),
            sa.column("last_seq", sa.BigInteger),
            sa.column("last_hash", sa.String),
        ),
        [{"id": 1, "last_seq": 0, "last_hash": "0" * 64}],
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "score_id", sa.String(32), sa.ForeignKey("audit_records.score_id"), nullable=False
        ),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("grade", sa.String(1), nullable=True),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("decided_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_decisions_score_id", "decisions", ["score_id"])
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_key", sa.String(64), nullable=False),
        sa.Column("converted", sa.Boolean, nullable=False),
        sa.Column("observed_at", sa.String(40), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_outcomes_lead_key", "outcomes", ["lead_key"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40), nullable=True),
    )


def downgrade() -> None:
    for table in (
        "api_keys",
        "outcomes",
        "decisions",
        "chain_head",
        "audit_review_reasons",
        "audit_records",
    ):
        op.drop_table(table)

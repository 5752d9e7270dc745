"""The event log: events under signed Merkle tree heads, and the projections the API reads.

The tables of revisions 0001-0002 (hash-chained records, decisions, outcomes, keys, touches)
are left in place here; the store imports their rows into the log when it next opens (it
holds the signing key, which a migration does not) and then drops them.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from candor.serving.audit.tables import CanonicalJSON, IsoTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("at", IsoTime, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("lead_key", sa.String(64), nullable=True),
        sa.Column("body", CanonicalJSON, nullable=False),
        sa.Column("mac", sa.LargeBinary(16), nullable=False),
    )
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])
    op.create_index("ix_audit_events_lead_key", "audit_events", ["lead_key"])
    op.create_table(
        "audit_tree_heads",
        sa.Column("tree_size", SEQ, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("signed_at", IsoTime, nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
    )
    op.create_table(
        "audit_writer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("frontier", sa.Text, nullable=False),
    )
    op.execute("INSERT INTO audit_writer (id, tree_size, frontier) VALUES (1, 0, '[]')")
    op.create_table(
        "projected_reviews",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("score_id", sa.String(32), nullable=False, unique=True),
        sa.Column("kind", sa.String(24), nullable=False),
    )
    op.create_table(
        "projected_review_reasons",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(40), primary_key=True),
    )
    op.create_index("ix_projected_review_reasons_code", "projected_review_reasons", ["code"])
    op.create_table(
        "projected_decisions",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("score_id", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("grade", sa.String(1), nullable=True),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("decided_at", IsoTime, nullable=False),
    )
    op.create_index("ix_projected_decisions_score_id", "projected_decisions", ["score_id"])
    op.create_table(
        "projected_outcomes",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("lead_key", sa.String(64), nullable=False),
        sa.Column("converted", sa.Boolean, nullable=False),
        sa.Column("observed_at", sa.String(40), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", IsoTime, nullable=False),
    )
    op.create_index("ix_projected_outcomes_lead_key", "projected_outcomes", ["lead_key"])
    op.create_table(
        "projected_api_keys",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_seq", sa.BigInteger, nullable=False),
        sa.Column("created_at", IsoTime, nullable=False),
        sa.Column("revoked_seq", sa.BigInteger, nullable=True),
        sa.Column("revoked_at", IsoTime, nullable=True),
    )
    op.create_table(
        "projected_touches",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("lead_key", sa.String(64), nullable=False),
        sa.Column("planned_at", sa.String(40), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("score_id", sa.String(32), nullable=True),
    )
    op.create_index(
        "ix_projected_touches_lead_key_planned_at", "projected_touches", ["lead_key", "planned_at"]
    )
    op.create_index("ix_projected_touches_plan_id", "projected_touches", ["plan_id"])


def downgrade() -> None:
    for table in (
        "projected_touches",
        "projected_api_keys",
        "projected_outcomes",
        "projected_decisions",
        "projected_review_reasons",
        "projected_reviews",
        "audit_writer",
        "audit_tree_heads",
        "audit_events",
    ):
        op.drop_table(table)

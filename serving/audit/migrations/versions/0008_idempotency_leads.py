"""The leads each stored Idempotency-Key answer is about (keyed hashes): an erasure deletes
the answers about its lead. Answers stored before have no links; they expire with their
replay window (idempotency_ttl_hours).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_leads",
        sa.Column("idempotency_id", sa.String(64), primary_key=True),
        sa.Column("lead_key", sa.String(64), primary_key=True),
    )
    op.create_index("ix_idempotency_leads_lead_key", "idempotency_leads", ["lead_key"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_leads_lead_key", table_name="idempotency_leads")
    op.drop_table("idempotency_leads")

"""Sealed payloads: each lead's score keeps its inputs and explanation encrypted under a data
key of that lead (``lead_data_keys``), so that erasure destroys the key and the log still
verifies (crypto-shredding); the events gain the sealed bytes and their digest.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from candor.serving.audit.tables import IsoTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("sealed", sa.String(64), nullable=True))
        batch.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
    op.create_table(
        "lead_data_keys",
        sa.Column("lead_key", sa.String(64), primary_key=True),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", IsoTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lead_data_keys")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("payload")
        batch.drop_column("sealed")

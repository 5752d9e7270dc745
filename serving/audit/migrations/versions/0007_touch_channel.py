"""The channel of each call-plan touch: per-channel contact caps count a lead's touches on one
channel. Nullable: touches of plans without a channel, and every touch from before, have none
(their events carry none, so a replay gives the same rows).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projected_touches") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projected_touches") as batch:
        batch.drop_column("channel")

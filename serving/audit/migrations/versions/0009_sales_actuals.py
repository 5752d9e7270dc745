"""Weekly sales actuals (what a series really sold), projected from ``sales_actual`` events:
forecast accuracy and the value added by reviewers' overrides are measured against them; and
the replacement units a reviewer's forecast override may carry.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from candor.serving.audit.tables import SEQ, IsoTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projected_actuals",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("series_key", sa.String(64), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("units", sa.Float, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", IsoTime, nullable=False),
    )
    op.create_index("ix_projected_actuals_series_week", "projected_actuals", ["series_key", "week"])
    with op.batch_alter_table("projected_decisions") as batch:
        batch.add_column(sa.Column("replacement", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projected_decisions") as batch:
        batch.drop_column("replacement")
    op.drop_index("ix_projected_actuals_series_week", table_name="projected_actuals")
    op.drop_table("projected_actuals")

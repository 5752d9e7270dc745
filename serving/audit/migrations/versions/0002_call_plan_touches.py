"""Call-plan touches: each lead placed on a call plan, for the contact-frequency cap.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_plan_touches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_key", sa.String(64), nullable=False),
        sa.Column("planned_at", sa.String(40), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column(
            "score_id", sa.String(32), sa.ForeignKey("audit_records.score_id"), nullable=True
        ),
    )
    op.create_index(
        "ix_call_plan_touches_lead_key_planned_at",
        "call_plan_touches",
        ["lead_key", "planned_at"],
    )
    op.create_index("ix_call_plan_touches_plan_id", "call_plan_touches", ["plan_id"])


def downgrade() -> None:
    op.drop_table("call_plan_touches")

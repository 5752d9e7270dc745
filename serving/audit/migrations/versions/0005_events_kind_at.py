"""An index on the audit events' kind and time: the windows that drift, real-world accuracy
and champion history read (one kind of event between two times) without scanning the log.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_kind_at", "audit_events", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_kind_at", table_name="audit_events")

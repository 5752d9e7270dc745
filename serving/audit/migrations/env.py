"""Alembic environment: runs on the connection handed over by ``database.migrate``."""

from alembic import context
from sqlalchemy import create_engine

from candor.serving.audit.tables import Base


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:  # `alembic upgrade head` from a shell
    with create_engine(context.config.get_main_option("sqlalchemy.url") or "").connect() as conn:
        _run(conn)
else:
    _run(connection)

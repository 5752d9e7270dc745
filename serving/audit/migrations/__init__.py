"""Alembic migrations of the audit store (run by ``serving.audit.database.migrate``)."""

"""Build the audit store from settings: engine, migrations, pseudonymisation key."""

from __future__ import annotations

from candor.models.settings import Settings
from candor.serving.audit.database import database_url, make_engine, migrate
from candor.serving.audit.secrets import pseudonymisation_key
from candor.serving.audit.store import AuditStore


def open_store(settings: Settings) -> AuditStore:
    engine = make_engine(database_url(settings))
    migrate(engine)
    return AuditStore(engine, pseudonym_key=pseudonymisation_key(settings))

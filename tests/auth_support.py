"""API keys for tests: one key per role, created once per CANDOR_HOME (or database)."""

from __future__ import annotations

import uuid
from functools import lru_cache

from candor.models.settings import Settings
from candor.serving.audit.factory import open_store
from candor.serving.audit.roles import ROLES


@lru_cache(maxsize=32)
def _keys(home: str, database_url: str | None) -> dict[str, str]:
    settings = Settings(home=home, database_url=database_url)  # type: ignore[arg-type]
    store = open_store(settings)
    try:
        return {
            role: store.create_key(name=f"test-{role}-{uuid.uuid4().hex[:8]}", role=role)
            for role in ROLES
        }
    finally:
        store.close()


def keys_for(settings: Settings) -> dict[str, str]:
    """Role -> secret, valid for the audit store that ``settings`` point at."""
    return _keys(str(settings.home), settings.database_url)


def bearer(settings: Settings, role: str = "scorer") -> dict[str, str]:
    return {"Authorization": f"Bearer {keys_for(settings)[role]}"}

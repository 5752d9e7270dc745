"""An audit store of a test's own on SQLite or on the session's throwaway PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import MetaData

from candor.models.settings import Settings
from candor.serving.audit.database import make_engine
from candor.serving.audit.factory import open_store
from candor.serving.audit.store import AuditStore

TEST_SECRET = "k" * 32


def drop_everything(url: str) -> None:
    """The PostgreSQL server is shared by the session: each test starts from an empty schema."""
    engine = make_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)
    engine.dispose()


@contextmanager
def fresh_store(url: str, home: Path) -> Iterator[AuditStore]:
    if url.startswith("postgresql"):
        drop_everything(url)
    settings = Settings(home=home, database_url=url, audit_secret=TEST_SECRET)  # type: ignore[arg-type]
    store = open_store(settings)
    try:
        yield store
    finally:
        store.close()
        if url.startswith("postgresql"):
            drop_everything(url)

"""Engines and migrations: SQLite under CANDOR_HOME (WAL) by default, PostgreSQL by URL.

Two engines on one database: writes take the write lock when they begin (SQLite ``BEGIN
IMMEDIATE``; on PostgreSQL the writer row ``FOR UPDATE``) and wait for it at most the write
timeout; reads are plain deferred transactions, which in WAL mode read a snapshot and never
wait for a writer (on PostgreSQL, REPEATABLE READ: one snapshot per read transaction too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

from candor.models.errors import SettingsError
from candor.models.private_files import owner_only, private_file
from candor.models.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")
READ_BUSY_MS = 2000  # a reader waits only while SQLite recovers the WAL, never for a writer


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{settings.home.resolve() / 'audit.db'}"


@dataclass(frozen=True)
class Engines:
    write: Engine
    read: Engine

    def dispose(self) -> None:
        self.write.dispose()
        if self.read is not self.write:
            self.read.dispose()


def _sqlite_pragmas(engine: Engine, *, busy_ms: int, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        # let SQLAlchemy emit BEGIN itself, so that a writer's can be BEGIN IMMEDIATE below
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed audit event survives a crash
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        # 64 MiB of page cache (the default is 2 MiB): a batch run inserts hundreds of
        # thousands of random-keyed index entries (score ids, lead keys) per commit
        cursor.execute("PRAGMA cache_size=-65536")
        # deleted content is overwritten with zeros, not left in free pages: an erased lead's
        # key salt (and a purged payload) must not survive in the file
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # a writer takes the write lock at BEGIN: writers queue instead of failing on upgrade
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgres_lock_timeout(engine: Engine, *, timeout_ms: int) -> None:
    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeout_ms)}")


def _sqlite_engine(url: str, *, busy_ms: int, immediate: bool) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        # owner-only before SQLite opens it: its -wal and -shm files take the database's mode
        private_file(Path(path))
        for suffix in ("-wal", "-shm", "-journal"):
            owner_only(Path(path + suffix))
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_ms / 1000}
    )
    _sqlite_pragmas(engine, busy_ms=busy_ms, immediate=immediate)
    return engine


def make_engines(url: str, *, write_timeout: float = 2.0) -> Engines:
    timeout_ms = max(int(write_timeout * 1000), 1)
    if url.startswith("sqlite"):
        return Engines(
            write=_sqlite_engine(url, busy_ms=timeout_ms, immediate=True),
            read=_sqlite_engine(url, busy_ms=READ_BUSY_MS, immediate=False),
        )
    if url.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401
        except ModuleNotFoundError as exc:
            raise SettingsError(
                "CANDOR_DATABASE_URL names PostgreSQL, but its driver is not installed: "
                "pip install 'candor[postgres]'"
            ) from exc
    write = create_engine(url, pool_pre_ping=True)
    if url.startswith("postgresql"):
        _postgres_lock_timeout(write, timeout_ms=timeout_ms)
    # a read transaction sees one snapshot throughout, as SQLite's WAL readers do: on
    # PostgreSQL's default (READ COMMITTED) each statement sees a newer one, and a check
    # that reads the writer row, then the events, takes a write in between for tampering.
    # Read-only transactions are never refused under REPEATABLE READ.
    read = create_engine(url, pool_pre_ping=True)
    if url.startswith("postgresql"):
        read = read.execution_options(isolation_level="REPEATABLE READ")
    return Engines(write=write, read=read)


def make_engine(url: str) -> Engine:
    """One writing engine (migrations, tests that tamper with the database)."""
    return make_engines(url).write


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

"""One call plan at a time per audit database: counting a lead's touches and recording the new
ones must not interleave with another plan's, or two plans made at once could both take a lead
past its contact cap.

Within a process a lock serialises plans; across processes, PostgreSQL's session advisory lock
or, on SQLite, an exclusive ``flock`` on a file beside the database.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

# pg_advisory_lock's key: any 64-bit number no other program on the database uses
PLAN_LOCK_ID = 0x43616E646F72_01  # "Candor", 1
_IN_PROCESS = threading.Lock()


@contextmanager
def planning_lock(engine: Engine) -> Iterator[None]:
    """Hold the plan lock of ``engine``'s database for the block."""
    with _IN_PROCESS:
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PLAN_LOCK_ID})
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PLAN_LOCK_ID})
                    connection.commit()
            return
        database = engine.url.database
        if not database or database == ":memory:":
            yield  # one process owns an in-memory database: the thread lock is enough
            return
        path = Path(database).with_name(Path(database).name + ".plans.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

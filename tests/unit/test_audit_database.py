"""The audit store's database settings: PostgreSQL needs its extra, and says so."""

from __future__ import annotations

import sys

import pytest

from candor.models.errors import SettingsError
from candor.serving.audit.database import make_engines


def test_postgresql_without_its_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as on a plain `pip install candor`
    with pytest.raises(SettingsError, match=r"pip install 'candor\[postgres\]'"):
        make_engines("postgresql+psycopg://user@localhost/candor")


def test_sqlite_reads_and_writes_through_separate_engines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engines = make_engines(f"sqlite:///{tmp_path / 'audit.db'}", write_timeout=0.5)
    try:
        assert engines.read is not engines.write
        with engines.write.begin() as conn:  # takes the write lock at BEGIN
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            with engines.read.connect() as reader:  # a snapshot read does not wait for it
                assert reader.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0
    finally:
        engines.dispose()

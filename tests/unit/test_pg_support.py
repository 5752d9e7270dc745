"""The throwaway PostgreSQL server answers real SQL through SQLAlchemy, then is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from pg_support import PostgresUnavailable, throwaway_postgres


def test_throwaway_postgres_answers_sql_and_is_removed() -> None:
    try:
        with throwaway_postgres() as url:
            assert url.startswith("postgresql+psycopg://candor@127.0.0.1:")
            assert url.endswith("/candor_test")
            engine = sa.create_engine(url)
            try:
                with engine.begin() as conn:
                    version = conn.execute(sa.text("select version()")).scalar_one()
                    assert str(version).startswith("PostgreSQL ")
                    database = conn.execute(sa.text("select current_database()")).scalar_one()
                    assert database == "candor_test"
                    conn.execute(sa.text("create table probe (id integer primary key, note text)"))
                    conn.execute(
                        sa.text("insert into probe values (:id, :note)"), {"id": 1, "note": "é"}
                    )
                    assert conn.execute(sa.text("select note from probe")).scalar_one() == "é"
                    conn.execute(sa.text("drop table probe"))
                with engine.connect() as conn:
                    data_dir = conn.execute(sa.text("show data_directory")).scalar_one()
            finally:
                engine.dispose()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    assert not Path(str(data_dir)).exists(), "the server's data folder should be deleted on exit"

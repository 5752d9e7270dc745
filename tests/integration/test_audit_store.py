"""The audit store on SQLite and on a real PostgreSQL: append-only, hash-chained, tamper-evident.

Every test runs against both backends; the PostgreSQL server is started by the test run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from candor.models.errors import InputValidationError, NotFoundError
from candor.serving.audit.database import make_engine, migrate
from candor.serving.audit.store import AuditStore, NewRecord
from candor.serving.audit.tables import Base

KEY = b"k" * 32


def _reset(engine: Engine) -> None:
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[AuditStore]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    if request.param == "postgresql":
        _reset(engine)  # one server for the session: each test starts from an empty schema
    migrate(engine)
    migrate(engine)  # idempotent
    yield AuditStore(engine, pseudonym_key=KEY)
    if request.param == "postgresql":
        _reset(engine)
    engine.dispose()


def record(lead_id: str = "L1", *, reasons: tuple[str, ...] = ()) -> NewRecord:
    return NewRecord(
        score_id=uuid.uuid4().hex,
        kind="score",
        lead_id=lead_id,
        model_name="candor-lead-scorer",
        model_version="1",
        run_id="run",
        contract="hcp-leads@1+abc",
        requested_by="crm",
        score=0.42,
        grade="B",
        review_required=bool(reasons),
        review_reasons=reasons,
        payload={"features": {"specialty": "Oncology", "practice_size": 12}, "margin": -0.3},
    )


def tamper(store: AuditStore, sql: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql))


def test_appended_records_verify_and_hold_no_raw_lead_id(store: AuditStore) -> None:
    store.append([record(f"L{i}") for i in range(5)])
    store.append([record("L9")])
    report = store.verify()
    assert report.ok and report.records == 6
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_records")).mappings().all()
    assert all(r["lead_key"] == store.lead_key(f"L{i}") for i, r in enumerate(rows[:5]))
    assert not any("L9" in str(value) for r in rows for value in r.values())


@pytest.mark.parametrize(
    ("sql", "kind", "seq"),
    [
        ("UPDATE audit_records SET score = 0.99 WHERE seq = 3", "altered", 3),
        ("UPDATE audit_records SET payload = '{}' WHERE seq = 2", "altered", 2),
        ("UPDATE audit_records SET requested_by = 'someone else' WHERE seq = 1", "altered", 1),
        ("DELETE FROM audit_records WHERE seq = 3", "deleted", 3),
        ("DELETE FROM audit_records WHERE seq = 5", "deleted", 5),
    ],
)
def test_verify_reports_the_first_tampered_record(
    store: AuditStore, sql: str, kind: str, seq: int
) -> None:
    store.append([record(f"L{i}") for i in range(5)])
    tamper(store, sql)
    report = store.verify()
    assert not report.ok
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == (kind, seq)


def test_a_record_inserted_outside_the_service_is_detected(store: AuditStore) -> None:
    store.append([record(f"L{i}") for i in range(3)])
    with store.engine.connect() as conn:
        last = conn.execute(text("SELECT * FROM audit_records WHERE seq = 3")).mappings().one()
    forged = {**last, "seq": 4, "score_id": uuid.uuid4().hex, "prev_hash": last["record_hash"]}
    columns = ", ".join(forged)
    values = ", ".join(f":{c}" for c in forged)
    with store.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO audit_records ({columns}) VALUES ({values})"), forged)
    report = store.verify()
    assert report.problem is not None and report.problem.seq == 4
    assert report.problem.kind in {"inserted", "altered"}


def test_concurrent_appends_keep_one_unbroken_chain(store: AuditStore) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                store.append([record() for _ in range(3)])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert store.count() == 6 * 10 * 3
    assert store.verify().ok


def test_concurrent_decisions_on_one_score_all_survive_in_order(store: AuditStore) -> None:
    scored = record(reasons=("random_audit",))
    store.append([scored])
    errors: list[BaseException] = []

    def decide(i: int) -> None:
        try:
            store.add_decision(
                score_id=scored.score_id,
                decision="override",
                grade="A",
                comment=f"reviewer {i}",
                decided_by=f"rev{i}",
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    decisions = store.get_record(scored.score_id)["decisions"]
    assert sorted(d["decided_by"] for d in decisions) == sorted(f"rev{i}" for i in range(8))
    assert [d["decided_at"] for d in decisions] == sorted(d["decided_at"] for d in decisions)


def test_decisions_are_appended_and_validated(store: AuditStore) -> None:
    scored = record(reasons=("low_confidence",))
    store.append([scored])
    store.add_decision(
        score_id=scored.score_id, decision="confirm", grade=None, comment="", decided_by="rev"
    )
    history = store.add_decision(
        score_id=scored.score_id,
        decision="override",
        grade="C",
        comment="outcome known",
        decided_by="rev2",
    )
    assert [d["decision"] for d in history] == ["confirm", "override"]
    with pytest.raises(InputValidationError, match="comment"):
        store.add_decision(
            score_id=scored.score_id, decision="override", grade="A", comment="  ", decided_by="rev"
        )
    with pytest.raises(InputValidationError, match="grade"):
        store.add_decision(
            score_id=scored.score_id, decision="override", grade="E", comment="x", decided_by="rev"
        )
    with pytest.raises(NotFoundError, match="score_id"):
        store.add_decision(
            score_id="nope", decision="confirm", grade=None, comment="", decided_by="rev"
        )
    # decisions live beside the chain: the chain of scores still verifies
    assert store.verify().ok


def test_outcomes_link_through_the_keyed_hash(store: AuditStore) -> None:
    store.append([record("L7"), record("L7"), record("L8")])
    assert (
        store.add_outcome(lead_id="L7", converted=True, observed_at="2026-11-01", recorded_by="rev")
        == 2
    )
    with pytest.raises(NotFoundError, match="lead_id"):
        store.add_outcome(
            lead_id="L404", converted=False, observed_at="2026-11-01", recorded_by="rev"
        )
    rows = store.evaluation_rows()
    assert len(rows) == 2 and all(r["converted"] for r in rows)


def test_api_keys_store_only_a_hash_and_can_be_revoked(store: AuditStore) -> None:
    secret = store.create_key(name="crm", role="scorer")
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT secret_hash FROM api_keys")).scalar_one()
    assert secret not in stored
    caller = store.authenticate(secret)
    assert caller is not None and (caller.name, caller.role) == ("crm", "scorer")
    store.revoke_key("crm")
    assert store.authenticate(secret) is None
    with pytest.raises(NotFoundError):
        store.revoke_key("crm")

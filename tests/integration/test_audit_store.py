"""The audit store on SQLite and on a real PostgreSQL: every state change an event in the log.

Attacks on the log are in test_audit_attacks.py.

Every test runs against both backends; the PostgreSQL server is started by the test run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, MetaData, text

from candor.models.errors import InputValidationError, NotFoundError
from candor.models.settings import Settings
from candor.serving.audit.database import make_engine, migrate
from candor.serving.audit.events import NewEvent, body_text
from candor.serving.audit.factory import open_store
from candor.serving.audit.secrets import lead_key
from candor.serving.audit.store import AuditStore

KEY = b"k" * 32
MODEL = NewEvent(
    kind="model",
    actor="candor",
    subject="candor-lead-scorer@1",
    body=body_text({"name": "candor-lead-scorer", "version": "1", "run_id": "r", "contract": "c"}),
)


def _reset(engine: Engine) -> None:
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[AuditStore]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        engine = make_engine(url)
        _reset(engine)  # one server for the session: each test starts from an empty schema
        engine.dispose()
    settings = Settings(home=tmp_path, database_url=url, audit_secret=KEY.decode())  # type: ignore[arg-type]
    opened = open_store(settings)
    migrate(opened.engine)  # idempotent
    opened.append([MODEL])  # the model version the records below name
    yield opened
    opened.close()
    if request.param == "postgresql":
        engine = make_engine(url)
        _reset(engine)
        engine.dispose()


def record(lead_id: str = "L1", *, reasons: tuple[str, ...] = ()) -> NewEvent:
    body = {"model": "candor-lead-scorer@1", "score": 0.42, "grade": "B", "review": list(reasons)}
    return NewEvent(
        kind="score",
        actor="crm",
        subject=uuid.uuid4().hex,
        body=body_text(body),
        lead_key=lead_key(KEY, lead_id),
    )


def test_appended_records_verify_and_hold_no_raw_lead_id(store: AuditStore) -> None:
    store.append([record(f"L{i}") for i in range(5)])
    store.append([record("L9")])
    report = store.verify()
    assert report.ok and report.events == 7 and report.heads == 3
    assert store.count() == 6
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_events ORDER BY seq")).mappings().all()
    assert [r["lead_key"] for r in rows[1:6]] == [store.lead_key(f"L{i}") for i in range(5)]
    # every text a row holds (the MAC is 16 random bytes: "L9" can turn up in their repr)
    texts = [str(value) for r in rows for name, value in r.items() if name != "mac"]
    assert not any("L9" in text for text in texts)


def test_flagged_records_are_in_the_queue_until_decided(store: AuditStore) -> None:
    flagged, plain = record(reasons=("random_audit",)), record()
    store.append([flagged, plain])
    items, _ = store.review_queue(status="pending", reason=None, limit=10, cursor=None)
    assert [i["score_id"] for i in items] == [flagged.subject]
    store.add_decision(
        score_id=flagged.subject, decision="confirm", grade=None, comment="", decided_by="rev"
    )
    assert store.review_queue(status="pending", reason=None, limit=10, cursor=None)[0] == []
    decided, _ = store.review_queue(status="decided", reason=None, limit=10, cursor=None)
    assert [i["score_id"] for i in decided] == [flagged.subject]
    assert store.verify().ok


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
                score_id=scored.subject,
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
    decisions = store.get_record(scored.subject, reader="rev")["decisions"]
    assert sorted(d["decided_by"] for d in decisions) == sorted(f"rev{i}" for i in range(8))
    assert [d["decided_at"] for d in decisions] == sorted(d["decided_at"] for d in decisions)


def test_decisions_are_appended_and_validated(store: AuditStore) -> None:
    scored = record(reasons=("low_confidence",))
    store.append([scored])
    store.add_decision(
        score_id=scored.subject, decision="confirm", grade=None, comment="", decided_by="rev"
    )
    history = store.add_decision(
        score_id=scored.subject,
        decision="override",
        grade="C",
        comment="outcome known",
        decided_by="rev2",
    )
    assert [d["decision"] for d in history] == ["confirm", "override"]
    with pytest.raises(InputValidationError, match="comment"):
        store.add_decision(
            score_id=scored.subject, decision="override", grade="A", comment="  ", decided_by="rev"
        )
    with pytest.raises(InputValidationError, match="grade"):
        store.add_decision(
            score_id=scored.subject, decision="override", grade="E", comment="x", decided_by="rev"
        )
    with pytest.raises(NotFoundError, match="score_id"):
        store.add_decision(
            score_id="nope", decision="confirm", grade=None, comment="", decided_by="rev"
        )
    # decisions are events too: the log and its projections still verify
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
        stored = conn.execute(text("SELECT secret_hash FROM projected_api_keys")).scalar_one()
    assert secret not in stored
    caller = store.authenticate(secret)
    assert caller is not None and (caller.name, caller.role) == ("crm", "scorer")
    store.revoke_key("crm")
    assert store.authenticate(secret) is None
    with pytest.raises(NotFoundError):
        store.revoke_key("crm")

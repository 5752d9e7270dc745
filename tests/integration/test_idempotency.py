"""Idempotency-Key over HTTP: a retried write gets its first answer and writes nothing new.

Each test has an audit database of its own (SQLite in its tmp_path, or the session's throwaway
PostgreSQL), so that the events it counts are its own.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import SCORE, demo_body, demo_lead, error_of, serve, with_overrides
from fastapi.testclient import TestClient
from sqlalchemy import text

from candor.models.settings import Settings
from candor.serving.audit.secrets import idempotency_secrets
from candor.serving.audit.store import AuditStore
from candor.serving.idempotency import WRITE_ROUTES, claim, request_fingerprint
from candor.serving.state import serving_state

PLANS = "/v1/call-plans"
KEY = "Idempotency-Key"


@pytest.fixture()
def isolated(trained_settings: Settings, tmp_path: Path) -> Settings:
    """The session's champion with an audit database of this test's own."""
    return trained_settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'audit.db'}"}
    )


def store_of(api: TestClient) -> AuditStore:
    store = serving_state(api.app).audit  # type: ignore[arg-type]
    assert store is not None
    return store


def events(api: TestClient) -> int:
    """Every event in the app's audit log (scores, touches, decisions, outcomes...)."""
    report = store_of(api).verify()
    assert report.ok, report.first
    return report.events


def key() -> dict[str, str]:
    return {KEY: str(uuid.uuid4())}


def leads_body(*lead_ids: str) -> dict[str, Any]:
    body = demo_body()
    body["leads"] = [demo_lead(lead_id=lead_id) for lead_id in lead_ids]
    return body


def backdate(api: TestClient, hours: float) -> None:
    """Make every stored key older by ``hours`` (as if that much time had passed)."""
    at = (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="microseconds")
    with store_of(api).engine.begin() as conn:
        conn.execute(text("UPDATE idempotency_keys SET created_at = :at"), {"at": at})


def test_every_post_route_of_the_app_takes_the_key(isolated: Settings) -> None:
    """A new write route must be added to WRITE_ROUTES, or its retries would write again."""
    with serve(isolated) as api:
        paths = api.get("/openapi.json").json()["paths"]
    posted = {path for path, operations in paths.items() if "post" in operations}
    assert posted == set(WRITE_ROUTES)


def test_a_retried_score_returns_the_first_answer_and_writes_nothing(isolated: Settings) -> None:
    headers = key()
    with serve(isolated) as api:
        first = api.post(SCORE, json=leads_body("I-1", "I-2"), headers=headers)
        assert first.status_code == 200, first.text
        before = events(api)

        again = api.post(SCORE, json=leads_body("I-1", "I-2"), headers=headers)

        assert again.status_code == 200
        assert again.json() == first.json()  # the same score ids, scores, reasons
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["content-type"] == first.headers["content-type"]
        assert "Idempotent-Replayed" not in first.headers
        assert events(api) == before
        # without the key, the same body is a new request
        fresh = api.post(SCORE, json=leads_body("I-1", "I-2"))
        ids = {r["score_id"] for r in fresh.json()["results"]}
        assert ids.isdisjoint(r["score_id"] for r in first.json()["results"])


def test_the_same_key_with_another_body_is_refused_naming_the_header(isolated: Settings) -> None:
    headers = key()
    with serve(isolated) as api:
        assert api.post(SCORE, json=leads_body("R-1"), headers=headers).status_code == 200
        before = events(api)

        other = api.post(SCORE, json=leads_body("R-2"), headers=headers)
        query = api.post(f"{SCORE}?top_k=3", json=leads_body("R-1"), headers=headers)

        for refused in (other, query):
            assert refused.status_code == 422
            error = error_of(refused)
            assert error["code"] == "idempotency_key_reused"
            assert error["details"][0]["field"] == KEY
            assert KEY in error["message"]
        assert events(api) == before


def test_the_first_answer_survives_a_restart(isolated: Settings) -> None:
    headers = key()
    with serve(isolated) as api:
        first = api.post(SCORE, json=leads_body("S-1"), headers=headers)
        assert first.status_code == 200
    with serve(isolated) as restarted:
        before = events(restarted)
        again = restarted.post(SCORE, json=leads_body("S-1"), headers=headers)
        assert again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert events(restarted) == before


def test_a_call_plan_retried_three_times_is_one_plan_and_counts_its_contacts_once(
    isolated: Settings,
) -> None:
    headers = key()
    body = {"leads": leads_body("P-1", "P-2", "P-3")["leads"], "capacity": 2}
    with serve(isolated) as api:
        answers = [api.post(PLANS, json=body, headers=headers) for _ in range(3)]

        assert [a.status_code for a in answers] == [201, 201, 201]
        plans = [a.json() for a in answers]
        assert len({p["plan_id"] for p in plans}) == 1
        assert plans[1] == plans[2] == plans[0]
        assert len(plans[0]["plan"]) == 2  # the retries did not plan nobody
        touches = store_of(api).touches_since(["P-1", "P-2", "P-3"], "2000-01-01")
        assert sum(touches.values()) == 2  # each planned lead counted once, not three times


def test_different_callers_with_the_same_key_do_not_collide(isolated: Settings) -> None:
    headers = key()
    with serve(isolated) as scorer, serve(isolated, role="admin") as admin:
        mine = scorer.post(SCORE, json=leads_body("C-1"), headers=headers)
        theirs = admin.post(SCORE, json=leads_body("C-1"), headers=headers)
        other_body = admin.post(SCORE, json=leads_body("C-2"), headers=key())

    assert mine.status_code == theirs.status_code == other_body.status_code == 200
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["results"][0]["score_id"] != theirs.json()["results"][0]["score_id"]


def test_the_database_holds_neither_the_lead_id_nor_the_answer(
    isolated: Settings, tmp_path: Path
) -> None:
    lead_id = f"SECRET-{uuid.uuid4().hex[:12]}"
    headers = key()
    with serve(isolated) as api:
        first = api.post(SCORE, json=leads_body(lead_id), headers=headers)
        assert first.status_code == 200
        again = api.post(SCORE, json=leads_body(lead_id), headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["results"][0]["lead_id"] == lead_id  # it was stored, sealed

    stored = b"".join(p.read_bytes() for p in tmp_path.glob("audit.db*"))
    assert lead_id.encode() not in stored
    assert headers[KEY].encode() not in stored  # the raw key is not stored either
    reasons = first.json()["results"][0]["reasons"]
    assert reasons and all(r["text"].encode() not in stored for r in reasons)
    assert first.content[:64] not in stored


@pytest.mark.parametrize(
    "value",
    ["k" * 256, "caf\u00e9".encode(), b"tab\there"],
    ids=["too-long", "not-ascii", "control-character"],
)
def test_an_invalid_key_is_refused_naming_the_header(isolated: Settings, value: Any) -> None:
    with serve(isolated) as api:
        before = events(api)
        refused = api.post(SCORE, json=leads_body("V-1"), headers={KEY: value})

        assert refused.status_code == 422
        error = error_of(refused)
        assert error["code"] == "idempotency_key_invalid"
        assert error["details"][0]["field"] == KEY
        assert events(api) == before


def test_an_expired_key_is_not_replayed(isolated: Settings) -> None:
    headers = key()
    with serve(isolated) as api:
        first = api.post(SCORE, json=leads_body("E-1"), headers=headers).json()
        backdate(api, hours=2)
        within = api.post(SCORE, json=leads_body("E-1"), headers=headers)
        assert within.headers["Idempotent-Replayed"] == "true"  # 2 h: inside the 24 h window

        backdate(api, hours=25)
        later = api.post(SCORE, json=leads_body("E-1"), headers=headers)
        assert later.status_code == 200
        assert "Idempotent-Replayed" not in later.headers
        assert later.json()["results"][0]["score_id"] != first["results"][0]["score_id"]
        # ... and the new answer is the one replayed from then on
        assert api.post(SCORE, json=leads_body("E-1"), headers=headers).json() == later.json()

    with serve(with_overrides(isolated, idempotency_ttl_hours=1)) as short:
        backdate(short, hours=2)
        assert (
            "Idempotent-Replayed"
            not in short.post(SCORE, json=leads_body("E-1"), headers=headers).headers
        )


def test_an_altered_stored_answer_is_never_replayed(isolated: Settings) -> None:
    """The status is bound to the sealed body: a row changed in the database fails to open."""
    headers = key()
    with serve(isolated) as api:
        assert api.post(SCORE, json=leads_body("T-1"), headers=headers).status_code == 200
        with store_of(api).engine.begin() as conn:
            conn.execute(text("UPDATE idempotency_keys SET status = 201"))

        altered = api.post(SCORE, json=leads_body("T-1"), headers=headers)

        assert altered.status_code == 500
        assert error_of(altered)["code"] == "internal_error"


def test_a_request_still_being_answered_gets_a_409(isolated: Settings) -> None:
    headers = key()
    raw = json.dumps(leads_body("W-1")).encode()
    with serve(isolated) as api:
        store = store_of(api)
        secrets = idempotency_secrets(
            store.pseudonym_key,
            authorization=api.headers["Authorization"].encode(),
            method="POST",
            path=SCORE,
            key=headers[KEY],
        )
        fingerprint = request_fingerprint(secrets, method="POST", path=SCORE, query=b"", body=raw)
        # the first request's claim, as a process in the middle of answering it leaves it
        first = claim(store.engine, secrets, fingerprint, now=datetime.now(UTC), ttl=timedelta(1))
        assert first.outcome == "claimed"

        busy = api.post(SCORE, content=raw, headers={**headers, "Content-Type": "application/json"})

        assert busy.status_code == 409
        assert error_of(busy)["code"] == "idempotency_request_in_progress"


def test_a_failed_request_frees_its_key(isolated: Settings) -> None:
    """The session's home has no forecaster: POST /v1/forecasts answers 503, which is not kept."""
    headers = key()
    body = {"series": [{"territory": "Eastmoor", "product": "Flumistar"}], "horizon": 4}
    with serve(isolated) as api:
        answers = [api.post("/v1/forecasts", json=body, headers=headers) for _ in range(2)]
        with store_of(api).engine.connect() as conn:
            kept = conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one()

    assert [a.status_code for a in answers] == [503, 503]
    assert all("Idempotent-Replayed" not in a.headers for a in answers)
    assert kept == 0


def test_a_retried_decision_and_outcome_are_recorded_once(isolated: Settings) -> None:
    with serve(isolated, role="admin") as api:
        [scored] = api.post(SCORE, json=leads_body("D-1")).json()["results"]
        decide, record = key(), key()
        decision = {"decision": "override", "grade": "A", "comment": "known prescriber"}
        outcome = {"lead_id": "D-1", "converted": True, "observed_at": "2025-03-01"}

        decided = [
            api.post(f"/v1/reviews/{scored['score_id']}", json=decision, headers=decide)
            for _ in range(2)
        ]
        recorded = [api.post("/v1/outcomes", json=outcome, headers=record) for _ in range(2)]

        assert [a.status_code for a in decided + recorded] == [201] * 4
        assert decided[1].json() == decided[0].json()
        assert len(decided[1].json()["decisions"]) == 1
        assert recorded[1].headers["Idempotent-Replayed"] == "true"
        record_of = api.get(f"/v1/scores/{scored['score_id']}").json()
        assert len(record_of["decisions"]) == 1


def test_a_retried_score_is_replayed_from_postgresql(
    trained_settings: Settings, postgres_url: str
) -> None:
    from sqlalchemy import MetaData

    from candor.serving.audit.database import make_engine

    engine = make_engine(postgres_url)
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)  # the server is shared by the session: start empty
    engine.dispose()
    # a URL of its own for the same database: API keys (auth_support caches them by URL) and
    # the checkpoint file (named by the URL) are then this test's, not another PostgreSQL test's
    own_url = f"{postgres_url}{'&' if '?' in postgres_url else '?'}application_name=idempotency"
    settings = trained_settings.model_copy(update={"database_url": own_url})
    headers = key()
    with serve(settings) as api:
        first = api.post(SCORE, json=leads_body("PG-1"), headers=headers)
        assert first.status_code == 200
        other = api.post(SCORE, json=leads_body("PG-2"), headers=headers)
        assert error_of(other)["code"] == "idempotency_key_reused"
    with serve(settings) as restarted:
        before = events(restarted)
        again = restarted.post(SCORE, json=leads_body("PG-1"), headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert events(restarted) == before
        assert store_of(restarted).engine.dialect.name == "postgresql"

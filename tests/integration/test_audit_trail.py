"""Accountability over HTTP: no unaudited score leaves, and the trail survives a crash."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from api_support import SCORE, demo_body, serve
from auth_support import bearer
from live_server import candor_serve, post_json
from sqlalchemy import text

from candor.cli.main import main as candor_main
from candor.models.settings import Settings, get_settings
from candor.serving.audit.factory import open_store
from candor.serving.state import serving_state


@pytest.fixture()
def isolated(trained_settings: Settings, tmp_path: Path) -> Settings:
    """The session's champion with an audit database of this test's own."""
    return trained_settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'audit.db'}"}
    )


def test_every_answered_score_is_in_the_store_first(isolated: Settings) -> None:
    with serve(isolated) as api:
        response = api.post(SCORE, json=demo_body())
        assert response.status_code == 200
        answered = response.json()["results"][0]
    record = open_store(isolated).get_record(answered["score_id"], reader="test")
    assert record["score"] == answered["score"]
    assert record["payload"]["margin"] == answered["margin"]
    # the store keeps the full SHAP vector even when the response showed the top 5
    assert len(record["payload"]["contributions"]) > len(answered["reasons"])
    assert record["requested_by"].startswith("test-scorer")
    assert record["lead_key"] != answered["lead_id"]
    assert answered["lead_id"] not in json.dumps(record)


def test_no_score_leaves_when_the_store_cannot_be_written(isolated: Settings) -> None:
    with serve(isolated) as api:
        store = serving_state(api.app).audit
        assert store is not None
        with store.engine.begin() as conn:  # a broken store: its log table is gone
            conn.execute(text("DROP TABLE audit_events"))
        response = api.post(SCORE, json=demo_body())
        health = api.get("/healthz").json()
    assert health["status"] == "degraded" and "audit store cannot be" in health["audit"]["detail"]
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "audit_unavailable"
    assert "results" not in body and "score_id" not in response.text


def test_health_answers_while_a_writer_holds_the_store(isolated: Settings) -> None:
    """Another process holds the write lock: scoring gives up after the write timeout with a
    503, /healthz answers at once and says why, and reads still work."""
    settings = isolated.model_copy(update={"audit_write_timeout": 0.5})
    with serve(settings) as api:
        assert api.post(SCORE, json=demo_body()).status_code == 200
        path = str(settings.database_url).split("///", 1)[1]
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held
        try:
            blocked = api.post(SCORE, json=demo_body())
            health = api.get("/healthz").json()
            whoami = api.get("/v1/whoami")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert blocked.status_code == 503
        assert blocked.json()["error"]["code"] == "audit_unavailable"
        assert health["status"] == "degraded" and "lock" in health["audit"]["detail"]
        assert whoami.status_code == 200  # authentication reads; it does not wait for writers
        assert api.post(SCORE, json=demo_body()).status_code == 200
        assert api.get("/healthz").json()["status"] == "ok"


def test_missing_wrong_and_revoked_keys_are_refused(isolated: Settings) -> None:
    with serve(isolated) as api:
        del api.headers["Authorization"]
        assert api.post(SCORE, json=demo_body()).status_code == 401
        wrong = api.post(SCORE, json=demo_body(), headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "unauthenticated"
        reviewer = api.post(SCORE, json=demo_body(), headers=bearer(isolated, "reviewer"))
        assert reviewer.status_code == 403
        assert "reviewer" in reviewer.json()["error"]["message"]
        admin = api.post(SCORE, json=demo_body(), headers=bearer(isolated, "admin"))
        assert admin.status_code == 200
        store = open_store(isolated)
        secret = store.create_key(name="soon-revoked", role="scorer")
        ok = api.post(SCORE, json=demo_body(), headers={"Authorization": f"Bearer {secret}"})
        assert ok.status_code == 200
        store.revoke_key("soon-revoked")
        gone = api.post(SCORE, json=demo_body(), headers={"Authorization": f"Bearer {secret}"})
        assert gone.status_code == 401


def test_audit_verify_command_exits_non_zero_on_tampering(
    isolated: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(isolated)
    with serve(isolated) as api:
        body = demo_body()
        body["leads"] = [dict(body["leads"][0], lead_id=f"L{i}") for i in range(4)]
        assert api.post(SCORE, json=body).status_code == 200
    monkeypatch.setenv("CANDOR_DATABASE_URL", str(isolated.database_url))
    monkeypatch.setenv("CANDOR_HOME", str(isolated.home))
    get_settings.cache_clear()
    try:
        assert candor_main(["audit", "verify"]) == 0
        assert "audit log intact" in capsys.readouterr().out
        with store.engine.begin() as conn:  # an insider rewrites who asked for the 2nd score
            seq = conn.execute(
                text(
                    "SELECT seq FROM audit_events WHERE kind = 'score' "
                    "ORDER BY seq LIMIT 1 OFFSET 1"
                )
            ).scalar_one()
            conn.execute(text(f"UPDATE audit_events SET actor = 'someone' WHERE seq = {seq}"))
        assert candor_main(["audit", "verify"]) == 1
        assert f"first bad position {seq} (altered)" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


def test_killed_service_left_every_answered_score_in_a_valid_chain(
    trained_home: Path, trained_settings: Settings, tmp_path: Path
) -> None:
    """SIGKILL the server in the middle of a burst: what it answered, it had stored."""
    audit_url = f"sqlite:///{tmp_path / 'audit.db'}"
    settings = trained_settings.model_copy(update={"database_url": audit_url})
    headers = bearer(settings)
    body = demo_body()
    body["leads"] = [dict(body["leads"][0], lead_id=f"B{i}") for i in range(5)]
    payload = json.dumps(body).encode()
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    with candor_serve(
        home=trained_home, workdir=tmp_path, env={"CANDOR_DATABASE_URL": audit_url}
    ) as server:

        def client() -> None:
            while not stop.is_set():
                result = post_json(server.base_url + SCORE, payload, headers)
                if result is not None:
                    with lock:
                        answered.extend(r["score_id"] for r in result["results"])

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        try:
            time.sleep(3.0)
            server.kill()  # no shutdown, no flush: a crash
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=40)
    assert len(answered) >= 25, "the burst should have been answered for a while"
    store = open_store(settings)
    stored = store.score_ids()
    missing = [s for s in answered if s not in stored]
    assert not missing, f"{len(missing)} answered scores are not in the audit store"
    report = store.verify()
    assert report.ok, report.first


def test_the_service_audits_to_postgresql_when_configured(
    trained_settings: Settings, postgres_url: str
) -> None:
    """CANDOR_DATABASE_URL pointing at PostgreSQL: migrations, keys, scores and the chain."""
    from sqlalchemy import MetaData

    from candor.serving.audit.database import make_engine

    engine = make_engine(postgres_url)
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)  # the server is shared by the session: start empty
    engine.dispose()
    settings = trained_settings.model_copy(update={"database_url": postgres_url})
    with serve(settings) as api:
        body = demo_body()
        body["leads"] = [dict(body["leads"][0], lead_id=f"P{i}") for i in range(20)]
        response = api.post(SCORE, json=body)
        assert response.status_code == 200
        answered = {r["score_id"] for r in response.json()["results"]}
    store = open_store(settings)
    assert answered <= store.score_ids()
    assert store.engine.dialect.name == "postgresql"
    assert store.verify().ok


def test_verify_reads_one_snapshot_while_the_service_writes(
    trained_settings: Settings, postgres_url: str, tmp_path: Path
) -> None:
    """On PostgreSQL, verification reads the events, heads, writer row and projections of one
    moment: events committed while it reads are not taken for tampering."""
    from pg_support import drop_all_tables

    drop_all_tables(postgres_url)
    settings = trained_settings.model_copy(
        update={"database_url": postgres_url, "audit_checkpoints": tmp_path / "checkpoints.log"}
    )
    store = open_store(settings)
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        while not stop.is_set():
            store.record_batch_run({"rows": len(written)}, run_id=f"run-{len(written)}", by="t")
            written.append(1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        reports = [store.verify() for _ in range(15)]
    finally:
        stop.set()
        writer.join()
    try:
        assert len(written) > 15  # the writer did write while verification read
        problems = [p for r in reports for p in r.problems]
        assert not problems, problems[:3]
        assert store.verify().ok
    finally:
        store.close()
        drop_all_tables(postgres_url)

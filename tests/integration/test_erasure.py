"""Erasure by crypto-shredding: after a lead is erased, nothing stored tells what its data
were, the audit log still verifies, and tampering with any other record is still caught.

The lead is sent with values found nowhere else (two numbers, an unseen specialty and
lead source, its name, e-mail and id), scored twice over HTTP, given an outcome, then erased.
Every file under CANDOR_HOME, and on PostgreSQL every row of every table and every file of
the server's data directory (WAL included), is searched for each value byte for byte.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import settings_support as support
from api_support import SCORE, demo_lead, serve
from auth_support import bearer
from fastapi.testclient import TestClient
from pg_support import drop_all_tables
from sqlalchemy import create_engine, inspect, text

from candor.models.settings import Settings
from candor.serving.audit.factory import open_store
from candor.training.pipeline import train_leads

LEAD = "L-ERASE-Q7Z4"
OTHER = "L-KEEP-Q7Z5"
# values of the erased lead found nowhere else: the raw id, personal data, unseen categories
SPECIALTY = "Xenobotany Qq7"
SOURCE = "Zeppelin fair Qq7"
NAME = "Quintessa Vobrik-Lahm"
EMAIL = "quintessa.vobrik@example.net"
# model inputs the log keeps (sealed), with values no other lead has
YEARS = 14.7391
VISITS = 3.14159
NEEDLES = (LEAD, SPECIALTY, SOURCE, NAME, EMAIL, str(YEARS), str(VISITS))


def erased_lead(**changes: Any) -> dict[str, Any]:
    return demo_lead(
        lead_id=LEAD,
        specialty=SPECIALTY,
        lead_source=SOURCE,
        full_name=NAME,
        email=EMAIL,
        years_in_practice=YEARS,
        website_visits_30d=VISITS,
        **changes,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A home of this module's own with a champion (its MLflow store stays under it)."""
    home = tmp_path_factory.mktemp("erasure_home")
    settings = support.make_settings(home)
    assert train_leads(data=support.SAMPLE_LEADS, settings=settings, seed=3).gate.promoted
    return settings


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(
    request: pytest.FixtureRequest, trained: Settings, tmp_path: Path
) -> Iterator[Settings]:
    """The champion above, with an audit store of its own per test (SQLite in its own home,
    or a fresh schema on the session's PostgreSQL)."""
    home = Path(trained.home)
    own = {"audit_checkpoints": home / f"checkpoints-{tmp_path.name}.log"}
    if request.param == "sqlite":
        yield trained.model_copy(
            update={**own, "database_url": f"sqlite:///{home / f'audit-{tmp_path.name}.db'}"}
        )
        return
    url = request.getfixturevalue("postgres_url")
    drop_all_tables(url)
    # a URL of its own per test (API keys are made once per home and URL)
    mine = f"{url}{'&' if '?' in url else '?'}application_name={tmp_path.name[:60]}"
    yield trained.model_copy(update={**own, "database_url": mine})
    drop_all_tables(url)


def score(client: TestClient, lead: dict[str, Any], *, key: str | None = None) -> dict[str, Any]:
    headers = {} if key is None else {"Idempotency-Key": key}
    response = client.post(SCORE, json={"leads": [lead], "explain": "all"}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["results"][0]  # type: ignore[no-any-return]


def files_holding(folder: Path, needles: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a socket or a file the server holds exclusively
        for needle in needles:
            if needle.encode() in data:
                found.setdefault(needle, []).append(str(path))
    return found


def rows_holding(url: str, needles: tuple[str, ...]) -> dict[str, list[str]]:
    """Every row of every table as text (bytea as hex), searched for each value and its hex."""
    found: dict[str, list[str]] = {}
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for (row,) in conn.execute(text(f'SELECT t::text FROM "{table}" t')):
                    for needle in needles:
                        if needle in row or needle.encode().hex() in row:
                            found.setdefault(needle, []).append(table)
    finally:
        engine.dispose()
    return found


def pg_data_directory(url: str) -> Path:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))  # what is committed is in the data files too
            return Path(str(conn.execute(text("SHOW data_directory")).scalar_one()))
    finally:
        engine.dispose()


def test_after_erasure_nothing_stored_tells_the_leads_data(settings: Settings) -> None:
    with serve(settings) as client:
        first = score(client, erased_lead(), key="retry-of-the-erased-lead")
        assert score(client, erased_lead(), key="retry-of-the-erased-lead") == first  # replayed
        second = score(client, erased_lead(rep_visits_90d=5))
        kept = score(client, demo_lead(lead_id=OTHER, specialty="Cardiology"))
        reviewer = bearer(settings, "reviewer")
        outcome = client.post(
            "/v1/outcomes",
            json={"lead_id": LEAD, "converted": True, "observed_at": "2026-11-30"},
            headers=reviewer,
        )
        assert outcome.status_code in (200, 201), outcome.text
        # before: a reviewer reads the inputs as sent (the store keeps them, sealed)
        record = client.get(f"/v1/scores/{first['score_id']}", headers=reviewer)
        assert record.status_code == 200, record.text
        assert str(YEARS) in json.dumps(record.json())

    store = open_store(settings)
    try:
        with store.reading("the test") as conn:
            salt = bytes(
                conn.execute(
                    text("SELECT salt FROM lead_data_keys WHERE lead_key = :k"),
                    {"k": store.lead_key(LEAD)},
                ).scalar_one()
            )
        erasure = store.erase_lead(LEAD, reason="the HCP asked to be forgotten", by="dpo")
        assert erasure.records == 2 and erasure.lead_key == store.lead_key(LEAD)
        report = store.verify()
        assert report.ok, report.problems
    finally:
        store.close()

    for needle, where in files_holding(Path(settings.home), NEEDLES).items():
        pytest.fail(f"{needle!r} is still under CANDOR_HOME after erasure: {where}")
    if settings.database_url.startswith("sqlite"):
        # the destroyed key's salt is gone from the file too (secure_delete, WAL truncated)
        held = [p for p in Path(settings.home).rglob("audit-*") if p.is_file()]
        assert held and not [p for p in held if salt in p.read_bytes()]
    if settings.database_url.startswith("postgresql"):
        assert rows_holding(settings.database_url, NEEDLES) == {}
        assert files_holding(pg_data_directory(settings.database_url), NEEDLES) == {}

    with serve(settings) as client:
        reviewer = bearer(settings, "reviewer")
        # the record stays, marked erased; its inputs and explanation are gone
        record = client.get(f"/v1/scores/{second['score_id']}", headers=reviewer)
        assert record.status_code == 200, record.text
        shown = record.json()
        assert str(YEARS) not in json.dumps(shown)
        assert shown["removed"]["state"] == "erased"
        assert shown["removed"]["at"] == erasure.erased_at
        assert shown["features"] == {} and shown["contributions"] == []
        history = client.get(f"/v1/leads/{LEAD}/scores", headers=reviewer)
        assert history.status_code == 200, history.text
        items = history.json()["scores"]
        assert {i["score_id"] for i in items} == {first["score_id"], second["score_id"]}
        for item in items:
            assert item["removed"]["state"] == "erased"
            assert item["removed"]["text"] == f"Erased on {erasure.erased_at[:10]}"
            assert item["score"] is None and item["model"]["version"]
        changes = client.get(f"/v1/leads/{LEAD}/changes", headers=reviewer)
        assert changes.status_code == 422 and "erased" in changes.text
        # the other lead is untouched
        other = client.get(f"/v1/scores/{kept['score_id']}", headers=reviewer)
        assert other.status_code == 200 and "Cardiology" in json.dumps(other.json())
        # a retry of a request answered before the erasure is not replayed: it runs afresh
        retried = score(client, erased_lead(), key="retry-of-the-erased-lead")
        assert retried["score_id"] != first["score_id"]
        # the same lead sent again is scored afresh, under a new key, and readable
        again = score(client, erased_lead())
        fresh = client.get(f"/v1/scores/{again['score_id']}", headers=reviewer)
        assert fresh.status_code == 200 and str(YEARS) in json.dumps(fresh.json())

    store = open_store(settings)
    try:
        assert store.verify().ok
    finally:
        store.close()


def _sqlite_only(settings: Settings) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the raw-SQL tampering below is written for SQLite")


def test_tampering_is_still_detected_after_an_erasure(settings: Settings) -> None:
    _sqlite_only(settings)
    with serve(settings) as client:
        score(client, erased_lead())
        kept = score(client, demo_lead(lead_id=OTHER))
        also = score(client, demo_lead(lead_id="L-KEEP-Q7Z6"))
    store = open_store(settings)
    engine = create_engine(settings.database_url)
    try:
        store.erase_lead(LEAD, reason="request", by="dpo")
        assert store.verify().ok
        with engine.begin() as conn:
            seq_kept, seq_also = (
                conn.execute(
                    text("SELECT seq FROM audit_events WHERE subject = :s"), {"s": s}
                ).scalar_one()
                for s in (kept["score_id"], also["score_id"])
            )
            # another lead's sealed payload altered by one byte
            payload = bytearray(
                conn.execute(
                    text("SELECT payload FROM audit_events WHERE seq = :s"), {"s": seq_kept}
                ).scalar_one()
            )
            payload[-1] ^= 1
            conn.execute(
                text("UPDATE audit_events SET payload = :p WHERE seq = :s"),
                {"p": bytes(payload), "s": seq_kept},
            )
            # and a third lead's payload removed as if it had been erased
            conn.execute(
                text("UPDATE audit_events SET payload = NULL WHERE seq = :s"), {"s": seq_also}
            )
        report = store.verify()
        assert not report.ok
        found = {(p.position, p.kind) for p in report.problems}
        assert (seq_kept, "altered") in found and (seq_also, "deleted") in found, found
    finally:
        engine.dispose()
        store.close()
    # a reviewer and an auditor reading those records are told what happened to them
    with serve(settings) as client:
        for record, state in ((kept, "altered"), (also, "removed")):
            sid = record["score_id"]
            seen = client.get(f"/v1/scores/{sid}", headers=bearer(settings, "reviewer"))
            assert seen.status_code == 200, seen.text
            assert seen.json()["removed"]["state"] == state
            assert "candor audit verify" in seen.json()["removed"]["text"]
            assert not seen.json()["features"] and not seen.json()["contributions"]
            audited = client.get(f"/v1/audit/records/{sid}", headers=bearer(settings, "auditor"))
            assert audited.status_code == 200, audited.text
            assert audited.json()["state"] == state


def test_a_data_key_destroyed_outside_the_service_is_reported(settings: Settings) -> None:
    _sqlite_only(settings)
    with serve(settings) as client:
        score(client, demo_lead(lead_id=OTHER))
    store = open_store(settings)
    engine = create_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM lead_data_keys"))
        report = store.verify()
        assert not report.ok
        assert any("data key" in p.detail and p.kind == "deleted" for p in report.problems)
    finally:
        engine.dispose()
        store.close()


def test_a_data_key_replaced_outside_the_service_is_reported(settings: Settings) -> None:
    """An insider who swaps a lead's salt destroys its data as surely as an erasure, with no
    event saying so: verify names the lead's record."""
    _sqlite_only(settings)
    with serve(settings) as client:
        kept = score(client, demo_lead(lead_id=OTHER))
        score(client, demo_lead(lead_id="L-KEEP-Q7Z6"))
    store = open_store(settings)
    engine = create_engine(settings.database_url)
    try:
        assert store.verify().ok
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE lead_data_keys SET salt = :s WHERE lead_key = :k"),
                {"s": bytes(32), "k": store.lead_key(OTHER)},
            )
            seq = conn.execute(
                text("SELECT seq FROM audit_events WHERE subject = :s"), {"s": kept["score_id"]}
            ).scalar_one()
        report = store.verify()
        assert not report.ok
        assert [(p.position, p.kind) for p in report.problems] == [(seq, "altered")]
        assert "salt" in report.problems[0].detail
    finally:
        engine.dispose()
        store.close()


def test_retention_purges_old_payloads_and_keeps_the_record(settings: Settings) -> None:

    with serve(settings) as client:
        old = score(client, erased_lead())
    later = datetime.now(UTC) + timedelta(days=31)
    store = open_store(settings)
    try:
        purge = store.purge(retention_days=30, by="ops", now=later)
        assert purge.records == 1 and purge.retention_days == 30
        assert store.verify().ok
    finally:
        store.close()
    for needle, where in files_holding(Path(settings.home), NEEDLES).items():
        pytest.fail(f"{needle!r} is still under CANDOR_HOME after the purge: {where}")
    with serve(settings) as client:
        reviewer = bearer(settings, "reviewer")
        record = client.get(f"/v1/scores/{old['score_id']}", headers=reviewer)
        assert record.status_code == 200, record.text
        assert record.json()["removed"]["state"] == "purged"
        assert record.json()["removed"]["at"] == purge.purged_at
        new = score(client, erased_lead())  # newer than the limit: kept
        fresh = client.get(f"/v1/scores/{new['score_id']}", headers=reviewer)
        assert str(YEARS) in json.dumps(fresh.json())


def test_records_from_before_sealing_are_reported_not_hidden(settings: Settings) -> None:
    _sqlite_only(settings)
    from candor.serving.audit import events as ev
    from candor.serving.audit.events import NewEvent, body_text

    store = open_store(settings)
    try:
        kek = store.log.payload_kek
        store.log.payload_kek = None  # the writer as it was before payloads were sealed
        body = body_text({"model": "m@1", "score": 0.4, "grade": "B", "review": []})
        store.append([NewEvent(ev.SCORE, "crm", "old-score-1", body, store.lead_key(LEAD))])
        store.log.payload_kek = kek
        store.append([NewEvent(ev.SCORE, "crm", "new-score-1", body, store.lead_key(LEAD))])
        erasure = store.erase_lead(LEAD, reason="asked", by="dpo")
        assert (erasure.records, erasure.unsealed_records) == (1, 1)
        assert erasure.to_dict()["unsealed_records"] == 1
        assert store.verify().ok
    finally:
        store.close()


def test_an_erasure_says_when_a_reader_kept_the_removed_bytes_on_disk(
    settings: Settings,
) -> None:
    _sqlite_only(settings)
    with serve(settings) as client:
        score(client, erased_lead())
        score(client, demo_lead(lead_id=OTHER))
    path = settings.database_url.removeprefix("sqlite:///")
    reader = sqlite3.connect(path)
    store = open_store(settings)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM audit_events").fetchone()  # holds the WAL
        held = store.erase_lead(LEAD, reason="request", by="dpo")
        reader.rollback()
        assert held.to_dict()["scrubbed"] is False
        assert store.verify().ok
        # with no reader in the way the next removal clears the files
        purged = store.purge(retention_days=1, by="dpo", now=datetime.now(UTC) + timedelta(days=2))
        assert purged.scrubbed is True
    finally:
        reader.close()
        store.close()
    for needle, where in files_holding(Path(settings.home), NEEDLES).items():
        pytest.fail(f"{needle!r} is still under CANDOR_HOME after the checkpoint: {where}")

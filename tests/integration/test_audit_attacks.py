"""Attacks on the audit log by an insider who can write to the database but holds no key.

Each attack is done the way such an insider would do it: raw SQL on the database while the
service is idle. ``verify`` (and, where it matters, a store opened afresh, as after a restart)
must report it at the right position, and a key the log does not back must never
authenticate. Every test runs on SQLite and on a throwaway PostgreSQL unless it says why not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from api_support import serve
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from pg_support import drop_all_tables
from sqlalchemy import Engine, create_engine, inspect, text

from candor.models.errors import AuditUnavailableError
from candor.models.settings import Settings
from candor.serving.audit import chain
from candor.serving.audit.database import MIGRATIONS
from candor.serving.audit.events import NewEvent, StoredEvent, body_text
from candor.serving.audit.factory import open_store
from candor.serving.audit.merkle import Frontier, leaf_hash
from candor.serving.audit.secrets import hash_api_secret, lead_key, pseudonymisation_key
from candor.serving.audit.signing import public_key_pem, signing_key
from candor.serving.audit.store import AuditStore

MODEL = "m@1"
# appends of these sizes: one signed head after each, the last 10 events in a group of their own
GROUPS = (1, 30, 40, 29, 40, 10)
N = sum(GROUPS)  # 150


# --- building stores -------------------------------------------------------------------------


def _reset(url: str) -> None:
    drop_all_tables(url)


class Backend:
    def __init__(self, name: str, url: str, home: Path) -> None:
        self.name = name
        self.url = url
        self.home = home
        self.stores: list[AuditStore] = []

    @property
    def checkpoints(self) -> Path:
        return self.home / "checkpoints.log"

    @property
    def db_file(self) -> Path:
        assert self.name == "sqlite"
        return self.home / "audit.db"

    def settings(self, **overrides: Any) -> Settings:
        return Settings(
            home=self.home,
            database_url=self.url,
            audit_checkpoints=self.checkpoints,
            **overrides,
        )

    def open(self, **overrides: Any) -> AuditStore:
        """``open_store`` as the service does at start-up (a restart, when called again)."""
        store = open_store(self.settings(**overrides))
        self.stores.append(store)
        return store

    def close_all(self) -> None:
        for store in self.stores:
            store.close()


def _sqlite(tmp_path: Path) -> Backend:
    home = tmp_path / "home"
    home.mkdir()
    return Backend("sqlite", f"sqlite:///{home / 'audit.db'}", home)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        made = _sqlite(tmp_path)
    else:
        url = request.getfixturevalue("postgres_url")
        _reset(url)  # one server for the session: each test starts from an empty schema
        home = tmp_path / "home"
        home.mkdir()
        made = Backend("postgresql", url, home)
    yield made
    made.close_all()
    if made.name == "postgresql":
        _reset(made.url)


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    made = _sqlite(tmp_path)
    yield made
    made.close_all()


# --- events ----------------------------------------------------------------------------------


def model_event() -> NewEvent:
    body = {"name": "m", "version": "1", "run_id": "run", "contract": "leads@1"}
    return NewEvent(kind="model", actor="candor", subject=MODEL, body=body_text(body))


def score_event(
    store: AuditStore,
    *,
    lead: str = "L1",
    review: tuple[str, ...] = (),
    score: float = 0.4,
    grade: str = "B",
    subject: str | None = None,
) -> NewEvent:
    body = {"model": MODEL, "score": score, "grade": grade, "review": list(review)}
    return NewEvent(
        kind="score",
        actor="crm",
        subject=subject or uuid.uuid4().hex,
        body=body_text(body),
        lead_key=store.lead_key(lead),
    )


def suppression_event(store: AuditStore, *, lead: str = "L2") -> NewEvent:
    body = {"model": MODEL, "suppressed": "consent withdrawn"}
    return NewEvent(
        kind="suppression",
        actor="crm",
        subject=uuid.uuid4().hex,
        body=body_text(body),
        lead_key=store.lead_key(lead),
    )


def fill(store: AuditStore, groups: tuple[int, ...] = GROUPS) -> None:
    """The model event, then scores, one append (one signed head) per group."""
    first = True
    for size in groups:
        events = [model_event()] if first else []
        first = False
        events += [score_event(store, lead=f"L{i % 7}") for i in range(size - len(events))]
        store.append(events)


# --- what an insider does -----------------------------------------------------------------------


def sql(store: AuditStore, statement: str, params: dict[str, Any] | None = None) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params or {})


def read_events(store: AuditStore) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(text("SELECT * FROM audit_events ORDER BY seq")).mappings()
        ]


def set_body(store: AuditStore, seq: int, body: dict[str, Any]) -> None:
    canonical = body_text(body)
    if store.engine.dialect.name == "postgresql":
        sql(
            store,
            "UPDATE audit_events SET body = CAST(:b AS jsonb) WHERE seq = :s",
            {"b": canonical, "s": seq},
        )
    else:
        sql(store, "UPDATE audit_events SET body = :b WHERE seq = :s", {"b": canonical, "s": seq})


def as_stored(row: dict[str, Any]) -> StoredEvent:
    """An event row as the attacker reads it, in the form that is hashed (no key needed)."""
    body = row["body"]
    if not isinstance(body, str):
        body = body_text(body)  # jsonb comes back parsed
    at = row["at"]
    if isinstance(at, datetime):  # timestamptz comes back as a datetime
        at = at.astimezone(UTC).isoformat(timespec="microseconds")
    return StoredEvent(
        int(row["seq"]),
        row["kind"],
        at,
        row["actor"],
        row["subject"],
        row["lead_key"],
        body,
        row["sealed"],
        None if row["payload"] is None else bytes(row["payload"]),
    )


def recomputed_hashes(store: AuditStore) -> list[bytes]:
    return [leaf_hash(as_stored(r).leaf()) for r in read_events(store)]


def fix_writer(store: AuditStore, hashes: list[bytes]) -> None:
    """Make the writer row agree with the events now in the table."""
    frontier = Frontier.of(hashes)
    sql(
        store,
        "UPDATE audit_writer SET tree_size = :n, frontier = :f WHERE id = 1",
        {"n": frontier.size, "f": json.dumps(frontier.to_hex())},
    )


def head_sizes(store: AuditStore) -> list[int]:
    with store.engine.connect() as conn:
        return [
            int(r[0])
            for r in conn.execute(text("SELECT tree_size FROM audit_tree_heads ORDER BY 1"))
        ]


def count(store: AuditStore, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# --- 1-6: the log itself ---------------------------------------------------------------------


def test_an_untouched_log_verifies(backend: Backend) -> None:
    store = backend.open()
    fill(store)
    assert head_sizes(store) == [1, 31, 71, 100, 140, 150]
    report = store.verify()
    assert report.ok, report.problems
    assert report.events == N and report.first is None
    assert backend.open().verify().ok


def test_a_changed_score_is_reported_at_its_event(backend: Backend) -> None:
    store = backend.open()
    fill(store)
    body = json.loads(as_stored(read_events(store)[99]).body)
    assert "grade" not in body  # sealed: the insider cannot even read it
    # what is in the clear can be changed: the review codes (a flag hidden from the queue)
    set_body(store, 100, {**body, "review": ["low_confidence"]})
    for report in (store.verify(), backend.open().verify()):
        assert not report.ok
        assert report.first is not None
        assert report.first.position == 100, report.problems
        assert report.first.kind == "altered"


def test_a_changed_score_with_recomputed_roots_and_writer_row_is_still_caught(
    backend: Backend,
) -> None:
    store = backend.open()
    fill(store)
    body = json.loads(as_stored(read_events(store)[99]).body)
    set_body(store, 100, {**body, "review": ["low_confidence"]})
    # everything the attacker can recompute without the keys: every root, the writer row
    hashes = recomputed_hashes(store)
    for size in head_sizes(store):
        sql(
            store,
            "UPDATE audit_tree_heads SET root = :r WHERE tree_size = :n",
            {"r": Frontier.of(hashes[:size]).root(), "n": size},
        )
    fix_writer(store, hashes)
    for report in (store.verify(), backend.open().verify()):
        assert not report.ok
        assert report.first is not None and report.first.position == 100, report.problems
        assert report.first.kind == "altered"
        forged = sorted(p.position for p in report.problems if p.kind == "forged")
        assert forged == [100, 140, 150]  # the heads whose root changed lost their signature


def test_a_deleted_event_with_the_rest_renumbered_is_reported(backend: Backend) -> None:
    store = backend.open()
    fill(store)
    sql(store, "DELETE FROM audit_events WHERE seq = 75")
    # two steps, so that no statement meets the primary key of a row not yet moved
    sql(store, "UPDATE audit_events SET seq = -(seq - 1) WHERE seq > 75")
    sql(store, "UPDATE audit_events SET seq = -seq WHERE seq < 0")
    assert count(store, "audit_events") == N - 1
    fix_writer(store, recomputed_hashes(store))
    for report in (store.verify(), backend.open().verify()):
        assert not report.ok
        assert report.first is not None and report.first.position == 75, report.problems


def test_a_forged_event_appended_outside_the_service_is_reported(backend: Backend) -> None:
    store = backend.open()
    fill(store)
    last = read_events(store)[-1]
    forged = {**last, "seq": N + 1, "subject": uuid.uuid4().hex}
    if store.engine.dialect.name == "postgresql":
        forged["body"] = as_stored(last).body
        values = "(:seq, :kind, :at, :actor, :subject, :lead_key, CAST(:body AS jsonb), :mac)"
    else:
        values = "(:seq, :kind, :at, :actor, :subject, :lead_key, :body, :mac)"
    sql(
        store,
        f"INSERT INTO audit_events (seq, kind, at, actor, subject, lead_key, body, mac) "
        f"VALUES {values}",
        forged,
    )
    fix_writer(store, recomputed_hashes(store))
    for report in (store.verify(), backend.open().verify()):
        assert not report.ok
        assert report.first is not None and report.first.position == N + 1, report.problems
        assert report.first.kind in {"altered", "inserted"}


def test_a_cut_tail_made_self_consistent_is_caught_by_the_checkpoint_file(
    backend: Backend,
) -> None:
    store = backend.open()
    fill(store)
    cut = N - 10  # a signed head covers exactly this size: the shorter log is self-consistent
    sql(store, "DELETE FROM audit_events WHERE seq > :n", {"n": cut})
    sql(store, "DELETE FROM audit_tree_heads WHERE tree_size > :n", {"n": cut})
    fix_writer(store, recomputed_hashes(store))
    assert head_sizes(store)[-1] == cut
    restarted = backend.open()
    for report in (store.verify(), restarted.verify()):
        assert not report.ok
        assert report.first is not None and report.first.position == N - 9, report.problems
        assert report.first.kind == "deleted"
    assert restarted.problem is not None  # /healthz says so from the start
    # without the file outside the database, the shorter log would have passed
    backend.checkpoints.unlink()
    assert backend.open().verify().ok


def test_restoring_an_older_copy_of_the_sqlite_file_is_caught(sqlite_backend: Backend) -> None:
    """SQLite only: the database is one file an insider can replace."""
    store = sqlite_backend.open()
    fill(store, (1, 30, 20))
    yesterday = sqlite_backend.home / "yesterday.db"
    with sqlite3.connect(sqlite_backend.db_file) as raw:
        raw.execute("VACUUM INTO ?", (str(yesterday),))
    raw.close()
    fill_more = [score_event(store) for _ in range(15)]
    store.append(fill_more[:5])
    store.append(fill_more[5:])
    assert store.verify().ok
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{sqlite_backend.db_file}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(yesterday, sqlite_backend.db_file)
    restarted = sqlite_backend.open()
    report = restarted.verify()
    assert not report.ok
    assert report.first is not None and report.first.position == 52, report.problems
    assert report.first.kind == "deleted"
    assert restarted.problem is not None


# --- 7: projections ---------------------------------------------------------------------------


class Scene:
    """A small log with one of everything the projections hold."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store
        store.append([model_event()])
        self.flagged = score_event(store, lead="L1", review=("random_audit",))
        store.append([self.flagged, score_event(store, lead="L2")])
        store.add_decision(
            score_id=self.flagged.subject,
            decision="confirm",
            grade=None,
            comment="looked fine",
            decided_by="rev",
        )
        store.add_outcome(lead_id="L1", converted=True, observed_at="2026-01-05", recorded_by="rev")
        store.record_touches(["L1", "L2"], plan_id="plan1", requested_by="planner")
        self.live_secret = store.create_key(name="live", role="scorer")
        self.revoked_secret = store.create_key(name="old", role="admin")
        store.revoke_key("old")
        assert store.authenticate(self.live_secret) is not None
        assert store.authenticate(self.revoked_secret) is None
        assert store.verify().ok

    def seq_of(self, kind: str, subject: str | None = None) -> int:
        query = "SELECT min(seq) FROM audit_events WHERE kind = :k"
        if subject is not None:
            query += " AND subject = :s"
        with self.store.engine.connect() as conn:
            return int(conn.execute(text(query), {"k": kind, "s": subject}).scalar_one())


def _problem_kinds_at(report: Any, position: int) -> set[str]:
    return {p.kind for p in report.problems if p.position == position}


@pytest.mark.parametrize(
    ("attack", "kind", "event"),
    [
        (
            "UPDATE projected_decisions SET decision = 'override', grade = 'A'",
            "unbacked",
            "decision",
        ),
        ("DELETE FROM projected_decisions", "missing", "decision"),
        ("UPDATE projected_outcomes SET converted = NOT converted", "unbacked", "outcome"),
        ("DELETE FROM projected_review_reasons", "missing", "score"),
        ("DELETE FROM projected_touches", "missing", "touches"),
    ],
    ids=["decision-edited", "decision-deleted", "outcome-flipped", "reasons-deleted", "touches"],
)
def test_an_edited_projection_is_reported(
    backend: Backend, attack: str, kind: str, event: str
) -> None:
    store = backend.open()
    scene = Scene(store)
    position = scene.seq_of(event, scene.flagged.subject if event == "score" else None)
    queue_before, _ = store.review_queue(
        status="decided", reason="random_audit", limit=10, cursor=None
    )
    assert [r["score_id"] for r in queue_before] == [scene.flagged.subject]
    sql(store, attack)
    if event == "score":  # the flagged record has left the queue of its reason
        queue, _ = store.review_queue(
            status="decided", reason="random_audit", limit=10, cursor=None
        )
        assert queue == []
    for report in (store.verify(), backend.open().verify()):
        assert not report.ok
        assert kind in _problem_kinds_at(report, position), report.problems


def test_an_admin_key_inserted_into_the_projection_never_authenticates(backend: Backend) -> None:
    store = backend.open()
    Scene(store)
    secret = "cnd_" + "x" * 43
    sql(
        store,
        "INSERT INTO projected_api_keys (name, role, secret_hash, created_seq, created_at) "
        "VALUES ('mallory', 'admin', :h, 3, '2026-01-01T00:00:00.000000+00:00')",
        {"h": hash_api_secret(secret)},
    )
    assert "mallory" in [k["name"] for k in store.list_keys()]  # the API's list shows it...
    report = store.verify()
    assert not report.ok and "unbacked" in _problem_kinds_at(report, 3), report.problems
    assert store.authenticate(secret) is None  # ...but authentication trusts only the log
    restarted = backend.open()
    assert not restarted.verify().ok
    assert restarted.authenticate(secret) is None


def test_a_revocation_cleared_in_the_projection_is_still_in_force(backend: Backend) -> None:
    store = backend.open()
    scene = Scene(store)
    sql(
        store,
        "UPDATE projected_api_keys SET revoked_seq = NULL, revoked_at = NULL WHERE name = 'old'",
    )
    created = scene.seq_of("key_created", "old")
    report = store.verify()
    assert not report.ok and "unbacked" in _problem_kinds_at(report, created), report.problems
    assert store.authenticate(scene.revoked_secret) is None
    restarted = backend.open()
    assert not restarted.verify().ok
    assert restarted.authenticate(scene.revoked_secret) is None
    live = restarted.authenticate(scene.live_secret)
    assert live is not None and (live.name, live.role) == ("live", "scorer")


# --- 8: any byte of the log ----------------------------------------------------------------------

COLUMNS = ("seq", "kind", "at", "actor", "subject", "lead_key", "body", "mac")
EXAMPLES = 60


def _changed(value: Any, rng: random.Random) -> tuple[Any, str] | None:
    """One byte (or one digit) of a stored value changed; None: no byte to change."""
    if value is None:
        return None
    if isinstance(value, int):
        digits = list(str(value))
        i = rng.randrange(len(digits))
        digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
        return int("".join(digits)), f"digit {i}"
    raw = bytearray(value if isinstance(value, bytes) else value.encode("utf-8"))
    if not raw:
        return None
    i = rng.randrange(len(raw))
    if isinstance(value, bytes):
        raw[i] ^= rng.randrange(1, 256)
        return bytes(raw), f"byte {i}"
    raw[i] = rng.choice([b for b in range(256) if b != raw[i]])
    try:
        return bytes(raw).decode("utf-8"), f"byte {i} (text)"
    except UnicodeDecodeError:
        return bytes(raw), f"byte {i} (blob)"


def test_any_single_byte_changed_in_the_sqlite_log_is_detected(sqlite_backend: Backend) -> None:
    """SQLite only: the raw values of every cell are read and written with sqlite3 itself."""
    store = sqlite_backend.open()
    Scene(store)
    store.append([suppression_event(store), score_event(store, lead="L3")])
    store.close()  # the last connection folds the WAL into the file
    db = sqlite_backend.db_file
    pristine = sqlite_backend.home / "pristine.db"
    shutil.copyfile(db, pristine)
    with sqlite3.connect(db) as raw:
        rows = raw.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_events ORDER BY seq").fetchall()
    raw.close()
    seqs = {r[0] for r in rows}
    rng = random.Random(20260105)
    tried = 0
    missed: list[str] = []
    while tried < EXAMPLES:
        row = rng.choice(rows)
        column = rng.randrange(len(COLUMNS))
        change = _changed(row[column], rng)
        if change is None or (COLUMNS[column] == "seq" and change[0] in seqs):
            continue  # nothing to change, or a seq the primary key would refuse
        value, where = change
        tried += 1
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(pristine, db)
        with sqlite3.connect(db) as raw:
            raw.execute(
                f"UPDATE audit_events SET {COLUMNS[column]} = ? WHERE seq = ?", (value, row[0])
            )
        raw.close()
        try:
            report = store.verify()
        except Exception as exc:  # a crash is not a report: the operator learns nothing
            missed.append(f"seq {row[0]} {COLUMNS[column]} {where}: verify raised {exc!r}")
        else:
            if report.ok:
                missed.append(f"seq {row[0]} {COLUMNS[column]} {where}: not detected")
        finally:
            store.engines.dispose()  # no connection keeps the file open across the copy
    assert not missed, "\n".join(missed)


# --- 9-10: locking --------------------------------------------------------------------------------


def _in_thread(work: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Run ``work`` in a thread; its result, or the exception it raised."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the call waited for the writer"
    if "error" in box:
        return box["error"]
    return box["result"]


def _write_lock(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None, timeout=10, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_reads_never_wait_for_a_writer_and_writes_time_out(sqlite_backend: Backend) -> None:
    store = sqlite_backend.open(audit_write_timeout=0.3)
    store.append([model_event()])
    flagged = score_event(store, review=("low_confidence",))
    suppressed = suppression_event(store)
    store.append([flagged, suppressed])
    secret = store.create_key(name="crm", role="scorer")
    assert store.problem is None
    lock = _write_lock(sqlite_backend.db_file)
    try:
        queue = _in_thread(
            lambda: store.review_queue(status="pending", reason=None, limit=10, cursor=None)
        )
        assert not isinstance(queue, BaseException), queue
        assert [r["score_id"] for r in queue[0]] == [flagged.subject]
        caller = _in_thread(lambda: store.authenticate(secret))
        assert caller is not None and not isinstance(caller, BaseException), caller
        assert caller.name == "crm"
        # a read of a person's record is logged before it is returned: it must be refused
        refused = _in_thread(lambda: store.get_record(suppressed.subject, reader="rev"))
        assert isinstance(refused, AuditUnavailableError), refused
        with pytest.raises(AuditUnavailableError):
            store.append([score_event(store)])
        assert store.problem is not None
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    store.append([score_event(store)])
    assert store.problem is None
    record = store.get_record(suppressed.subject, reader="rev")
    assert record["score_id"] == suppressed.subject
    assert [a["read_by"] for a in store.access_log(suppressed.subject)] == ["rev"]
    assert store.verify().ok


def test_concurrent_appends_share_a_commit(sqlite_backend: Backend) -> None:
    store = sqlite_backend.open(audit_write_timeout=20)
    store.append([model_event()])
    heads_before = count(store, "audit_tree_heads")
    events_before = count(store, "audit_events")
    lock = _write_lock(sqlite_backend.db_file)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            store.append([score_event(store)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(5)]
    try:
        for t in threads:
            t.start()
        time.sleep(0.5)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    assert count(store, "audit_events") == events_before + 5
    grew = count(store, "audit_tree_heads") - heads_before
    assert 1 <= grew < 5
    assert store.verify().ok


# --- 11: an inclusion proof anyone can check -------------------------------------------------


def _rfc9162_root(leaf_hash_: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """RFC 9162 section 2.1.3.2, as written there; None where the proof is malformed."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf_hash_
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def check_proof(proof: dict[str, Any], public_key_pem: str) -> bool:
    """What a regulator does with a proof and the public key, and nothing of Candor's."""
    head = proof["tree_head"]
    key = serialization.load_pem_public_key(public_key_pem.encode())
    message = b"\n".join(
        [
            b"candor-audit-tree-head/v1",
            str(head["tree_size"]).encode(),
            head["root"].encode(),
            head["signed_at"].encode(),
        ]
    )
    try:
        key.verify(base64.b64decode(head["signature"]), message)  # type: ignore[union-attr,call-arg]
    except InvalidSignature:
        return False
    hashed = hashlib.sha256(b"\x00" + proof["leaf"].encode("utf-8", "surrogateescape")).digest()
    path = [bytes.fromhex(h) for h in proof["inclusion_path"]]
    root = _rfc9162_root(hashed, proof["leaf_index"], head["tree_size"], path)
    return root is not None and root.hex() == head["root"]


def test_an_inclusion_proof_checks_with_the_public_key_alone(backend: Backend) -> None:
    store = backend.open()
    fill(store, (1, 6, 5))
    target = score_event(store, score=0.73, grade="A")
    store.append([score_event(store), target, score_event(store)])
    fill_after = [score_event(store) for _ in range(4)]
    store.append(fill_after)
    proof = store.prove(target.subject).to_dict()
    pem = store.public_key()
    assert proof["public_key"] == pem
    assert proof["leaf_index"] == 13 and proof["tree_head"]["tree_size"] == 19
    envelope, body, sealed = proof["leaf"].split("\n")
    assert json.loads(envelope)["subject"] == target.subject
    # the leaf commits to the sealed payload by its digest and never holds the score itself
    assert "score" not in json.loads(body) and "0.73" not in proof["leaf"]
    assert len(sealed) == 64 and int(sealed, 16) >= 0
    assert check_proof(proof, pem)
    lines = [json.loads(line) for line in backend.checkpoints.read_text().splitlines()]
    assert proof["tree_head"] in lines  # the head was published outside the database
    # a tampered leaf, a wrong index or another key fail the same check
    flipped = sealed[:-1] + ("0" if sealed[-1] != "0" else "1")
    assert not check_proof({**proof, "leaf": proof["leaf"].replace(sealed, flipped)}, pem)
    assert not check_proof({**proof, "leaf_index": 12}, pem)
    other = backend.home / "other"
    other.mkdir()
    stranger = Settings(home=other, database_url="sqlite://", audit_checkpoints=other / "c.log")
    assert not check_proof(proof, public_key_pem(signing_key(stranger).public_key()))
    # every record of the log proves under the same head
    for row in read_events(store):
        if row["kind"] == "score":
            assert check_proof(store.prove(row["subject"]).to_dict(), pem)


# --- 12: importing the hash-chained schema ----------------------------------------------------


def _upgrade_to(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_a_database_of_the_hash_chained_schema_is_imported(sqlite_backend: Backend) -> None:
    """SQLite only: the old schema (revisions 0001-0002) as a deployment left it."""
    settings = sqlite_backend.settings()
    key = pseudonymisation_key(settings)
    engine = create_engine(sqlite_backend.url)
    _upgrade_to(engine, "0002")
    assert "audit_records" in inspect(engine).get_table_names()
    records = []
    previous = chain.GENESIS
    specs = [
        ("L1", "score", 0.81, "A", ("random_audit",), {"features": {"specialty": "Oncology"}}),
        ("L2", "score", 0.22, "C", (), {"features": {"specialty": "Cardiology"}}),
        ("L3", "suppression", None, None, (), {"suppressed": "consent"}),
    ]
    for seq, (lead, kind, score, grade, reasons, payload) in enumerate(specs, start=1):
        row: dict[str, Any] = {
            "seq": seq,
            "score_id": uuid.uuid4().hex,
            "kind": kind,
            "created_at": f"2025-06-0{seq}T10:00:00.000000+00:00",
            "model_name": "candor-lead-scorer",
            "model_version": "3",
            "run_id": "oldrun",
            "contract": "hcp-leads@1+abc",
            "lead_key": lead_key(key, lead),
            "requested_by": "crm",
            "score": score,
            "grade": grade,
            "review_required": bool(reasons),
            "review_reasons": ",".join(reasons),
            "payload": chain.canonical_json(payload),
            "prev_hash": previous,
        }
        row["record_hash"] = chain.record_hash(previous, row)
        previous = row["record_hash"]
        records.append(row)
    secret = "cnd_old_" + "s" * 40
    with engine.begin() as conn:
        columns = list(records[0])
        conn.execute(
            text(
                f"INSERT INTO audit_records ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + c for c in columns)})"
            ),
            records,
        )
        conn.execute(
            text("INSERT INTO audit_review_reasons (seq, code) VALUES (1, 'random_audit')")
        )
        conn.execute(
            text("UPDATE chain_head SET last_seq = :s, last_hash = :h WHERE id = 1"),
            {"s": len(records), "h": previous},
        )
        conn.execute(
            text(
                "INSERT INTO decisions (score_id, decision, grade, comment, decided_by, "
                "decided_at) VALUES (:s, 'override', 'B', 'knew the account', 'rev', "
                "'2025-06-05T09:00:00.000000+00:00')"
            ),
            {"s": records[0]["score_id"]},
        )
        conn.execute(
            text(
                "INSERT INTO outcomes (lead_key, converted, observed_at, recorded_by, "
                "recorded_at) VALUES (:k, 1, '2025-07-01', 'ops', "
                "'2025-07-02T09:00:00.000000+00:00')"
            ),
            {"k": records[0]["lead_key"]},
        )
        conn.execute(
            text(
                "INSERT INTO api_keys (name, role, secret_hash, created_at) "
                "VALUES ('old-crm', 'scorer', :h, '2025-05-01T00:00:00.000000+00:00')"
            ),
            {"h": hash_api_secret(secret)},
        )
    engine.dispose()

    store = sqlite_backend.open()
    report = store.verify()
    assert report.ok, report.problems
    left = set(inspect(store.engine).get_table_names())
    assert not left & {"audit_records", "chain_head", "decisions", "outcomes", "api_keys"}
    assert not left & {"call_plan_touches", "audit_review_reasons"}
    with store.engine.connect() as conn:
        header = conn.execute(
            text("SELECT body FROM audit_events WHERE kind = 'legacy_import'")
        ).scalar_one()
    assert json.loads(header)["hash_chain"] == "intact"
    assert json.loads(header)["records"] == 3
    caller = store.authenticate(secret)
    assert caller is not None and (caller.name, caller.role) == ("old-crm", "scorer")
    old = store.get_record(records[0]["score_id"], reader="rev")
    assert old["payload"] == {"features": {"specialty": "Oncology"}}
    assert old["score"] == 0.81 and old["grade"] == "A"
    assert old["created_at"] == records[0]["created_at"]
    assert [(d["decision"], d["grade"], d["decided_by"]) for d in old["decisions"]] == [
        ("override", "B", "rev")
    ]
    assert [(o["converted"], o["observed_at"]) for o in old["outcomes"]] == [(True, "2025-07-01")]
    decided, _ = store.review_queue(status="decided", reason="random_audit", limit=10, cursor=None)
    assert [r["score_id"] for r in decided] == [records[0]["score_id"]]
    # the imported lead's history: its old score as it was kept (score, grade, review codes)
    with serve(settings, role="reviewer") as api:
        history = api.get("/v1/leads/L1/scores")
        assert history.status_code == 200, history.text
        (item,) = history.json()["scores"]
        assert (item["score"], item["grade"], item["final_grade"]) == (0.81, "A", "B")
        assert item["interval"] is None and item["review"]["reasons"] == ["random_audit"]
        lonely = api.get("/v1/leads/L1/changes")
        assert lonely.status_code == 422, lonely.text
    # opened again, nothing is imported twice and the log still verifies
    again = sqlite_backend.open()
    assert again.verify().ok
    assert again.count() == 3
    assert again.authenticate(secret) is not None


@pytest.mark.parametrize("column", ["lead_key", "body", "actor"])
def test_a_cell_rewritten_as_a_blob_is_reported_not_a_crash(
    sqlite_backend: Backend, column: str
) -> None:
    """SQLite only: SQLite keeps whatever type is written, so a text cell can become a BLOB
    with the same bytes (then ``lead_key = ?`` no longer finds the lead's records).

    ``verify`` must report that event, and the service must still open (loudly), rather than
    fail with a TypeError that names no event, or pass the event as untouched.
    """
    store = sqlite_backend.open()
    fill(store, (1, 5, 5))
    store.close()
    with sqlite3.connect(sqlite_backend.db_file) as raw:
        raw.execute(f"UPDATE audit_events SET {column} = CAST({column} AS BLOB) WHERE seq = 4")
        stored_as = raw.execute(f"SELECT typeof({column}) FROM audit_events WHERE seq = 4")
        assert stored_as.fetchone() == ("blob",)
    raw.close()
    restarted = sqlite_backend.open()  # the key view walks the log when the store opens
    report = restarted.verify()
    assert not report.ok
    assert report.first is not None and report.first.position == 4, report.problems
    assert restarted.problem is not None

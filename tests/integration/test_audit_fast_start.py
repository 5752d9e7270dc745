"""A service whose log holds millions of batch scores starts from its last verified key view,
and still finds a rewritten event, in the background."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from candor.models.settings import Settings
from candor.serving.audit.factory import open_store
from candor.serving.audit.key_snapshot import snapshot_path


@pytest.fixture()
def fast(trained_settings: Settings, tmp_path: Path) -> Settings:
    """An audit database of this test's own, with every verified view reused at start."""
    return trained_settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'audit.db'}",
            "audit_checkpoints": tmp_path / "checkpoints.log",
            "audit_fast_start_events": 0,
        }
    )


def _wait_for_problem(store, seconds: float = 20.0) -> str | None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if store.problem is not None:
            return str(store.problem)
        time.sleep(0.05)
    return None


def test_keys_come_back_from_the_snapshot_and_new_ones_are_verified(fast: Settings) -> None:
    store = open_store(fast)
    first = store.create_key(name="reviewer-1", role="reviewer")
    store.close()
    assert snapshot_path(fast.checkpoint_path).exists()

    store = open_store(fast)
    try:
        caller = store.authenticate(first)
        assert caller is not None and caller.role == "reviewer"
        second = store.create_key(name="admin-1", role="admin")
        store.revoke_key("reviewer-1")
        assert store.authenticate(first) is None
        assert store.authenticate(second) is not None
        assert _wait_for_problem(store, seconds=1.0) is None  # the background check passed
    finally:
        store.close()


def test_a_rewritten_old_event_is_found_in_the_background(fast: Settings) -> None:
    store = open_store(fast)
    secret = store.create_key(name="scorer-1", role="scorer")
    store.create_key(name="scorer-2", role="scorer")
    with store.engine.begin() as conn:  # an insider changes who created the first key
        conn.execute(text("UPDATE audit_events SET actor = 'someone' WHERE seq = 1"))
    store.close()

    store = open_store(fast)
    try:
        # the keys verified before the change are still trusted; the change is reported
        assert store.authenticate(secret) is not None
        problem = _wait_for_problem(store)
        assert problem is not None and "event 1 (altered)" in problem
    finally:
        store.close()


def test_a_forged_snapshot_is_ignored(fast: Settings) -> None:
    store = open_store(fast)
    store.create_key(name="scorer-1", role="scorer")
    store.close()
    path = snapshot_path(fast.checkpoint_path)
    forged = json.loads(path.read_text())
    forged["state"]["callers"]["0" * 64] = ["intruder", "admin"]
    path.write_text(json.dumps(forged))

    store = open_store(fast)
    try:
        assert store.keys.caller("0" * 64) is None  # the whole log was read instead
        assert store.keys.size > 0
    finally:
        store.close()

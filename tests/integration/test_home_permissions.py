"""CANDOR_HOME is its owner's alone, and `candor audit verify` never makes up a missing key.

Every file Candor creates under the home is mode 0600 and every folder 0700: the audit
database (and its -wal and -shm), the MLflow store and artifacts, the keys, the checkpoint file.
The shared trained home is only ever read here: each test that changes a home works on a copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from candor.models.settings import Settings
from candor.serving.audit.factory import open_store
from candor.serving.audit.secrets import KEY_FILE
from candor.serving.audit.signing import SIGNING_KEY_FILE

CANDOR = Path(sys.executable).parent / "candor"
PERMISSIVE_UMASK = 0o022  # the usual default: what a file would get without Candor's care


def candor(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The `candor` command on ``home``, started with a permissive umask and no other
    CANDOR_ or MLflow setting from this environment."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CANDOR_", "MLFLOW_"))
    }
    env["CANDOR_HOME"] = str(home)
    return subprocess.run(
        [str(CANDOR), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        umask=PERMISSIVE_UMASK,
    )


def too_open(home: Path) -> list[str]:
    """Every path under ``home`` (itself included) that its group or others may use."""
    paths = [home, *home.rglob("*")]
    return [
        f"{path.relative_to(home)} {path.stat().st_mode & 0o777:o}"
        for path in paths
        if path.stat().st_mode & 0o077
    ]


def names(home: Path) -> set[str]:
    return {str(path.relative_to(home)) for path in home.rglob("*")}


@pytest.fixture()
def home_copy(trained_home: Path, tmp_path: Path) -> Path:
    """A copy of the session's trained home (modes kept) that a test may change."""
    copy = tmp_path / "home"
    shutil.copytree(trained_home, copy)
    return copy


def test_a_home_made_by_the_command_is_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "fresh"

    run = candor(home, "keys", "create", "--name", "crm", "--role", "scorer")

    assert run.returncode == 0, run.stderr
    made = names(home)
    assert {"audit.db", KEY_FILE, SIGNING_KEY_FILE, "audit-checkpoints.log"} <= made, made
    assert too_open(home) == []


def test_opening_the_store_in_process_makes_owner_only_files(tmp_path: Path) -> None:
    """Without the command's umask (a server started by uvicorn, a notebook, these tests)."""
    home = tmp_path / "fresh"
    previous = os.umask(PERMISSIVE_UMASK)
    try:
        store = open_store(Settings(home=home))  # type: ignore[call-arg]
        store.create_key(name="crm", role="scorer")  # events: the -wal, a checkpoint
        store.close()
    finally:
        os.umask(previous)

    assert {"audit.db", KEY_FILE, SIGNING_KEY_FILE, "audit-checkpoints.log"} <= names(home)
    assert too_open(home) == []


def test_an_older_home_is_tightened_when_opened(tmp_path: Path) -> None:
    """A database made before files were owner-only (0644) loses group and other access."""
    home = tmp_path / "older"
    open_store(Settings(home=home)).close()  # type: ignore[call-arg]
    (home / "audit.db").chmod(0o644)

    open_store(Settings(home=home)).close()  # type: ignore[call-arg]

    assert (home / "audit.db").stat().st_mode & 0o777 == 0o600


def test_a_trained_home_is_owner_only(home_copy: Path) -> None:
    """Training (MLflow's store and artifacts), serving and the audit store left it so."""
    assert "mlflow.db" in names(home_copy)
    assert any(name.startswith("mlartifacts/") for name in names(home_copy))

    run = candor(home_copy, "keys", "list")

    assert run.returncode == 0, run.stderr
    assert too_open(home_copy) == []


@pytest.mark.parametrize(
    ("missing", "which"),
    [(KEY_FILE, "pseudonymisation"), (SIGNING_KEY_FILE, "signing")],
)
def test_audit_verify_without_its_key_fails_and_creates_none(
    home_copy: Path, missing: str, which: str
) -> None:
    assert candor(home_copy, "keys", "create", "--name", "crm", "--role", "scorer").returncode == 0
    assert candor(home_copy, "audit", "verify").returncode == 0  # with the key, it checks out
    (home_copy / missing).unlink()
    before = names(home_copy)

    run = candor(home_copy, "audit", "verify")

    assert run.returncode != 0
    assert "audit_key_missing" in run.stderr
    assert f"audit {which} key is missing" in run.stderr
    assert str(home_copy / missing) in run.stderr
    assert not (home_copy / missing).exists()
    assert names(home_copy) == before  # nothing was created, not even a database

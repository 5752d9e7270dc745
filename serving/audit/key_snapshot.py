"""Where the trusted key view of one process is kept for the next one to start from.

Building the view reads and verifies the whole log, which a nightly batch of a million scores
makes slow to start. A process that verified the log writes what it reached (the tree size,
its frontier, the keys it trusts) to a file beside the checkpoint file, under an HMAC with the
pseudonymisation key, so that the file is only taken as written by Candor. The next process
checks it against the database's signed tree head of that size and verifies only the events
after it; a file that fails any check is ignored (the whole log is read, as before).
"""

from __future__ import annotations

import hmac
import json
import os
from pathlib import Path
from typing import Any

from candor.serving.audit.canonical import canonical_bytes


def snapshot_path(checkpoint_path: Path) -> Path:
    return checkpoint_path.with_name(checkpoint_path.stem + ".keys.json")


def _mac(key: bytes, state: dict[str, Any]) -> str:
    return hmac.digest(key, b"candor-key-view/v1\n" + canonical_bytes(state), "sha256").hex()


def write_snapshot(path: Path, state: dict[str, Any], key: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"state": state, "mac": _mac(key, state)}, f)
    tmp.replace(path)


def read_snapshot(path: Path, key: bytes) -> dict[str, Any] | None:
    """The state in ``path`` if it is there, readable and written under ``key``; else None."""
    try:
        raw = json.loads(path.read_text())
        state, mac = raw["state"], raw["mac"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(state, dict) or not hmac.compare_digest(str(mac), _mac(key, state)):
        return None
    return state

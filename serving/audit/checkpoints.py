"""The checkpoint file: signed tree heads appended outside the database, one JSON per line.

An operator ships it to another machine (``tail -F`` into a log collector, or a copy after
each batch). ``candor audit verify`` checks the database against every head in it, so that a
truncated log or a restored older copy of the database is caught: the database no longer
reaches a size, or a root, that was signed before.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from candor.serving.audit.signing import TreeHead


@dataclass(frozen=True)
class Checkpoint:
    line: int  # 1-based line number in the file
    head: TreeHead | None  # None: the line is not a tree head
    error: str = ""


def append_checkpoint(path: Path, head: TreeHead) -> None:
    """Append one head; O_APPEND keeps concurrent writers' lines whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(head.to_dict(), sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_checkpoints(path: Path) -> list[Checkpoint]:
    if not path.exists():
        return []
    out = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                out.append(Checkpoint(number, TreeHead.from_dict(json.loads(raw))))
            except (ValueError, KeyError, TypeError) as exc:
                out.append(Checkpoint(number, None, f"{type(exc).__name__}: {exc}"))
    return out


def read_last_checkpoint(path: Path, *, tail_bytes: int = 65536) -> TreeHead | None:
    """The newest head in the file (the largest size among its last lines), cheaply."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        handle.seek(max(end - tail_bytes, 0))
        lines = handle.read().splitlines()
    heads = []
    for raw in lines[1:] if end > tail_bytes else lines:
        try:
            heads.append(TreeHead.from_dict(json.loads(raw)))
        except (ValueError, KeyError, TypeError):
            continue
    return max(heads, key=lambda h: h.tree_size) if heads else None

"""The sha256 of a training file, tagged on every run so that a model names its exact data."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_fingerprint(path: Path) -> str:
    """sha256 of the file's bytes, as hex (read in 1 MiB blocks: exports can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

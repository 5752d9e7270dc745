"""`candor models history` and `candor models rollback`: the champion alias's moves."""

from __future__ import annotations

from typing import Any


def register(models: Any) -> None:
    """Add `history` and `rollback` to the `models` subparsers ``models``."""

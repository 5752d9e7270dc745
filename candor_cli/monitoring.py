"""`candor monitor ...`: drift of the audited scores against the champion's training reference."""

from __future__ import annotations

from typing import Any


def register(commands: Any) -> None:
    """Add the `monitor` command group to the top-level subparsers ``commands``."""

"""Who runs a command, for the audit log when ``--by`` is not given."""

from __future__ import annotations

import getpass


def os_user() -> str:
    """The login name, or "unknown" in a bare container that has none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"

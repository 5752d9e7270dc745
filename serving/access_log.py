"""The access log names no lead: a lead id in a path (/v1/leads/{lead_id}/scores) is replaced
by ``{lead_id}`` before uvicorn writes the line, as the audit log keeps only its keyed hash."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_LEAD_PATH = re.compile(r"^(/v1/leads/)(.+?)(/(?:scores|changes)(?:\?.*)?)$")


def redact_path(path: str) -> str:
    """``path`` with the lead id of a lead's history or change route replaced."""
    return _LEAD_PATH.sub(r"\1{lead_id}\3", path)


class RedactLeadIds(logging.Filter):
    """Rewrites uvicorn's access record (client, method, path, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def install_redaction() -> None:
    """Add the filter to uvicorn's access logger, once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactLeadIds) for f in logger.filters):
        logger.addFilter(RedactLeadIds())

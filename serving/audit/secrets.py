"""Secrets of the audit store: the pseudonymisation key and API-key hashing."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from candor.models.settings import Settings

KEY_FILE = "audit.key"


def pseudonymisation_key(settings: Settings) -> bytes:
    """CANDOR_AUDIT_SECRET, or a random key kept (mode 0600) in CANDOR_HOME on first use."""
    if settings.audit_secret is not None:
        return settings.audit_secret.get_secret_value().encode()
    path = Path(settings.home) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


LEAD_KEY_HEX = 32  # HMAC-SHA256 truncated to 128 bits (RFC 2104 allows half and more)


def lead_key(key: bytes, lead_id: str) -> str:
    """The keyed hash (HMAC-SHA256, 128 bits in hex) that stands for a lead id in the store;
    never the raw id. Truncated: it is stored (and indexed) once per event."""
    return hmac.new(key, str(lead_id).encode(), hashlib.sha256).hexdigest()[:LEAD_KEY_HEX]


def new_api_secret() -> str:
    return "cnd_" + secrets.token_urlsafe(32)


def hash_api_secret(secret: str) -> str:
    # API secrets are 256-bit random tokens: a fast hash is safe and keeps auth per request cheap
    return hashlib.sha256(secret.encode()).hexdigest()

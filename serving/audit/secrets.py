"""Secrets of the audit store: the pseudonymisation key, keys derived from it, API-key hashing.

Files that hold Candor's state are owner-only (:mod:`candor.models.private_files`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from candor.models.errors import SettingsError
from candor.models.private_files import write_new_secret
from candor.models.settings import Settings

KEY_FILE = "audit.key"
MISSING_KEY = "audit_key_missing"


def pseudonymisation_key(settings: Settings, *, create: bool = True) -> bytes:
    """CANDOR_AUDIT_SECRET, or a random key kept (mode 0600) in CANDOR_HOME on first use.

    ``create=False`` (``candor audit verify``) raises :class:`SettingsError` (code
    ``audit_key_missing``) where there is no key: a new one would not be the key the log was
    written under, and every event would then read as altered.
    """
    if settings.audit_secret is not None:
        return settings.audit_secret.get_secret_value().encode()
    path = Path(settings.home) / KEY_FILE
    if not path.exists():
        if not create:
            raise missing_key_error(path, "CANDOR_AUDIT_SECRET", "pseudonymisation")
        write_new_secret(path, secrets.token_hex(32))
    return path.read_text().strip().encode()


def missing_key_error(path: Path, variable: str, what: str) -> SettingsError:
    return SettingsError(
        f"the audit {what} key is missing: {path} does not exist and {variable} is not set; "
        "the log can only be checked with the key it was written under: restore the file "
        f"(or set {variable}); nothing was created",
        code=MISSING_KEY,
    )


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


# --- keys derived for Idempotency-Key records (serving/idempotency.py) ---------------------

IDEMPOTENCY_ROW = b"candor/idempotency/row-id/v1"
IDEMPOTENCY_SEAL = b"candor/idempotency/seal/v1"
IDEMPOTENCY_FINGERPRINT = b"candor/idempotency/fingerprint/v1"


@dataclass(frozen=True)
class IdempotencySecrets:
    """What one (caller, method, path, Idempotency-Key) is stored under.

    ``row_id`` names the row (never the raw key or the caller's token); ``seal_key`` seals its
    answer (AES-256-GCM) and ``fingerprint_key`` hashes its request. Both need the server
    secret and the raw key and Authorization value, which the database does not hold.
    """

    row_id: str
    seal_key: bytes
    fingerprint_key: bytes


def length_prefixed(parts: Sequence[bytes]) -> bytes:
    """The parts in one unambiguous string: each after its length (8 bytes, big-endian)."""
    return b"".join(struct.pack(">Q", len(part)) + part for part in parts)


def _derived(secret: bytes, label: bytes, material: bytes) -> bytes:
    # HKDF gives each use its own key under the one server secret (the pseudonymisation key);
    # the HMAC binds it to this caller's request
    base = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret)
    return hmac.new(base, material, hashlib.sha256).digest()


def idempotency_secrets(
    secret: bytes, *, authorization: bytes, method: str, path: str, key: str
) -> IdempotencySecrets:
    material = length_prefixed([authorization, method.encode(), path.encode(), key.encode()])
    return IdempotencySecrets(
        row_id=_derived(secret, IDEMPOTENCY_ROW, material).hex(),
        seal_key=_derived(secret, IDEMPOTENCY_SEAL, material),
        fingerprint_key=_derived(secret, IDEMPOTENCY_FINGERPRINT, material),
    )

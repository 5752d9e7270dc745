"""Sealed payloads: the part of a score record that is the lead's own data, encrypted under a
data key of that lead alone (crypto-shredding).

A score event is split in two. Its **body** keeps what the record is (the model version and
the review codes the queue is built from); its **payload** holds everything that tells what
the lead's data were: the encoded inputs, every contribution, the margin, the score, interval,
confidence and grade, the review notes, the withheld fields and the unseen category values.
The payload is sealed with AES-256-GCM under the lead's data key; the Merkle leaf hashes the
body and the SHA-256 of the sealed bytes (:func:`candor.serving.audit.events.leaf_bytes`), not
the plaintext, so destroying the key (erasure) or the sealed bytes (retention) leaves a
record that still verifies and can no longer be read.

A lead's data key is HMAC-SHA256(KEK, salt || lead key): the salt (32 random bytes) is the
one row per lead in ``lead_data_keys``; the KEK is derived from the audit secret, which is
not in the database. Deleting the salt destroys the key: no one, including whoever holds the
KEK, can derive it again. The additional data binds each sealed payload to its position and
lead, so a payload moved to another row does not open.

Pure functions: the database side is :mod:`candor.serving.audit.payloads`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from candor.serving.audit import events as ev

KEK_INFO = b"candor/audit/payload-kek/v1"
SALT_BYTES = 32
NONCE_BYTES = 12
DIGEST_HEX = 64

# what a sealed score event keeps in its body (in the clear, hashed as is)
PUBLIC_SCORE_FIELDS = frozenset({"model", "review", "legacy"})

# how a record whose payload can no longer be read is marked when it is read back
UNREADABLE = "unreadable"
REMOVED = "removed"  # the key or the sealed bytes are gone (the log says which: below)
ERASED = "erased"  # the lead's data key was destroyed at its request
PURGED = "purged"  # the sealed bytes were removed (retention)
ALTERED = "altered"  # the sealed bytes no longer open under their key: changed outside Candor
UNREADABLE_TEXT = {
    ERASED: "Erased on {day}",
    PURGED: "Purged on {day}",
    REMOVED: "Removed outside Candor: no erasure or purge accounts for it (run candor audit "
    "verify)",
    ALTERED: "Altered outside Candor: its inputs cannot be shown (run candor audit verify)",
}


def payload_kek(pseudonym_key: bytes) -> bytes:
    """The key-encryption key of every lead's data key, derived from the audit secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEK_INFO).derive(
        pseudonym_key
    )


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def data_key(kek: bytes, salt: bytes, lead_key: str) -> bytes:
    return hmac.digest(kek, bytes(salt) + lead_key.encode(), "sha256")


def _aad(seq: int, lead_key: str) -> bytes:
    return b"candor/audit/payload/v1\n%d\n%s" % (seq, lead_key.encode())


def seal(key: bytes, plaintext: bytes, *, seq: int, lead_key: str) -> bytes:
    """Nonce and AES-256-GCM ciphertext (with its tag) of ``plaintext``."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(seq, lead_key))


def unseal(key: bytes, sealed: bytes, *, seq: int, lead_key: str) -> bytes:
    """The plaintext; raises ``cryptography.exceptions.InvalidTag`` where it was altered."""
    blob = bytes(sealed)
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(seq, lead_key))


def payload_digest(sealed: bytes) -> str:
    """What the leaf hashes of a sealed payload (hex SHA-256 of the sealed bytes)."""
    return hashlib.sha256(bytes(sealed)).hexdigest()


def is_sealed_kind(kind: str, lead_key: str | None) -> bool:
    """Events whose payload is sealed: a lead's score records."""
    return kind == ev.SCORE and lead_key is not None


def split_body(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the body kept in the clear, the payload to seal) of a score event's full body."""
    public = {k: v for k, v in body.items() if k in PUBLIC_SCORE_FIELDS}
    private = {k: v for k, v in body.items() if k not in PUBLIC_SCORE_FIELDS}
    return public, private


def join_body(public: dict[str, Any], private: dict[str, Any]) -> dict[str, Any]:
    return {**public, **private}


def removal(body: dict[str, Any]) -> dict[str, Any] | None:
    """How a record whose payload cannot be read says so: its state (erased, purged, or
    removed / altered outside Candor), since when where the log says, in words ("Erased on
    2026-12-02"); None for a record that reads whole."""
    state = body.get(UNREADABLE)
    if state is None:
        return None
    state = str(state) if state in UNREADABLE_TEXT else REMOVED
    at = body.get(f"{state}_at")
    text = UNREADABLE_TEXT[state]
    if at is None and "{day}" in text:
        text = state.capitalize()
    return {"state": state, "at": at, "text": text.format(day=str(at)[:10])}


def unreadable_body(public: dict[str, Any], why: str) -> dict[str, Any]:
    """A sealed record read after erasure or purge: its public part, marked."""
    return {**public, UNREADABLE: why}

"""Audit events: what one state change holds, and the exact bytes that are hashed.

A leaf of the Merkle tree is the canonical JSON of the event's envelope (seq, kind, time,
actor, subject, lead key), a newline, and the canonical JSON of its body; for an event with a
sealed payload (a lead's score: :mod:`candor.serving.audit.sealing`), a newline and the hex
SHA-256 of the sealed bytes follow, so the leaf commits to the payload without holding it.
The body is stored as written, so the leaf is rebuilt from a row byte for byte.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from candor.serving.audit.canonical import canonical_bytes, canonical_text

# every kind of state change the log records
SCORE = "score"
SUPPRESSION = "suppression"
FORECAST = "forecast"
MODEL = "model"  # a model version's inputs, categories and contract, once per version
DECISION = "decision"
OUTCOME = "outcome"
TOUCHES = "touches"  # the leads one call plan placed
KEY_CREATED = "key_created"
KEY_REVOKED = "key_revoked"
PROMOTION = "promotion"
ACCESS = "access"  # a person's record was read
LEGACY_IMPORT = "legacy_import"
BATCH_CHUNK = "batch_chunk"  # one chunk of a batch run is written: its rows and counts
BATCH_RUN = "batch_run"  # a batch run ended: input fingerprint, model, counts, start and end
DRIFT_CHECK = "drift_check"  # a drift report's summary: window, status, worst input and PSI
ERASURE = "erasure"  # a lead's data key destroyed: who, when, why, which lead key, how many
PURGE = "purge"  # payloads older than the retention limit removed: cutoff and count
ACTUAL = "sales_actual"  # units one series sold in one week; a second for the week corrects it
RECORD_KINDS = (SCORE, SUPPRESSION, FORECAST)  # what a score id names
KINDS = (
    SCORE,
    SUPPRESSION,
    FORECAST,
    MODEL,
    DECISION,
    OUTCOME,
    TOUCHES,
    KEY_CREATED,
    KEY_REVOKED,
    PROMOTION,
    ACCESS,
    LEGACY_IMPORT,
    BATCH_CHUNK,
    BATCH_RUN,
    DRIFT_CHECK,
    ERASURE,
    PURGE,
    ACTUAL,
)
MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One state change before it is written: the log assigns its seq and time."""

    kind: str
    actor: str
    subject: str
    body: str  # canonical JSON (see :func:`body_text`)
    lead_key: str | None = None
    at: str | None = None  # None: the commit time (set only when importing older records)


def body_text(body: dict[str, Any]) -> str:
    return canonical_text(body)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the log. ``sealed`` (the digest of the sealed payload) is part of the leaf;
    ``payload`` (the sealed bytes, None once erased or purged) is not."""

    seq: int
    kind: str
    at: str
    actor: str
    subject: str
    lead_key: str | None
    body: str
    sealed: str | None = None
    payload: bytes | None = None

    def leaf(self) -> bytes:
        return leaf_bytes(
            self.seq,
            self.kind,
            self.at,
            self.actor,
            self.subject,
            self.lead_key,
            self.body,
            self.sealed,
        )


def leaf_bytes(
    seq: int,
    kind: str,
    at: str,
    actor: str,
    subject: str,
    lead_key: str | None,
    body: str | bytes,
    sealed: str | None = None,
) -> bytes:
    envelope = canonical_bytes(
        {
            "seq": seq,
            "kind": kind,
            "at": at,
            "actor": actor,
            "subject": subject,
            "lead_key": lead_key,
        }
    )
    raw = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
    if sealed is None:
        return envelope + b"\n" + raw
    return envelope + b"\n" + raw + b"\n" + sealed.encode("utf-8", "surrogateescape")


def leaf_mac(key: bytes, hashed_leaf: bytes) -> bytes:
    return hmac.digest(key, hashed_leaf, "sha256")[:MAC_BYTES]  # the one-shot C path

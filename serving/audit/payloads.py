"""Lead data keys in the database, and reading sealed payloads back (see
:mod:`candor.serving.audit.sealing` for what is sealed and how).

The writer calls :func:`ensure_salts` inside its transaction, so a lead's first score and its
key are committed together; erasure deletes the salt in the transaction that logs it.
Readers open rows with :class:`PayloadOpener`, which reads the salts of the rows' leads in
one query per chunk and marks a record whose key or sealed bytes are gone as unreadable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, Table, func, insert, select

from candor.serving.audit import sealing
from candor.serving.audit.tables import AuditEvent, LeadDataKey

LEAD_DATA_KEYS = cast(Table, LeadDataKey.__table__)
EVENTS = cast(Table, AuditEvent.__table__)  # the log's table (log.py builds on this module)
_IN_CHUNK = 500


def salts_for(conn: Connection, lead_keys: Iterable[str]) -> dict[str, bytes]:
    """The salt of each lead that has a data key (leads without one are left out)."""
    wanted = sorted({k for k in lead_keys if k is not None})
    out: dict[str, bytes] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        for r in conn.execute(
            select(LEAD_DATA_KEYS.c.lead_key, LEAD_DATA_KEYS.c.salt).where(
                LEAD_DATA_KEYS.c.lead_key.in_(chunk)
            )
        ):
            out[str(r.lead_key)] = bytes(r.salt)
    return out


def ensure_salts(conn: Connection, lead_keys: Iterable[str]) -> dict[str, bytes]:
    """The salt of each lead, creating the missing ones (in the caller's transaction)."""
    wanted = {k for k in lead_keys if k is not None}
    found = salts_for(conn, wanted)
    missing = sorted(wanted - found.keys())
    if missing:
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        made = {k: sealing.new_salt() for k in missing}
        conn.execute(
            insert(LEAD_DATA_KEYS),
            [{"lead_key": k, "salt": salt, "created_at": now} for k, salt in made.items()],
        )
        found.update(made)
    return found


class PayloadOpener:
    """Reads score records back whole: the body, and the payload opened with the lead's key."""

    def __init__(self, kek: bytes) -> None:
        self._kek = kek

    def bodies(self, conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
        """The full body of each row (rows of ``audit_events`` with seq, lead_key, body,
        sealed and payload), in order. A sealed record whose key or sealed bytes are gone
        reads as its public part marked ``unreadable: removed`` (whether erased or purged is
        the log's to say: :meth:`candor.serving.audit.store.AuditStore.opened`)."""
        keys = salts_for(conn, (r.lead_key for r in rows if r.sealed is not None))
        return [self.body(r, keys) for r in rows]

    def body(self, row: Any, salts: dict[str, bytes]) -> dict[str, Any]:
        public = orjson.loads(row.body)
        if row.sealed is None:
            return cast(dict[str, Any], public)
        salt = salts.get(row.lead_key)
        if salt is None or row.payload is None:
            return sealing.unreadable_body(public, sealing.REMOVED)
        key = sealing.data_key(self._kek, salt, row.lead_key)
        try:
            plain = sealing.unseal(key, row.payload, seq=int(row.seq), lead_key=row.lead_key)
        except InvalidTag:
            # altered sealed bytes: `candor audit verify` names the event; the reader sees
            # that the record cannot be shown rather than a wrong one
            return sealing.unreadable_body(public, sealing.ALTERED)
        return sealing.join_body(public, orjson.loads(plain))

    def one(self, conn: Connection, row: Any) -> dict[str, Any]:
        return self.bodies(conn, [row])[0]


def replaced_data_keys(conn: Connection, kek: bytes) -> list[tuple[int, str]]:
    """(seq, lead key) of each lead whose data key no longer opens its newest intact sealed
    payload: its salt was replaced outside Candor (an erasure deletes the salt and the
    payloads together; a new key is only made for a lead with nothing sealed under the old).

    One payload per lead is opened (a salt seals every payload of its lead); a payload whose
    bytes were altered is left to the digest check, which names it already.
    """
    newest = (
        select(EVENTS.c.lead_key, func.max(EVENTS.c.seq).label("seq"))
        .where(EVENTS.c.sealed.is_not(None), EVENTS.c.payload.is_not(None))
        .group_by(EVENTS.c.lead_key)
        .subquery()
    )
    rows = [
        r
        for r in conn.execute(
            select(EVENTS.c.seq, EVENTS.c.lead_key, EVENTS.c.sealed, EVENTS.c.payload).join(
                newest, EVENTS.c.seq == newest.c.seq
            )
        )
        # a column of another type was tampered with: the leaf check names that event
        if isinstance(r.lead_key, str) and isinstance(r.payload, bytes | bytearray | memoryview)
    ]
    salts = salts_for(conn, (r.lead_key for r in rows))
    out: list[tuple[int, str]] = []
    for r in rows:
        salt = salts.get(r.lead_key)
        if salt is None or sealing.payload_digest(r.payload) != r.sealed:
            continue  # a deleted key or altered bytes: verify's other checks name them
        key = sealing.data_key(kek, salt, r.lead_key)
        try:
            sealing.unseal(key, r.payload, seq=int(r.seq), lead_key=r.lead_key)
        except InvalidTag:
            out.append((int(r.seq), str(r.lead_key)))
    return out

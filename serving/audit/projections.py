"""The tables the API reads, as pure functions of the log.

The writer inserts what :func:`changes` gives for each new event, in the same transaction;
``candor audit verify`` replays every event through the same function and compares the result
with the tables row by row, so a projected row that no event backs (an inserted admin key, an
edited decision, a deleted touch) is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from candor.serving.audit import events as ev
from candor.serving.audit.canonical import canonical_text
from candor.serving.audit.events import StoredEvent

# table -> its primary-key columns
PROJECTIONS: dict[str, tuple[str, ...]] = {
    "projected_reviews": ("seq",),
    "projected_review_reasons": ("seq", "code"),
    "projected_decisions": ("seq",),
    "projected_outcomes": ("seq",),
    "projected_api_keys": ("name",),
    "projected_touches": ("seq", "position"),
    "projected_actuals": ("seq",),
}


@dataclass(frozen=True, slots=True)
class Change:
    table: str
    row: dict[str, Any]
    update: bool = False  # True: set these columns on the row with the same key


def review_codes(kind: str, body: dict[str, Any]) -> list[str]:
    """The review codes of a score or forecast record (empty: not flagged)."""
    if kind == ev.SCORE:
        return list(body.get("review", []))
    if kind == ev.FORECAST:
        review = body.get("review") or {}
        return list(review.get("reasons", [])) if review.get("required") else []
    return []


def changes(event: StoredEvent, body: dict[str, Any] | None = None) -> list[Change]:
    """What one event adds to (or sets in) the projections; ``body`` is the parsed body."""
    kind = event.kind
    if kind in (ev.SCORE, ev.FORECAST):
        parsed = orjson.loads(event.body) if body is None else body
        codes = review_codes(kind, parsed)
        if not codes:
            return []
        return [
            Change(
                "projected_reviews", {"seq": event.seq, "score_id": event.subject, "kind": kind}
            ),
            *(
                Change("projected_review_reasons", {"seq": event.seq, "code": code})
                for code in dict.fromkeys(codes)
            ),
        ]
    if kind in (
        ev.SUPPRESSION,
        ev.MODEL,
        ev.ACCESS,
        ev.PROMOTION,
        ev.LEGACY_IMPORT,
        ev.BATCH_CHUNK,
        ev.BATCH_RUN,
        ev.DRIFT_CHECK,
        ev.ERASURE,
        ev.PURGE,
    ):
        return []
    parsed = orjson.loads(event.body) if body is None else body
    if kind == ev.DECISION:
        return [
            Change(
                "projected_decisions",
                {
                    "seq": event.seq,
                    "score_id": event.subject,
                    "decision": parsed["decision"],
                    "grade": parsed.get("grade"),
                    "comment": parsed["comment"],
                    "decided_by": event.actor,
                    "decided_at": event.at,
                    "replacement": None
                    if parsed.get("replacement") is None
                    else canonical_text(parsed["replacement"]),
                },
            )
        ]
    if kind == ev.OUTCOME:
        return [
            Change(
                "projected_outcomes",
                {
                    "seq": event.seq,
                    "lead_key": event.lead_key,
                    "converted": bool(parsed["converted"]),
                    "observed_at": parsed["observed_at"],
                    "recorded_by": event.actor,
                    "recorded_at": event.at,
                },
            )
        ]
    if kind == ev.ACTUAL:
        return [
            Change(
                "projected_actuals",
                {
                    "seq": event.seq,
                    "series_key": event.lead_key,
                    "week": parsed["week"],
                    "units": float(parsed["units"]),
                    "recorded_by": event.actor,
                    "recorded_at": event.at,
                },
            )
        ]
    if kind == ev.TOUCHES:
        # [lead_key, score_id], with the channel third since call plans name one
        return [
            Change(
                "projected_touches",
                {
                    "seq": event.seq,
                    "position": i,
                    "lead_key": touch[0],
                    "planned_at": event.at,
                    "plan_id": event.subject,
                    "score_id": touch[1],
                    "channel": touch[2] if len(touch) > 2 else None,
                },
            )
            for i, touch in enumerate(parsed["touches"])
        ]
    if kind == ev.KEY_CREATED:
        return [
            Change(
                "projected_api_keys",
                {
                    "name": event.subject,
                    "role": parsed["role"],
                    "secret_hash": parsed["secret_hash"],
                    "created_seq": event.seq,
                    "created_at": event.at,
                    "revoked_seq": None,
                    "revoked_at": None,
                },
            )
        ]
    if kind == ev.KEY_REVOKED:
        return [
            Change(
                "projected_api_keys",
                {"name": event.subject, "revoked_seq": event.seq, "revoked_at": event.at},
                update=True,
            )
        ]
    raise ValueError(f"unknown audit event kind {kind!r} at position {event.seq}")


Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


def replay(events: Iterable[tuple[StoredEvent, dict[str, Any] | None]]) -> Rows:
    """Every projection as the log says it should be: table -> primary key -> row."""
    state: Rows = {table: {} for table in PROJECTIONS}
    for event, body in events:
        apply(state, changes(event, body))
    return state


def apply(state: Rows, found: Iterable[Change]) -> None:
    for change in found:
        key = tuple(change.row[c] for c in PROJECTIONS[change.table])
        if change.update:
            if key in state[change.table]:
                state[change.table][key].update(change.row)
        else:
            state[change.table][key] = dict(change.row)

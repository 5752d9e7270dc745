"""What an auditor may see of one record: that it exists, what kind, when, by which model
version, and whether its payload is readable, erased or purged; never its inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from candor.models.errors import ErrorDetail, NotFoundError
from candor.serving.audit import events as ev
from candor.serving.audit.log import EVENTS
from candor.serving.audit.store import AuditStore

SEALED = "sealed"  # readable by reviewers
CLEAR = "clear"  # never sealed: a forecast, a suppression, a record from before sealing


@dataclass(frozen=True)
class RecordState:
    score_id: str
    kind: str
    seq: int
    created_at: str
    model: str
    state: str  # sealed | erased | purged | removed | clear
    removed_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "score_id": self.score_id,
            "kind": self.kind,
            "seq": self.seq,
            "created_at": self.created_at,
            "model": self.model,
            "state": self.state,
            "removed_at": self.removed_at,
        }


def record_state(store: AuditStore, score_id: str) -> RecordState:
    with store.reading("the record") as conn:
        row = conn.execute(
            select(EVENTS).where(EVENTS.c.subject == score_id, EVENTS.c.kind.in_(ev.RECORD_KINDS))
        ).first()
        if row is None:
            raise NotFoundError(
                f"no score with score_id {score_id!r}",
                [ErrorDetail("score_id", "unknown score id")],
            )
        (body,) = store.opened(conn, [row])
    state, at = CLEAR, None
    if row.sealed is not None:
        state = str(body.get("unreadable", SEALED))
        at = body.get(f"{state}_at")
    return RecordState(
        str(row.subject),
        str(row.kind),
        int(row.seq),
        str(row.at),
        str(body.get("model")),
        state,
        at,
    )

"""Import an audit database of the hash-chained schema (revisions 0001-0002) into the log.

Run by the store when it opens and finds the old tables: their records, decisions, outcomes,
API keys and call-plan touches become events with their original times, in time order, under
one signed tree head, behind a ``legacy_import`` event that says what was imported and
whether the old hash chain verified. The old tables are dropped in the same transaction, so
the import happens once, all or nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text

from candor.serving.audit import events as ev
from candor.serving.audit.chain import verify_chain
from candor.serving.audit.events import NewEvent, body_text
from candor.serving.audit.log import AuditLog
from candor.serving.audit.secrets import LEAD_KEY_HEX

log = logging.getLogger("candor.audit")

LEGACY_TABLES = (
    "call_plan_touches",
    "audit_review_reasons",
    "decisions",
    "outcomes",
    "api_keys",
    "chain_head",
    "audit_records",
)


def has_legacy_tables(engine: Engine) -> bool:
    return "audit_records" in inspect(engine).get_table_names()


def _rows(conn: Connection, table: str, order: str) -> list[dict[str, Any]]:
    return [
        dict(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}")).mappings()
    ]


def _short(key: str | None) -> str | None:
    """The old schema kept the whole HMAC; the log keeps its first 128 bits (same HMAC)."""
    return key[:LEAD_KEY_HEX] if key else key


def legacy_events(conn: Connection) -> list[NewEvent]:
    records = [
        {**r, "review_required": bool(r["review_required"])}  # stored 0/1, hashed as a bool
        for r in _rows(conn, "audit_records", "seq")
    ]
    head = conn.execute(text("SELECT last_seq, last_hash FROM chain_head WHERE id = 1")).first()
    report = verify_chain(
        records,
        head_seq=int(head.last_seq) if head else None,
        head_hash=head.last_hash if head else None,
    )
    problem = report.problem
    verdict = "intact" if problem is None else f"broken at record {problem.seq}: {problem.detail}"
    if not report.ok:
        log.error("the imported hash chain did not verify: %s (imported as found)", verdict)
    timed: list[tuple[str, int, NewEvent]] = []
    models: dict[str, dict[str, Any]] = {}
    for r in records:
        subject = f"{r['model_name']}@{r['model_version']}"
        models.setdefault(
            subject,
            {
                "name": r["model_name"],
                "version": r["model_version"],
                "run_id": r["run_id"],
                "contract": r["contract"],
            },
        )
        payload = json.loads(r["payload"])
        codes = [c for c in r["review_reasons"].split(",") if c]
        body: dict[str, Any] = {
            "model": subject,
            "legacy": {"seq": r["seq"], "record_hash": r["record_hash"]},
            "payload": payload,
        }
        if r["kind"] == ev.SCORE:
            body.update(score=r["score"], grade=r["grade"], review=codes)
        elif r["kind"] == ev.FORECAST:
            body.update(payload)
        else:
            body["suppressed"] = payload.get("suppressed")
        timed.append(
            (
                r["created_at"],
                1,
                NewEvent(
                    r["kind"],
                    r["requested_by"],
                    r["score_id"],
                    body_text(body),
                    _short(r["lead_key"]),
                    r["created_at"],
                ),
            )
        )
    for d in _rows(conn, "decisions", "id"):
        body = {"decision": d["decision"], "grade": d["grade"], "comment": d["comment"]}
        timed.append(
            (
                d["decided_at"],
                2,
                NewEvent(
                    ev.DECISION,
                    d["decided_by"],
                    d["score_id"],
                    body_text(body),
                    None,
                    d["decided_at"],
                ),
            )
        )
    for o in _rows(conn, "outcomes", "id"):
        body = {"converted": bool(o["converted"]), "observed_at": o["observed_at"]}
        timed.append(
            (
                o["recorded_at"],
                2,
                NewEvent(
                    ev.OUTCOME,
                    o["recorded_by"],
                    "outcome",
                    body_text(body),
                    _short(o["lead_key"]),
                    o["recorded_at"],
                ),
            )
        )
    for k in _rows(conn, "api_keys", "id"):
        body = {"role": k["role"], "secret_hash": k["secret_hash"]}
        timed.append(
            (
                k["created_at"],
                0,
                NewEvent(
                    ev.KEY_CREATED,
                    "legacy import",
                    k["name"],
                    body_text(body),
                    None,
                    k["created_at"],
                ),
            )
        )
        if k["revoked_at"]:
            timed.append(
                (
                    k["revoked_at"],
                    3,
                    NewEvent(
                        ev.KEY_REVOKED,
                        "legacy import",
                        k["name"],
                        body_text({}),
                        None,
                        k["revoked_at"],
                    ),
                )
            )
    plans: dict[str, list[dict[str, Any]]] = {}
    for t in _rows(conn, "call_plan_touches", "id"):
        plans.setdefault(t["plan_id"], []).append(t)
    for plan_id, touches in plans.items():
        at = touches[0]["planned_at"]
        body = {"touches": [[_short(t["lead_key"]), t["score_id"]] for t in touches]}
        timed.append(
            (
                at,
                2,
                NewEvent(
                    ev.TOUCHES, touches[0]["requested_by"], plan_id, body_text(body), None, at
                ),
            )
        )
    timed.sort(key=lambda item: (item[0], item[1]))
    first_at = timed[0][0] if timed else None
    header = [
        NewEvent(
            ev.LEGACY_IMPORT,
            "candor",
            "schema 0002",
            body_text(
                {
                    "records": len(records),
                    "events": len(timed) + len(models),
                    "hash_chain": verdict,
                    "chain_head": head.last_hash if head else None,
                }
            ),
        )
    ]
    model_events = [
        NewEvent(ev.MODEL, "legacy import", subject, body_text(body), None, first_at)
        for subject, body in models.items()
    ]
    return [*header, *model_events, *(item[2] for item in timed)]


def import_legacy(engine: Engine, audit_log: AuditLog) -> int:
    """Import the old tables if present; the number of events written (0: nothing to do)."""
    if not has_legacy_tables(engine):
        return 0

    with engine.begin() as conn:
        empty = all(
            conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0
            for table in ("audit_records", "decisions", "outcomes", "api_keys")
        )
        if empty:  # a new database: the old tables were only created on the way to 0003
            for table in LEGACY_TABLES:
                conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            return 0

    def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
        found = legacy_events(conn)
        for table in LEGACY_TABLES:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        return found, len(found)

    written = int(audit_log.submit(prepare, exclusive=True).result)
    log.warning("imported %d events from the hash-chained audit schema into the log", written)
    return written

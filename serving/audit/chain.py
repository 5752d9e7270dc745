"""The hash chain of the older audit schema (revisions 0001-0002): pure functions, no database.

Kept only to verify such a database while ``legacy.py`` imports it into the event log.

``record_hash = sha256(prev_hash + canonical JSON of the record's fields)``; the first record's
``prev_hash`` is :data:`GENESIS`. Altering a record breaks its own hash; inserting or deleting
one breaks the sequence numbers or the next record's ``prev_hash``; deleting the newest ones
is caught against the chain head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "score_id",
    "kind",
    "created_at",
    "model_name",
    "model_version",
    "run_id",
    "contract",
    "lead_key",
    "requested_by",
    "score",
    "grade",
    "review_required",
    "review_reasons",
    "payload",
)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, floats as Python's shortest repr."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def record_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The payload is already canonical JSON text: it is hashed as is, after the other fields."""
    head = canonical_json({name: fields[name] for name in HASHED_FIELDS if name != "payload"})
    return hashlib.sha256(f"{prev_hash}\n{head}\n{fields['payload']}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # altered | inserted | deleted
    detail: str


@dataclass(frozen=True)
class ChainReport:
    records: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(
    rows: Iterable[Mapping[str, Any]], *, head_seq: int | None, head_hash: str | None
) -> ChainReport:
    """Walk records in ``seq`` order and report the first problem found."""
    expected_seq = 1
    previous = GENESIS
    count = 0
    for row in rows:
        count += 1
        seq = int(row["seq"])
        if seq > expected_seq:
            return ChainReport(
                count,
                ChainProblem(
                    expected_seq,
                    "deleted",
                    f"records {expected_seq}..{seq - 1} are missing (next present is {seq})",
                ),
            )
        if seq < expected_seq:
            return ChainReport(
                count, ChainProblem(seq, "inserted", f"record {seq} is out of sequence")
            )
        if row["prev_hash"] != previous:
            return ChainReport(
                count,
                ChainProblem(
                    seq,
                    "inserted",
                    f"record {seq} does not follow record {seq - 1} (prev_hash differs)",
                ),
            )
        recomputed = record_hash(previous, row)
        if recomputed != row["record_hash"]:
            return ChainReport(
                count,
                ChainProblem(
                    seq,
                    "altered",
                    f"record {seq} ({row['score_id']}) was changed after it was "
                    "written (its hash no longer matches its contents)",
                ),
            )
        previous = row["record_hash"]
        expected_seq += 1
    last_seq = expected_seq - 1
    if head_seq is not None and head_seq > last_seq:
        return ChainReport(
            count,
            ChainProblem(
                last_seq + 1,
                "deleted",
                f"records {last_seq + 1}..{head_seq} are missing (the chain head says {head_seq})",
            ),
        )
    if head_seq is not None and head_seq < last_seq:
        return ChainReport(
            count,
            ChainProblem(
                head_seq + 1,
                "inserted",
                f"records after {head_seq} were added outside the service (chain head)",
            ),
        )
    if head_hash is not None and head_seq == last_seq and head_hash != previous:
        return ChainReport(
            count, ChainProblem(last_seq, "altered", "the last record differs from the chain head")
        )
    return ChainReport(count, None)

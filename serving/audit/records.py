"""What an audit record holds for one scoring result (no raw PII: the lead id is pseudonymised
by the store, and only the values the model used are kept, never withheld ones)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from serving.audit.store import NewRecord


def records_for(
    results: Sequence[Mapping[str, Any]], *, model: Mapping[str, str], requested_by: str
) -> list[NewRecord]:
    """One record per result; ``results`` must carry every reason (explain all)."""
    records = []
    for r in results:
        common = {
            "score_id": r["score_id"],
            "lead_id": r["lead_id"],
            "model_name": model["name"],
            "model_version": model["version"],
            "run_id": model["run_id"],
            "contract": model["contract"],
            "requested_by": requested_by,
        }
        if r.get("suppressed"):
            records.append(
                NewRecord(kind="suppression", payload={"suppressed": r["suppressed"]}, **common)
            )
            continue
        payload = {
            "features": {reason["feature"]: reason["value"] for reason in r["reasons"]},
            "margin": r["margin"],
            "base_value": r["base_value"],
            "contributions": list(r["reasons"]),
            "confidence": r["confidence"],
            "review": r["review"],
            "withheld": r["withheld"],
        }
        records.append(
            NewRecord(
                kind="score",
                score=r["score"],
                grade=r["grade"],
                review_required=r["review"]["required"],
                review_reasons=tuple(r["review"]["reasons"]),
                payload=payload,
                **common,
            )
        )
    return records

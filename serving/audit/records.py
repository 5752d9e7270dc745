"""What an audit record holds for one scoring result (no raw PII: the lead id is pseudonymised
by the store, and only the values the model used are kept, never withheld ones)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from candor.serving.audit.store import NewRecord


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


def forecast_records(
    results: Sequence[Mapping[str, Any]],
    *,
    series_fields: Sequence[str],
    horizon: int,
    model: Mapping[str, str],
    requested_by: str,
) -> list[NewRecord]:
    """One record per forecast series: the whole forecast, its drivers, review and inputs.

    Series keys (territory, product) name no person; the store still keys them by HMAC like
    lead ids, and the payload holds the key itself for the reviewer.
    """
    records = []
    for r in results:
        series = {name: r[name] for name in series_fields}
        records.append(
            NewRecord(
                score_id=r["forecast_id"],
                kind="forecast",
                lead_id="series:" + "|".join(f"{k}={v}" for k, v in series.items()),
                model_name=model["name"],
                model_version=model["version"],
                run_id=model["run_id"],
                contract=model["contract"],
                requested_by=requested_by,
                review_required=r["review"]["required"],
                review_reasons=tuple(r["review"]["reasons"]),
                payload={
                    "series": series,
                    "horizon": horizon,
                    "last_observed_week": r["last_observed_week"],
                    "forecast": r["forecast"],
                    "planned_covariates": r["planned_covariates"],
                    "assumed_covariates": r["assumed_covariates"],
                    "review": r["review"],
                    "recent_weeks": r["recent_weeks"],
                },
            )
        )
    return records

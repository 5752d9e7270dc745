"""What an audit record holds for one scoring result (no raw PII: the lead id is pseudonymised
by the store, and only the values the model used are kept, never withheld ones)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candor.models.model_ref import ModelRef
from candor.serving.audit.store import NewRecord
from candor.serving.services.forecasts import SeriesResult
from candor.serving.services.leads import LeadScore


def records_for(
    results: Sequence[LeadScore], *, model: ModelRef, requested_by: str
) -> list[NewRecord]:
    """One record per result; ``results`` must carry every reason (explain all)."""
    records = []
    for r in results:
        common: dict[str, Any] = {
            "score_id": r.score_id,
            "lead_id": r.lead_id,
            "model_name": model.name,
            "model_version": model.version,
            "run_id": model.run_id,
            "contract": model.contract,
            "requested_by": requested_by,
        }
        if r.suppressed or r.explanation is None or r.confidence is None or r.review is None:
            records.append(
                NewRecord(kind="suppression", payload={"suppressed": r.suppressed}, **common)
            )
            continue
        reasons = [reason.to_dict() for reason in r.reasons]
        payload = {
            "features": {reason.feature: reason.value for reason in r.reasons},
            "margin": r.explanation.margin,
            "base_value": r.explanation.base_value,
            "contributions": reasons,
            "confidence": r.confidence.to_dict(),
            "review": r.review.to_dict(),
            "withheld": list(r.withheld),
        }
        records.append(
            NewRecord(
                kind="score",
                score=r.score,
                grade=r.grade,
                review_required=r.review.required,
                review_reasons=r.review.reasons,
                payload=payload,
                **common,
            )
        )
    return records


def forecast_records(
    results: Sequence[SeriesResult], *, horizon: int, model: ModelRef, requested_by: str
) -> list[NewRecord]:
    """One record per forecast series: the whole forecast, its drivers, review and inputs.

    Series keys (territory, product) name no person; the store still keys them by HMAC like
    lead ids, and the payload holds the key itself for the reviewer.
    """
    return [
        NewRecord(
            score_id=r.forecast_id,
            kind="forecast",
            lead_id="series:" + "|".join(f"{k}={v}" for k, v in r.series.items()),
            model_name=model.name,
            model_version=model.version,
            run_id=model.run_id,
            contract=model.contract,
            requested_by=requested_by,
            review_required=r.review.required,
            review_reasons=r.review.reasons,
            payload={
                "series": r.series,
                "horizon": horizon,
                "last_observed_week": r.last_observed_week,
                "forecast": r.weeks_json(),
                "planned_covariates": r.planned_covariates,
                "assumed_covariates": list(r.assumed_covariates),
                "review": r.review.to_dict(),
                "recent_weeks": r.recent_weeks_json(),
            },
        )
        for r in results
    ]

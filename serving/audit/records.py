"""What the audit log keeps of a result, and how a record is shown again on read.

A lead score is kept as numbers only: the encoded inputs the model read, every contribution,
the margin, the interval, the review codes and notes, the withheld fields, under a reference
to its model version. The model version itself is one ``model`` event (its inputs, their
categories and the data contract, once), so the reason texts come back at read time from the
same contract by the same function that wrote them into the answer: identically. No raw lead
id is kept (the store keys it by HMAC) and no withheld value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import yaml

from candor.explain.lead_explanations import explain_rows
from candor.models.contract import contract_from_dict, dump_contract
from candor.models.leads.features import FeatureMatrix, FeatureSchema
from candor.models.model_ref import ModelRef
from candor.serving.audit import events as ev
from candor.serving.audit.events import NewEvent, body_text
from candor.serving.scoring.core import OPTED_OUT, ScoredBatch
from candor.serving.services.forecasts import SeriesResult
from candor.serving.services.leads import (
    CALIBRATION_METHOD,
    LeadScoringService,
    coverage_text,
)

LeadKey = Callable[[str], str]


def model_subject(model: ModelRef) -> str:
    return f"{model.name}@{model.version}"


_model_bodies: dict[tuple[str, str], str] = {}
_model_lock = threading.Lock()


def lead_model_event(service: LeadScoringService, *, actor: str = "candor") -> NewEvent:
    """The model version's event: what a score record needs to be shown again."""
    ref = service.model_ref
    key = (model_subject(ref), ref.run_id)
    with _model_lock:
        body = _model_bodies.get(key)
        if body is None:
            body = body_text(
                {
                    "name": ref.name,
                    "version": ref.version,
                    "run_id": ref.run_id,
                    "contract": ref.contract,
                    "contract_yaml": dump_contract(service.contract),
                    "schema": service.schema.to_dict(),
                    "calibration_leads": service.scorer.calibration_.n_calibration,
                }
            )
            _model_bodies[key] = body
    return NewEvent(ev.MODEL, actor, model_subject(ref), body)


def forecast_model_event(model: ModelRef, *, actor: str = "candor") -> NewEvent:
    return NewEvent(
        ev.MODEL,
        actor,
        model_subject(model),
        body_text(
            {
                "name": model.name,
                "version": model.version,
                "run_id": model.run_id,
                "contract": model.contract,
            }
        ),
    )


def score_events(
    batch: ScoredBatch, *, model: ModelRef, requested_by: str, lead_key: LeadKey
) -> list[NewEvent]:
    """One event per lead of ``batch``, in order: its score, or its suppression."""
    return [
        NewEvent(kind, requested_by, score_id, body, lead_key(lead_id))
        for (kind, body), lead_id, score_id in zip(
            score_bodies(batch, model=model), batch.lead_ids, batch.score_ids, strict=True
        )
    ]


def score_bodies(batch: ScoredBatch, *, model: ModelRef) -> list[tuple[str, str]]:
    """(event kind, canonical body) per lead of ``batch``, in order.

    The part of an event that needs no secret: a Spark worker builds it beside the score, the
    driver adds the keyed lead pseudonym and writes it (``candor.serving.scoring.spark``).
    """
    subject = model_subject(model)
    suppression = (ev.SUPPRESSION, body_text({"model": subject, "suppressed": OPTED_OUT}))
    out = [suppression] * batch.n_leads
    inputs = batch.encoded_inputs()
    contributions = batch.contributions.tolist()
    margins = batch.margin.tolist()
    scores, lowers, uppers = batch.score.tolist(), batch.lower.tolist(), batch.upper.tolist()
    grades, levels, codes = batch.grades, batch.levels, batch.review_codes
    withheld = batch.withheld_names
    for row, i in enumerate(batch.rows.tolist()):
        body: dict[str, Any] = {
            "model": subject,
            "score": scores[row],
            "grade": grades[row],
            "interval": [lowers[row], uppers[row]],
            "confidence": levels[row],
            "margin": margins[row],
            "inputs": inputs[row],
            "contributions": contributions[row],
            "review": list(codes[row]),
        }
        if batch.notes[row]:
            body["notes"] = list(batch.notes[row])
        if withheld[row]:
            body["withheld"] = list(withheld[row])
        unseen = batch.unseen_values.get(row)
        if unseen:
            body["unseen"] = unseen
        out[i] = (ev.SCORE, body_text(body))
    return out


def forecast_events(
    results: Sequence[SeriesResult],
    *,
    horizon: int,
    model: ModelRef,
    requested_by: str,
    series_key: Callable[[Mapping[str, Any]], str],
    scenarios: Sequence[str] | None = None,
) -> list[NewEvent]:
    """One event per forecast series: the whole forecast, its drivers, review and inputs
    (and, for a scenario request, the plan's name: ``scenarios`` parallel to ``results``).

    Series keys (territory, product) name no person; the store still keys them by an HMAC of
    their own (never equal to a lead's), and the body holds the key itself for the reviewer.
    """
    subject = model_subject(model)
    names: Sequence[str | None] = scenarios if scenarios is not None else [None] * len(results)
    return [
        NewEvent(
            ev.FORECAST,
            requested_by,
            r.forecast_id,
            body_text(
                {
                    **({} if name is None else {"scenario": name}),
                    "model": subject,
                    "series": r.series,
                    "horizon": horizon,
                    "last_observed_week": r.last_observed_week,
                    "forecast": r.weeks_json(),
                    "planned_covariates": r.planned_covariates,
                    "assumed_covariates": list(r.assumed_covariates),
                    "review": r.review.to_dict(),
                    "recent_weeks": r.recent_weeks_json(),
                    "scale": r.scale,
                    **(
                        {"hierarchy_level": r.hierarchy_level, "sums": list(r.sums)}
                        if r.sums is not None
                        else {}
                    ),
                }
            ),
            series_key(r.series),
        )
        for r, name in zip(results, names, strict=True)
    ]


# --- reading -----------------------------------------------------------------------------


class ModelView:
    """A model event, parsed once: the contract and schema its score records are shown with."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.name = str(body["name"])
        self.version = str(body["version"])
        self.run_id = str(body["run_id"])
        self.contract_tag = str(body["contract"])
        self.contract = (
            contract_from_dict(yaml.safe_load(body["contract_yaml"]), source="audit log")
            if "contract_yaml" in body
            else None
        )
        self.schema = FeatureSchema.from_dict(body["schema"]) if "schema" in body else None
        self.calibration_leads = body.get("calibration_leads")

    def ref(self) -> dict[str, str]:
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "contract": self.contract_tag,
        }


def render_score(body: Mapping[str, Any], model: ModelView) -> dict[str, Any]:
    """A score event's body in the shape of the record the reviewer reads (every reason)."""
    if model.schema is None or model.contract is None:
        raise ValueError(f"model {model.name}@{model.version} has no input schema in the log")
    schema = model.schema
    names = schema.names
    inputs = np.array(
        [np.nan if v is None else float(v) for v in body["inputs"]], dtype=np.float64
    ).reshape(1, -1)
    withheld_names = set(body.get("withheld", ()))
    unseen = dict(body.get("unseen", {}))
    matrix = FeatureMatrix(
        inputs,
        np.array([[name in unseen for name in names]]),
        np.array([[name in withheld_names for name in names]]),
    )
    contributions = np.array([body["contributions"]], dtype=np.float64)
    (explanation,) = explain_rows(
        contributions=contributions,
        matrix=matrix,
        columns={name: [unseen.get(name)] for name in names},
        schema=schema,
        contract=model.contract,
        top_k=None,
    )
    lower, upper = body["interval"]
    codes = list(body["review"])
    return {
        "features": {r.feature: r.value for r in explanation.reasons},
        "margin": body["margin"],
        "base_value": explanation.base_value,
        "contributions": [r.to_dict() for r in explanation.reasons],
        "confidence": {
            "level": body["confidence"],
            "interval": [lower, upper],
            "method": CALIBRATION_METHOD,
            "coverage": coverage_text(model.calibration_leads),
        },
        "review": {"required": bool(codes), "reasons": codes, "notes": list(body.get("notes", []))},
        "withheld": list(body.get("withheld", [])),
    }

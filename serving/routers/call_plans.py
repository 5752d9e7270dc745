"""POST /v1/call-plans: a fair, explained call plan for a sales team's capacity.

The rules are those of :mod:`models.call_plan`; this module checks the request against the
model's contract, counts each lead's touches (supplied contacts and earlier plans in the audit
store), scores the leads, and writes the scores and the plan's touches before answering.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request

from candor.models.call_plan import (
    Candidate,
    PlanRules,
    default_min_share,
    plan_calls,
    plan_seed,
    recent_contacts,
    window_start,
)
from candor.models.contract import Contract, Field, Role
from candor.models.errors import ErrorDetail, InputValidationError, raise_if_invalid
from candor.models.transparency import disclosure
from candor.serving.audit.records import records_for
from candor.serving.dependencies import AuditDep, ScorerDep, ScoringDep, SettingsDep
from candor.serving.routers.leads import validate_leads
from candor.serving.schemas import (
    CallPlanRequest,
    CallPlanResponse,
    ErrorResponse,
    parse_observed_at,
)

router = APIRouter(tags=["call plans"])

# contacts are reported from many time zones, some as a date alone: allow a day ahead
FUTURE_TOLERANCE = timedelta(days=1)


@router.post(
    "/v1/call-plans",
    response_model=CallPlanResponse,
    status_code=201,
    responses={
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
    summary="Plan whom to call within a capacity: minimum shares per segment, contact cap, "
    "exploration, each entry explained",
)
def create_call_plan(
    caller: ScorerDep,  # first: an unknown caller learns nothing else
    body: CallPlanRequest,
    request: Request,
    service: ScoringDep,
    store: AuditDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    leads = validate_leads(request, body.leads, settings.max_leads_per_request)
    lead_ids = [str(lead[service.id_field]) for lead in leads]
    segments = segment_fields(service.contract)
    min_share = checked_min_share(body.min_share, service.contract)
    rules = PlanRules(
        capacity=body.capacity,
        min_share=min_share,
        max_touches_30d=body.max_touches_30d,
        exploration_share=body.exploration_share,
    )
    now = datetime.now(UTC)
    since = window_start(now)
    supplied = supplied_touches(body.contact_history, lead_ids, now=now, since=since)
    planned_before = store.touches_since(lead_ids, since.isoformat())

    results = service.score(leads, top_k=None)  # the audit keeps every contribution
    candidates = [
        Candidate(
            lead_id=result.lead_id,
            score=result.score,
            grade=result.grade,
            segments=segment_values(lead, segments),
            suppressed=result.suppressed,
            touches_30d=supplied.get(result.lead_id, 0) + planned_before[result.lead_id],
        )
        for lead, result in zip(leads, results, strict=True)
    ]
    # may refuse the request (422): before anything is written
    plan = plan_calls(
        candidates, rules=rules, seed=plan_seed(lead_ids), report_fields=[f.name for f in segments]
    )

    # scores first, then touches, both committed before anything is answered (else 503): a
    # touch never points at an unaudited score, and no planned lead goes uncounted
    store.append(records_for(results, model=service.model_ref, requested_by=caller.name))
    plan_id = uuid.uuid4().hex
    score_ids = {result.lead_id: result.score_id for result in results}
    store.record_touches(
        [entry.lead_id for entry in plan.entries],
        plan_id=plan_id,
        requested_by=caller.name,
        score_ids=[score_ids[entry.lead_id] for entry in plan.entries],
    )
    summary = asdict(plan.summary)
    summary["seed"] = f"{plan.summary.seed:016x}"  # 64 bits: more than a JSON number holds
    summary["contact_window_start"] = since.isoformat()
    return {
        "plan_id": plan_id,
        "model": service.model_ref.as_dict(),
        "plan": [{**asdict(entry), "score_id": score_ids[entry.lead_id]} for entry in plan.entries],
        "excluded": [asdict(exclusion) for exclusion in plan.excluded],
        "summary": summary,
        "disclosure": disclosure(service.model_ref.name),
    }


def segment_fields(contract: Contract) -> list[Field]:
    """Segments a plan may guarantee and reports on: audit segments, protected ones excepted.

    Protected attributes are kept for fairness audits of the model; who is called is never
    decided on them.
    """
    return [f for f in contract.audit_segments if f.role is not Role.PROTECTED]


def checked_min_share(
    requested: Mapping[str, float] | None, contract: Contract
) -> dict[str, float]:
    """The request's minimum shares (the default when absent); other fields are refused."""
    names = [f.name for f in segment_fields(contract)]
    if requested is None:
        return default_min_share(names)
    problems = []
    for name in requested:
        if name in names:
            continue
        if name in contract and contract[name].role is Role.PROTECTED:
            why = (
                "is a protected attribute: kept for fairness audits, never used to decide who "
                "is called"
            )
        else:
            why = "is not a segment a plan can guarantee"
        problems.append(
            ErrorDetail(f"min_share.{name}", f"{name!r} {why}; expected one of {names}")
        )
    if problems:
        raise InputValidationError(f"field {problems[0].field!r}: {problems[0].message}", problems)
    return dict(requested)


def supplied_touches(
    history: Mapping[str, Sequence[str]],
    lead_ids: Sequence[str],
    *,
    now: datetime,
    since: datetime,
) -> dict[str, int]:
    """Lead id -> supplied contacts in the window; every date is checked, errors name it."""
    known = set(lead_ids)
    problems: list[ErrorDetail] = []
    counts: dict[str, int] = {}
    for lead_id, dates in history.items():
        if lead_id not in known:
            problems.append(
                ErrorDetail(f"contact_history.{lead_id}", "not the lead_id of a lead in 'leads'")
            )
            continue
        moments = []
        for i, text in enumerate(dates):
            try:
                moment = parse_observed_at(text)
            except ValueError as exc:
                where = f"contact_history.{lead_id}.{i}"
                problems.append(ErrorDetail(where, f"{exc}; got {text!r}"))
                continue
            if moment > now + FUTURE_TOLERANCE:
                problems.append(
                    ErrorDetail(
                        f"contact_history.{lead_id}.{i}",
                        f"{text!r} is in the future (now is {now.isoformat(timespec='seconds')}); "
                        "expected a past contact",
                    )
                )
                continue
            moments.append(moment)
        counts[lead_id] = recent_contacts(moments, since=since)
    raise_if_invalid(problems)
    return counts


def segment_values(lead: Mapping[str, Any], segments: Sequence[Field]) -> dict[str, str | None]:
    """The lead's value of each segment field as text; None when missing or a missing token."""
    out: dict[str, str | None] = {}
    for f in segments:
        value = lead.get(f.name)
        text = None if value is None else str(value)
        out[f.name] = None if text is None or text in f.missing_tokens else text
    return out

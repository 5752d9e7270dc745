"""POST /v1/call-plans: a fair, explained call plan for a sales team's capacity.

The rules are those of :mod:`candor.models.call_plan` and the work is
:func:`candor.serving.services.call_plans.make_call_plan`; this module checks the request at the
edge: leads against the model's contract, minimum shares, the channels and caps, the supplied
contact history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from candor.models.call_plan import (
    DEFAULT_MAX_TOUCHES_30D,
    ChannelLine,
    PlanRules,
    default_min_share,
    recent_contacts,
    segment_fields,
    window_start,
)
from candor.models.contract import Channel, Contract, Role
from candor.models.errors import ErrorDetail, InputValidationError, raise_if_invalid
from candor.models.transparency import disclosure
from candor.serving.dependencies import (
    AuditDep,
    ScorerDep,
    ScoringDep,
    SettingsDep,
)
from candor.serving.schemas import (
    BODY_STATUSES,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_STATUSES,
    CallPlanRequest,
    CallPlanResponse,
    error_responses,
    is_future,
    parse_observed_at,
)
from candor.serving.services.call_plans import make_call_plan

router = APIRouter(tags=["call plans"])


@router.post(
    "/v1/call-plans",
    operation_id="create_call_plan",
    response_model=CallPlanResponse,
    status_code=201,
    responses=error_responses(401, 403, *IDEMPOTENT_STATUSES, *BODY_STATUSES, 503),
    openapi_extra=IDEMPOTENCY_KEY,
    summary="Plan whom to call within a capacity, on a channel or per channel: minimum shares "
    "per segment, contact cap, exploration, each entry explained",
)
def create_call_plan(
    caller: ScorerDep,  # first: an unknown caller learns nothing else
    body: CallPlanRequest,
    service: ScoringDep,
    store: AuditDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    leads = service.requests.validate(body.leads, limit=settings.max_leads_per_request)
    lead_ids = [str(lead[service.id_field]) for lead in leads]
    lines = channel_lines(
        body.capacity, body.channel, body.max_touches_30d, contract=service.contract
    )
    rules = PlanRules(
        capacity=sum(line.capacity for line in lines) if lines else body.capacity,
        min_share=checked_min_share(body.min_share, service.contract),
        # a cap per channel is each line's own (a channel plan's caps are its lines')
        max_touches_30d=body.max_touches_30d
        if isinstance(body.max_touches_30d, int)
        else DEFAULT_MAX_TOUCHES_30D,
        exploration_share=body.exploration_share,
        lines=lines,
    )
    now = datetime.now(UTC)
    since = window_start(now)
    planned = make_call_plan(
        scoring=service,
        store=store,
        leads=leads,
        rules=rules,
        supplied=supplied_touches(body.contact_history, lead_ids, now=now, since=since),
        since=since,
        requested_by=caller.name,
        now=now,
    )
    plan, score_ids, withheld = planned.plan, planned.score_ids, planned.withheld
    summary = asdict(plan.summary)
    summary["seed"] = f"{plan.summary.seed:016x}"  # 64 bits: more than a JSON number holds
    summary["contact_window_start"] = planned.since.isoformat()
    return {
        "plan_id": planned.plan_id,
        "model": service.model_ref.to_dict(),
        "plan": [
            {
                **asdict(entry),
                "score_id": score_ids[entry.lead_id],
                "withheld": list(withheld[entry.lead_id]),
            }
            for entry in plan.entries
        ],
        "excluded": [asdict(exclusion) for exclusion in plan.excluded],
        "summary": summary,
        "disclosure": disclosure(service.model_ref.name),
    }


def channel_lines(
    capacity: int | Mapping[Channel, int],
    channel: Channel | None,
    caps: int | Mapping[Channel, int],
    *,
    contract: Contract,
) -> tuple[ChannelLine, ...]:
    """The plan's capacity lines: one per channel of a per-channel capacity, one for a plan's
    ``channel``, none for a plan on no particular channel. Channels must be the contract's;
    a per-channel cap needs a channel plan."""
    known = [str(c) for c in contract.channels]
    problems: list[ErrorDetail] = []

    def unknown(where: str, name: Channel) -> None:
        problems.append(
            ErrorDetail(
                where,
                f"{str(name)!r} is not a channel of contract {contract.version_tag}; "
                f"expected one of {known}",
            )
        )

    if isinstance(capacity, Mapping):
        if channel is not None:
            problems.append(
                ErrorDetail(
                    "channel",
                    "give a channel with a whole-number capacity, or a capacity per channel, "
                    "not both",
                )
            )
        wanted = dict(capacity)
    elif channel is not None:
        wanted = {channel: capacity}
    else:
        wanted = {}
    for name in wanted:
        if str(name) not in known:
            unknown("channel" if channel is not None else f"capacity.{name}", name)
    if isinstance(caps, Mapping):
        if not wanted:
            problems.append(
                ErrorDetail(
                    "max_touches_30d",
                    "a cap per channel needs a channel plan ('channel', or a capacity per "
                    "channel); a plan on no particular channel takes one number",
                )
            )
        for name in caps:
            if str(name) not in known:
                unknown(f"max_touches_30d.{name}", name)
    if problems:  # one problem named in the message, all in the details
        raise InputValidationError(f"field {problems[0].field!r}: {problems[0].message}", problems)

    def cap(name: Channel) -> int:
        if isinstance(caps, Mapping):
            return caps.get(name, DEFAULT_MAX_TOUCHES_30D)
        return caps

    return tuple(ChannelLine(str(name), n, cap(name)) for name, n in wanted.items())


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
    if problems:  # one problem named in the message, all in the details
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
                problems.append(ErrorDetail(where, str(exc)))
                continue
            if is_future(moment, now=now):
                problems.append(
                    ErrorDetail(
                        f"contact_history.{lead_id}.{i}",
                        f"in the future (now is {now.isoformat(timespec='seconds')}); "
                        "expected a past contact",
                    )
                )
                continue
            moments.append(moment)
        counts[lead_id] = recent_contacts(moments, since=since)
    raise_if_invalid(problems)
    return counts

"""Make a call plan: count each lead's touches, score, plan, and audit before answering.

The planning rules are :func:`candor.models.call_plan.plan_calls`; this service joins them to the
scoring service and the audit store. The request was checked at the edge (the router).

Leads are scored for call planning, at the moment of the request: sensitive inputs only where
the data-use consent of that purpose is given, channels where contact consent is live then.
Each planned lead is recorded as a touch on its channel (none for a plan without one).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from candor.models.call_plan import (
    CallPlan,
    Candidate,
    PlanRules,
    plan_calls,
    plan_seed,
    segment_fields,
    segment_values,
)
from candor.models.contract import Purpose
from candor.serving.audit.records import lead_model_event, score_events
from candor.serving.audit.store import AuditStore
from candor.serving.scoring.core import ScoredBatch
from candor.serving.services.leads import LeadScoringService


@dataclass(frozen=True)
class PlannedCalls:
    """A plan and what it is stored under: its id and the score id of every planned lead."""

    plan_id: str
    plan: CallPlan
    score_ids: Mapping[str, str]  # lead id -> score id of this request's score
    since: datetime  # start of the contact window the caps count in
    withheld: Mapping[str, tuple[str, ...]]  # lead id -> sensitive inputs its score did not use


def make_call_plan(
    *,
    scoring: LeadScoringService,
    store: AuditStore,
    leads: Sequence[Mapping[str, Any]],
    rules: PlanRules,
    supplied: Mapping[str, int],
    since: datetime,
    requested_by: str,
    now: datetime,
) -> PlannedCalls:
    """Plan ``leads`` under ``rules``; ``supplied`` counts contacts the caller reported (on no
    particular channel); consent is read at ``now``.

    Scores, then touches, are committed before this returns (else the store raises and nothing
    is answered): a touch never points at an unaudited score, and no planned lead goes uncounted.
    """
    lead_ids = [str(lead[scoring.id_field]) for lead in leads]
    # the audit keeps every contribution as numbers
    batch = scoring.score_batch(leads, top_k=0, now=now, purpose=Purpose.CALL_PLANNING)
    # counting touches and recording this plan's are one step: a plan made at the same moment
    # waits, then counts these touches too
    with store.planning():
        return _plan_and_record(
            scoring, store, leads, lead_ids, batch, rules, supplied, since, requested_by
        )


def _plan_and_record(
    scoring: LeadScoringService,
    store: AuditStore,
    leads: Sequence[Mapping[str, Any]],
    lead_ids: list[str],
    batch: ScoredBatch,
    rules: PlanRules,
    supplied: Mapping[str, int],
    since: datetime,
    requested_by: str,
) -> PlannedCalls:
    segments = segment_fields(scoring.contract)
    planned_before = store.touches_by_channel_since(lead_ids, since.isoformat())
    results = scoring.results(batch)
    candidates = []
    for lead, result in zip(leads, results, strict=True):
        before = planned_before[result.lead_id]
        candidates.append(
            Candidate(
                lead_id=result.lead_id,
                score=result.score,
                grade=result.grade,
                segments=segment_values(lead, segments),
                suppressed=result.suppressed,
                touches_30d=supplied.get(result.lead_id, 0) + sum(before.values()),
                channels=frozenset(result.channels),
                channel_touches={c: n for c, n in before.items() if c is not None},
            )
        )
    # may refuse the request (422): before anything is written
    plan = plan_calls(
        candidates, rules=rules, seed=plan_seed(lead_ids), report_fields=[f.name for f in segments]
    )
    plan_id = uuid.uuid4().hex
    score_ids = {result.lead_id: result.score_id for result in results}
    events = score_events(
        batch, model=scoring.model_ref, requested_by=requested_by, lead_key=store.lead_key
    )
    if plan.entries:
        events.append(
            store.touches_event(
                [entry.lead_id for entry in plan.entries],
                plan_id=plan_id,
                requested_by=requested_by,
                score_ids=[score_ids[entry.lead_id] for entry in plan.entries],
                channels=[entry.channel for entry in plan.entries],
            )
        )
    # scores and touches in one commit: all or none
    store.append(events, model=lead_model_event(scoring))
    withheld = {result.lead_id: result.withheld for result in results}
    return PlannedCalls(plan_id, plan, score_ids, since, withheld)

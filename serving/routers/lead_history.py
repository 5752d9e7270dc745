"""GET /v1/leads/{lead_id}/scores and /changes: a lead's scores over time and what changed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Path, Query, Request

from candor.explain.score_changes import RULE as CHANGE_RULE
from candor.explain.score_changes import ScoreChange, ScoreSnapshot
from candor.models.errors import ErrorDetail, raise_if_invalid
from candor.models.leads.input_limits import LEAD_ID_PATTERN, InputLimits
from candor.models.leads.score_trend import Trend
from candor.models.leads.scorer import LeadScorer
from candor.models.settings import Settings
from candor.serving.audit import events as ev
from candor.serving.audit.lead_history import LeadHistory, LeadRecord
from candor.serving.audit.sealing import removal
from candor.serving.dependencies import (
    AuditDep,
    ReviewerDep,
    ScorerVersionsDep,
    SettingsDep,
    StateDep,
)
from candor.serving.lead_history_schemas import LeadScoresOut, ScoreChangeOut
from candor.serving.schemas import CURSOR_PATTERN, error_responses
from candor.serving.services.lead_history import lead_history, score_change

router = APIRouter(tags=["reviews"])

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
HISTORY_PARAMS = ("limit", "cursor")
CHANGE_PARAMS = ("from", "to")
_DIGITS = re.compile(r"[0-9]{1,18}")
_SCORE_ID = re.compile(r"[0-9a-f]{32}")  # a score id is a uuid4 in hex
LEAD_ID = Path(
    description="the lead's id as the CRM holds it (matched through its keyed pseudonym)",
    pattern=LEAD_ID_PATTERN,
)


def _check_lead_id(lead_id: str, settings: Settings, problems: list[ErrorDetail]) -> None:
    problem = InputLimits(max_lead_id_length=settings.max_lead_id_length).lead_id_problem(lead_id)
    if problem is not None:
        problems.append(ErrorDetail("lead_id", problem))  # the id itself is never echoed


def _unknown(request: Request, known: Sequence[str]) -> list[ErrorDetail]:
    return [
        ErrorDetail(name, f"unknown query parameter; expected one of {list(known)}")
        for name in request.query_params
        if name not in known
    ]


@router.get(
    "/v1/leads/{lead_id:path}/scores",
    operation_id="list_lead_scores",
    response_model=LeadScoresOut,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Every score of one lead, newest first, with decisions, outcomes and its trend",
)
def list_lead_scores(
    caller: ReviewerDep,
    request: Request,
    store: AuditDep,
    settings: SettingsDep,
    lead_id: str = LEAD_ID,
    limit: str = Query(
        str(DEFAULT_LIMIT),
        description=f"page size, 1 to {MAX_LIMIT}",
        json_schema_extra={
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        },
    ),
    cursor: str | None = Query(
        None,
        description="next_cursor of the previous page (a positive integer)",
        json_schema_extra={"pattern": CURSOR_PATTERN},
    ),
) -> dict[str, Any]:
    """The lead is found by the keyed pseudonym of its id (the log holds no raw id); each
    record shown is logged as read by the caller before the answer is sent."""
    problems = _unknown(request, HISTORY_PARAMS)
    _check_lead_id(lead_id, settings, problems)
    size = int(limit) if _DIGITS.fullmatch(limit) else 0
    if not 1 <= size <= MAX_LIMIT:
        problems.append(
            ErrorDetail("limit", f"expected an integer from 1 to {MAX_LIMIT}, got {limit!r}")
        )
    below = int(cursor) if cursor is not None and _DIGITS.fullmatch(cursor) else 0
    if cursor is not None and below < 1:
        problems.append(
            ErrorDetail("cursor", "expected the next_cursor of a previous page (an integer)")
        )
    raise_if_invalid(problems, noun="query parameter")
    history, trend = lead_history(
        store, lead_id, reader=caller.name, limit=size, cursor=below or None
    )
    return _history_out(history, trend, lead_key=store.lead_key(lead_id))


@router.get(
    "/v1/leads/{lead_id:path}/changes",
    operation_id="get_lead_score_change",
    response_model=ScoreChangeOut,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="What moved a lead's score between two of its scores, in parts that add up",
)
def get_lead_score_change(
    caller: ReviewerDep,
    request: Request,
    store: AuditDep,
    settings: SettingsDep,
    state: StateDep,
    versions: ScorerVersionsDep,
    lead_id: str = LEAD_ID,
    from_: str | None = Query(
        None,
        alias="from",
        description="the earlier score's id (default: the score before 'to')",
        json_schema_extra={"pattern": _SCORE_ID.pattern},
    ),
    to: str | None = Query(
        None,
        description="the later score's id (default: the lead's latest score)",
        json_schema_extra={"pattern": _SCORE_ID.pattern},
    ),
) -> dict[str, Any]:
    """The change of the margin (log-odds) split into each input's part and, when the two
    scores came from different model versions, the model's part: ``from.margin + model part +
    sum of the parts == to.margin``. Both records are logged as read by the caller."""
    problems = _unknown(request, CHANGE_PARAMS)
    _check_lead_id(lead_id, settings, problems)
    for name, value in (("from", from_), ("to", to)):
        if value is not None and not _SCORE_ID.fullmatch(value):
            problems.append(ErrorDetail(name, "expected a score id (32 hexadecimal digits)"))
    raise_if_invalid(problems, noun="query parameter")

    def scorer_of(version: str, run_id: str) -> LeadScorer:
        service = state.scoring
        if service is not None and service.model_ref.run_id == run_id:
            return service.scorer
        return versions.get(settings, version=version, run_id=run_id)

    change = score_change(
        store, lead_id, reader=caller.name, from_id=from_, to_id=to, scorer_of=scorer_of
    )
    return _change_out(change)


def _history_out(history: LeadHistory, trend: Trend, *, lead_key: str) -> dict[str, Any]:
    return {
        "lead_key": lead_key,
        "total": history.total,
        "trend": {
            "direction": trend.direction,
            "change": trend.change,
            "scores_used": trend.scores_used,
            "rule": trend.rule,
        },
        "scores": [_item(r) for r in history.records],
        "outcomes": list(history.outcomes),
        "next_cursor": None if history.next_cursor is None else str(history.next_cursor),
    }


def _item(record: LeadRecord) -> dict[str, Any]:
    body = record.body
    out: dict[str, Any] = {
        "score_id": record.score_id,
        "created_at": record.at,
        "kind": record.kind,
        "model": record.model.ref(),
        "requested_by": record.requested_by,
        "decisions": list(record.decisions),
    }
    if record.kind != ev.SCORE:
        return {**out, "suppressed": body.get("suppressed")}
    removed = removal(body)
    if removed is not None:  # the record stays; its inputs and explanation are gone
        codes = list(body.get("review", ()))
        return {
            **out,
            "removed": removed,
            "review": {"required": bool(codes), "reasons": codes, "notes": []},
        }
    codes = list(body.get("review", ()))
    overrides = [d["grade"] for d in record.decisions if d["decision"] == "override"]
    # a record imported from the older log holds its score, grade and review codes only
    return {
        **out,
        "score": body.get("score"),
        "grade": body.get("grade"),
        "interval": body.get("interval"),
        "confidence": body.get("confidence"),
        "review": {"required": bool(codes), "reasons": codes, "notes": body.get("notes", [])},
        "final_grade": overrides[-1] if overrides else body.get("grade"),
    }


def _end(s: ScoreSnapshot) -> dict[str, Any]:
    return {
        "score_id": s.score_id,
        "created_at": s.at,
        "model_version": s.model_version,
        "score": s.score,
        "grade": s.grade,
        "margin": s.margin,
    }


def _change_out(change: ScoreChange) -> dict[str, Any]:
    model = change.model_part
    return {
        "from": _end(change.old),
        "to": _end(change.new),
        "summary": change.summary(),
        "model_part": None
        if model is None
        else {
            "from_version": model.from_version,
            "to_version": model.to_version,
            "change": model.change,
            "text": model.text,
            "score_on_old_inputs": model.score_on_old_inputs,
        },
        "parts": [
            {
                "input": p.name,
                "label": p.label,
                "from_value": p.from_value,
                "to_value": p.to_value,
                "change": p.change,
                "text": p.text,
            }
            for p in change.parts
        ],
        "unchanged_inputs": list(change.unchanged),
        "total_change": change.total,
        "residual": change.residual,
        "rule": CHANGE_RULE,
    }

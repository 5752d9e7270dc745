"""GET /v1/monitoring/performance: real-world accuracy from recorded outcomes, and its plot.

ROC-AUC, Brier score and calibration by grade, each with a 95% interval and its counts, over
the audited scores that have a recorded outcome (which scores count: ``RULE`` in
``serving.monitoring.performance``), beside the holdout figures of the model versions that made
them; the same over the random-audit sample alone. Reviewers and admins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from candor.explain.performance_plots import HoldoutLine, MonthPoint, performance_png
from candor.models.errors import ErrorDetail, raise_if_invalid
from candor.models.settings import Settings
from candor.serving.dependencies import AuditDep, ReviewerDep, SettingsDep, StateDep
from candor.serving.monitoring.performance import (
    BY,
    HoldoutLookup,
    ServedScorer,
    Window,
    monthly_figures,
    performance_report,
)
from candor.serving.performance_schemas import PerformanceReport
from candor.serving.schemas import error_responses
from candor.serving.state import ServingState

router = APIRouter(tags=["monitoring"])

REPORT_PARAMS = ("since", "until", "by")
PLOT_PARAMS = ("since", "until")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_SCHEMA = {"type": "string", "format": "date"}

PNG = {
    "description": "a PNG image",
    "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
}


@dataclass(frozen=True)
class PerformanceQuery:
    window: Window
    by: str


def _date(name: str, text: str, problems: list[ErrorDetail]) -> date | None:
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    problems.append(ErrorDetail(name, f"expected a date YYYY-MM-DD (UTC), got {text!r}"))
    return None


def parse_performance_query(
    *,
    since: str | None = None,
    until: str | None = None,
    by: str = "month",
    unknown: Sequence[str] = (),
    known: Sequence[str] = REPORT_PARAMS,
    today: date | None = None,
) -> PerformanceQuery:
    """Check the query (as sent: text); every problem is named (422). ``until`` defaults to
    today (UTC), ``since`` to the first score."""
    problems = [
        ErrorDetail(name, f"unknown query parameter; expected one of {list(known)}")
        for name in unknown
    ]
    first = None if since is None else _date("since", since, problems)
    last = (today or datetime.now(UTC).date()) if until is None else _date("until", until, problems)
    if by not in BY:
        problems.append(ErrorDetail("by", f"expected one of {list(BY)}, got {by!r}"))
    if first is not None and last is not None and first > last:
        problems.append(
            ErrorDetail("since", f"the window starts after it ends: since {first} > until {last}")
        )
    raise_if_invalid(problems, noun="query parameter")
    assert last is not None  # else a problem was raised
    return PerformanceQuery(Window(first, last), by)


def holdout_lookup(state: ServingState, settings: Settings) -> HoldoutLookup:
    """The served champion's holdout figures from its loaded meta; others from the registry."""
    service = state.scoring
    served = None
    if service is not None:
        ref = service.model_ref
        served = ServedScorer(f"{ref.name}@{ref.version}", ref.run_id, service.scorer)
    return HoldoutLookup(settings, served)


SINCE = Query(
    None,
    description="first day of the window (by the score's time, UTC); default: the first score",
    json_schema_extra=DATE_SCHEMA,
)
UNTIL = Query(
    None,
    description="last day of the window, inclusive (UTC); default: today",
    json_schema_extra=DATE_SCHEMA,
)


@router.get(
    "/v1/monitoring/performance",
    operation_id="get_performance",
    response_model=PerformanceReport,
    responses=error_responses(401, 403, 422, 503),
    summary="Real-world ROC-AUC, Brier and calibration by grade from recorded outcomes, with "
    "95% intervals, beside the holdout figures",
)
def performance(
    caller: ReviewerDep,  # first: an unknown caller learns nothing else
    request: Request,
    store: AuditDep,
    settings: SettingsDep,
    state: StateDep,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    by: str = Query(
        "month",
        description="month: each calendar month (UTC) a window of its own; segment: by each "
        "audit segment that is a model input",
        json_schema_extra={"enum": list(BY)},
    ),
) -> dict[str, Any]:
    query = parse_performance_query(
        since=since,
        until=until,
        by=by,
        unknown=[name for name in request.query_params if name not in REPORT_PARAMS],
    )
    return performance_report(
        store,
        window=query.window,
        by=query.by,
        min_outcomes=settings.performance_min_outcomes,
        holdouts=holdout_lookup(state, settings),
    )


@router.get(
    "/v1/monitoring/performance/plot.png",
    operation_id="get_performance_plot",
    responses={200: PNG, **error_responses(401, 403, 422, 503)},
    response_class=Response,
    summary="A PNG of ROC-AUC and Brier per month with 95% intervals and the holdout figures",
)
def performance_plot(
    caller: ReviewerDep,
    request: Request,
    store: AuditDep,
    settings: SettingsDep,
    state: StateDep,
    since: str | None = SINCE,
    until: str | None = UNTIL,
) -> Response:
    query = parse_performance_query(
        since=since,
        until=until,
        unknown=[name for name in request.query_params if name not in PLOT_PARAMS],
        known=PLOT_PARAMS,
    )
    months, holdout = monthly_figures(
        store,
        window=query.window,
        min_outcomes=settings.performance_min_outcomes,
        holdouts=holdout_lookup(state, settings),
    )
    points = [
        MonthPoint(m.month, m.figures.count, m.figures.roc_auc, m.figures.brier) for m in months
    ]
    lines = [HoldoutLine(h.model, h.value("roc_auc"), h.value("brier")) for h in holdout]
    window = f"{query.window.since or 'first score'} to {query.window.until}"
    png = performance_png(
        points,
        lines,
        title=f"Real-world accuracy by month of scoring, {window}: 95% intervals; dashed: holdout",
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

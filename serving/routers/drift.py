"""GET /v1/monitoring/drift: input and score drift against the model's training reference, and
GET /v1/monitoring/drift/plot.png: one input's bins, reference against the window."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from candor.explain.drift_plots import drift_png
from candor.models.errors import (
    ErrorDetail,
    ModelNotAvailableError,
    NotFoundError,
    raise_if_invalid,
)
from candor.models.monitoring.reference import SCORE
from candor.serving.dependencies import AuditDep, ReviewerDep, SettingsDep, StateDep
from candor.serving.drift_schemas import DriftReportOut
from candor.serving.monitoring.drift import (
    DEFAULT_DAYS,
    drift_report,
    parse_window,
    record_check,
    report_dict,
)
from candor.serving.schemas import error_responses

router = APIRouter(tags=["monitoring"])

REPORT_PARAMS = ("since", "until")
PLOT_PARAMS = ("input", "version", "since", "until")
DATE = {"format": "date"}
VERSION = re.compile(r"[0-9]{1,9}")
SINCE = f"first day of the window, UTC, YYYY-MM-DD (default: {DEFAULT_DAYS} days up to until)"
UNTIL = "last day of the window, UTC, YYYY-MM-DD, included (default: today)"
PNG: dict[str, Any] = {
    "description": "a PNG image",
    "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
}


def _unknown(request: Request, known: Sequence[str]) -> None:
    """A typo such as ``?sinse=`` must not silently answer the default window."""
    raise_if_invalid(
        [
            ErrorDetail(name, f"unknown query parameter; expected one of {list(known)}")
            for name in request.query_params
            if name not in known
        ],
        noun="query parameter",
    )


@router.get(
    "/v1/monitoring/drift",
    operation_id="get_drift",
    response_model=DriftReportOut,
    responses=error_responses(401, 403, 422, 503),
    summary="Drift of the audited scores in a window against each version's training data",
)
def drift(
    caller: ReviewerDep,  # first: an unknown caller learns nothing else
    request: Request,
    store: AuditDep,
    state: StateDep,
    settings: SettingsDep,
    since: str | None = Query(None, description=SINCE, json_schema_extra=DATE),
    until: str | None = Query(None, description=UNTIL, json_schema_extra=DATE),
) -> dict[str, Any]:
    """Per model version that scored in the window, against that version's own reference
    (its holdout at training): the population stability index of each input and of the score,
    the shares of unseen categories and out-of-range values, review-code rates; overall and
    by audit segment. A check of a window that reaches today is kept (audit event
    ``drift_check``) and becomes the drift status of ``/healthz`` and of the model card; a look
    at an older window is answered and not kept (``recorded``)."""
    _unknown(request, REPORT_PARAMS)
    window = parse_window(since, until, noun="query parameter")
    champion = state.scoring.loaded if state.scoring is not None else None
    report = drift_report(store, settings, window, champion=champion)
    if window.is_current():
        state.drift = record_check(store, report, actor=caller.name, settings=settings)
    return {**report_dict(report), "recorded": window.is_current()}


@router.get(
    "/v1/monitoring/drift/plot.png",
    operation_id="get_drift_plot",
    responses={200: PNG, **error_responses(401, 403, 404, 422, 503)},
    response_class=Response,
    summary="A PNG of one input's bins: the training holdout's shares beside the window's",
)
def drift_plot(
    caller: ReviewerDep,
    request: Request,
    store: AuditDep,
    state: StateDep,
    settings: SettingsDep,
    input_name: str = Query(
        alias="input", description=f"a model input, or {SCORE!r} for the calibrated score"
    ),
    version: str | None = Query(
        None,
        description="the model version (default: the champion served)",
        json_schema_extra={"pattern": f"^{VERSION.pattern}$"},
    ),
    since: str | None = Query(None, description=SINCE, json_schema_extra=DATE),
    until: str | None = Query(None, description=UNTIL, json_schema_extra=DATE),
) -> Response:
    _unknown(request, PLOT_PARAMS)
    window = parse_window(since, until, noun="query parameter")
    if version is None:
        if state.scoring is None:
            raise ModelNotAvailableError(
                f"no champion is served ({state.scoring_error}): name the version (?version=)"
            )
        version = state.scoring.loaded.version
    elif not VERSION.fullmatch(version):
        raise_if_invalid(
            [ErrorDetail("version", f"expected a version number, got {version[:20]!r}")],
            noun="query parameter",
        )
    model = f"{settings.lead_model_name}@{version}"
    champion = state.scoring.loaded if state.scoring is not None else None
    report = drift_report(store, settings, window, champion=champion, model=model)
    [found] = report.versions
    if found.overall is None:
        raise NotFoundError(
            f"no drift reference for {model}: {found.reference_note}",
            [ErrorDetail("version", "no reference")],
        )
    drifts = {d.name: d for d in (*found.overall.inputs, found.overall.score)}
    chosen = drifts.get(input_name)
    if chosen is None:
        raise NotFoundError(
            f"{model} has no input {input_name[:60]!r}; its inputs: {sorted(drifts)}",
            [ErrorDetail("input", "not a model input")],
        )
    title = (
        f"{model}, {window.since.isoformat()} to {window.until.isoformat()} (UTC); "
        "reference: the holdout at training"
    )
    png = drift_png(chosen, scores=found.scores, title=title)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

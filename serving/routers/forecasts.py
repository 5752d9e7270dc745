"""Sales forecasts: POST /v1/forecasts, the picture of one series, and a forecast's record.

Forecasts follow the scores' rules: scorer or admin keys ask for them; each series' forecast is
written to the audit store (kind ``forecast``, in the same hash chain) before the answer; a
flagged forecast waits in the review queue (``GET /v1/reviews?kind=forecast``) and a reviewer
reads it whole at ``GET /v1/forecasts/{forecast_id}``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from candor.explain.forecast_plots import ForecastPanel, forecast_png, target_unit
from candor.models.errors import ErrorDetail, InputValidationError, NotFoundError
from candor.models.settings import FORECAST_MODEL_NAME
from candor.models.transparency import FORECAST_DISCLOSURE_TEXT, disclosure, model_card_path
from candor.serving.audit.records import forecast_events, forecast_model_event
from candor.serving.dependencies import AuditDep, ForecastDep, ReviewerDep, ScorerDep, SettingsDep
from candor.serving.sales_schemas import AccuracyOut, ScenariosIn, ScenariosOut
from candor.serving.schemas import (
    BODY_STATUSES,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_STATUSES,
    ForecastModelInfo,
    ForecastRecordOut,
    ForecastRequest,
    ForecastResponse,
    error_responses,
)
from candor.serving.services.forecast_accuracy import SERIES_LEVEL, forecast_accuracy, levels
from candor.serving.services.forecast_scenarios import forecast_scenarios
from candor.serving.services.forecasts import SeriesResult
from candor.serving.state import serving_state

router = APIRouter(tags=["forecasts"])
PLOT_WEEKS = 13

# the PNG's own answer: bytes, and the headers that say what it is
PNG = {
    "description": "a PNG image",
    "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {
        "Link": {"description": "the model card (rel=describedby)", "schema": {"type": "string"}},
        "X-Candor-Disclosure": {
            "description": "the output is machine-generated and advisory",
            "schema": {"type": "string"},
        },
    },
}


def series_result_json(result: SeriesResult) -> dict[str, Any]:
    """The response's shape of one series' forecast (``SeriesForecastOut``)."""
    return {
        **result.series,
        "forecast_id": result.forecast_id,
        "last_observed_week": result.last_observed_week,
        "forecast": result.weeks_json(),
        "assumed_covariates": list(result.assumed_covariates),
        "planned_covariates": result.planned_covariates,
        "review": result.review.to_dict(),
        "recent_weeks": result.recent_weeks_json(),
        **(
            {"hierarchy_level": result.hierarchy_level, "sums": list(result.sums)}
            if result.sums is not None
            else {}
        ),
    }


@router.post(
    "/v1/forecasts",
    operation_id="create_forecasts",
    response_model=ForecastResponse,
    responses=error_responses(401, 403, *IDEMPOTENT_STATUSES, *BODY_STATUSES, 503),
    openapi_extra=IDEMPOTENCY_KEY,
    summary="Weekly sales forecasts with 80%/95% intervals, drivers in units and a review flag",
)
def create_forecasts(
    caller: ScorerDep,  # first: an unknown caller learns nothing else
    body: ForecastRequest,
    service: ForecastDep,
    store: AuditDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    if not 1 <= len(body.series) <= settings.max_series_per_request:
        raise InputValidationError(
            f"field 'series': send 1 to {settings.max_series_per_request} series, "
            f"got {len(body.series)}",
            [ErrorDetail("series", f"1 to {settings.max_series_per_request} series")],
        )
    horizon = service.requests.check_horizon(body.horizon)
    requests = service.requests.check_series(body.series, horizon, body.future_covariates)
    results = service.forecast(requests, horizon)
    model = service.model_ref
    store.append(  # written (and committed) before the answer leaves
        forecast_events(
            results,
            horizon=horizon,
            model=model,
            requested_by=caller.name,
            series_key=store.series_key,
        ),
        model=forecast_model_event(model),
    )
    return {
        "model": {**model.to_dict(), "max_horizon": service.forecaster.horizon},
        "results": [series_result_json(r) for r in results],
        "disclosure": service.disclosure(),
    }


@router.post(
    "/v1/forecasts/scenarios",
    operation_id="create_forecast_scenarios",
    response_model=ScenariosOut,
    responses=error_responses(401, 403, *IDEMPOTENT_STATUSES, *BODY_STATUSES, 503),
    openapi_extra=IDEMPOTENCY_KEY,
    summary="One series under two or more named plans of future covariates, side by side: "
    "each plan's forecast and its difference from the first per week, by driver",
)
def create_forecast_scenarios(
    caller: ScorerDep,
    body: ScenariosIn,
    service: ForecastDep,
    store: AuditDep,
) -> dict[str, Any]:
    horizon = service.requests.check_horizon(body.horizon)
    scenarios = forecast_scenarios(service, body.series, body.scenarios, horizon)
    model = service.model_ref
    store.append(  # every plan's forecast is audited before the answer, as any forecast
        forecast_events(
            [s.result for s in scenarios],
            horizon=horizon,
            model=model,
            requested_by=caller.name,
            series_key=store.series_key,
            scenarios=[s.name for s in scenarios],
        ),
        model=forecast_model_event(model),
    )
    return {
        "model": {**model.to_dict(), "max_horizon": service.forecaster.horizon},
        "scenarios": [
            {
                "name": s.name,
                "forecast": series_result_json(s.result),
                "against": s.against,
                "difference": [w.to_dict() for w in s.weeks],
                "total_difference": s.total,
            }
            for s in scenarios
        ],
        "disclosure": service.disclosure(),
    }


@router.get(
    "/v1/forecasts/model",
    operation_id="get_forecast_model",
    response_model=ForecastModelInfo,
    responses=error_responses(401, 403, 503),
    summary="The forecaster being served: version, backtest metrics, series, maximum horizon",
)
def forecast_model(caller: ScorerDep, service: ForecastDep) -> dict[str, Any]:
    return service.model_info()


@router.get(
    "/v1/forecasts/plot.png",
    operation_id="get_forecast_plot",
    # the query names the series by the model's series fields: the spec lists them, as
    # required parameters, once a forecaster is loaded (candor.serving.openapi)
    responses={200: PNG, **error_responses(401, 403, 422, 503)},
    response_class=Response,
    summary="A PNG of one series: recent history, the forecast and its 80%/95% bands",
)
def forecast_plot(
    caller: ScorerDep,
    request: Request,
    service: ForecastDep,
    horizon: str | None = Query(
        None,
        description=f"weeks ahead, 1 to the model's maximum (default {PLOT_WEEKS}, or the "
        "maximum if shorter)",
    ),
) -> Response:
    """Query: the series fields (e.g. ``?territory=..&product=..``) and ``horizon`` (default
    13 weeks, or the model's maximum if shorter)."""
    horizon = horizon or str(min(PLOT_WEEKS, service.forecaster.horizon))
    fields = service.request_fields
    unknown = sorted(set(request.query_params) - {*fields, "horizon"})
    if unknown:
        raise InputValidationError(
            f"query parameter {unknown[0]!r} is unknown; expected {[*fields, 'horizon']}",
            [ErrorDetail(name, "unknown query parameter") for name in unknown],
        )
    if not re.fullmatch(r"[0-9]{1,3}", horizon):
        raise InputValidationError(
            f"query parameter 'horizon': expected a whole number of weeks, got {horizon!r}",
            [ErrorDetail("horizon", "not a whole number")],
        )
    weeks = service.requests.check_horizon(int(horizon))
    item = {name: request.query_params.get(name) for name in fields}
    if service.forecaster.hierarchy_ is not None:  # a node: the fields given only
        item = {name: value for name, value in item.items() if value is not None}
    [checked] = service.requests.check_series([item], weeks, None, in_body=False)
    [forecast] = service.forecaster.forecast_checked(
        keys=[checked.key], horizon=weeks, planned={}, explain=False
    )
    title = " / ".join(f"{k}={v}" for k, v in item.items()) or "national total"
    panel = ForecastPanel(service.history(checked.key), forecast, title)
    png = forecast_png(
        [panel],
        unit=target_unit(service.contract),
        title="Machine-generated and advisory; intervals at 80% and 95% (conformal)",
    )
    card = model_card_path(service.loaded.name)
    return Response(
        png,
        media_type="image/png",
        headers={
            "Link": f'<{card}>; rel="describedby"',
            "X-Candor-Disclosure": FORECAST_DISCLOSURE_TEXT,
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/v1/forecasts/accuracy",
    operation_id="get_forecast_accuracy",
    response_model=AccuracyOut,
    responses=error_responses(401, 403, 422, 503),
    summary="Accuracy of the audited forecasts against recorded actuals: MASE, bias and "
    "coverage by weeks ahead beside seasonal naive, and the value reviewers' overrides added",
)
def forecast_accuracy_report(
    caller: ReviewerDep,
    request: Request,
    store: AuditDep,
    since: str | None = Query(
        None,
        description="first forecast week measured (ISO date); default: the first",
        json_schema_extra={"format": "date"},
    ),
    until: str | None = Query(
        None,
        description="measure forecast weeks before this ISO date; default: every week",
        json_schema_extra={"format": "date"},
    ),
    level: str = Query(
        SERIES_LEVEL,
        description="series: every forecast as it was forecast (the only level of a model "
        "without a hierarchy); with a hierarchy, one of its levels (e.g. region/product_line, "
        "all/all for the national total; GET /v1/forecasts/model lists them): a node's actual "
        "is the sum of its series' actuals",
        max_length=200,
    ),
) -> dict[str, Any]:
    unknown = sorted(set(request.query_params) - {"since", "until", "level"})
    if unknown:
        raise InputValidationError(
            f"query parameter {unknown[0]!r} is unknown; expected since, until or level",
            [ErrorDetail(name, "unknown query parameter") for name in unknown],
        )
    service = serving_state(request.app).forecasting  # None: measured from the log alone
    known = levels(service)
    if level not in known:
        raise InputValidationError(
            f"query parameter 'level': expected one of {known}, got a value that is "
            "not a level of this model",
            [ErrorDetail("level", f"one of {known}")],
        )
    start, end = _query_date("since", since), _query_date("until", until)
    if start is not None and end is not None and end <= start:
        raise InputValidationError(
            "query parameter 'until': must be after 'since'",
            [ErrorDetail("until", "not after since")],
        )
    accuracy = forecast_accuracy(store, service, since=start, until=end, level=level)
    return {
        "level": level,
        "since": since,
        "until": until,
        **accuracy.to_dict(),
        "disclosure": disclosure(FORECAST_MODEL_NAME, text=FORECAST_DISCLOSURE_TEXT),
    }


def _query_date(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputValidationError(
            f"query parameter {name!r}: expected an ISO 8601 date such as 2026-11-02",
            [ErrorDetail(name, "not an ISO 8601 date")],
        ) from None


@router.get(
    "/v1/forecasts/{forecast_id}",
    operation_id="get_forecast",
    response_model=ForecastRecordOut,
    responses=error_responses(401, 403, 404, 503),
    summary="One forecast's audit record in full (reviewers): forecast, drivers, review, decisions",
)
def get_forecast(forecast_id: str, caller: ReviewerDep, store: AuditDep) -> dict[str, Any]:
    try:
        record = store.get_record(forecast_id, reader=caller.name)
    except NotFoundError as exc:
        raise NotFoundError(
            f"no forecast with forecast_id {forecast_id!r}",
            [ErrorDetail("forecast_id", "unknown forecast id")],
        ) from exc
    if record["kind"] != "forecast":
        raise NotFoundError(
            f"{forecast_id!r} is a lead score, not a forecast: see /v1/scores/{forecast_id}",
            [ErrorDetail("forecast_id", "not a forecast")],
        )
    keep = ("score_id", "created_at", "model", "requested_by", "decisions", "record_hash")
    out = {k: record[k] for k in keep}
    out["forecast_id"] = out.pop("score_id")
    # the record's model (name, version, run, contract) over the payload's "name@version"
    return {**record["payload"], **out}

"""The OpenAPI document as a generated client reads it: FastAPI's, completed with what only the
loaded models and the settings know.

FastAPI derives operations, parameters, security and most schemas from the routes. Some request
fields are checked against the served model's contract rather than by pydantic (a lead's fields,
a series' key, the horizon); this module writes those constraints into the document once per
model load, so that the spec states what the service accepts.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from candor.models.leads.input_limits import DEFAULT_LIMITS, LEAD_ID_PATTERN
from candor.models.settings import Settings
from candor.serving.routers.forecasts import PLOT_WEEKS
from candor.serving.schemas import ERROR_DESCRIPTIONS
from candor.serving.services.forecasts import ForecastService
from candor.serving.services.leads import LeadScoringService
from candor.serving.state import serving_state

COMPONENTS = "#/components/schemas/"
PLOT = ("/v1/forecasts/plot.png", "get")


def api_spec(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The app's document, built once per model load (``app.openapi_schema`` is reset then)."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = FastAPI.openapi(app)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    _bound_items(schemas, "ScoreRequest", "leads", settings.max_leads_per_request)
    _bound_items(schemas, "CallPlanRequest", "leads", settings.max_leads_per_request)
    _bound_items(schemas, "ForecastRequest", "series", settings.max_series_per_request)
    _errors_as_served(spec)
    state = serving_state(app)
    if state.scoring is not None:
        _lead_schema(schemas, state.scoring)
    _lead_id(schemas, "LeadIn", settings.max_lead_id_length)
    _lead_id(schemas, "OutcomeIn", DEFAULT_LIMITS.max_lead_id_length)  # OutcomeIn's own check
    if state.forecasting is not None:
        _forecast_schemas(spec, schemas, state.forecasting)
    app.openapi_schema = spec
    return spec


def _errors_as_served(spec: dict[str, Any]) -> None:
    """FastAPI's default 422 (its HTTPValidationError) as the body this service sends instead."""
    served = {"$ref": COMPONENTS + "ErrorResponse"}
    for operation in (op for ops in spec.get("paths", {}).values() for op in ops.values()):
        answer = operation.get("responses", {}).get("422", {})
        media = answer.get("content", {}).get("application/json", {})
        if media.get("schema", {}).get("$ref") == COMPONENTS + "HTTPValidationError":
            answer["description"] = ERROR_DESCRIPTIONS[422]
            media["schema"] = served
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def _bound_items(schemas: dict[str, Any], model: str, field: str, most: int) -> None:
    prop = schemas.get(model, {}).get("properties", {}).get(field)
    if prop is not None:
        prop.update(minItems=1, maxItems=most)


def _lead_id(schemas: dict[str, Any], model: str, most: int) -> None:
    """A lead id as InputLimits.lead_id_problem takes it (its checks are code, not pydantic's)."""
    prop = schemas.get(model, {}).get("properties", {}).get("lead_id")
    if prop is None:
        return
    text = {"type": "string", "minLength": 1, "maxLength": most, "pattern": LEAD_ID_PATTERN}
    prop["anyOf"] = [text, {"type": "integer"}]


def _lead_schema(schemas: dict[str, Any], scoring: LeadScoringService) -> None:
    """The contract's lead (``LeadIn``) as the item of every request's ``leads``."""
    lead = scoring.requests.model.model_json_schema(ref_template=COMPONENTS + "{model}")
    schemas.update(lead.pop("$defs", {}))
    schemas["LeadIn"] = lead
    for model in ("ScoreRequest", "CallPlanRequest"):
        leads = schemas.get(model, {}).get("properties", {}).get("leads")
        if leads is not None:
            leads["items"] = {"$ref": COMPONENTS + "LeadIn"}


def _forecast_schemas(
    spec: dict[str, Any], schemas: dict[str, Any], forecasting: ForecastService
) -> None:
    """A series named by the forecaster's series fields, its covariates and its horizon."""
    top = forecasting.forecaster.horizon
    series_fields = forecasting.series_fields
    keys = forecasting.known_keys()
    values = {name: sorted({key[i] for key in keys}) for i, name in enumerate(series_fields)}
    fields, required = list(series_fields), list(series_fields)
    what = "one series the model knows (GET /v1/forecasts/model lists them)"
    hierarchy = forecasting.forecaster.hierarchy_
    if hierarchy is not None:  # any node: one level per hierarchy, a hierarchy left out total
        fields = forecasting.request_fields
        for group in set(fields) - set(series_fields):
            values[group] = sorted({n.fields[group] for n in hierarchy.nodes if group in n.fields})
        # a series field without groups has no total: it stays required where it has values
        required = [
            d.series for d in hierarchy.dimensions if not d.groups and len(values[d.series]) > 1
        ]
        what = (
            "one series or node of the hierarchy: at most one level per hierarchy (e.g. "
            f"{[d.levels[:-1] for d in hierarchy.dimensions if d.groups]}); a hierarchy left out "
            "is its total, {} the national total (GET /v1/forecasts/model lists the nodes)"
        )
    planned = {
        "type": "object",
        "description": "covariate -> one planned value a week, for each week of the horizon",
        "properties": {
            name: {"type": "array", "items": {"type": "number", "minimum": 0}}
            for name in forecasting.future_covariates
        },
        "additionalProperties": False,
    }
    schemas["ForecastSeries"] = {
        "type": "object",
        "title": "ForecastSeries",
        "description": what,
        "properties": {
            **{name: {"type": "string", "enum": values[name]} for name in fields},
            "future_covariates": {"anyOf": [planned, {"type": "null"}]},
        },
        "required": required,
        "additionalProperties": False,
    }
    request = schemas.get("ForecastRequest", {}).get("properties", {})
    if "series" in request:
        request["series"]["items"] = {"$ref": COMPONENTS + "ForecastSeries"}
    if "horizon" in request:
        request["horizon"].update(minimum=1, maximum=top)
    if "future_covariates" in request:
        shared = request["future_covariates"]
        request["future_covariates"] = {
            "anyOf": [planned, {"type": "null"}],
            "description": shared.get("description", ""),
        }
    schemas["ForecastSeriesKey"] = {
        "type": "object",
        "title": "ForecastSeriesKey",
        "description": what + "; by its fields alone",
        "properties": {name: {"type": "string", "enum": values[name]} for name in fields},
        "required": required,
        "additionalProperties": False,
    }
    scenarios = schemas.get("ScenariosIn", {}).get("properties", {})
    if "series" in scenarios:
        described = scenarios["series"].get("description", "")
        scenarios["series"] = {"$ref": COMPONENTS + "ForecastSeriesKey", "description": described}
    if "horizon" in scenarios:
        scenarios["horizon"].update(minimum=1, maximum=top)
    if "scenarios" in scenarios:
        scenarios["scenarios"]["additionalProperties"] = planned
    operation = spec.get("paths", {}).get(PLOT[0], {}).get(PLOT[1])
    if operation is None:
        return
    horizon = {"type": "integer", "minimum": 1, "maximum": top, "default": min(PLOT_WEEKS, top)}
    kept = []
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "horizon" and parameter["in"] == "query":
            parameter["schema"] = horizon
        kept.append(parameter)
    series = [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": f"the series' {name}"
            if name in series_fields
            else f"a node's {name} (with a hierarchy)",
            "schema": {"type": "string", "enum": values[name]},
        }
        for name in fields
    ]
    operation["parameters"] = series + kept

"""Schemathesis over every route of the OpenAPI document, in process, as each role and as none.

The app serves the session's lead scorer and forecaster, with an audit database of its own (the
generated scores, decisions and outcomes stay out of the session's). For every operation and
role, Schemathesis sends the spec's examples, its coverage cases (boundaries, missing and wrong
values, methods the path does not allow) and a bounded number of generated requests, with a
fixed seed, and runs every built-in check on each answer: no server error; status code,
content type, headers and body as the spec declares; valid data accepted, invalid refused;
authentication not ignored; 405s with an Allow header.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import schemathesis
from api_support import with_overrides
from auth_support import keys_for
from fastapi import FastAPI
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.case import Case
from schemathesis.python.asgi import shutdown_lifespans

from candor.models.settings import Settings, get_settings
from candor.registry import FORECAST, load_model
from candor.serving.app import create_app
from candor.serving.schemas import IDEMPOTENCY_KEY
from candor.serving.services.forecasts import ForecastService
from candor.serving.state import serving_state

pytestmark = pytest.mark.slow

ROLES = ("none", "scorer", "reviewer", "auditor", "admin")
SEED = 20_260_601
MAX_EXAMPLES = 10  # generated requests per operation and role, beside examples and coverage
RAN: Counter[str] = Counter()
# operations whose schema-valid requests may still be refused (422) by a rule across fields, or
# against stored state or the clock, that a JSON Schema cannot state; every other rule is in
# the spec, and a valid request refused is a failure
CROSS_FIELD_RULES = {
    "create_call_plan": "lead ids unique; contact_history keyed by the request's lead ids, its "
    "dates past; min_share fields are segments, one field's shares summing to at most 1; a "
    "channel or a capacity per channel, not both, each a channel of the model's contract; a "
    "cap per channel only on a channel plan",
    "create_forecasts": "a covariate plans one value for each week of the horizon, within the "
    "range it was trained on; a series is asked once; a node names one level per hierarchy "
    "and exists",
    "create_forecast_scenarios": "a covariate plans one value for each week of the horizon, "
    "within the range it was trained on; a node names one level per hierarchy and exists",
    "get_forecast_plot": "a node names one level per hierarchy and exists",
    "record_sales_actuals": "a series the model knows, a week on the model's weekday and not "
    "in the future, each series and week once per request",
    "get_forecast_accuracy": "since before until",
    "list_reviews": "reason is a review code of the kind asked for",
    "decide_score": "confirm takes no grade; a lead's override needs a grade and a comment, a "
    "forecast's a comment; replacement units only with a forecast's override, one a week",
    "record_outcome": "observed_at from 1970 to a day from now",
    "get_lead_score_change": "from and to name two different scores",
    "get_drift": "since at most until",
    "get_drift_plot": "since at most until",
    "get_performance": "since at most until",
    "get_performance_plot": "since at most until",
}
# positive_data_acceptance's default statuses, and 422
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx", "422"]
IDEMPOTENCY_HEADER = "Idempotency-Key"
VALID_KEY = re.compile(IDEMPOTENCY_KEY["parameters"][0]["schema"]["pattern"])


@pytest.fixture(scope="module")
def fuzzed_settings(
    trained_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    audit: Path = tmp_path_factory.mktemp("schemathesis_audit")
    return with_overrides(
        trained_settings,
        database_url=f"sqlite:///{audit / 'audit.db'}",
        # the model card's rate limit would answer most of its cases with 429 (declared, and
        # tested in test_openapi_spec.py); here the card itself is under test
        model_card_burst=1_000_000,
    )


@pytest.fixture(scope="module")
def fuzzed_app(
    fuzzed_settings: Settings, forecast_settings: Settings, request: pytest.FixtureRequest
) -> Iterator[FastAPI]:
    """The app with both models: the session's lead scorer, and its forecaster beside it."""
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: fuzzed_settings
    forecaster = load_model(forecast_settings, kind=FORECAST)
    started = app.router.lifespan_context

    @asynccontextmanager
    async def with_forecaster(app: FastAPI) -> AsyncIterator[None]:
        async with started(app):
            state = serving_state(app)
            state.forecasting = ForecastService(forecaster, forecast_settings.forecast_policy)
            app.openapi_schema = None  # the spec states the forecaster's series and horizon
            yield

    app.router.lifespan_context = with_forecaster
    yield app
    shutdown_lifespans()
    # the count of cases sent, on the terminal (outside pytest's capture)
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        counts = ", ".join(f"{role} {RAN[role]}" for role in ROLES)
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"schemathesis: {sum(RAN.values())} cases sent (by role: {counts}), seed {SEED}"
            )


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api_schema(role: str, fuzzed_app: FastAPI, fuzzed_settings: Settings) -> object:
    def key(role: str) -> str:
        return keys_for(fuzzed_settings)[role]

    # the key through the spec's own security scheme, so that the ignored_auth check can take
    # it away (and send a wrong one) and see the 401
    auth = {} if role == "none" else {"auth": {"openapi": {"bearerAuth": {"bearer": key(role)}}}}
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            **auth,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "checks": {"enabled": True},
            "operations": [
                {
                    "include-operation-id": operation,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
                }
                for operation in CROSS_FIELD_RULES
            ],
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app, config=config)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's lazy pytest integration reads and writes Node._nodeid, which pytest
    # 9.2 keeps as Node._id: give it the attribute it expects (the report still uses _id)
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


def fresh_idempotency_key(case: Case) -> None:
    """A valid Idempotency-Key made unique: a key is one intended write, and the same key sent
    again with another body is refused (422) by design, whatever the spec's schema says."""
    headers = case.headers or {}
    key = headers.get(IDEMPOTENCY_HEADER)
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        headers[IDEMPOTENCY_HEADER] = uuid.uuid4().hex


@schema.parametrize()
def test_every_operation_answers_as_the_spec_says(case: Case, role: str) -> None:
    RAN[role] += 1
    fresh_idempotency_key(case)
    case.call_and_validate()

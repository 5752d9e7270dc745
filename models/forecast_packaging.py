"""The MLflow pyfunc wrapper of a :class:`SalesForecaster` and the champion loader (adapters).

``mlflow models serve`` and ``mlflow.pyfunc`` callers use :meth:`SalesForecasterModel.predict`:
one input row per series (its series fields), the ``horizon`` as a parameter, one output row
per series and week. Future covariates are then assumed to stay at their recent mean; callers
that plan them (serving) unwrap the forecaster and call :meth:`SalesForecaster.forecast`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.tracking import MlflowClient
from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

from candor.models.contract import SalesContract
from candor.models.errors import ErrorDetail, InputValidationError, ModelNotAvailableError
from candor.models.forecaster import INTERVAL_LEVELS, SalesForecaster, unwrap_forecaster
from candor.models.settings import Settings

FORECASTER_ARTIFACT = "forecaster"
METRIC_PREFIX = "backtest_"


def forecast_entry_path() -> Path:
    """The file MLflow runs to build the pyfunc model (see models/forecast_pyfunc_entry.py)."""
    return Path(__file__).with_name("forecast_pyfunc_entry.py")


def _output_columns(contract: SalesContract) -> list[tuple[str, str]]:
    columns = [(name, "string") for name in contract.series_names]
    columns += [("step", "long"), ("week", "string"), ("point", "double")]
    for level in INTERVAL_LEVELS:
        columns += [(f"lo{level}", "double"), (f"hi{level}", "double")]
    return columns


class SalesForecasterModel(PythonModel):
    """Series keys in, weekly point forecasts and 80%/95% bounds out (units sold)."""

    forecaster: SalesForecaster

    def load_context(self, context: Any) -> None:
        self.forecaster = SalesForecaster.load(context.artifacts[FORECASTER_ARTIFACT])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        contract = self.forecaster.contract_
        frame = pd.DataFrame(model_input)
        missing = [n for n in contract.series_names if n not in frame.columns]
        if missing:
            raise InputValidationError(
                f"input lacks series field(s) {missing}; expected columns {contract.series_names}",
                [ErrorDetail(n, "missing column") for n in missing],
            )
        horizon = int((params or {}).get("horizon") or self.forecaster.horizon)
        keys = [tuple(str(v) for v in row) for row in frame[contract.series_names].to_numpy()]
        results = self.forecaster.forecast(keys=keys, horizon=horizon, explain="none")
        rows: list[dict[str, Any]] = []
        for result in results:
            for week in result.weeks:
                row: dict[str, Any] = {**result.key, "step": week.step, "week": week.week}
                row["point"] = week.point
                for level in INTERVAL_LEVELS:
                    row[f"lo{level}"] = week.lower[level]
                    row[f"hi{level}"] = week.upper[level]
                rows.append(row)
        return pd.DataFrame(rows, columns=[name for name, _ in _output_columns(contract)])


def signature_for(forecaster: SalesForecaster) -> ModelSignature:
    """Series fields in (text), one row per series and week out; ``horizon`` as a parameter."""
    contract = forecaster.contract_
    inputs = Schema([ColSpec("string", name) for name in contract.series_names])
    outputs = Schema([ColSpec(kind, name) for name, kind in _output_columns(contract)])
    params = ParamSchema([ParamSpec("horizon", "long", forecaster.horizon)])
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def input_example(forecaster: SalesForecaster) -> pd.DataFrame:
    """The first training series' key (series keys are product and territory names, no PII)."""
    names = forecaster.contract_.series_names
    return pd.DataFrame([dict(zip(names, forecaster.series_keys[0], strict=True))])


@dataclass(frozen=True)
class LoadedForecaster:
    """A registered forecaster version and what every stored forecast must carry."""

    forecaster: SalesForecaster
    name: str
    version: str
    alias: str | None
    run_id: str
    trained_at: str  # ISO 8601, UTC
    metrics: dict[str, float]  # backtest metrics of the run, prefix removed (mase, coverage80)
    contract: str  # the contract's version tag: name@version+fingerprint


def load_forecaster(settings: Settings, ref: str | None = None) -> LoadedForecaster:
    """Load ``models:/<forecast_model_name>@<model_alias>`` (default) or a version number.

    Raises:
        ModelNotAvailableError: no such alias or version in the configured tracking store.
    """
    mlflow.set_tracking_uri(settings.tracking_uri)
    name = settings.forecast_model_name
    ref = ref or settings.model_alias
    client = MlflowClient()
    try:
        if ref.isdigit():
            version = client.get_model_version(name, ref)
            uri = f"models:/{name}/{ref}"
        else:
            version = client.get_model_version_by_alias(name, ref)
            uri = f"models:/{name}@{ref}"
        model = mlflow.pyfunc.load_model(uri)
    except MlflowException as exc:
        raise ModelNotAvailableError(
            f"no model at models:/{name}{'/' if ref.isdigit() else '@'}{ref} in "
            f"{settings.tracking_uri}; train one with `candor train forecast --data PATH`"
        ) from exc
    run = client.get_run(version.run_id) if version.run_id else None
    metrics = {
        k.removeprefix(METRIC_PREFIX): v
        for k, v in (run.data.metrics if run else {}).items()
        if k.startswith(METRIC_PREFIX)
    }
    started = run.info.start_time if run else version.creation_timestamp
    forecaster = unwrap_forecaster(model)
    return LoadedForecaster(
        forecaster,
        name,
        str(version.version),
        None if ref.isdigit() else ref,
        version.run_id or "",
        datetime.fromtimestamp(started / 1000, tz=UTC).isoformat(),
        metrics,
        forecaster.contract_.version_tag,
    )

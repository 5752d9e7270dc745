"""The MLflow pyfunc wrapper of a :class:`SalesForecaster`: signature, input example, unwrap.

``mlflow models serve`` and ``mlflow.pyfunc`` callers use :meth:`SalesForecasterModel.predict`:
one input row per series (its series fields), the ``horizon`` as a parameter, one output row
per series and week. Future covariates are then assumed to stay at their recent mean; callers
that plan them (serving) unwrap the forecaster and call :meth:`SalesForecaster.forecast`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.pyfunc import PyFuncModel
from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

from candor.models.contract import SalesContract
from candor.models.errors import ErrorDetail, InputValidationError
from candor.models.forecast import INTERVAL_LEVELS, SalesForecaster
from candor.registry.artifact_model import ArtifactModel, unwrap

FORECASTER_ARTIFACT = "forecaster"


def _output_columns(contract: SalesContract) -> list[tuple[str, str]]:
    columns = [(name, "string") for name in contract.series_names]
    columns += [("step", "long"), ("week", "string"), ("point", "double")]
    for level in INTERVAL_LEVELS:
        columns += [(f"lo{level}", "double"), (f"hi{level}", "double")]
    return columns


class SalesForecasterModel(ArtifactModel[SalesForecaster]):
    """Series keys in, weekly point forecasts and 80%/95% bounds out (units sold)."""

    ARTIFACT = FORECASTER_ARTIFACT
    read = staticmethod(SalesForecaster.load)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        contract = self.model.contract_
        frame = pd.DataFrame(model_input)
        missing = [n for n in contract.series_names if n not in frame.columns]
        if missing:
            raise InputValidationError(
                f"input lacks series field(s) {missing}; expected columns {contract.series_names}",
                [ErrorDetail(n, "missing column") for n in missing],
            )
        horizon = int((params or {}).get("horizon") or self.model.horizon)
        keys = [tuple(str(v) for v in row) for row in frame[contract.series_names].to_numpy()]
        results = self.model.forecast(keys=keys, horizon=horizon, explain="none")
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


def unwrap_forecaster(model: PyFuncModel) -> SalesForecaster:
    """The forecaster inside a loaded pyfunc model, for forecasts with planned covariates."""
    return unwrap(model, SalesForecasterModel).model

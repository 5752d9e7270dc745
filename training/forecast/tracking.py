"""MLflow adapter for the sales forecaster: log it as a pyfunc model from code and register it.

The run, alias and version-tag helpers are shared with the lead scorer (``training.tracking``).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import mlflow

from candor.models.forecast_packaging import (
    FORECASTER_ARTIFACT,
    forecast_entry_path,
    input_example,
    signature_for,
)
from candor.models.forecaster import SalesForecaster

# Given explicitly: inferring requirements costs ~20 s per log_model (PERFORMANCE.md).
_REQUIREMENTS = [
    f"{pkg}=={version(pkg)}"
    for pkg in ("lightgbm", "numpy", "pandas", "pyyaml", "scipy", "pydantic-settings")
]


def log_forecaster(forecaster: SalesForecaster, *, workdir: Path, registered_name: str) -> str:
    """Log the forecaster as a pyfunc model in the active run and register it; the version."""
    directory = forecaster.save(workdir / FORECASTER_ARTIFACT)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(forecast_entry_path()),  # models from code: nothing pickled
        artifacts={FORECASTER_ARTIFACT: str(directory)},
        signature=signature_for(forecaster),
        pip_requirements=_REQUIREMENTS,
        registered_model_name=registered_name,
        input_example=input_example(forecaster),
    )
    if info.registered_model_version is None:
        raise RuntimeError(f"MLflow did not register a version of {registered_name!r}")
    return str(info.registered_model_version)

"""What differs between the kinds of Candor model in the registry, in one typed record each.

Logging and loading are written once (``registry.tracking``, ``registry.loader``) and read the
kind for its registered name, artifact, entry file, signature and the metrics it carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Generic, TypeVar

import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.pyfunc import PyFuncModel

from candor.models.forecast import SalesForecaster
from candor.models.leads.scorer import LeadScorer
from candor.models.settings import Settings
from candor.registry import forecast_pyfunc, lead_pyfunc
from candor.registry.entries import FORECAST_ENTRY, LEAD_ENTRY

M = TypeVar("M")


@dataclass(frozen=True)
class ModelKind(Generic[M]):
    """How one kind of model (type ``M``) is logged to and loaded from MLflow."""

    command: str  # `candor train <command>` trains it (named in "no model" errors)
    registered_name: Callable[[Settings], str]
    metric_prefix: str  # the run metrics a loaded model carries, prefix removed
    skipped_metrics: str | None  # ... except those whose name holds this
    artifact: str  # the pyfunc artifact holding the model's plain files
    entry: Path  # the models-from-code file MLflow runs at load time
    packages: tuple[str, ...]  # pinned to the installed versions as pip requirements
    save: Callable[[M, Path], Path]
    signature: Callable[[M], ModelSignature]
    input_example: Callable[[M], pd.DataFrame]
    unwrap: Callable[[PyFuncModel], M]
    contract_tag: Callable[[M], str]

    def requirements(self) -> list[str]:
        # Given explicitly: inferring requirements costs ~20 s per log_model (PERFORMANCE.md).
        return [f"{pkg}=={version(pkg)}" for pkg in self.packages]

    def run_metrics(self, metrics: dict[str, float]) -> dict[str, float]:
        """The metrics of a run that describe the model, prefix removed."""
        skipped = self.skipped_metrics
        return {
            k.removeprefix(self.metric_prefix): v
            for k, v in metrics.items()
            if k.startswith(self.metric_prefix) and (skipped is None or skipped not in k)
        }


LEADS: ModelKind[LeadScorer] = ModelKind(
    command="leads",
    registered_name=lambda settings: settings.lead_model_name,
    metric_prefix="holdout_",
    skipped_metrics="uncalibrated",
    artifact=lead_pyfunc.SCORER_ARTIFACT,
    entry=LEAD_ENTRY,
    packages=("lightgbm", "numpy", "pandas", "pyyaml", "scikit-learn", "venn-abers"),
    save=lambda scorer, directory: scorer.save(directory),
    signature=lambda scorer: lead_pyfunc.signature_for(scorer.contract_),
    input_example=lead_pyfunc.synthetic_input_example,
    unwrap=lead_pyfunc.unwrap_scorer,
    contract_tag=lambda scorer: scorer.contract_.version_tag,
)

BACKTEST_METRIC_PREFIX = "backtest_"

FORECAST: ModelKind[SalesForecaster] = ModelKind(
    command="forecast",
    registered_name=lambda settings: settings.forecast_model_name,
    metric_prefix=BACKTEST_METRIC_PREFIX,  # mase, coverage80, ...
    skipped_metrics=None,
    artifact=forecast_pyfunc.FORECASTER_ARTIFACT,
    entry=FORECAST_ENTRY,
    packages=("lightgbm", "numpy", "pandas", "pyyaml", "scipy", "pydantic-settings"),
    save=lambda forecaster, directory: forecaster.save(directory),
    signature=forecast_pyfunc.signature_for,
    input_example=forecast_pyfunc.input_example,
    unwrap=forecast_pyfunc.unwrap_forecaster,
    contract_tag=lambda forecaster: forecaster.contract_.version_tag,
)

"""What differs between the kinds of Candor model in the registry, in one typed record each.

Logging and loading are written once (``registry.tracking``, ``registry.loader``) and read the
kind for its registered name, artifact, entry file, signature and the metrics it carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.pyfunc import PyFuncModel

from candor.models.forecast import SalesForecaster
from candor.models.leads.scorer import LeadScorer
from candor.models.settings import Settings
from candor.models.transparency import (
    LEAD_SCORER_CARD,
    SALES_FORECASTER_CARD,
    CardText,
    model_card_path,
)
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
    code: tuple[str, ...]  # the Candor packages the logged model carries (its code_paths)
    save: Callable[[M, Path], Path]
    signature: Callable[[M], ModelSignature]
    input_example: Callable[[M], pd.DataFrame]
    unwrap: Callable[[PyFuncModel], M]
    contract_tag: Callable[[M], str]
    card: CardText  # the model card's fixed text: the registry description starts from it
    direct_use: str  # what a caller who loads the model through MLflow gets, in a sentence

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
    # every distribution that loading the model and predict import (the scoring core reaches
    # into serving: fastapi, pydantic, orjson; TreeSHAP: numba); a test loads the model
    # without an installed Candor and checks that nothing else is imported. holidays: the
    # contract package checks the built-in sales contract's holiday calendar when imported
    packages=(
        "fastapi",
        "holidays",
        "lightgbm",
        "numba",
        "numpy",
        "orjson",
        "pandas",
        "pyarrow",
        "pydantic",
        "pydantic-settings",
        "pyyaml",
        "scikit-learn",
        "scipy",
        "venn-abers",
    ),
    # the scoring core's packages (not training, the CLI or the data samples): a Spark worker
    # or a fresh environment runs the model without Candor installed
    code=("candor.models", "candor.explain", "candor.registry", "candor.serving"),
    save=lambda scorer, directory: scorer.save(directory),
    signature=lead_pyfunc.signature_for,
    input_example=lead_pyfunc.synthetic_input_example,
    unwrap=lead_pyfunc.unwrap_scorer,
    contract_tag=lambda scorer: scorer.contract_.version_tag,
    card=LEAD_SCORER_CARD,
    direct_use=(
        "Loaded through MLflow (pyfunc.load_model, spark_udf, mlflow models serve) it scores "
        "with the service's checks, suppression and consent rules, but its scores are not "
        "audited (every row says audited=false): the HTTP API and `candor score batch` write "
        "Candor's audit log."
    ),
)

BACKTEST_METRIC_PREFIX = "backtest_"

FORECAST: ModelKind[SalesForecaster] = ModelKind(
    command="forecast",
    registered_name=lambda settings: settings.forecast_model_name,
    metric_prefix=BACKTEST_METRIC_PREFIX,  # mase, coverage80, ...
    skipped_metrics=None,
    artifact=forecast_pyfunc.FORECASTER_ARTIFACT,
    entry=FORECAST_ENTRY,
    packages=("holidays", "lightgbm", "numpy", "pandas", "pyyaml", "scipy", "pydantic-settings"),
    # none yet: its entry file does not keep a loading process on its installed Candor (see
    # entries/pyfunc_entry.py), so a copy on sys.path could shadow modules imported later
    code=(),
    save=lambda forecaster, directory: forecaster.save(directory),
    signature=forecast_pyfunc.signature_for,
    input_example=forecast_pyfunc.input_example,
    unwrap=forecast_pyfunc.unwrap_forecaster,
    contract_tag=lambda forecaster: forecaster.contract_.version_tag,
    card=SALES_FORECASTER_CARD,
    direct_use=(
        "Loaded through MLflow it forecasts with future covariates at their recent mean; the "
        "HTTP API also takes planned ones."
    ),
)


def _card_link(name: str) -> str:
    return (
        f"Model card: GET {model_card_path(name)} on the Candor service (`candor serve`; "
        "add ?format=html for a page): intended use, limitations, metrics and every version's "
        "gate decision."
    )


def model_description(kind: ModelKind[Any], name: str) -> str:
    """The registered model's description: what it is, how direct use differs, its card."""
    return f"{kind.card.title}. {kind.card.summary}\n\n{kind.direct_use}\n\n{_card_link(name)}"


def version_description(kind: ModelKind[Any], name: str, version: str, run_id: str) -> str:
    """A version's description: where it came from and where its card is."""
    return (
        f"{kind.card.title}, version {version}, trained in MLflow run {run_id}; its gate "
        f"decision is in its tags (gate.*).\n\n{_card_link(name)}"
    )

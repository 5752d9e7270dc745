"""MLflow adapter: where runs go, how a scorer is logged and registered, the champion alias."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from models import pyfunc_entry_path
from models.packaging import (
    SCORER_ARTIFACT,
    signature_for,
    synthetic_input_example,
    unwrap_scorer,
)
from models.scorer import LeadScorer
from models.settings import Settings

# Given explicitly: inferring requirements costs ~20 s per log_model (PERFORMANCE.md).
_REQUIREMENTS = [
    f"{pkg}=={version(pkg)}"
    for pkg in ("lightgbm", "numpy", "pandas", "pyyaml", "scikit-learn", "venn-abers")
]


def configure(settings: Settings, experiment: str | None = None) -> str:
    """Point MLflow at the configured store and make sure the experiment exists; its id."""
    settings.home.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    name = experiment or settings.experiment
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        experiment_id = found.experiment_id
    else:
        location = None
        if settings.mlflow_tracking_uri is None:  # embedded store: artifacts beside it
            settings.artifact_root.mkdir(parents=True, exist_ok=True)
            location = settings.artifact_root.as_uri()
        experiment_id = mlflow.create_experiment(name, artifact_location=location)
    mlflow.set_experiment(experiment_id=experiment_id)
    return str(experiment_id)


def log_scorer(scorer: LeadScorer, *, workdir: Path, registered_name: str) -> str:
    """Log the scorer as a pyfunc model in the active run, register it; the new version."""
    scorer_dir = scorer.save(workdir / SCORER_ARTIFACT)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(pyfunc_entry_path()),  # models from code: nothing pickled
        artifacts={SCORER_ARTIFACT: str(scorer_dir)},
        signature=signature_for(scorer.contract_),
        pip_requirements=_REQUIREMENTS,
        registered_model_name=registered_name,
        input_example=synthetic_input_example(scorer),
    )
    if info.registered_model_version is None:
        raise RuntimeError(f"MLflow did not register a version of {registered_name!r}")
    return str(info.registered_model_version)


def champion_version(name: str, alias: str) -> str | None:
    try:
        return str(MlflowClient().get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def load_scorer(name: str, ref: str) -> LeadScorer:
    """Load ``models:/name@alias`` or ``models:/name/version`` and unwrap the fast scorer."""
    sep = "/" if ref.isdigit() else "@"
    return unwrap_scorer(mlflow.pyfunc.load_model(f"models:/{name}{sep}{ref}"))


def set_alias(name: str, alias: str, version: str) -> None:
    MlflowClient().set_registered_model_alias(name, alias, version)


def tag_version(name: str, version: str, tags: dict[str, str]) -> None:
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)

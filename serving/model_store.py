"""Load the champion scorer from MLflow once, at start-up (adapter: no scoring logic here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from candor.models.errors import ModelNotAvailableError
from candor.models.leads.scorer import LeadScorer
from candor.models.packaging import unwrap_scorer
from candor.models.settings import Settings


@dataclass(frozen=True)
class LoadedModel:
    scorer: LeadScorer
    name: str
    version: str
    alias: str
    run_id: str
    trained_at: str
    metrics: dict[str, float]


def load_champion(settings: Settings) -> LoadedModel:
    mlflow.set_tracking_uri(settings.tracking_uri)
    name, alias = settings.lead_model_name, settings.model_alias
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, alias)
        model = mlflow.pyfunc.load_model(f"models:/{name}@{alias}")
    except MlflowException as exc:
        raise ModelNotAvailableError(
            f"no model at models:/{name}@{alias} in {settings.tracking_uri}; "
            "train one with `candor train leads --data PATH`"
        ) from exc
    run = client.get_run(version.run_id) if version.run_id else None
    metrics = {
        k.removeprefix("holdout_"): v
        for k, v in (run.data.metrics if run else {}).items()
        if k.startswith("holdout_") and "uncalibrated" not in k
    }
    started = run.info.start_time if run else version.creation_timestamp
    trained_at = datetime.fromtimestamp(started / 1000, tz=UTC).isoformat()
    return LoadedModel(
        unwrap_scorer(model),
        name,
        str(version.version),
        alias,
        version.run_id or "",
        trained_at,
        metrics,
    )

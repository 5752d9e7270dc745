"""MLflow adapter: where runs go, how a scorer is logged and registered, the champion alias."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from candor.models import pyfunc_entry_path, run_artifacts
from candor.models.errors import CandorError, ErrorDetail, NotFoundError
from candor.models.leads.scorer import LeadScorer
from candor.models.packaging import (
    SCORER_ARTIFACT,
    signature_for,
    synthetic_input_example,
    unwrap_scorer,
)
from candor.models.settings import Settings

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


PROMOTION_ARTIFACT = "promotion.json"


def promote(
    settings: Settings,
    version: str,
    *,
    justification: str,
    by: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Move the champion alias to ``version`` by hand, recording why, who and when.

    The admin path past the gate (a version that failed it, or any other). The record goes on
    the model version as tags (``promotion.justification``, ``promotion.by``,
    ``promotion.at``, ``promotion.previous_champion``) and on the version's run, as the same
    tags and appended to the run artifact ``promotion.json`` (every manual promotion of that
    version, oldest first). The record is written before the alias moves.

    Raises:
        CandorError: an empty justification (code ``justification_required``).
        NotFoundError: no such version of the model.
    """
    text = justification.strip()
    if not text:
        raise CandorError(
            "a manual promotion needs a justification: --justify 'why this version should "
            "serve' (it is recorded on the version and shown on the model card)",
            [ErrorDetail("justification", "empty")],
            code="justification_required",
        )
    name, alias = settings.lead_model_name, settings.model_alias
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    try:
        found = client.get_model_version(name, str(version)) if str(version).isdigit() else None
    except MlflowException:
        found = None
    if found is None:
        try:
            known = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
        except MlflowException:
            known = []
        raise NotFoundError(
            f"model {name!r} has no version {version!r}; known versions: {known or 'none'}",
            [ErrorDetail("version", f"unknown version {version!r}")],
        )
    try:
        previous: str | None = str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        previous = None
    when = (at or datetime.now(UTC)).isoformat(timespec="seconds")
    record: dict[str, Any] = {
        "model": name,
        "version": str(found.version),
        "alias": alias,
        "justification": text,
        "by": by,
        "at": when,
        "previous_champion": previous,
        "gate_promoted": found.tags.get("gate.promoted"),
        "gate_reason": found.tags.get("gate.reason"),
        "fairness_passed": found.tags.get("fairness.passed"),
    }
    tags = {
        "promotion.justification": text,
        "promotion.by": by,
        "promotion.at": when,
        "promotion.previous_champion": previous or "none",
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, str(found.version), key, value)
    run_id = found.run_id
    if run_id:
        history = _promotion_history(client, run_id)
        client.log_dict(run_id, {"promotions": [*history, record]}, PROMOTION_ARTIFACT)
        for key, value in tags.items():
            client.set_tag(run_id, key, value)
    client.set_registered_model_alias(name, alias, str(found.version))
    return record


def run_json(settings: Settings, run_id: str, path: str) -> Any | None:
    """A JSON artifact of a run (e.g. ``fairness/audit.json``), or None when it has none."""
    return run_artifacts.run_json(MlflowClient(tracking_uri=settings.tracking_uri), run_id, path)


def _promotion_history(client: MlflowClient, run_id: str) -> list[dict[str, Any]]:
    record = run_artifacts.run_json(client, run_id, PROMOTION_ARTIFACT) or {}
    return list(record.get("promotions", []))

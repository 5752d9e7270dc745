"""Load a registered Candor model, of any kind, with what every stored result must carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel

from candor.models.errors import ModelNotAvailableError
from candor.models.model_ref import ModelRef
from candor.models.settings import Settings
from candor.registry.kinds import ModelKind
from candor.registry.store import client_for

M = TypeVar("M")


@dataclass(frozen=True)
class LoadedModel(Generic[M]):
    """A registered model version, unwrapped, and where it came from."""

    model: M
    name: str
    version: str
    alias: str | None  # None when loaded by version number
    run_id: str
    trained_at: str  # ISO 8601, UTC: the start of the training run
    metrics: dict[str, float]  # the kind's run metrics, prefix removed (roc_auc; mase)
    contract: str  # the contract's version tag: name@version+fingerprint

    @property
    def ref(self) -> ModelRef:
        """What every result of this model names, so that it can be reproduced."""
        return ModelRef(self.name, self.version, self.run_id, self.contract)


def model_uri(name: str, ref: str) -> str:
    """``models:/name/3`` for a version number, ``models:/name@alias`` for an alias."""
    return f"models:/{name}{'/' if ref.isdigit() else '@'}{ref}"


def load_pyfunc(settings: Settings, *, name: str, ref: str) -> tuple[ModelVersion, PyFuncModel]:
    """The registered version ``ref`` (a number or an alias) of ``name`` and its pyfunc model.

    Raises:
        MlflowException: no such model, version or alias in the configured store.
    """
    client = client_for(settings)
    if ref.isdigit():
        version = client.get_model_version(name, ref)
    else:
        version = client.get_model_version_by_alias(name, ref)
    source = client.get_model_version_download_uri(name, str(version.version))
    # the version's own artifact location: no models:/ URI, which MLflow would resolve
    # through the process-wide registry URI
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=source, tracking_uri=settings.tracking_uri
    )
    return version, mlflow.pyfunc.load_model(local)


def load_model(settings: Settings, *, kind: ModelKind[M], ref: str | None = None) -> LoadedModel[M]:
    """Load ``models:/<kind's name>@<model_alias>`` (default) or ``ref``, a version or alias.

    Raises:
        ModelNotAvailableError: no such alias or version in the configured tracking store.
    """
    name = kind.registered_name(settings)
    ref = ref or settings.model_alias
    try:
        version, pyfunc = load_pyfunc(settings, name=name, ref=ref)
    except MlflowException as exc:
        raise ModelNotAvailableError(
            f"no model at {model_uri(name, ref)} in {settings.tracking_uri}; "
            f"train one with `candor train {kind.command} --data PATH`"
        ) from exc
    run = client_for(settings).get_run(version.run_id) if version.run_id else None
    started = run.info.start_time if run else version.creation_timestamp
    model = kind.unwrap(pyfunc)
    return LoadedModel(
        model=model,
        name=name,
        version=str(version.version),
        alias=None if ref.isdigit() else ref,
        run_id=version.run_id or "",
        trained_at=datetime.fromtimestamp(started / 1000, tz=UTC).isoformat(),
        metrics=kind.run_metrics(run.data.metrics if run else {}),
        contract=kind.contract_tag(model),
    )

"""Experiments, training runs and what a run logs: params, metrics, tags, files, the model.

A run is opened with :func:`training_run`; the :class:`TrainingRun` it yields logs through a
client bound to the configured store, so nothing in training touches MLflow's global state.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.time import get_current_time_millis

from candor.models.settings import Settings
from candor.registry.artifact_model import CONFIG_NAME, CONFIG_RUN_ID
from candor.registry.kinds import ModelKind, model_description, version_description
from candor.registry.lead_pyfunc import NOT_AUDITED_WARNING
from candor.registry.store import client_for, global_tracking_uri, owner_only_tree

M = TypeVar("M")


def ensure_experiment(settings: Settings, name: str) -> str:
    """The id of experiment ``name`` in the configured store, created when missing."""
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    client = client_for(settings)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if settings.mlflow_tracking_uri is None:  # embedded store: artifacts beside it
        settings.artifact_root.mkdir(mode=0o700, parents=True, exist_ok=True)
        location = settings.artifact_root.as_uri()
    return str(client.create_experiment(name, artifact_location=location))


@dataclass(frozen=True)
class TrainingRun:
    """An open MLflow run: everything a training command records goes through here."""

    run_id: str
    client: MlflowClient

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.client.log_batch(self.run_id, params=[Param(k, str(v)) for k, v in params.items()])

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        now = get_current_time_millis()
        batch = [Metric(k, float(v), now, 0) for k, v in metrics.items()]
        self.client.log_batch(self.run_id, metrics=batch)

    def log_metric(self, key: str, value: float) -> None:
        self.client.log_metric(self.run_id, key, value)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_dict(self, value: Any, path: str) -> None:
        """``value`` as the JSON (or YAML, by extension) artifact ``path``."""
        self.client.log_dict(self.run_id, value, path)

    def log_text(self, text: str, path: str) -> None:
        self.client.log_text(self.run_id, text, path)

    def log_artifact(self, local: Path, folder: str | None = None) -> None:
        """The file ``local`` under the run's artifact ``folder`` (its root by default)."""
        self.client.log_artifact(self.run_id, str(local), folder)

    def log_model(
        self, kind: ModelKind[M], model: M, *, workdir: Path, registered_name: str
    ) -> str:
        """Log ``model`` as a pyfunc model from code in this run, register it; the new version.

        The model travels as its plain files (``kind.save``) beside the kind's entry file:
        nothing pickled. ``mlflow.pyfunc.log_model`` has no client form; it logs into the
        active run that :func:`training_run` opened, under the same tracking URI. The model
        and the version get a description that names the model card.
        """
        directory = kind.save(model, workdir / kind.artifact)
        with _quiet_serving_check():
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(kind.entry),
                artifacts={kind.artifact: str(directory)},
                # Candor's own code, as source files (see copy_code): a Spark worker or a fresh
                # environment has the pinned third-party packages but no Candor
                code_paths=[str(copy_code(kind.code, workdir / "code"))] if kind.code else None,
                # where its results say they come from (the version is assigned after this)
                model_config={CONFIG_NAME: registered_name, CONFIG_RUN_ID: self.run_id},
                signature=kind.signature(model),
                pip_requirements=kind.requirements(),
                registered_model_name=registered_name,
                input_example=kind.input_example(model),
            )
        if info.registered_model_version is None:
            raise RuntimeError(f"MLflow did not register a version of {registered_name!r}")
        version = str(info.registered_model_version)
        self.client.update_registered_model(
            registered_name, description=model_description(kind, registered_name)
        )
        self.client.update_model_version(
            registered_name,
            version,
            description=version_description(kind, registered_name, version, self.run_id),
        )
        return version


@contextmanager
def _quiet_serving_check() -> Iterator[None]:
    """Drop the lead model's not-audited warning while MLflow logs it: ``log_model`` checks
    the input example by loading the model and predicting on it, which is no one's scoring."""

    def keep(record: logging.LogRecord) -> bool:
        return record.getMessage() != NOT_AUDITED_WARNING

    logger = logging.getLogger("candor.registry")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def copy_code(packages: tuple[str, ...], into: Path) -> Path:
    """The Python files of the Candor ``packages`` laid out as installed, under ``into/candor``.

    Why source files as ``code_paths`` rather than a wheel in the requirements: MLflow puts
    ``code/`` on ``sys.path`` wherever it loads the model, with every environment manager
    (``local`` included, which installs nothing: the Spark worker case), and a wheel would need
    a build step and a source tree at training time. The copy is taken from wherever the
    packages are imported from (an editable checkout or site-packages), so the model carries
    exactly the code that trained it. A process that already runs an installed Candor keeps
    it: the entry file takes the copy off ``sys.path`` there (``entries/pyfunc_entry.py``).
    """
    root = into / "candor"
    for name in packages:
        shutil.copytree(
            _package_folder(name),
            root.joinpath(*name.split(".")[1:]),
            ignore=_not_python,
            dirs_exist_ok=True,
        )
    return root


def _package_folder(name: str) -> Path:
    """The folder of the regular package ``name`` (the one holding its ``__init__.py``).

    Asked of each importer rather than read from ``__path__``: a stray folder of the same name
    (numba's cache in ``site-packages/candor/models``, say) can make the imported package a
    namespace whose path holds no source at all.
    """
    parent = importlib.import_module(name.rpartition(".")[0])
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec(name, list(parent.__path__)) if find_spec else None
        if spec is not None and spec.origin and spec.origin.endswith("__init__.py"):
            return Path(spec.origin).parent
    raise ModuleNotFoundError(f"no regular package {name!r} to copy into the model", name=name)


def _not_python(folder: str, names: list[str]) -> set[str]:
    """What :func:`copy_code` leaves out: caches, and every file that is not Python source."""
    return {
        n
        for n in names
        if n == "__pycache__" or (not n.endswith(".py") and not Path(folder, n).is_dir())
    }


@contextmanager
def training_run(settings: Settings, *, experiment: str, run_name: str) -> Iterator[TrainingRun]:
    """Open a run in ``experiment`` (created when missing); it ends FAILED if the block raises.

    ``mlflow.start_run`` is used, not ``MlflowClient.create_run``, for the source and user tags
    it records; it and ``log_model`` read the global tracking URI, which is therefore pointed
    at the configured store for the run's duration and restored after it.
    """
    experiment_id = ensure_experiment(settings, experiment)
    try:
        with (
            global_tracking_uri(settings.tracking_uri),
            mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run,
        ):
            yield TrainingRun(run.info.run_id, client_for(settings))
    finally:
        if settings.mlflow_tracking_uri is None:  # the embedded store's files are owner-only
            owner_only_tree(settings.artifact_root)


@contextmanager
def training_run_with_workdir(
    settings: Settings, *, experiment: str, run_name: str
) -> Iterator[tuple[TrainingRun, Path]]:
    """:func:`training_run` and a scratch folder for the files it logs (plots, tables), removed
    before the run ends."""
    with (
        training_run(settings, experiment=experiment, run_name=run_name) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        yield run, Path(tmp)


@dataclass(frozen=True)
class RunRecord:
    """What a finished run holds, as plain values."""

    run_id: str
    started_ms: int  # epoch milliseconds
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def run_record(settings: Settings, run_id: str) -> RunRecord:
    """The params, metrics and tags of run ``run_id``.

    Raises:
        MlflowException: no such run.
    """
    run = client_for(settings).get_run(run_id)
    return RunRecord(
        run_id,
        run.info.start_time,
        dict(run.data.params),
        dict(run.data.metrics),
        dict(run.data.tags),
    )


def run_json(settings: Settings, run_id: str, path: str) -> Any | None:
    """The parsed JSON artifact ``path`` of run ``run_id`` (e.g. ``fairness/audit.json``), or
    None when the run has none."""
    return read_run_json(client_for(settings), run_id, path)


def read_run_json(client: MlflowClient, run_id: str, path: str) -> Any | None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, path, tmp)
        except (MlflowException, OSError):
            return None
        return json.loads(Path(local).read_text())

"""The MLflow client of the configured store, and the one place the global tracking URI moves.

Everything in the registry talks to MLflow through ``MlflowClient(tracking_uri=...)``, so that
two stores can be used in one process (tests do) and nothing depends on what was set before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import mlflow
from mlflow.tracking import MlflowClient

from candor.models.private_files import owner_only_tree, private_file
from candor.models.settings import Settings

__all__ = ["client_for", "global_tracking_uri", "owner_only_tree"]


def client_for(settings: Settings) -> MlflowClient:
    """A client of the configured tracking store (its model registry is the same store)."""
    if settings.mlflow_tracking_uri is None:  # the embedded store, under CANDOR_HOME
        private_file(settings.home.resolve() / "mlflow.db")
    return MlflowClient(tracking_uri=settings.tracking_uri)


@contextmanager
def global_tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's process-wide tracking URI at ``uri`` for the block, then put it back.

    Only for the calls MLflow offers in fluent form alone (``mlflow.start_run`` with its
    default source tags, ``mlflow.pyfunc.log_model`` into the active run); everything else
    passes the URI to a client.
    """
    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        # None unsets it again (and the MLFLOW_TRACKING_URI variable MLflow sets with it)
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]

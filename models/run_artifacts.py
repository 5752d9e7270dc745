"""Read a JSON artifact of an MLflow run (adapter shared by training and serving)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


def run_json(client: MlflowClient, run_id: str, path: str) -> Any | None:
    """The parsed JSON artifact ``path`` of run ``run_id``, or None when the run has none."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, path, tmp)
        except (MlflowException, OSError):
            return None
        return json.loads(Path(local).read_text())

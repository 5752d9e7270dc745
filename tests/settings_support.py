"""Settings and paths every test suite shares (a module, not a conftest, so that any test or
helper can import it by name; each folder's conftest holds only fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from candor.models.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE_LEADS = REPO / "data_samples" / "hcp_leads.csv"
SAMPLE_SALES = REPO / "data_samples" / "sales_weekly.csv"
SHARED_DATA = REPO.parent / "shared" / "data"
FORECAST_HORIZON = 8  # weeks the session's forecaster forecasts (the API tests' maximum)


def no_tracking_server(mp: pytest.MonkeyPatch) -> None:
    """Remove, while ``mp`` is active, the variables that point MLflow at a tracking server, so
    that code reading the environment (the CLI) uses the test's CANDOR_HOME, never a real one."""
    for name in ("CANDOR_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID"):
        mp.delenv(name, raising=False)


def make_settings(home: Path, **overrides: object) -> Settings:
    return Settings(home=home, mlflow_tracking_uri=None, **overrides)  # type: ignore[arg-type]


def with_own_audit_store(settings: Settings, folder: Path) -> Settings:
    """``settings`` (the same home and champion) with an audit database and checkpoint file
    of their own under ``folder``: a test that counts what the log holds sees only its own."""
    return settings.model_copy(
        update={
            "database_url": f"sqlite:///{folder / 'audit.db'}",
            "audit_checkpoints": folder / "checkpoints.log",
        }
    )

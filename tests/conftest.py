"""Shared fixtures: one lead model trained once per test session on the committed sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from candor.models.settings import Settings, get_settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE_LEADS = REPO / "data_samples" / "hcp_leads.csv"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def sample_frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_LEADS)


def no_tracking_server(mp: pytest.MonkeyPatch) -> None:
    """Remove, while ``mp`` is active, the variables that point MLflow at a tracking server, so
    that code reading the environment (the CLI) uses the test's CANDOR_HOME, never a real one."""
    for name in ("CANDOR_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID"):
        mp.delenv(name, raising=False)


def make_settings(home: Path, **overrides: object) -> Settings:
    return Settings(home=home, mlflow_tracking_uri=None, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CANDOR_HOME whose MLflow store holds a champion trained on the sample data."""
    from candor.training.pipeline import train_leads

    home = tmp_path_factory.mktemp("candor_home")
    summary = train_leads(data=SAMPLE_LEADS, settings=make_settings(home))
    assert summary.gate.promoted
    return home


@pytest.fixture(scope="session")
def trained_settings(trained_home: Path) -> Settings:
    return make_settings(trained_home)


SAMPLE_SALES = REPO / "data_samples" / "sales_weekly.csv"
FORECAST_HORIZON = 8  # weeks the session's forecaster forecasts (the API tests' maximum)


@pytest.fixture(scope="session")
def forecast_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A CANDOR_HOME whose MLflow store holds a forecast champion trained on the sample sales
    (a short backtest without baselines: the forecasting behaviour, not its accuracy, is under
    test here; the accuracy is measured by ``make bench``)."""
    from candor.training.forecast.backtest import BacktestConfig
    from candor.training.forecast.pipeline import train_forecast

    home = tmp_path_factory.mktemp("forecast_home")
    settings = make_settings(home)
    backtest = BacktestConfig(
        eval_weeks=12, horizon=4, step=2, calibration_weeks=26, refit_every=13, baselines=False
    )
    summary = train_forecast(
        data=SAMPLE_SALES, settings=settings, horizon=FORECAST_HORIZON, backtest=backtest
    )
    assert summary.gate.promoted
    return settings


@pytest.fixture(scope="session")
def scorer(trained_settings: Settings):  # type: ignore[no-untyped-def]
    from candor.registry import LEADS, load_model

    return load_model(trained_settings, kind=LEADS).model


@pytest.fixture()
def client(trained_settings: Settings) -> Iterator[object]:
    """An ASGI test client of the app serving the session's champion."""
    from auth_support import bearer
    from fastapi.testclient import TestClient

    from candor.serving.app import create_app

    app = create_app()
    app.dependency_overrides[get_settings] = lambda: trained_settings
    with TestClient(app) as test_client:
        test_client.headers.update(bearer(trained_settings, "scorer"))
        yield test_client


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (only CI and developers have it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server started by this test run (skipped where none can run)."""
    from pg_support import PostgresUnavailable, throwaway_postgres

    try:
        with throwaway_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL cannot run here: {exc}")

"""Shared fixtures: one lead model trained once per test session on the committed sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import settings_support as support

from candor.models.settings import Settings


@pytest.fixture(scope="session")
def sample_frame() -> pd.DataFrame:
    return pd.read_csv(support.SAMPLE_LEADS)


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CANDOR_HOME whose MLflow store holds a champion trained on the sample data."""
    from candor.training.pipeline import train_leads

    home = tmp_path_factory.mktemp("candor_home")
    summary = train_leads(data=support.SAMPLE_LEADS, settings=support.make_settings(home))
    assert summary.gate.promoted
    return home


@pytest.fixture(scope="session")
def trained_settings(trained_home: Path) -> Settings:
    return support.make_settings(trained_home)


@pytest.fixture(scope="session")
def forecast_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A CANDOR_HOME whose MLflow store holds a forecast champion trained on the sample sales
    (a short backtest without baselines: the forecasting behaviour, not its accuracy, is under
    test here; the accuracy is measured by ``make bench``)."""
    from candor.training.forecast.backtest import BacktestConfig
    from candor.training.forecast.pipeline import train_forecast

    home = tmp_path_factory.mktemp("forecast_home")
    settings = support.make_settings(home)
    backtest = BacktestConfig(
        eval_weeks=12, horizon=4, step=2, calibration_weeks=26, refit_every=13, baselines=False
    )
    summary = train_forecast(
        data=support.SAMPLE_SALES,
        settings=settings,
        horizon=support.FORECAST_HORIZON,
        backtest=backtest,
    )
    assert summary.gate.promoted
    return settings


@pytest.fixture(scope="session")
def scorer(trained_settings: Settings):  # type: ignore[no-untyped-def]
    from candor.registry import LEADS, load_model

    return load_model(trained_settings, kind=LEADS).model


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not support.SHARED_DATA.is_dir():
        pytest.skip(
            f"real data folder {support.SHARED_DATA} is absent (only CI and developers have it)"
        )
    return support.SHARED_DATA


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server started by this test run (skipped where none can run)."""
    from pg_support import PostgresUnavailable, throwaway_postgres

    try:
        with throwaway_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL cannot run here: {exc}")

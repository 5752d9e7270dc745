"""The champion gate: a new version takes the alias only if it is at least as good on holdout."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from settings_support import make_settings

from candor.data_samples.generate_leads import generate_leads
from candor.models.settings import Settings
from candor.registry import LEADS, load_model, versions
from candor.training.pipeline import TrainingSummary, train_leads

WEAKENED = ["webinars_attended_90d", "samples_requested_90d", "rep_visits_90d"]


@dataclass
class Run:
    summary: TrainingSummary
    champion_after: str | None


@dataclass
class History:
    settings: Settings
    first: Run  # good data, empty registry
    worse: Run  # the strongest drivers excluded
    again: Run  # the first run's data and seed once more
    global_uri: tuple[tuple[bool, str], tuple[bool, str]]  # MLflow's, before and after


def global_tracking_uri() -> tuple[bool, str]:
    return mlflow.is_tracking_uri_set(), mlflow.get_tracking_uri()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    before = global_tracking_uri()
    first, worse, again, settings = train_three_versions(tmp_path_factory.mktemp("gate_home"))
    yield History(settings, first, worse, again, (before, global_tracking_uri()))


def train_three_versions(home: Path) -> tuple[Run, Run, Run, Settings]:
    data = home / "leads.csv"
    generate_leads(rows=1500, seed=31).to_csv(data, index=False)
    settings = make_settings(home)

    def run(**kwargs: object) -> Run:
        summary = train_leads(data=data, settings=settings, **kwargs)  # type: ignore[arg-type]
        return Run(summary, champion(settings))

    return run(), run(exclude=WEAKENED), run(), settings


def champion(settings: Settings) -> str | None:
    return versions.champion_version(settings, settings.lead_model_name)


def version_tags(settings: Settings, version: str) -> dict[str, str]:
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    return dict(client.get_model_version(settings.lead_model_name, version).tags)


def test_training_leaves_the_process_wide_tracking_uri_as_it_was(history: History) -> None:
    before, after = history.global_uri
    assert after == before


def test_first_model_is_promoted(history: History) -> None:
    gate = history.first.summary.gate
    assert gate.promoted
    assert gate.champion_version is None
    assert "first model" in gate.reason
    assert history.first.champion_after == history.first.summary.version == "1"
    assert version_tags(history.settings, "1")["gate.promoted"] == "True"


def test_worse_model_is_not_promoted_and_the_alias_stays(history: History) -> None:
    gate = history.worse.summary.gate
    assert not gate.promoted
    assert gate.champion_version == "1"
    assert gate.champion_roc_auc is not None
    assert gate.new_roc_auc < gate.champion_roc_auc
    assert f"{gate.new_roc_auc:.4f}" in gate.reason
    assert f"{gate.champion_roc_auc:.4f}" in gate.reason
    assert "worse than" in gate.reason
    assert history.worse.summary.version == "2"  # registered, for the record ...
    assert history.worse.champion_after == "1"  # ... but the champion did not move
    tags = version_tags(history.settings, "2")
    assert tags["gate.promoted"] == "False"
    assert tags["gate.reason"] == gate.reason


def test_champion_auc_is_measured_on_the_same_holdout(history: History) -> None:
    """The gate re-scores the champion on this run's holdout rows: it must equal v1's own AUC."""
    assert history.worse.summary.gate.champion_roc_auc == pytest.approx(
        history.first.summary.gate.new_roc_auc, abs=1e-12
    )


def test_equal_model_is_promoted_and_the_alias_moves(history: History) -> None:
    gate = history.again.summary.gate
    assert gate.champion_version == "1"
    assert gate.new_roc_auc == gate.champion_roc_auc  # a tie: same data, same seed
    assert gate.promoted
    assert "at least as good as" in gate.reason
    assert history.again.summary.version == "3"
    assert history.again.champion_after == "3"
    assert version_tags(history.settings, "3")["gate.promoted"] == "True"


def test_champion_can_be_loaded_and_is_the_promoted_version(history: History) -> None:
    champion = load_model(history.settings, kind=LEADS)
    weak = load_model(history.settings, kind=LEADS, ref="2")
    assert (champion.version, champion.alias) == ("3", history.settings.model_alias)
    assert (weak.version, weak.alias) == ("2", None)
    champion_scorer, weak_scorer = champion.model, weak.model
    assert set(WEAKENED) <= set(champion_scorer.feature_names)
    assert not set(WEAKENED) & set(weak_scorer.feature_names)


def test_summary_reports_holdout_metrics(history: History) -> None:
    metrics = history.first.summary.metrics
    assert {"roc_auc", "pr_auc", "brier", "log_loss", "ece"} <= set(metrics)
    assert metrics["roc_auc"] == history.first.summary.gate.new_roc_auc
    assert 0.7 < metrics["roc_auc"] < 1.0

"""The drift gate: a version trained on data that drifted beyond alert from the champion's
reference is registered but not promoted automatically; `candor models promote --justify`
still promotes it. The reference itself is kept with the model and on the run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from mlflow.tracking import MlflowClient
from settings_support import make_settings, no_tracking_server

from candor.cli.main import main
from candor.data_samples.generate_leads import generate_leads
from candor.models.monitoring.reference import SCORE, DriftReference
from candor.models.settings import Settings, get_settings
from candor.registry import LEADS, load_model, versions
from candor.registry.tracking import run_json
from candor.training.pipeline import TrainingSummary, train_leads

SHIFTED = "rep_visits_90d"
ROWS = 2000


@dataclass
class Trained:
    settings: Settings
    first: TrainingSummary
    shifted: TrainingSummary
    champion_after_shifted: str | None


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    home = tmp_path_factory.mktemp("drift_gate_home")
    settings = make_settings(home)
    usual, drifted = home / "leads.csv", home / "leads_more_visits.csv"
    generate_leads(rows=ROWS, seed=101).to_csv(usual, index=False)
    generate_leads(rows=ROWS, seed=202, shift={SHIFTED: 3.0}).to_csv(drifted, index=False)
    first = train_leads(data=usual, settings=settings)
    shifted = train_leads(data=drifted, settings=settings)
    yield Trained(settings, first, shifted, champion(settings))


def champion(settings: Settings) -> str | None:
    return versions.champion_version(settings, settings.lead_model_name)


def version_tags(settings: Settings, version: str) -> dict[str, str]:
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    return dict(client.get_model_version(settings.lead_model_name, version).tags)


def test_the_reference_is_kept_with_the_model_and_on_its_run(trained: Trained) -> None:
    loaded = load_model(trained.settings, kind=LEADS, ref=trained.first.version)
    raw = loaded.model.drift_reference
    assert raw is not None
    reference = DriftReference.from_dict(raw)
    assert reference.names == loaded.model.feature_names  # the audited inputs' order
    assert reference.rows == round(ROWS * 0.2)  # the holdout
    for ref in (*reference.inputs, reference.score):
        assert sum(ref.shares) == pytest.approx(1.0, abs=1e-9), ref.name
    assert reference.input(SCORE).edges  # the calibrated score's deciles
    assert set(reference.review_rates) == {
        "low_confidence",
        "out_of_distribution",
        "near_grade_boundary",
    }
    assert "random_audit" in reference.review_not_computed
    assert {"gender", "age_band"} <= set(reference.segments_not_inputs)  # protected: no input
    assert {"specialty", "region", "territory_type", "practice_setting"} == set(
        reference.segment_names
    )
    assert run_json(trained.settings, trained.first.run_id, "drift_reference.json") == raw


def test_the_first_model_is_promoted_with_nothing_to_compare(trained: Trained) -> None:
    assert trained.first.gate.promoted
    drift = run_json(trained.settings, trained.first.run_id, "drift_vs_champion.json")
    assert drift["compared"] is False and "no champion" in drift["note"]
    assert version_tags(trained.settings, trained.first.version)["drift.alert"] == "none"


def test_a_version_trained_on_drifted_data_is_not_promoted_and_says_why(
    trained: Trained,
) -> None:
    gate = trained.shifted.gate
    version = trained.shifted.version
    assert not gate.promoted
    assert gate.reason.startswith("drift gate:")
    assert SHIFTED in gate.reason
    assert f"candor models promote {version} --justify" in gate.reason
    assert trained.champion_after_shifted == trained.first.version  # the alias stayed

    drift = run_json(trained.settings, trained.shifted.run_id, "drift_vs_champion.json")
    assert drift["compared"] is True
    assert drift["champion_version"] == trained.first.version
    assert drift["status"][SHIFTED] == "alert"
    assert drift["psi"][SHIFTED] >= trained.settings.drift_alert_psi
    assert f"{drift['psi'][SHIFTED]:.3f}" in gate.reason
    # the inputs left alone did not move beyond alert
    assert drift["alert"] == [SHIFTED]
    tags = version_tags(trained.settings, version)
    assert tags["drift.alert"] == SHIFTED
    assert tags["gate.promoted"] == "False"


def test_promote_with_a_justification_still_promotes_the_drifted_version(
    trained: Trained, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(trained.settings.home))
    get_settings.cache_clear()
    version = trained.shifted.version
    try:
        code = main(
            ["models", "promote", version, "--justify", "visits tripled with the new field team"]
        )
    finally:
        get_settings.cache_clear()
    assert code == 0, capsys.readouterr().err
    assert champion(trained.settings) == version
    assert "had not passed the gate: drift gate:" in capsys.readouterr().out

"""The fairness audit at training: the sample's rural bias is found, gates, and can be mitigated."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from settings_support import SAMPLE_LEADS, make_settings

from candor.cli.main import main as candor
from candor.models.errors import CandorError, NotFoundError
from candor.models.settings import Settings, get_settings
from candor.registry.tracking import run_json
from candor.registry.versions import promote
from candor.training.fairness import RATIO
from candor.training.pipeline import TrainingSummary, train_leads


@dataclass
class Gated:
    settings: Settings
    blocked: TrainingSummary  # territory_type gated on its selection rates, point estimate
    reweighted: TrainingSummary  # default gate, Kamiran-Calders weights by territory_type


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gated]:
    home = tmp_path_factory.mktemp("fairness_home")
    strict = make_settings(
        home,
        fairness_gated=("territory_type",),
        fairness_gate_rule="point",
        fairness_gate_metrics=("disparate_impact", "equal_opportunity", "calibration", "coverage"),
    )
    blocked = train_leads(data=SAMPLE_LEADS, settings=strict)
    reweighted = train_leads(
        data=SAMPLE_LEADS,
        settings=make_settings(home),
        mitigate="reweight",
        mitigate_by="territory_type",
    )
    yield Gated(make_settings(home), blocked, reweighted)


def rural_ratio(summary: TrainingSummary) -> float:
    assert summary.fairness is not None
    d = summary.fairness["territory_type"].disparate_impact
    assert d is not None and d.disadvantaged == "rural"
    return d.value


def test_the_historical_rural_bias_is_detected_and_warned_about(
    trained_settings: Settings,
) -> None:
    client = MlflowClient(tracking_uri=trained_settings.tracking_uri)
    champion = client.get_model_version_by_alias(
        trained_settings.lead_model_name, trained_settings.model_alias
    )
    audit = run_json(trained_settings, champion.run_id, "fairness/audit.json")
    territory = audit["attributes"]["territory_type"]
    ratio = territory["disparate_impact_ratio"]
    assert ratio["disadvantaged"] == "rural"
    assert ratio["value"] < 0.8  # rural HCPs are selected far less often than others
    rural = next(g for g in territory["groups"] if g["group"] == "rural")
    assert rural["count"] >= 100 and not rural["small_group"]
    warned = [w for w in audit["gate"]["warnings"] if w["attribute"] == "territory_type"]
    [rural_ratio] = [w for w in warned if w["metric"] == RATIO]
    assert rural_ratio["disadvantaged"] == "rural"
    # beside it, the ratio the outcome itself shows between the groups
    outcome = territory["base_rate_ratio"]
    assert outcome["disadvantaged"] == "rural" and ratio["value"] < outcome["value"] < 1.0
    assert "the outcome itself differs" in rural_ratio["description"]
    # a segment warns but does not gate by default; the protected attributes are gated, on the
    # metrics a model can be held to whatever the groups' base rates
    assert audit["gate"]["gated"] == ["gender", "age_band"]
    assert audit["gate"]["gated_on"] == ["calibration", "coverage"]
    assert audit["gate"]["statement"].endswith(
        "reported only: disparate_impact, equal_opportunity; rule ci"
    )
    # years in practice tracks age: reported as a proxy of age_band, with its value
    [proxy] = [p for p in audit["gate"]["proxy_alerts"] if p["input"] == "years_in_practice"]
    assert proxy["attribute"] == "age_band" and proxy["cramers_v"] >= 0.3
    assert champion.tags["fairness.passed"] == "True"
    artifacts = {a.path for a in client.list_artifacts(champion.run_id, "fairness")}
    assert {"fairness/audit.json", "fairness/audit.csv", "fairness/audit.png"} <= artifacts


def test_a_version_failing_a_gated_segment_is_registered_but_not_promoted(gated: Gated) -> None:
    gate = gated.blocked.gate
    assert not gate.promoted and gate.fairness_passed is False
    assert "territory_type" in gate.reason and "rural" in gate.reason
    client = MlflowClient(tracking_uri=gated.settings.tracking_uri)
    version = client.get_model_version(gated.settings.lead_model_name, gated.blocked.version)
    assert version.tags["fairness.passed"] == "False"
    assert version.tags["gate.promoted"] == "False"


def test_reweighting_narrows_the_rural_gap_at_a_small_cost_in_accuracy(gated: Gated) -> None:
    before, after = gated.blocked, gated.reweighted
    assert rural_ratio(after) > rural_ratio(before) + 0.05
    assert after.metrics["roc_auc"] > before.metrics["roc_auc"] - 0.01
    client = MlflowClient(tracking_uri=gated.settings.tracking_uri)
    params = client.get_run(after.run_id).data.params
    assert (params["mitigation"], params["mitigation_by"]) == ("reweight", "territory_type")


def test_an_admin_promotes_past_the_gate_only_with_a_recorded_justification(
    gated: Gated, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, version = gated.settings, gated.blocked.version
    name, alias = settings.lead_model_name, settings.model_alias
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    before = str(client.get_model_version_by_alias(name, alias).version)  # the reweighted run
    with pytest.raises(CandorError) as empty:
        promote(settings, version, justification="  ", by="ops")
    assert empty.value.code == "justification_required"
    with pytest.raises(NotFoundError):
        promote(settings, "99", justification="x", by="ops")
    assert str(client.get_model_version_by_alias(name, alias).version) == before

    monkeypatch.setenv("CANDOR_HOME", str(settings.home))
    monkeypatch.delenv("CANDOR_MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    try:
        why = "rural gap accepted for Q3 pilot; call plans reserve 20% rural"
        assert candor(["models", "promote", version, "--justify", why, "--by", "dr.ops"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "had not passed the gate" in out
    assert str(client.get_model_version_by_alias(name, alias).version) == version
    tags = client.get_model_version(name, version).tags
    assert tags["promotion.justification"] == why
    assert tags["promotion.by"] == "dr.ops"
    assert tags["promotion.previous_champion"] == before
    record = run_json(settings, gated.blocked.run_id, "promotion.json")
    assert record["promotions"][-1]["justification"] == why


def test_a_mitigation_must_name_an_audited_column(tmp_path: Path) -> None:
    with pytest.raises(CandorError) as error:
        train_leads(
            data=SAMPLE_LEADS,
            settings=make_settings(tmp_path),
            mitigate="reweight",
            mitigate_by="email",
        )
    assert error.value.code == "option_invalid"
    assert error.value.details[0].field == "mitigate_by"


def test_a_model_whose_protected_attributes_cannot_be_audited_is_not_promoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    data = tmp_path / "no_protected.csv"
    pd.read_csv(SAMPLE_LEADS).drop(columns=["gender", "age_band"]).to_csv(data, index=False)
    summary = train_leads(data=data, settings=make_settings(tmp_path / "home"))
    assert not summary.gate.promoted  # even as the first model: silence is not fairness
    assert summary.gate.fairness_passed is False
    assert "not audited: gender (not in the data)" in summary.gate.reason
    assert "protected attribute not audited: age_band" in capsys.readouterr().err

"""A numeric protected attribute (age in years) trains, and the audit shows its bands.

Without banding, every age would be a group of its own (dozens of groups, ratios between age 55
and age 60 of a handful of leads each); the contract's ``bins`` band it for the audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from settings_support import make_settings

from candor.data_samples.generate_leads import generate_leads
from candor.models.contract import HCP_LEADS, Contract, Field, Kind, Role, dump_contract
from candor.models.settings import Settings
from candor.registry.tracking import run_json
from candor.serving.model_card import _fairness_html
from candor.training.data import columns_of, read_table, validate_frame
from candor.training.fairness import MISSING_GROUP, audit_holdout
from candor.training.fit import fit_lead_scorer
from candor.training.pipeline import TrainingSummary, train_leads

BANDS = ["under 30", "30 to <40", "40 to <50", "50 to <60", "60 and over"]


def age_contract(**banding: object) -> Contract:
    age = Field(
        "age",
        Role.PROTECTED,
        kind=Kind.NUMERIC,
        unit="years",
        description="age in years",
        **banding,  # type: ignore[arg-type]
    )
    fields = tuple(age if f.name == "age_band" else f for f in HCP_LEADS.fields)
    return Contract("hcp-leads-age", "1", fields, HCP_LEADS.description)


@dataclass
class Trained:
    settings: Settings
    data: Path
    summary: TrainingSummary
    warnings: list[str]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    home = tmp_path_factory.mktemp("banded_home")
    frame = generate_leads(rows=2000, seed=8)
    rng = np.random.default_rng(8)
    age = frame["years_in_practice"] + rng.integers(27, 33, len(frame))  # age at licence 27-32
    frame = frame.drop(columns=["age_band"]).assign(age=age.astype(float))
    frame.loc[rng.uniform(size=len(frame)) < 0.02, "age"] = np.nan
    data = home / "leads_with_age.csv"
    frame.to_csv(data, index=False)
    contract = home / "contract.yaml"
    contract.write_text(dump_contract(age_contract(bins=(30.0, 40.0, 50.0, 60.0))))
    settings = make_settings(home)
    warnings: list[str] = []
    summary = train_leads(
        data=data,
        settings=settings,
        contract_path=contract,
        warn=warnings.append,
        show=lambda _: None,
    )
    yield Trained(settings, data, summary, warnings)


def test_the_audit_groups_ages_by_band_not_by_value(trained: Trained) -> None:
    assert pd.read_csv(trained.data)["age"].nunique() > 40  # dozens of ages ...
    assert trained.summary.fairness is not None
    audited = trained.summary.fairness["age"]
    names = [g.group for g in audited.groups]
    assert names == [b for b in [*BANDS, MISSING_GROUP] if b in names]  # ... five bands
    assert set(BANDS[1:]) <= set(names)
    assert len(audited.compared) >= 3
    assert audited.calibration is not None and audited.coverage is not None
    assert trained.summary.gate.fairness_passed is True


def test_the_record_and_the_card_state_the_bands_and_the_proxy(trained: Trained) -> None:
    record = run_json(trained.settings, trained.summary.run_id, "fairness/audit.json")
    assert record is not None
    age = record["attributes"]["age"]
    assert age["bands"]["edges"] == [30.0, 40.0, 50.0, 60.0]
    assert age["bands"]["source"] == "edges from the contract"
    assert {g["group"] for g in age["groups"]} <= {*BANDS, MISSING_GROUP}
    # years in practice gives age away: a proxy alert with its value, in every place
    [alert] = [a for a in record["gate"]["proxy_alerts"] if a["input"] == "years_in_practice"]
    assert alert["attribute"] == "age" and alert["cramers_v"] > 0.5
    assert any("'years_in_practice'" in w and "proxy" in w for w in trained.warnings)
    client = MlflowClient(tracking_uri=trained.settings.tracking_uri)
    metrics = client.get_run(trained.summary.run_id).data.metrics
    key = "fairness_proxy_cramers_v_years_in_practice__age"
    assert metrics[key] == pytest.approx(alert["cramers_v"])
    params = client.get_run(trained.summary.run_id).data.params
    assert params["fairness_gate_metrics"] == "calibration,coverage"
    page = _fairness_html(record)
    assert "bands at 30, 40, 50, 60 (edges from the contract)" in page
    assert "<td>30 to &lt;40</td>" in page
    assert "gated on: calibration, coverage; reported only:" in page
    assert "PROXY ALERT" in page and "years_in_practice" in page


def test_quantile_bands_take_their_edges_from_all_the_training_rows(trained: Trained) -> None:
    contract = age_contract(quantiles=4)
    frame = read_table(trained.data, contract)
    outcome = validate_frame(frame, contract)
    columns = columns_of(frame, contract)
    result = fit_lead_scorer(columns, outcome, contract, seed=3)
    settings = trained.settings.model_copy(update={"fairness_resamples": 100})
    audit = audit_holdout(result, columns, contract, settings, seed=3)
    banding = audit["age"].bands
    assert banding is not None and banding.method == "quantiles"
    everyone = columns["age"][np.isfinite(columns["age"])]
    want = np.quantile(everyone, [0.25, 0.5, 0.75], method="inverted_cdf")
    assert banding.edges == tuple(float(e) for e in want)
    assert [g.group for g in audit["age"].groups if g.group != MISSING_GROUP] == banding.labels

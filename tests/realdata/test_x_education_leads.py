"""The public X Education export (../shared/data/Leads.csv) trains from a YAML contract alone.

Skipped, with the reason, where ../shared/data is absent (a user's machine).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from candor.models.contract import load_contract

REPO = Path(__file__).resolve().parents[2]

CONTRACT = REPO / "data_samples" / "contracts" / "x_education_leads.yaml"
AFTER_THE_FACT = {
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Last Activity",
    "Last Notable Activity",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
}


def test_contract_declares_the_after_the_fact_columns() -> None:
    contract = load_contract(CONTRACT)
    assert {f.name for f in contract.after_the_fact_fields} == AFTER_THE_FACT
    assert not AFTER_THE_FACT & {f.name for f in contract.model_inputs}


def test_training_warns_about_leaks_and_excludes_them(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from settings_support import make_settings

    from candor.training.pipeline import train_leads

    summary = train_leads(
        data=shared_data / "Leads.csv", settings=make_settings(tmp_path), contract_path=CONTRACT
    )
    warned = capsys.readouterr().err
    for column in AFTER_THE_FACT:
        assert f"LEAKAGE WARNING: {column!r}" in warned
    flagged = {f.feature: f for f in summary.leakage}
    assert set(flagged) >= AFTER_THE_FACT
    assert all(flagged[c].excluded for c in AFTER_THE_FACT)
    # Tags alone gives the outcome away: the AUC signal fires, not only the declaration
    assert flagged["Tags"].single_feature_auc is not None
    assert flagged["Tags"].single_feature_auc > 0.90
    # without its leaks the export still ranks leads well (PERFORMANCE.md: ~0.87)
    assert 0.84 <= summary.metrics["roc_auc"] <= 0.90
    # the statistical rules accuse no honest input: the time on the website is strong and
    # costs 18x more than any other input to remove, but breaks one rule, not two
    assert [f.feature for f in summary.leakage if not f.excluded] == []
    assert summary.gate.promoted


def test_undeclared_leak_is_caught_by_its_auc(shared_data: Path) -> None:
    """A user who forgets to declare Tags still gets warned: the single-feature AUC guard."""
    import numpy as np

    from candor.training.data import columns_of, read_table, validate_frame
    from candor.training.fit import split_indices
    from candor.training.pipeline import leakage_findings

    contract = load_contract(CONTRACT).with_every_input()
    frame = read_table(shared_data / "Leads.csv", contract)
    outcome = validate_frame(frame, contract)
    findings, _ = leakage_findings(
        columns_of(frame), outcome, contract, split_indices(outcome, seed=42).train
    )
    by_name = {f.feature: f for f in findings}
    assert "Tags" in by_name and not by_name["Tags"].excluded
    assert any("ROC-AUC" in r for r in by_name["Tags"].reasons)
    assert np.isfinite(by_name["Tags"].single_feature_auc)

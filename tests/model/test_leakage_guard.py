"""The leakage guard: a column that gives the outcome away is reported loudly and can be dropped."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from settings_support import make_settings

from candor.data_samples.generate_leads import generate_leads
from candor.models.contract import HCP_LEADS
from candor.registry import LEADS, load_model
from candor.training.leakage import AUC_THRESHOLD, LeakageFinding, single_feature_auc
from candor.training.pipeline import TrainingSummary, train_leads

LEAK = "followup_outcome_code"


def write_leaky_export(folder: Path) -> tuple[Path, Path]:
    """A contract with one extra numeric feature that copies the outcome (5% flipped)."""
    raw = copy.deepcopy(HCP_LEADS.to_dict())
    target_at = next(i for i, f in enumerate(raw["fields"]) if f["role"] == "target")
    leak = {"name": LEAK, "role": "feature", "kind": "numeric", "description": "rep's call code"}
    raw["fields"].insert(target_at, leak)
    contract_path = folder / "leaky_contract.yaml"
    contract_path.write_text(yaml.safe_dump(raw, sort_keys=False))

    frame = generate_leads(rows=1500, seed=77)
    flip = (np.random.default_rng(0).random(len(frame)) < 0.05).astype(np.int64)
    frame.insert(frame.columns.get_loc("converted"), LEAK, frame["converted"] ^ flip)
    data_path = folder / "leads_with_followup.csv"
    frame.to_csv(data_path, index=False)
    return contract_path, data_path


def train(folder: Path, *, exclude: list[str] | None = None) -> TrainingSummary:
    contract_path, data_path = write_leaky_export(folder)
    settings = make_settings(folder / "home")
    return train_leads(
        data=data_path, settings=settings, contract_path=contract_path, exclude=exclude
    )


def finding_for(summary: TrainingSummary) -> LeakageFinding:
    found = [f for f in summary.leakage if f.feature == LEAK]
    assert len(found) == 1, summary.leakage
    return found[0]


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("LEAKAGE WARNING")]


def test_leaking_column_is_reported_loudly_and_kept_by_default(tmp_path, capsys) -> None:
    summary = train(tmp_path)
    finding = finding_for(summary)
    assert finding.single_feature_auc is not None
    assert finding.single_feature_auc > 0.9
    assert not finding.excluded
    assert any("ROC-AUC" in reason for reason in finding.reasons)
    # honest inputs are not accused
    assert [f.feature for f in summary.leakage] == [LEAK]

    lines = warning_lines(capsys.readouterr().err)
    assert lines, "no LEAKAGE WARNING on stderr"
    assert all(repr(LEAK) in line for line in lines)
    assert "KEPT" in lines[0]
    assert "--exclude" in lines[0]
    # kept means trained on: the model leans on the leak
    assert summary.metrics["roc_auc"] > 0.9


def test_excluded_leaking_column_is_marked_and_dropped_from_the_model(tmp_path, capsys) -> None:
    summary = train(tmp_path, exclude=[LEAK])
    finding = finding_for(summary)
    assert finding.excluded
    assert finding.single_feature_auc is not None and finding.single_feature_auc > 0.9

    lines = warning_lines(capsys.readouterr().err)
    assert lines and all(repr(LEAK) in line for line in lines)
    assert "EXCLUDED" in lines[0]

    settings = make_settings(tmp_path / "home")
    scorer = load_model(settings, kind=LEADS, ref=summary.version).model
    assert LEAK not in scorer.feature_names
    assert "webinars_attended_90d" in scorer.feature_names
    assert [f.name for f in scorer.contract_.after_the_fact_fields] == [LEAK]
    assert summary.metrics["roc_auc"] < 0.9  # an honest model is good, not too good


@pytest.mark.parametrize("categorical", [False, True])
def test_single_feature_auc_is_direction_free(categorical: bool) -> None:
    rng = np.random.default_rng(1)
    outcome = rng.integers(0, 2, size=2000)
    noisy = np.where(rng.random(2000) < 0.03, 1 - outcome, outcome).astype(float)
    assert single_feature_auc(noisy, outcome, categorical=categorical) > AUC_THRESHOLD
    assert single_feature_auc(1 - noisy, outcome, categorical=categorical) > AUC_THRESHOLD
    unrelated = rng.integers(0, 5, size=2000).astype(float)
    assert single_feature_auc(unrelated, outcome, categorical=categorical) < 0.6

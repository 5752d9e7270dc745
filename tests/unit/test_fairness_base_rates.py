"""Fairness where the groups' own conversion rates differ fivefold (about 39% against 8%).

A model calibrated within each group cannot select the groups at equal rates: its selection-rate
ratio is low because the outcome's own ratio is. The default gate holds it to what it can meet
(calibration within groups, interval coverage per group) and reports the rest with the data's
own ratio beside it; a model that scores one group down at equal outcome is blocked, although
its selection-rate ratio looks better.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from settings_support import make_settings

from candor.models.contract import Contract, Field, Kind, Role
from candor.training.fairness import (
    BASE_RATE_RATIO,
    CALIBRATION,
    COVERAGE,
    DIFFERENCE,
    GATE_METRICS,
    RATIO,
    FairnessAudit,
    GateSettings,
    audit_metrics,
    audit_record,
    audit_scores,
    fairness_warnings,
    judge,
)

CONTRACT = Contract(
    "two-groups",
    "1",
    (
        Field("lead_id", Role.ID),
        Field("gender", Role.PROTECTED),
        Field("webinars", Role.FEATURE, kind=Kind.NUMERIC),
        Field("converted", Role.TARGET),
    ),
)


def leads(n: int = 20_000, seed: int = 0) -> dict[str, np.ndarray]:
    """One lead in ten in group "A"; its leads engage more, so it converts about 39% of the time
    against 8% for "B" (11% overall). ``p`` is each lead's true probability: a model that
    scores leads by it is calibrated within each group."""
    rng = np.random.default_rng(seed)
    high = rng.uniform(size=n) < 0.10
    engagement = rng.normal(np.where(high, 2.0, -0.1), 1.0)
    p = 1.0 / (1.0 + np.exp(-(-2.9 + 1.2 * engagement)))
    return {
        "group": np.where(high, "A", "B").astype(object),
        "p": p,
        "outcome": (rng.uniform(size=n) < p).astype(int),
    }


def audit_of(data: dict[str, np.ndarray], score: np.ndarray) -> FairnessAudit:
    return audit_scores(
        outcome=data["outcome"],
        score=score,
        lower=np.clip(score - 0.02, 0, 1),
        upper=np.clip(score + 0.02, 0, 1),
        sensitive={"gender": data["group"]},
        protected={"gender"},
        threshold=float(np.quantile(data["p"], 0.7)),  # the top 30% graded A or B
        resamples=300,
        seed=1,
    )


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    return leads()


def test_a_calibrated_model_passes_the_default_gate_with_base_rates_and_the_data_ratio(
    data: dict[str, np.ndarray],
) -> None:
    audit = audit_of(data, data["p"])
    gender = audit["gender"]
    a, b = gender.group("A"), gender.group("B")
    assert a.base_rate == pytest.approx(0.39, abs=0.03)
    assert b.base_rate == pytest.approx(0.08, abs=0.01)
    assert gender.base_rate_ratio is not None and gender.disparate_impact is not None
    assert gender.base_rate_ratio.value == pytest.approx(b.base_rate / a.base_rate)
    assert (gender.base_rate_ratio.disadvantaged, gender.base_rate_ratio.advantaged) == ("B", "A")
    assert gender.disparate_impact.value < 0.3  # far below the four-fifths rule ...
    assert gender.equal_opportunity is not None
    assert gender.equal_opportunity.value > 0.2  # ... and so is equal opportunity, yet
    assert gender.calibration is not None and abs(gender.calibration.value) < 0.03
    assert gender.coverage is not None and gender.coverage.value >= 0.9

    verdict = judge(audit, CONTRACT, GateSettings())
    assert verdict.passed and verdict.violations == ()
    reported = {w.metric: w for w in verdict.warnings}
    assert set(reported) == {RATIO, DIFFERENCE}  # never silent, not gated
    assert not reported[RATIO].metric_gated and reported[RATIO].conclusive
    lines = fairness_warnings(verdict)
    [ratio_line] = [line for line in lines if RATIO in line]
    data_ratio = f"{gender.base_rate_ratio.value:.2f}"
    assert f"the outcome itself differs {data_ratio} between groups" in ratio_line
    assert "reported, not gated" in ratio_line and "BLOCKS" not in ratio_line

    record = audit_record(audit, verdict)
    assert record["gate"]["passed"] is True
    assert record["gate"]["statement"] == (
        "gated on: calibration, coverage; reported only: disparate_impact, equal_opportunity; "
        "rule ci"
    )
    assert record["gate"]["thresholds"] == {
        "disparate_impact": 0.8,
        "equal_opportunity": 0.1,
        "calibration": 0.05,
        "coverage": 0.8,
    }
    attribute = record["attributes"]["gender"]
    assert attribute[BASE_RATE_RATIO]["value"] == pytest.approx(gender.base_rate_ratio.value)
    assert data_ratio in attribute["outcome_context"]
    assert {g["group"]: g["base_rate"] for g in attribute["groups"]} == {
        "A": a.base_rate,
        "B": b.base_rate,
    }
    metrics = audit_metrics(audit, verdict)
    assert metrics["fairness_base_rate_ratio_gender"] == gender.base_rate_ratio.value
    assert metrics["fairness_violations"] == 0.0


def test_gating_on_the_selection_rate_ratio_still_blocks_it_when_configured(
    data: dict[str, np.ndarray],
) -> None:
    audit = audit_of(data, data["p"])
    verdict = judge(audit, CONTRACT, GateSettings(metrics=("disparate_impact",)))
    assert not verdict.passed
    assert [v.metric for v in verdict.violations] == [RATIO]
    assert "BLOCKS PROMOTION" in fairness_warnings(verdict)[0]


def test_a_model_that_scores_one_group_down_at_equal_outcome_is_blocked(
    data: dict[str, np.ndarray],
) -> None:
    fair = audit_of(data, data["p"])["gender"]
    score = np.where(data["group"] == "A", data["p"] * 0.6, data["p"])
    audit = audit_of(data, score)
    gender = audit["gender"]
    # on the selection-rate ratio the unfair model even looks fairer ...
    assert gender.disparate_impact is not None and fair.disparate_impact is not None
    assert gender.disparate_impact.value > fair.disparate_impact.value
    # ... calibration within groups shows what it does to group A
    assert gender.calibration is not None
    assert gender.calibration.value > 0.08
    assert gender.calibration.disadvantaged == "A"
    assert gender.group("A").calibration_gap > 0.1  # A converts more often than scored

    verdict = judge(audit, CONTRACT, GateSettings())
    assert not verdict.passed
    blocking = {v.metric: v for v in verdict.violations}
    assert CALIBRATION in blocking and blocking[CALIBRATION].disadvantaged == "A"
    assert COVERAGE in blocking  # A's interval no longer holds either
    assert any(
        "calibration_difference" in line and "BLOCKS PROMOTION" in line
        for line in (fairness_warnings(verdict))
    )
    record = audit_record(audit, verdict)
    assert record["gate"]["passed"] is False
    assert {v["metric"] for v in record["gate"]["violations"]} >= {CALIBRATION}


def test_calibration_within_noise_warns_under_ci_and_blocks_on_point() -> None:
    small = leads(n=1500, seed=3)  # about 150 leads in group A
    score = np.where(small["group"] == "A", small["p"] * 0.8, small["p"])
    audit = audit_of(small, score)
    d = audit["gender"].calibration
    assert d is not None and d.ci is not None
    assert d.value > 0.05 and d.ci[0] < 0.05  # beyond the ceiling, within noise of it
    verdict = judge(audit, CONTRACT, GateSettings())
    assert CALIBRATION in {w.metric for w in verdict.warnings}
    assert CALIBRATION not in {v.metric for v in verdict.violations}
    point = judge(audit, CONTRACT, GateSettings(rule="point"))
    assert CALIBRATION in {v.metric for v in point.violations}


def test_the_gate_defaults_are_the_settings_defaults_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    assert GateSettings.from_settings(make_settings(tmp_path)) == GateSettings()
    monkeypatch.setenv("CANDOR_FAIRNESS_GATE_METRICS", "equal_opportunity, disparate_impact")
    settings = make_settings(tmp_path)
    assert settings.fairness_gate_metrics == ("equal_opportunity", "disparate_impact")
    gate = GateSettings.from_settings(settings)
    assert gate.reported_only == ("calibration", "coverage")
    assert gate.statement().startswith("gated on: equal_opportunity, disparate_impact;")
    monkeypatch.setenv("CANDOR_FAIRNESS_GATE_METRICS", "calibration,parity")
    with pytest.raises(ValueError, match="parity"):
        make_settings(tmp_path)
    monkeypatch.setenv("CANDOR_FAIRNESS_GATE_METRICS", "")
    with pytest.raises(ValueError, match="fairness_gate_metrics"):
        make_settings(tmp_path)
    assert set(GATE_METRICS) == {"disparate_impact", "equal_opportunity", "calibration", "coverage"}


def test_every_metric_can_be_gated_on_the_point_rule(data: dict[str, np.ndarray]) -> None:
    score = np.where(data["group"] == "A", data["p"] * 0.6, data["p"])
    audit = audit_of(data, score)
    everything = replace(GateSettings(), metrics=GATE_METRICS, rule="point")
    blocking = {v.metric for v in judge(audit, CONTRACT, everything).violations}
    assert blocking == {RATIO, DIFFERENCE, CALIBRATION, COVERAGE}

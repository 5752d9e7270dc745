"""The fairness audit's arithmetic, on small hand-built holdouts whose answers are known."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from settings_support import make_settings

from candor.training.fairness import (
    DIFFERENCE,
    PROTECTED,
    RATIO,
    SEGMENT,
    GateSettings,
    GroupMetrics,
    audit_scores,
    interval_coverage,
    reweighing_weights,
)
from candor.training.fairness.disparity import breach, calibration_difference, lowest_coverage

# the selection-rate ratio and the equal-opportunity difference gate only when configured to
SELECTION = GateSettings(metrics=("disparate_impact", "equal_opportunity"))


def holdout(
    sizes: dict[str, int], selected_share: dict[str, float], seed: int = 0
) -> dict[str, np.ndarray]:
    """Leads in groups; half of each group converts; a given share of each group is selected.

    Selection is spread evenly over converters and non-converters, so each group's true- and
    false-positive rates equal its selection rate.
    """
    groups, outcome, score = [], [], []
    for name, n in sizes.items():
        chosen = round(selected_share[name] * n)
        for i in range(n):
            groups.append(name)
            outcome.append(i % 2)
            score.append(0.9 if i < chosen else 0.1)
    order = np.random.default_rng(seed).permutation(len(groups))
    s = np.array(score)[order]
    return {
        "groups": np.array(groups, dtype=object)[order],
        "outcome": np.array(outcome)[order],
        "score": s,
        "lower": s - 0.02,
        "upper": s + 0.02,
    }


def audit(data: dict[str, np.ndarray], *, protected: bool = True, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("resamples", 200)
    return audit_scores(
        outcome=data["outcome"],
        score=data["score"],
        lower=data["lower"],
        upper=data["upper"],
        sensitive={"g": data["groups"]},
        protected={"g"} if protected else set(),
        threshold=0.5,
        **kw,  # type: ignore[arg-type]
    )


def test_rates_ratio_and_difference_match_hand_computation() -> None:
    data = holdout({"a": 400, "b": 400}, {"a": 0.5, "b": 0.2})
    result = audit(data)["g"]
    a, b = result.group("a"), result.group("b")
    assert (a.count, a.positives) == (400, 200)
    assert a.selection_rate == pytest.approx(0.5)
    assert b.selection_rate == pytest.approx(0.2)
    assert b.true_positive_rate == pytest.approx(0.2)
    assert b.false_positive_rate == pytest.approx(0.2)
    assert result.disparate_impact is not None and result.equal_opportunity is not None
    assert result.disparate_impact.value == pytest.approx(0.2 / 0.5)
    assert (result.disparate_impact.disadvantaged, result.disparate_impact.advantaged) == ("b", "a")
    assert result.equal_opportunity.value == pytest.approx(0.5 - 0.2)


def test_small_groups_are_reported_but_never_compared() -> None:
    data = holdout({"a": 300, "b": 300, "tiny": 10}, {"a": 0.5, "b": 0.45, "tiny": 0.0})
    result = audit(data, min_group_size=30)["g"]
    assert result.group("tiny").small_group
    assert [g.group for g in result.compared] == ["a", "b"]
    assert result.disparate_impact is not None
    assert result.disparate_impact.value == pytest.approx(0.45 / 0.5)  # not 0 / 0.5


def test_bootstrap_intervals_hold_the_estimate_narrow_with_size_and_repeat_with_the_seed() -> None:
    big = audit(holdout({"a": 2000, "b": 2000}, {"a": 0.5, "b": 0.3}), seed=3)["g"]
    small = audit(holdout({"a": 60, "b": 60}, {"a": 0.5, "b": 0.3}), seed=3)["g"]
    again = audit(holdout({"a": 60, "b": 60}, {"a": 0.5, "b": 0.3}), seed=3)["g"]
    for result in (big, small):
        d = result.disparate_impact
        assert d is not None and d.ci is not None
        assert d.ci[0] <= d.value <= d.ci[1]
    assert big.disparate_impact and big.disparate_impact.ci
    assert small.disparate_impact and small.disparate_impact.ci
    width = lambda ci: ci[1] - ci[0]  # noqa: E731
    assert width(big.disparate_impact.ci) < width(small.disparate_impact.ci) / 3
    assert again.disparate_impact == small.disparate_impact


def test_clear_disparity_blocks_but_a_small_sample_is_only_a_warning() -> None:
    clear = audit(holdout({"a": 2000, "b": 2000}, {"a": 0.5, "b": 0.3}))
    noisy = audit(holdout({"a": 40, "b": 40}, {"a": 0.5, "b": 0.35}))
    blocking = [v for v in clear.violations(SELECTION) if v.metric in (RATIO, DIFFERENCE)]
    assert {v.metric for v in blocking} == {RATIO, DIFFERENCE}
    assert all(v.conclusive and v.gated and v.disadvantaged == "b" for v in blocking)
    selection = [v for v in noisy.breaches(SELECTION) if v.metric in (RATIO, DIFFERENCE)]
    assert selection and not any(v.blocks for v in selection)  # reported, not blocking
    point = replace(SELECTION, rule="point")
    assert [v for v in noisy.violations(point) if v.metric == RATIO]  # blocks on the estimate


def test_segments_gate_only_when_named_protected_attributes_always() -> None:
    data = holdout({"a": 2000, "b": 2000}, {"a": 0.5, "b": 0.3})
    segment = audit(data, protected=False)
    assert segment["g"].role == SEGMENT
    assert segment.breaches(SELECTION) and segment.violations(SELECTION) == []
    assert segment.violations(replace(SELECTION, gated=("g",)))
    protected = audit(data, protected=True)
    assert protected["g"].role == PROTECTED and protected.violations(SELECTION)


def test_parity_passes() -> None:
    result = audit(holdout({"a": 1000, "b": 1000}, {"a": 0.4, "b": 0.4}))
    assert [b for b in result.breaches(SELECTION) if b.metric in (RATIO, DIFFERENCE)] == []
    assert result["g"].disparate_impact_ratio == pytest.approx(1.0)


def test_interval_coverage_holds_for_a_calibrated_interval_and_fails_for_a_shifted_one() -> None:
    rng = np.random.default_rng(1)
    score = rng.uniform(0.05, 0.95, 6000)
    outcome = (rng.uniform(size=score.size) < score).astype(int)
    held, bins = interval_coverage(outcome, score, score - 0.01, score + 0.01, bin_size=100)
    assert bins == 60 and held >= 0.9
    shifted, _ = interval_coverage(outcome, score, score + 0.2, score + 0.25, bin_size=100)
    assert shifted < 0.1


def test_unequal_coverage_between_groups_is_reported() -> None:
    rng = np.random.default_rng(2)
    n = 3000
    groups = np.array(["ok"] * n + ["off"] * n, dtype=object)
    true_rate = rng.uniform(0.1, 0.9, 2 * n)
    outcome = (rng.uniform(size=2 * n) < true_rate).astype(int)
    score = true_rate.copy()
    score[n:] = np.clip(true_rate[n:] + 0.25, 0, 0.99)  # the model overrates group "off"
    result = audit_scores(
        outcome=outcome,
        score=score,
        lower=score - 0.01,
        upper=score + 0.01,
        sensitive={"g": groups},
        protected=set(),
        threshold=0.5,
        resamples=0,
    )["g"]
    assert result.group("ok").coverage >= 0.9
    assert result.group("off").coverage <= 0.2
    assert result.min_coverage == result.group("off").coverage


def test_reweighing_gives_every_group_the_overall_conversion_rate() -> None:
    groups = np.array(["rural"] * 200 + ["urban"] * 800, dtype=object)
    outcome = np.r_[np.r_[np.ones(20), np.zeros(180)], np.r_[np.ones(320), np.zeros(480)]]
    weights = reweighing_weights(groups, outcome)
    overall = outcome.mean()
    for g in ("rural", "urban"):
        rows = groups == g
        weighted = np.sum(weights[rows] * outcome[rows]) / np.sum(weights[rows])
        assert weighted == pytest.approx(overall)
    assert weights.sum() == pytest.approx(len(outcome))


def test_gated_segments_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CANDOR_FAIRNESS_GATED", "territory_type, region")
    assert make_settings(tmp_path).fairness_gated == ("territory_type", "region")
    monkeypatch.setenv("CANDOR_FAIRNESS_GATED", '["specialty"]')
    assert make_settings(tmp_path).fairness_gated == ("specialty",)


def group(name: str, gap: float, se: float) -> GroupMetrics:
    """A compared group of 100 leads with the given calibration gap and its standard error."""
    return GroupMetrics(
        group=name,
        count=100,
        positives=30,
        base_rate=0.3,
        selection_rate=0.3,
        selection_rate_ci=None,
        true_positive_rate=0.5,
        true_positive_rate_ci=None,
        false_positive_rate=0.2,
        calibration_error=0.05,
        mean_score=0.3 - gap,
        calibration_gap=gap,
        calibration_gap_se=se,
        coverage=0.9,
        coverage_bins=3,
        mean_interval_width=0.04,
        small_group=False,
    )


def test_the_extreme_pair_of_many_groups_is_judged_at_the_bonferroni_level() -> None:
    four = [group("a", 0.086, 0.035), group("b", 0.038, 0.035), group("c", -0.072, 0.035)]
    four.append(group("d", 0.027, 0.035))
    two = [four[0], four[2]]
    alone = calibration_difference(two, range(2), confidence=0.95)
    picked = calibration_difference(four, range(4), confidence=0.95)
    assert alone is not None and picked is not None and alone.ci and picked.ci
    assert (picked.disadvantaged, picked.advantaged) == ("a", "c")  # a under-scored, c over
    assert picked.value == alone.value == pytest.approx(0.158)
    assert alone.confidence == 0.95 and picked.confidence == pytest.approx(1 - 0.05 / 6)
    ceiling = GateSettings().calibration_ceiling
    assert alone.ci[0] > ceiling  # the same two groups on their own: clear evidence
    assert picked.ci[0] < ceiling  # the widest of six pairs: within the luck of the draw
    v = breach(picked, attribute="age", role=PROTECTED, threshold=ceiling, gated=True)
    assert v is not None and not v.conclusive and "99.17% CI" in v.describe()
    worst = lowest_coverage(four, range(4), confidence=0.95)
    assert worst is not None and worst.confidence == pytest.approx(1 - 0.05 / 4)

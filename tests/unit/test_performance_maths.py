"""The real-world accuracy maths (models.monitoring.performance) against figures worked by hand.

The worked example: 3 converted leads scored 0.9, 0.6, 0.4 and 4 that did not, scored 0.7,
0.4, 0.3, 0.1 (one tie across the classes, at 0.4).

DeLong's structural components, psi(x, y) = 1 if x > y, 1/2 if x = y, 0 otherwise:
  V10 (each converted lead against the 4 others): 0.9 -> 4/4 = 1; 0.6 -> 3/4 (only 0.7 above
  it); 0.4 -> (0 + 1/2 + 1 + 1)/4 = 5/8.
  V01 (each non-converted lead against the 3 converted): 0.7 -> 1/3 (only 0.9 above it);
  0.4 -> (1 + 1 + 1/2)/3 = 5/6; 0.3 -> 1; 0.1 -> 1.
  AUC = mean(V10) = (1 + 3/4 + 5/8)/3 = 19/24 = mean(V01) = (1/3 + 5/6 + 1 + 1)/4 = 19/24.
  S10 = var(V10, n-1): deviations from 19/24 are 5/24, -1/24, -4/24; squares 42/576 = 7/96;
  / 2 = 7/192. S01: deviations -11/24, 1/24, 5/24, 5/24; squares 172/576; / 3 = 43/432.
  Var(AUC) = S10/3 + S01/4 = 7/576 + 43/1728 = 64/1728 = 1/27; se = sqrt(1/27) = 0.19245.
  95% interval: 19/24 +- 1.95996 x 0.19245 = [0.41447, 1.16886], clipped to [0.41447, 1].

Brier: squared errors (1 - s)^2 for the converted, s^2 for the others:
  0.01, 0.16, 0.36 | 0.49, 0.16, 0.09, 0.01; sum 1.28; mean 1.28/7 = 0.182857.
  Sum of squares 0.0001 + 0.0256 + 0.1296 + 0.2401 + 0.0256 + 0.0081 + 0.0001 = 0.4292;
  sample variance (0.4292 - 1.28^2/7)/6 = (0.4292 - 0.234057)/6 = 0.032524; sd 0.180345;
  se = sd/sqrt(7) = 0.068163; interval 0.182857 +- 1.95996 x 0.068163 = [0.049259, 0.316455].

Wilson 95% for 3 of 10 (z^2 = 3.841459): centre (0.3 + z^2/20)/(1 + z^2/10) =
  0.492073/1.384146 = 0.355507; half z*sqrt(0.021 + z^2/400)/(1 + z^2/10) =
  1.95996 x 0.174939/1.384146 = 0.247715; interval [0.107791, 0.603222].
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from candor.models.monitoring.performance import (
    OK,
    TOO_SMALL,
    Estimate,
    HoldoutPerformance,
    brier,
    delong_auc,
    delong_components,
    holdout_checks,
    holdout_performance,
    outside,
    performance_figures,
)
from candor.models.policy import ScoringPolicy, grade

SCORE = [0.9, 0.6, 0.4, 0.7, 0.4, 0.3, 0.1]
OUTCOME = [1, 1, 1, 0, 0, 0, 0]


def test_delong_components_and_auc_match_the_worked_example() -> None:
    v10, v01 = delong_components(SCORE, OUTCOME)

    assert v10 == pytest.approx([1.0, 3 / 4, 5 / 8], abs=1e-15)
    assert v01 == pytest.approx([1 / 3, 5 / 6, 1.0, 1.0], abs=1e-15)
    auc = delong_auc(SCORE, OUTCOME)
    assert auc.value == pytest.approx(19 / 24, abs=1e-15)
    assert auc.standard_error is not None
    assert auc.standard_error**2 == pytest.approx(1 / 27, abs=1e-15)
    assert auc.low == pytest.approx(19 / 24 - 1.959963984540054 * math.sqrt(1 / 27), abs=1e-12)
    assert auc.low == pytest.approx(0.41447, abs=1e-5)
    assert auc.high == 1.0  # 1.16886 clipped
    assert auc.reason is None


def test_delong_auc_equals_sklearn_and_the_pairwise_definition_on_ties() -> None:
    rng = np.random.default_rng(7)
    outcome = rng.random(300) < 0.2
    score = np.round(rng.random(300) * 0.5 + outcome * 0.2, 2)  # many ties
    positives, negatives = score[outcome], score[~outcome]
    psi = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :]
    )
    m, n = psi.shape
    pairwise_var = psi.mean(axis=1).var(ddof=1) / m + psi.mean(axis=0).var(ddof=1) / n

    auc = delong_auc(score, outcome)
    assert auc.value == pytest.approx(roc_auc_score(outcome, score), abs=1e-12)
    assert auc.value == pytest.approx(psi.mean(), abs=1e-12)
    assert auc.standard_error is not None
    assert auc.standard_error**2 == pytest.approx(pairwise_var, rel=1e-10)


def test_auc_is_undefined_with_one_class_and_has_no_interval_with_one_of_a_class() -> None:
    none_converted = delong_auc([0.2, 0.4, 0.5], [0, 0, 0])
    assert none_converted.value is None and none_converted.interval is None
    assert none_converted.reason is not None and "not converted" in none_converted.reason
    all_converted = delong_auc([0.2, 0.4], [1, 1])
    assert all_converted.value is None and "every lead" in str(all_converted.reason)

    one_positive = delong_auc([0.9, 0.1, 0.2, 0.3], [1, 0, 0, 0])
    assert one_positive.value == 1.0
    assert one_positive.interval is None and "at least 2" in str(one_positive.reason)


def test_brier_and_its_interval_match_the_worked_example() -> None:
    estimate = brier(SCORE, OUTCOME)

    assert estimate.value == pytest.approx(1.28 / 7, abs=1e-12)
    assert estimate.standard_error == pytest.approx(0.068163, abs=1e-6)
    assert estimate.low == pytest.approx(0.049259, abs=1e-6)
    assert estimate.high == pytest.approx(0.316455, abs=1e-6)


def test_brier_interval_is_clipped_to_zero_and_one() -> None:
    # a perfect score but one: mean 0.81/30, a wide normal interval reaching below 0
    score = [1.0] * 29 + [0.1]
    estimate = brier(score, [1] * 30)
    assert estimate.value == pytest.approx(0.81 / 30)
    assert estimate.low == 0.0
    assert estimate.high is not None and 0.0 < estimate.high < 1.0


def test_calibration_by_grade_uses_wilson_and_alerts_on_a_mean_outside_it() -> None:
    grades = ["A"] * 10 + ["B"] * 10
    score = [0.30] * 10 + [0.65] * 10  # A: mean 0.30; B: mean 0.65
    outcome = [1] * 3 + [0] * 7 + [1] * 3 + [0] * 7  # 3 of 10 converted in each
    figures = performance_figures(score=score, outcome=outcome, grades=grades, min_outcomes=5)

    a, b, c, d = figures.calibration
    assert (a.grade, a.count, a.converted, a.status) == ("A", 10, 3, OK)
    assert a.observed_rate == pytest.approx(0.3)
    assert a.observed_low == pytest.approx(0.107791, abs=1e-6)
    assert a.observed_high == pytest.approx(0.603222, abs=1e-6)
    assert a.alert is False  # 0.30 inside [0.108, 0.603]
    assert b.mean_score == pytest.approx(0.65) and b.alert is True  # 0.65 above 0.603
    for empty in (c, d):
        assert (empty.count, empty.status, empty.mean_score, empty.alert) == (
            0,
            TOO_SMALL,
            None,
            None,
        )


def test_a_group_below_the_minimum_is_too_small_and_has_counts_only() -> None:
    figures = performance_figures(
        score=SCORE, outcome=OUTCOME, grades=["A", "B", "C", "A", "B", "C", "D"], min_outcomes=8
    )

    assert figures.status == TOO_SMALL
    assert (figures.count, figures.converted) == (7, 3)
    assert figures.roc_auc is None and figures.brier is None
    assert [g.count for g in figures.calibration] == [2, 2, 2, 1]
    assert all(g.status == TOO_SMALL and g.observed_rate is None for g in figures.calibration)
    at_minimum = performance_figures(score=SCORE, outcome=OUTCOME, grades=["A"] * 7, min_outcomes=7)
    assert at_minimum.status == OK and at_minimum.roc_auc is not None


def test_alert_when_the_holdout_figure_lies_outside_the_window_interval() -> None:
    window = Estimate(0.70, 0.65, 0.75, 0.025)

    checks = holdout_checks(window, {"m@1": 0.80, "m@2": 0.75, "m@3": None})
    assert [(c.model, c.value, c.alert) for c in checks] == [
        ("m@1", 0.80, True),
        ("m@2", 0.75, False),  # on the bound: inside
        ("m@3", None, None),  # no holdout figure: not judged
    ]
    assert outside(0.64, window) is True
    assert outside(0.70, Estimate(0.7, reason="no interval")) is None


def test_holdout_figures_grade_with_the_policy_cutoffs_and_survive_a_round_trip() -> None:
    rng = np.random.default_rng(3)
    score = rng.random(400)
    outcome = rng.random(400) < score
    cutoffs = (0.8, 0.5, 0.2)
    stored = holdout_performance(score=score, outcome=outcome, cutoffs=cutoffs, min_outcomes=30)

    policy = ScoringPolicy(grade_cutoffs=cutoffs)
    letters = np.array([grade(float(s), policy) for s in score])
    for g in stored.figures.calibration:
        in_grade = letters == g.grade
        assert g.count == int(in_grade.sum())
        assert g.converted == int(outcome[in_grade].sum())
        assert g.mean_score == pytest.approx(score[in_grade].mean())
    assert stored.n == 400
    assert stored.figures.roc_auc is not None
    assert stored.figures.roc_auc.value == pytest.approx(roc_auc_score(outcome, score))
    assert HoldoutPerformance.from_dict(stored.to_dict()) == stored

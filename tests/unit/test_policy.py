"""Grades, confidence levels and review codes: the rules a sales-ops reviewer reads."""

from __future__ import annotations

import random
import uuid

import pytest

from candor.models.policy import (
    ConfidenceLevel,
    ReviewCode,
    ScoringPolicy,
    audit_draw,
    confidence_level,
    grade,
    review,
)

DEFAULT = ScoringPolicy()
NO_AUDIT = ScoringPolicy(random_audit_share=0.0)


def seeded_score_ids(n: int, seed: int) -> list[str]:
    """uuid4-style hex ids (as serving makes them), reproducible for the test."""
    rng = random.Random(seed)
    return [uuid.UUID(int=rng.getrandbits(128), version=4).hex for _ in range(n)]


def calm_review(policy: ScoringPolicy, **overrides: object):
    """A review of a score that nothing but the argument under test would flag."""
    kwargs: dict[str, object] = dict(
        score=0.5, lower=0.47, upper=0.53, out_of_distribution=False, score_id="x", policy=policy
    )
    kwargs.update(overrides)
    return review(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (1.0, "A"), (0.6, "A"), (0.5999999, "B"), (0.4, "B"), (0.3999999, "C"),
        (0.2, "C"), (0.1999999, "D"), (0.0, "D"),
    ],
)  # fmt: skip
def test_grade_cutoffs_include_the_boundary_value(score: float, expected: str) -> None:
    assert grade(score, DEFAULT) == expected


def test_grade_follows_custom_cutoffs() -> None:
    policy = ScoringPolicy(grade_cutoffs=(0.9, 0.5, 0.1))
    assert [grade(s, policy) for s in (0.9, 0.89, 0.5, 0.1, 0.09)] == ["A", "B", "B", "C", "D"]


@pytest.mark.parametrize(
    ("lower", "upper", "expected"),
    [
        (0.5, 0.5, ConfidenceLevel.HIGH),
        (0.5, 0.625, ConfidenceLevel.HIGH),  # exactly the high width
        (0.5, 0.6250001, ConfidenceLevel.MEDIUM),
        (0.5, 0.75, ConfidenceLevel.MEDIUM),  # exactly the medium width
        (0.5, 0.7500001, ConfidenceLevel.LOW),
        (0.0, 1.0, ConfidenceLevel.LOW),
    ],
)
def test_confidence_level_from_interval_width(lower, upper, expected) -> None:
    policy = ScoringPolicy(high_confidence_width=0.125, medium_confidence_width=0.25)
    assert confidence_level(lower, upper, policy) is expected


def test_calm_score_needs_no_review() -> None:
    result = calm_review(NO_AUDIT)
    assert not result.required
    assert result.reasons == ()


def test_wide_interval_is_flagged_low_confidence() -> None:
    result = calm_review(NO_AUDIT, lower=0.3, upper=0.7)
    assert result.required
    assert result.reasons == ("low_confidence",)
    assert not calm_review(NO_AUDIT, lower=0.42, upper=0.58).required  # medium: not flagged


def test_out_of_distribution_is_flagged() -> None:
    result = calm_review(NO_AUDIT, out_of_distribution=True)
    assert result.required
    assert result.reasons == ("out_of_distribution",)


@pytest.mark.parametrize("score", [0.59, 0.61, 0.4, 0.385, 0.215])
def test_score_near_a_grade_cutoff_is_flagged(score: float) -> None:
    result = calm_review(NO_AUDIT, score=score, lower=score - 0.01, upper=score + 0.01)
    assert result.reasons == ("near_grade_boundary",)


@pytest.mark.parametrize("score", [0.65, 0.5, 0.3, 0.1, 0.95])
def test_score_away_from_cutoffs_is_not_flagged_near_boundary(score: float) -> None:
    result = calm_review(NO_AUDIT, score=score, lower=score - 0.01, upper=score + 0.01)
    assert "near_grade_boundary" not in result.reasons


def test_several_reasons_are_all_reported_with_stable_codes() -> None:
    result = calm_review(NO_AUDIT, score=0.6, lower=0.2, upper=0.9, out_of_distribution=True)
    assert result.reasons == ("low_confidence", "out_of_distribution", "near_grade_boundary")
    assert all(isinstance(r, str) for r in result.reasons)
    assert {str(c) for c in ReviewCode} >= set(result.reasons)


def test_random_audit_flags_about_the_configured_share() -> None:
    ids = seeded_score_ids(20_000, seed=7)
    flagged = [calm_review(DEFAULT, score_id=i) for i in ids]
    audited = [r for r in flagged if "random_audit" in r.reasons]
    share = len(audited) / len(ids)
    assert 0.015 <= share <= 0.025
    assert all(r.required and r.reasons == ("random_audit",) for r in audited)


def test_random_audit_share_zero_audits_nothing_and_one_audits_all() -> None:
    ids = seeded_score_ids(2_000, seed=8)
    assert not any(calm_review(NO_AUDIT, score_id=i).required for i in ids)
    everything = ScoringPolicy(random_audit_share=1.0)
    assert all("random_audit" in calm_review(everything, score_id=i).reasons for i in ids)


def test_audit_draw_is_reproducible_from_the_score_id() -> None:
    ids = seeded_score_ids(1_000, seed=9)
    draws = [audit_draw(i) for i in ids]
    assert draws == [audit_draw(i) for i in ids]
    assert all(0.0 <= d < 1.0 for d in draws)
    assert len(set(draws)) == len(draws)
    assert calm_review(DEFAULT, score_id=ids[0]) == calm_review(DEFAULT, score_id=ids[0])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"grade_cutoffs": (0.4, 0.6, 0.2)},
        {"grade_cutoffs": (0.6, 0.4)},
        {"grade_cutoffs": (1.0, 0.4, 0.2)},
        {"grade_cutoffs": (0.6, 0.4, 0.0)},
        {"random_audit_share": -0.01},
        {"random_audit_share": 1.5},
        {"high_confidence_width": 0.3, "medium_confidence_width": 0.2},
        {"high_confidence_width": 0.0},
    ],
)
def test_invalid_policies_are_refused(kwargs) -> None:
    with pytest.raises(ValueError) as info:
        ScoringPolicy(**kwargs)
    assert next(iter(kwargs)) in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"boundary_margin": -0.02}, {"max_missing_share": -0.1}, {"max_missing_share": 1.5}],
)
def test_nonsense_thresholds_are_refused(kwargs) -> None:
    """A negative boundary margin silently switches off near_grade_boundary reviews."""
    with pytest.raises(ValueError) as info:
        ScoringPolicy(**kwargs)
    assert next(iter(kwargs)) in str(info.value)

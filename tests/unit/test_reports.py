"""The error report's arithmetic on hand-made rows: exact rates, Wilson intervals, no data."""

from __future__ import annotations

from typing import Any

import pytest

from candor.models.intervals import wilson_interval
from candor.models.policy import GRADES, ReviewCode
from candor.serving.reports import error_report, group_errors, is_error


def row(
    grade: str,
    score: float,
    converted: bool,
    *,
    final: str | None = None,
    reasons: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "score_id": f"{grade}-{score}-{converted}",
        "score": score,
        "grade": grade,
        "final_grade": final or grade,
        "reasons": list(reasons),
        "converted": converted,
    }


ROWS = [
    row("A", 0.8, True),  # right
    row("A", 0.7, False, reasons=("random_audit",)),  # error
    row("B", 0.5, True, reasons=("near_grade_boundary",)),  # right
    row("C", 0.3, True, final="B", reasons=("low_confidence", "random_audit")),  # error, fixed
    row("D", 0.1, False),  # right
    row("D", 0.1, True, final="C", reasons=("random_audit",)),  # error, not fixed by C
]


@pytest.mark.parametrize(
    ("grade", "converted", "expected"),
    [
        ("A", True, False),
        ("A", False, True),
        ("B", False, True),
        ("C", True, True),
        ("C", False, False),
        ("D", True, True),
        ("D", False, False),
    ],
)
def test_error_means_the_grade_predicted_the_other_outcome(
    grade: str, converted: bool, expected: bool
) -> None:
    assert is_error(grade, converted) is expected


def test_overall_rates_are_exact() -> None:
    overall = error_report(ROWS)["overall"]

    assert overall["count"] == 6
    assert overall["conversion_rate"] == pytest.approx(4 / 6)
    assert overall["mean_score"] == pytest.approx(2.5 / 6)
    assert overall["calibration_gap"] == pytest.approx(2.5 / 6 - 4 / 6)
    assert overall["error_rate"] == pytest.approx(3 / 6)
    assert overall["error_rate_after_review"] == pytest.approx(2 / 6)
    assert overall["error_rate_ci"] == pytest.approx(wilson_interval(3, 6))


def test_groups_by_model_grade_and_override_counts_only_after_review() -> None:
    by_grade = error_report(ROWS)["by_grade"]

    assert list(by_grade) == list(GRADES)
    assert [by_grade[g]["count"] for g in GRADES] == [2, 1, 1, 2]
    # the C record was overridden to B: still C's error by the model, not after review
    assert by_grade["C"]["error_rate"] == 1.0
    assert by_grade["C"]["error_rate_after_review"] == 0.0
    # the converted D record overridden to C is still an error (C predicts no conversion)
    assert by_grade["D"]["error_rate"] == by_grade["D"]["error_rate_after_review"] == 0.5
    assert by_grade["A"]["conversion_rate"] == 0.5
    assert by_grade["A"]["mean_score"] == pytest.approx(0.75)


def test_groups_by_review_reason_and_the_random_audit() -> None:
    report = error_report(ROWS)
    by_reason = report["by_review_reason"]

    assert set(by_reason) == {str(code) for code in ReviewCode} | {"none"}
    assert by_reason["none"]["count"] == 2
    assert by_reason["out_of_distribution"]["count"] == 0
    assert by_reason["out_of_distribution"]["error_rate"] is None
    assert by_reason["random_audit"]["count"] == 3  # a record with two codes is in both
    assert by_reason["low_confidence"]["count"] == 1
    assert report["random_audit"] == by_reason["random_audit"]
    assert report["random_audit"]["error_rate"] == 1.0
    assert report["random_audit"]["error_rate_after_review"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (5, 10, (0.2366, 0.7634)),  # the textbook example (Newcombe 1998, z = 1.96)
        (0, 10, (0.0, 0.2775)),  # upper bound z^2 / (n + z^2)
        (10, 10, (0.7225, 1.0)),
        (1, 1, (0.2065, 1.0)),
    ],
)
def test_wilson_interval_matches_known_values(
    successes: int, n: int, expected: tuple[float, float]
) -> None:
    assert wilson_interval(successes, n) == pytest.approx(expected, abs=1e-4)


def test_wilson_interval_is_wide_for_a_small_group_and_narrow_for_a_large_one() -> None:
    small = wilson_interval(1, 4)
    large = wilson_interval(250, 1000)
    assert small is not None and large is not None

    assert small[1] - small[0] > 0.5
    assert large[1] - large[0] < 0.06
    assert large[0] < 0.25 < large[1]


def test_wilson_interval_without_observations_is_none_and_refuses_impossible_counts() -> None:
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(3, 2)


def test_empty_input_gives_zero_counts_and_null_rates() -> None:
    report = error_report([])

    assert report["n_outcomes"] == 0
    groups = [
        report["overall"],
        report["random_audit"],
        *report["by_grade"].values(),
        *report["by_review_reason"].values(),
    ]
    assert len(groups) == 2 + 4 + 5
    for group in groups:
        assert group == group_errors([])
        assert group["count"] == 0
        assert all(value is None for key, value in group.items() if key != "count")


def test_report_explains_what_an_error_is() -> None:
    definition = error_report(ROWS)["definition"]

    assert "A or B" in definition["error"] and "C or D" in definition["error"]
    assert "Wilson" in definition["error_rate_ci"]
    assert "unbiased" in definition["random_audit"]

"""The error report: how often graded leads turned out otherwise, per grade and review reason.

Pure functions of the rows :meth:`AuditStore.evaluation_rows` returns (one per scored record
whose lead has an outcome): ``score`` (probability), ``grade`` (the model's), ``final_grade``
(after reviewers' overrides), ``reasons`` (review codes) and ``converted``. No I/O here.

Only the ``random_audit`` group is a random sample of all scores; every other review group was
chosen *because* the score looked doubtful, so its error rate describes that group only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from candor.models.intervals import wilson_interval
from candor.models.policy import GRADES, ReviewCode

POSITIVE_GRADES = frozenset({"A", "B"})  # grades that predict a conversion
NO_REASON = "none"

DEFINITION = {
    "error": "a record is an error when its grade is A or B and the lead did not convert, or "
    "C or D and the lead converted",
    "error_rate": "errors / count, using the model's grade",
    "error_rate_after_review": "errors / count, using the final grade: the newest override's "
    "grade where a reviewer overrode, else the model's grade",
    "error_rate_ci": "95% Wilson score interval of the error rate: with few records it is wide, "
    "so a small group's rate should not be over-read",
    "conversion_rate": "observed share of records whose lead converted (the latest outcome)",
    "mean_score": "mean predicted probability of conversion",
    "calibration_gap": "mean_score - conversion_rate, in probability; positive: the model "
    "over-predicts",
    "count": "scored records whose lead has a recorded outcome; a lead scored twice counts twice",
    "removed": "scored records with an outcome whose inputs and score were erased or purged: "
    "counted here, measured nowhere (their values are gone)",
    "by_grade": "grouped by the model's grade",
    "by_review_reason": "grouped by review code (a record with several codes is in each); "
    "'none': records not flagged for review. Flagged groups were chosen because the score "
    "looked doubtful, so their rates describe those groups, not the model overall",
    "random_audit": "records flagged random_audit only: a uniform random sample of all scores, "
    "so its error rate is an unbiased estimate of the model's error rate on all scores",
}


def is_error(grade: str, converted: bool) -> bool:
    """A or B predicts conversion, C or D predicts none; an error is the other outcome."""
    return (grade in POSITIVE_GRADES) != bool(converted)


def group_errors(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Count, observed conversion, mean prediction and error rates of one group of rows."""
    n = len(rows)
    if n == 0:
        return {
            "count": 0,
            "conversion_rate": None,
            "mean_score": None,
            "calibration_gap": None,
            "error_rate": None,
            "error_rate_ci": None,
            "error_rate_after_review": None,
            "error_rate_after_review_ci": None,
        }
    converted = sum(bool(r["converted"]) for r in rows)
    errors = sum(is_error(r["grade"], r["converted"]) for r in rows)
    errors_after = sum(is_error(r["final_grade"], r["converted"]) for r in rows)
    conversion_rate = converted / n
    mean_score = math.fsum(float(r["score"]) for r in rows) / n
    return {
        "count": n,
        "conversion_rate": conversion_rate,
        "mean_score": mean_score,
        "calibration_gap": mean_score - conversion_rate,
        "error_rate": errors / n,
        "error_rate_ci": wilson_interval(errors, n),
        "error_rate_after_review": errors_after / n,
        "error_rate_after_review_ci": wilson_interval(errors_after, n),
    }


def error_report(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Overall, by grade (A-D), by review reason (each code and "none") and the random audit;
    records whose inputs were erased or purged are counted apart (``removed``)."""
    every = list(rows)
    rows = [r for r in every if not r.get("removed")]
    codes = [str(code) for code in ReviewCode]
    by_reason = {code: group_errors([r for r in rows if code in r["reasons"]]) for code in codes}
    by_reason[NO_REASON] = group_errors([r for r in rows if not r["reasons"]])
    return {
        "n_outcomes": len(rows),
        "removed": len(every) - len(rows),
        "definition": dict(DEFINITION),
        "overall": group_errors(rows),
        "by_grade": {g: group_errors([r for r in rows if r["grade"] == g]) for g in GRADES},
        "by_review_reason": by_reason,
        "random_audit": by_reason[str(ReviewCode.RANDOM_AUDIT)],
    }

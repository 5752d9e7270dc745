"""Drift maths: the population stability index, the statuses, too-small groups and the bins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from candor.models.monitoring.drift import (
    EPSILON,
    DriftStatus,
    Observed,
    Thresholds,
    compare,
    psi,
)
from candor.models.monitoring.reference import (
    BOOLEAN,
    CATEGORICAL,
    MISSING,
    NUMERIC,
    SCORE,
    UNSEEN,
    DriftReference,
    InputReference,
    SegmentReference,
    numeric_labels,
    quantile_edges,
)
from candor.models.settings import Settings

DEFAULT = Thresholds(warn=0.1, alert=0.25, min_scores=200)


def test_psi_is_the_sum_of_share_differences_times_their_log_ratio() -> None:
    reference, observed = [0.5, 0.3, 0.2], [0.4, 0.4, 0.2]
    by_hand = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.4 - 0.3) * math.log(0.4 / 0.3) + 0.0
    assert psi(reference, observed) == pytest.approx(by_hand, abs=1e-15)
    assert psi(reference, observed) == pytest.approx(0.0510826, abs=1e-7)
    # symmetric in the two distributions, zero for identical ones
    assert psi(observed, reference) == pytest.approx(by_hand, abs=1e-15)
    assert psi(reference, reference) == 0.0


def test_an_empty_bin_counts_with_the_stated_epsilon_instead_of_an_infinite_psi() -> None:
    assert EPSILON == 1e-4
    reference, observed = [0.5, 0.5, 0.0], [0.5, 0.4, 0.1]
    by_hand = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    assert psi(reference, observed) == pytest.approx(by_hand, abs=1e-12)
    assert psi([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0  # empty on both sides adds nothing


def test_psi_refuses_distributions_over_different_bins() -> None:
    with pytest.raises(ValueError, match="3 reference bins against 2 observed"):
        psi([0.2, 0.3, 0.5], [0.5, 0.5])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, DriftStatus.OK),
        (0.0999, DriftStatus.OK),
        (0.1, DriftStatus.WARN),
        (0.2499, DriftStatus.WARN),
        (0.25, DriftStatus.ALERT),
        (3.0, DriftStatus.ALERT),
    ],
)
def test_status_thresholds_are_inclusive(value: float, expected: DriftStatus) -> None:
    assert DEFAULT.status(value) is expected


def test_thresholds_come_from_settings_and_warn_must_stay_below_alert() -> None:
    custom = Thresholds.from_settings(Settings(drift_warn_psi=0.05, drift_alert_psi=0.5))
    assert (custom.warn, custom.alert) == (0.05, 0.5)
    assert custom.status(0.3) is DriftStatus.WARN
    with pytest.raises(ValidationError, match=r"drift_alert_psi \(0.2\) must be greater"):
        Settings(drift_warn_psi=0.3, drift_alert_psi=0.2)
    with pytest.raises(ValueError, match="warn < alert"):
        Thresholds(warn=0.3, alert=0.3)


# --- bins -------------------------------------------------------------------------------------


def test_numeric_bins_are_right_closed_between_distinct_deciles_with_a_missing_bin() -> None:
    edges = quantile_edges(np.arange(1.0, 101.0))
    assert edges == (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0)
    assert quantile_edges(np.array([0.0] * 60 + [1.0] * 40)) == (0.0, 1.0)  # ties collapse
    ref = InputReference("x", NUMERIC, numeric_labels((1.0, 2.0)), (0.25,) * 4, edges=(1.0, 2.0))
    assert ref.labels == ("<= 1", "(1, 2]", "> 2", MISSING)
    bins = ref.bins(np.array([0.5, 1.0, 1.5, 2.0, 2.5, np.nan]))
    assert bins.tolist() == [0, 0, 1, 1, 2, 3]


def test_categorical_bins_map_codes_and_put_unseen_and_missing_apart() -> None:
    ref = InputReference(
        "c", CATEGORICAL, ("a", "b", UNSEEN, MISSING), (0.25,) * 4, category_bins=(0, 1)
    )
    values = np.array([0.0, 1.0, np.nan, np.nan, 7.0])
    unseen = np.array([False, False, True, False, False])
    assert ref.bins(values, unseen).tolist() == [0, 1, 2, 3, 2]  # an unknown code is unseen
    assert ref.shares_of(values, unseen).tolist() == [0.2, 0.2, 0.4, 0.2]
    flag = InputReference("f", BOOLEAN, ("false", "true", MISSING), (0.4, 0.4, 0.2))
    assert flag.bins(np.array([0.0, 1.0, np.nan])).tolist() == [0, 1, 2]


def test_out_of_range_is_outside_the_training_range() -> None:
    ref = InputReference("x", NUMERIC, numeric_labels(()), (1.0, 0.0), minimum=0.0, maximum=10.0)
    assert ref.out_of_range(np.array([-1.0, 0.0, 10.0, 11.0, np.nan])).tolist() == [
        True,
        False,
        False,
        True,
        False,
    ]


# --- groups of scores -----------------------------------------------------------------------


def reference() -> DriftReference:
    """Two inputs with uniform reference shares and a score with two bins."""
    visits = InputReference(
        "visits",
        NUMERIC,
        numeric_labels((1.0, 3.0)),
        (1 / 3, 1 / 3, 1 / 3, 0.0),
        edges=(1.0, 3.0),
        minimum=0.0,
        maximum=6.0,
    )
    region = InputReference(
        "region",
        CATEGORICAL,
        ("north", "south", UNSEEN, MISSING),
        (0.5, 0.5, 0.0, 0.0),
        category_bins=(0, 1),
    )
    score = InputReference(SCORE, NUMERIC, numeric_labels((0.5,)), (0.5, 0.5, 0.0), edges=(0.5,))
    return DriftReference(
        rows=1000,
        inputs=(visits, region),
        score=score,
        review_rates={"low_confidence": 0.1},
        review_not_computed={"random_audit": "drawn at serving"},
        segments=(
            SegmentReference(
                "region", "north", 500, {"visits": (1.0, 0.0, 0.0, 0.0), "region": (1, 0, 0, 0)}
            ),
        ),
        segments_not_inputs={"gender": "not a model input"},
    )


def observed(n: int, *, visits: np.ndarray | None = None) -> Observed:
    """``n`` scores drawn exactly like the reference (each third of visits, half each region)."""
    third = np.resize(np.array([0.5, 2.0, 5.0]), n) if visits is None else visits
    region = np.resize(np.array([0.0, 1.0]), n)
    values = np.column_stack([third, region])
    score = np.resize(np.array([0.2, 0.8]), n)
    review = [["low_confidence"] if i % 5 == 0 else [] for i in range(n)]
    return Observed(values, np.zeros((n, 2), dtype=bool), score, review)


def test_a_group_below_the_minimum_is_too_small_and_gets_no_psi() -> None:
    small = compare(reference(), observed(199), DEFAULT, codes=["low_confidence"])
    assert small.status is DriftStatus.TOO_SMALL
    assert small.worst_input is None and small.worst_psi is None
    assert all(d.psi is None and d.status is DriftStatus.TOO_SMALL for d in small.inputs)
    assert small.score.psi is None
    judged = compare(reference(), observed(200), DEFAULT)
    assert judged.status is not DriftStatus.TOO_SMALL
    assert all(d.psi is not None for d in judged.inputs)


def test_a_shifted_input_is_alert_and_names_itself_while_the_others_stay_ok() -> None:
    n = 600
    shifted = np.full(n, 5.0)  # every lead in the top bin: reference 1/3 there
    drift = compare(reference(), observed(n, visits=shifted), DEFAULT, codes=["low_confidence"])
    by_name = {d.name: d for d in drift.inputs}
    e = EPSILON
    by_hand = 2 * (e - 1 / 3) * math.log(e / (1 / 3)) + (1 - 1 / 3) * math.log(1 / (1 / 3))
    assert by_name["visits"].psi == pytest.approx(by_hand, rel=1e-12)
    assert by_name["visits"].status is DriftStatus.ALERT
    assert by_name["region"].psi == pytest.approx(0.0, abs=1e-12)
    assert by_name["region"].status is DriftStatus.OK
    assert drift.status is DriftStatus.ALERT
    assert (drift.worst_input, drift.worst_psi) == ("visits", by_name["visits"].psi)
    assert by_name["visits"].out_of_range_share == 0.0  # 5 is inside [0, 6]
    [rate] = drift.review_rates
    assert rate.observed == pytest.approx(0.2) and rate.reference == 0.1


def test_a_segment_group_is_compared_with_the_holdout_shares_of_the_same_group() -> None:
    ref = reference()
    north = ref.segment_groups("region")["north"]
    n = 300
    low_visits = Observed(
        np.column_stack([np.full(n, 0.5), np.zeros(n)]),
        np.zeros((n, 2), dtype=bool),
        np.full(n, 0.2),
        [[] for _ in range(n)],
    )
    own = compare(ref, low_visits, DEFAULT, reference_shares=north.inputs)
    overall = compare(ref, low_visits, DEFAULT)
    visits_own = next(d for d in own.inputs if d.name == "visits")
    visits_overall = next(d for d in overall.inputs if d.name == "visits")
    assert visits_own.psi == pytest.approx(0.0, abs=1e-12)  # as the group was at training
    assert visits_overall.status is DriftStatus.ALERT  # against everyone, it would look drifted
    # a group whose holdout reference is smaller than the minimum is not judged either
    thin = compare(ref, low_visits, DEFAULT, reference_shares=north.inputs, reference_rows=199)
    assert thin.status is DriftStatus.TOO_SMALL and thin.worst_psi is None


def test_the_reference_survives_its_json_form() -> None:
    ref = reference()
    again = DriftReference.from_dict(ref.to_dict())
    assert again == ref
    assert again.input("region").bins(np.array([1.0]))[0] == 1
    assert again.input(SCORE) is not None
    with pytest.raises(ValueError, match="format"):
        DriftReference.from_dict({**ref.to_dict(), "format": 99})

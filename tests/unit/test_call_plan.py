"""The call-plan rules on hand-made scored leads: exclusions, minimum shares, exploration,
ranking and the comparison with a plain top-N."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from candor.models.call_plan import (
    Basis,
    Candidate,
    ExclusionReason,
    PlanRules,
    default_min_share,
    exploration_places,
    guaranteed_places,
    plan_calls,
    plan_seed,
    recent_contacts,
    window_start,
)
from candor.models.errors import InputValidationError
from candor.models.policy import ScoringPolicy, grade

POLICY = ScoringPolicy()
TERRITORY = "territory_type"


def lead(
    lead_id: str,
    score: float | None,
    territory: str | None = "urban",
    *,
    suppressed: str | None = None,
    touches: int = 0,
) -> Candidate:
    return Candidate(
        lead_id=lead_id,
        score=score,
        grade=None if score is None else grade(score, POLICY),
        segments={TERRITORY: territory},
        suppressed=suppressed,
        touches_30d=touches,
    )


def rules(capacity: int, **changes: object) -> PlanRules:
    kwargs: dict[str, object] = {"min_share": {}, "exploration_share": 0.0, **changes}
    return PlanRules(capacity=capacity, **kwargs)  # type: ignore[arg-type]


def urban_and_rural(n_urban: int, n_rural: int) -> list[Candidate]:
    """Urban leads all score above rural ones (the historical bias, made extreme)."""
    urban = [lead(f"U{i:02d}", 0.90 - i * 0.01) for i in range(n_urban)]
    rural = [lead(f"R{i:02d}", 0.30 - i * 0.01, "rural") for i in range(n_rural)]
    return urban + rural


def ids(plan, basis: Basis | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.lead_id for e in plan.entries if basis is None or e.basis is basis]


# --- who is never planned -----------------------------------------------------------------


def test_opted_out_leads_are_excluded_never_planned() -> None:
    leads = [lead("A", 0.9), lead("B", None, suppressed="opted_out"), lead("C", 0.2)]

    plan = plan_calls(leads, rules=rules(10), seed=1)

    assert ids(plan) == ["A", "C"]
    [excluded] = plan.excluded
    assert (excluded.lead_id, excluded.reason) == ("B", ExclusionReason.OPTED_OUT)
    assert "opted out" in excluded.why.lower()
    assert plan.summary.eligible == 2


def test_leads_at_the_contact_cap_are_excluded_below_it_planned() -> None:
    leads = [
        lead("at", 0.9, touches=2),
        lead("over", 0.8, touches=5),
        lead("below", 0.7, touches=1),
    ]

    plan = plan_calls(leads, rules=rules(10, max_touches_30d=2), seed=1)

    assert ids(plan) == ["below"]
    assert [(e.lead_id, e.reason) for e in plan.excluded] == [
        ("at", ExclusionReason.CONTACT_CAP),
        ("over", ExclusionReason.CONTACT_CAP),
    ]
    assert "2 times" in plan.excluded[0].why and "cap 2" in plan.excluded[0].why


def test_an_opted_out_lead_is_excluded_as_opted_out_even_at_the_cap() -> None:
    plan = plan_calls([lead("X", None, suppressed="opted_out", touches=9)], rules=rules(5), seed=1)

    assert [e.reason for e in plan.excluded] == [ExclusionReason.OPTED_OUT]


# --- plan length, ranking, top-N comparison ------------------------------------------------


@pytest.mark.parametrize("capacity", [1, 3, 7, 8, 50])
@pytest.mark.parametrize("exploration_share", [0.0, 0.5])
def test_plan_length_is_min_of_capacity_and_eligible(
    capacity: int, exploration_share: float
) -> None:
    leads = [
        *urban_and_rural(4, 4),
        lead("out", None, suppressed="opted_out"),
        lead("cap", 0.5, touches=3),
    ]

    plan = plan_calls(
        leads,
        rules=rules(capacity, min_share={TERRITORY: 0.25}, exploration_share=exploration_share),
        seed=7,
    )

    assert len(plan.entries) == plan.summary.planned == min(capacity, 8)
    assert plan.summary.eligible == 8
    assert [e.rank for e in plan.entries] == list(range(1, len(plan.entries) + 1))
    scores = [e.score for e in plan.entries]
    assert scores == sorted(scores, reverse=True)
    assert not {"out", "cap"} & set(ids(plan))


def test_expected_conversions_and_cost_of_fairness_are_exact() -> None:
    # binary-exact probabilities: every sum below is exact in floating point
    leads = [
        lead("U1", 0.875),
        lead("U2", 0.75),
        lead("U3", 0.625),
        lead("U4", 0.5),
        lead("R1", 0.25, "rural"),
        lead("R2", 0.125, "rural"),
    ]

    plan = plan_calls(leads, rules=rules(4, min_share={TERRITORY: 0.5}), seed=1)

    # 2 rural places guaranteed (ceil(0.5 x 4)); the other 2 go to the best urban leads
    assert ids(plan) == ["U1", "U2", "R1", "R2"]
    s = plan.summary
    assert s.expected_conversions == 0.875 + 0.75 + 0.25 + 0.125 == 2.0
    assert s.top_n_expected_conversions == 0.875 + 0.75 + 0.625 + 0.5 == 2.75
    assert s.cost_of_fairness == 0.75
    assert s.cost_of_exploration == 0.0
    assert s.share_by_segment == {TERRITORY: {"rural": 0.5, "urban": 0.5}}
    assert s.top_n_share_by_segment == {TERRITORY: {"rural": 0.0, "urban": 1.0}}
    assert ids(plan, Basis.TOP_SCORE) == ["U1", "U2"]
    assert ids(plan, Basis.GUARANTEED_SHARE) == ["R1", "R2"]


def test_cost_of_fairness_splits_into_exploration_and_minimum_shares() -> None:
    leads = (
        [lead(f"U{i}", 0.75) for i in range(10)]
        + [lead(f"R{i}", 0.5, "rural") for i in range(3)]
        + [lead(f"D{i}", 0.0625) for i in range(4)]
    )

    plan = plan_calls(
        leads, rules=rules(10, min_share={TERRITORY: 0.2}, exploration_share=0.1), seed=1
    )

    assert ids(plan, Basis.GUARANTEED_SHARE) == ["R0", "R1"]
    assert ids(plan, Basis.TOP_SCORE) == [f"U{i}" for i in range(7)]
    [explored] = ids(plan, Basis.EXPLORATION)
    assert explored.startswith("D")
    s = plan.summary
    assert s.top_n_expected_conversions == 7.5
    assert s.expected_conversions == 7 * 0.75 + 2 * 0.5 + 0.0625 == 6.3125
    assert s.cost_of_fairness == 1.1875
    assert s.cost_of_exploration == 0.75 - 0.0625  # U7 gave its place to a D lead
    assert s.cost_of_fairness - s.cost_of_exploration == 2 * (0.75 - 0.5)  # the rural places


def test_without_constraints_the_plan_is_the_top_n_and_costs_nothing() -> None:
    leads = urban_and_rural(6, 6)

    plan = plan_calls(leads, rules=rules(5), seed=1)

    assert ids(plan) == ["U00", "U01", "U02", "U03", "U04"]
    assert all(e.basis is Basis.TOP_SCORE for e in plan.entries)
    assert plan.summary.cost_of_fairness == 0.0
    assert plan.summary.expected_conversions == plan.summary.top_n_expected_conversions


def test_ties_are_broken_by_lead_id_so_the_plan_does_not_depend_on_order() -> None:
    leads = [lead(i, 0.5) for i in ("c", "a", "d", "b")]

    first = plan_calls(leads, rules=rules(2), seed=1)
    second = plan_calls(list(reversed(leads)), rules=rules(2), seed=1)

    assert ids(first) == ids(second) == ["a", "b"]


def test_no_eligible_lead_gives_an_empty_plan() -> None:
    plan = plan_calls([lead("X", None, suppressed="opted_out")], rules=rules(5), seed=1)

    assert plan.entries == ()
    assert plan.summary.planned == plan.summary.eligible == 0
    assert plan.summary.expected_conversions == plan.summary.cost_of_fairness == 0.0


# --- minimum shares -----------------------------------------------------------------------


def test_minimum_share_is_met_exactly_despite_floating_point() -> None:
    # 0.3 * 10 == 3.0000000000000004 in floating point: still 3 places, not 4
    plan = plan_calls(urban_and_rural(20, 10), rules=rules(10, min_share={TERRITORY: 0.3}), seed=1)

    rural = [e for e in plan.entries if e.segment[TERRITORY] == "rural"]
    assert [e.lead_id for e in rural] == ["R00", "R01", "R02"]  # the best rural leads
    assert all(e.basis is Basis.GUARANTEED_SHARE for e in rural)
    assert plan.summary.share_by_segment[TERRITORY]["rural"] == 0.3
    [urban_g, rural_g] = sorted(plan.summary.guarantees, key=lambda g: g.value, reverse=True)
    assert (rural_g.required, rural_g.available, rural_g.planned) == (3, 10, 3)
    assert (urban_g.required, urban_g.planned) == (3, 7)


def test_a_guarantee_is_limited_to_the_eligible_leads_of_the_value() -> None:
    leads = [*urban_and_rural(10, 1), lead("R-cap", 0.29, "rural", touches=2)]

    plan = plan_calls(leads, rules=rules(10, min_share={TERRITORY: 0.3}), seed=1)

    assert len(plan.entries) == 10
    assert [e.lead_id for e in plan.entries if e.segment[TERRITORY] == "rural"] == ["R00"]
    rural = next(g for g in plan.summary.guarantees if g.value == "rural")
    assert (rural.required, rural.available, rural.planned) == (1, 1, 1)


def test_a_guaranteed_lead_that_top_n_would_call_anyway_is_labelled_top_score() -> None:
    leads = [lead("R1", 0.95, "rural"), *urban_and_rural(5, 0)]

    plan = plan_calls(leads, rules=rules(4, min_share={TERRITORY: 0.25}), seed=1)

    assert plan.entries[0].lead_id == "R1"
    assert plan.entries[0].basis is Basis.TOP_SCORE
    assert plan.summary.cost_of_fairness == 0.0


def test_values_missing_a_segment_get_no_guarantee_and_no_share_key() -> None:
    leads = [*urban_and_rural(5, 5), lead("N1", 0.1, None)]

    plan = plan_calls(leads, rules=rules(4, min_share={TERRITORY: 0.25}), seed=1)

    assert set(plan.summary.share_by_segment[TERRITORY]) == {"rural", "urban"}
    assert {g.value for g in plan.summary.guarantees} == {"rural", "urban"}


def test_rounding_up_never_promises_more_than_the_capacity() -> None:
    leads = [
        lead(f"{t}{i}", 0.9 - i * 0.01, t)
        for t in ("a", "b", "c")
        for i in range(10 if t == "a" else 5)
    ]

    plan = plan_calls(leads, rules=rules(10, min_share={TERRITORY: 0.33}), seed=1)

    required = {g.value: g.required for g in plan.summary.guarantees}
    # ceil(3.3) = 4 each would be 12 > 10: one place each is given up, largest values first
    # (b and c are the same size; b comes first by name)
    assert required == {"a": 3, "b": 3, "c": 4}
    assert len(plan.entries) == 10
    assert all(g.planned >= g.required for g in plan.summary.guarantees)


def test_minimum_shares_summing_above_one_are_refused_naming_the_field() -> None:
    leads = [lead("U", 0.5), lead("S", 0.5, "suburban"), lead("R", 0.5, "rural")]

    with pytest.raises(InputValidationError) as caught:
        plan_calls(leads, rules=rules(10, min_share={TERRITORY: 0.4}), seed=1)

    assert caught.value.details[0].field == "min_share.territory_type"
    assert "1.2" in caught.value.message and "min_share" in caught.value.message


def test_only_values_present_among_eligible_leads_count_towards_the_sum() -> None:
    # rural is present but opted out: two values remain, 2 x 0.5 = 1 is allowed
    leads = [
        lead("U", 0.5),
        lead("S", 0.4, "suburban"),
        lead("R", None, "rural", suppressed="opted_out"),
    ]

    plan = plan_calls(leads, rules=rules(2, min_share={TERRITORY: 0.5}), seed=1)

    assert ids(plan) == ["U", "S"]


# --- exploration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "capacity", "expected"),
    [
        (0.05, 10, 1),  # 0.5 rounds up
        (0.05, 20, 1),
        (0.05, 30, 2),  # 1.5 rounds up
        (0.05, 9, 0),  # below 10 no minimum of one
        (0.05, 100, 5),
        (0.1, 100, 10),
        (0.0, 100, 0),
        (0.5, 3, 2),
    ],
)
def test_exploration_places(share: float, capacity: int, expected: int) -> None:
    assert exploration_places(share, capacity) == expected


def test_exploration_draws_low_scored_leads_outside_the_top_n() -> None:
    leads = [lead(f"A{i:02d}", 0.8) for i in range(30)] + [
        lead(f"D{i:02d}", 0.05 + i * 0.001) for i in range(40)
    ]

    plan = plan_calls(leads, rules=rules(20, exploration_share=0.1), seed=3)

    explored = [e for e in plan.entries if e.basis is Basis.EXPLORATION]
    assert len(explored) == plan.summary.exploration_slots == 2
    assert all(e.grade in {"C", "D"} for e in explored)
    assert plan.summary.exploration_pool == 40
    assert all("drawn at random" in e.why and "2 of 40" in e.why for e in explored)
    assert len(ids(plan, Basis.TOP_SCORE)) == 18
    # the cost of exploring: two 0.8 leads replaced by two low-scored ones
    assert plan.summary.cost_of_fairness == pytest.approx(1.6 - sum(e.score for e in explored))
    assert plan.summary.cost_of_exploration == pytest.approx(plan.summary.cost_of_fairness)


def test_exploration_is_reproducible_from_the_seed_and_varies_with_it() -> None:
    leads = [lead(f"A{i:02d}", 0.8) for i in range(30)] + [
        lead(f"D{i:02d}", 0.05) for i in range(200)
    ]
    seed = plan_seed(lead.lead_id for lead in leads)

    def draw(seed: int, order: list[Candidate]) -> list[str]:
        return ids(
            plan_calls(order, rules=rules(100, exploration_share=0.1), seed=seed), Basis.EXPLORATION
        )

    assert draw(seed, leads) == draw(seed, list(reversed(leads)))
    assert len({tuple(draw(s, leads)) for s in range(5)}) > 1


def test_no_exploration_when_no_low_scored_lead_is_left_outside_the_top_n() -> None:
    leads = [lead(f"A{i}", 0.9) for i in range(20)] + [lead("D1", 0.05)]

    plan = plan_calls(leads, rules=rules(21, exploration_share=0.5), seed=1)

    assert plan.summary.exploration_slots == plan.summary.exploration_pool == 0
    assert len(plan.entries) == 21


def test_guarantees_come_before_exploration_and_both_before_score() -> None:
    leads = urban_and_rural(30, 10) + [lead(f"D{i}", 0.01, "urban") for i in range(10)]

    plan = plan_calls(
        leads, rules=rules(10, min_share={TERRITORY: 0.2}, exploration_share=0.1), seed=1
    )

    assert ids(plan, Basis.GUARANTEED_SHARE) == ["R00", "R01"]
    assert len(ids(plan, Basis.EXPLORATION)) == 1
    assert len(ids(plan, Basis.TOP_SCORE)) == 7


# --- plain words --------------------------------------------------------------------------


def test_every_entry_says_why_in_plain_words() -> None:
    leads = [lead("U1", 0.72), lead("U2", 0.7), lead("R1", 0.31, "rural")]

    plan = plan_calls(leads, rules=rules(2, min_share={TERRITORY: 0.2}), seed=1)

    why = {e.lead_id: e.why for e in plan.entries}
    assert why["U1"] == "Top-scored lead (score 72%, grade A)"
    assert (
        why["R1"] == "Guaranteed share for territory_type=rural (20% minimum): score 31%, grade C"
    )


# --- inputs -------------------------------------------------------------------------------


def test_duplicate_lead_ids_are_refused() -> None:
    with pytest.raises(InputValidationError) as caught:
        plan_calls([lead("A", 0.5), lead("A", 0.4)], rules=rules(2), seed=1)

    assert caught.value.details[0].field == "leads"
    assert "'A'" in caught.value.message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"max_touches_30d": 0}, "max_touches_30d"),
        ({"exploration_share": 0.6}, "exploration_share"),
        ({"exploration_share": -0.1}, "exploration_share"),
        ({"min_share": {TERRITORY: 1.5}}, "min_share.territory_type"),
    ],
)
def test_rules_out_of_range_are_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    kwargs: dict[str, object] = {"capacity": 10, "min_share": {}, **changes}

    with pytest.raises(InputValidationError) as caught:
        PlanRules(**kwargs)  # type: ignore[arg-type]

    assert caught.value.details[0].field == field


def test_default_min_share_only_names_fields_the_contract_has() -> None:
    assert default_min_share(["region", TERRITORY]) == {TERRITORY: 0.2}
    assert default_min_share(["region"]) == {}


@pytest.mark.parametrize(
    ("share", "capacity", "expected"), [(0.2, 10, 2), (0.3, 10, 3), (0.21, 10, 3), (0.0, 10, 0)]
)
def test_guaranteed_places_round_up(share: float, capacity: int, expected: int) -> None:
    assert guaranteed_places(share, capacity) == expected


def test_contact_window_counts_whole_days_back_from_today() -> None:
    now = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    since = window_start(now)

    assert since == datetime(2026, 11, 1, tzinfo=UTC)
    moments = [
        datetime(2026, 11, 1, tzinfo=UTC),  # a date alone, 30 days back: counts
        datetime(2026, 10, 31, 23, 59, tzinfo=UTC),  # the day before: does not
        datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
    ]
    assert recent_contacts(moments, since=since) == 2


def test_plan_seed_ignores_order() -> None:
    assert plan_seed(["b", "a", "c"]) == plan_seed(["c", "b", "a"]) != plan_seed(["a", "b"])

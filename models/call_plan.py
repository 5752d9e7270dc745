"""Fair call plans: which scored leads a sales team should call next, within its capacity, and why.

A plain top-N by score repeats history. In the sample data rural territories got fewer rep
visits, so rural leads converted less, so they score lower, so a top-N list calls them less, and
the gap never closes. A call plan here is built in four steps, each recorded on every entry:

1. **Never planned**: a lead that opted out of contact (scoring suppresses it), and a lead
   already touched ``max_touches_30d`` times in the contact window (the last 30 days; touches
   are supplied contacts plus earlier call plans; the caller counts them).
2. **Guaranteed shares**: for each segment field in ``min_share`` (for example
   ``territory_type``), each value present among the eligible leads gets at least
   ``ceil(min_share * capacity)`` places (or all its eligible leads, if fewer), filled with that
   value's highest-scored leads.
3. **Exploration**: ``round(exploration_share * capacity)`` places (at least one when the share
   is above 0 and the capacity at least 10) go to low-scored leads (grade C or D) drawn at random
   from those a plain top-N would not call, so that their outcomes can teach the model.
4. **By score**: the remaining places go to the highest-scored eligible leads.

The plan is ranked by score (highest first), whatever put an entry there; its ``basis`` says
what did. An entry a plain top-N plan of the same length would also hold is ``top_score``, even
if a guarantee selected it first: the guarantee did not change anything for that lead.

The summary compares the plan with that plain top-N: expected conversions (a sum of calibrated
probabilities) of both, and the difference, the cost of fairness in expected conversions, of
which the part due to exploration is reported apart (the rest is due to the minimum shares).

**Channels.** A plan may name its channel, or give one capacity line per channel (``{"visit":
40, "email": 200}``, :class:`ChannelLine`): each line is a plan of its own by the four steps
above, among the leads with live consent on its channel (the rest are excluded with
``no_channel_consent``, and counted per channel in ``removed_by_consent``), under its own
contact cap, counting the lead's touches on that channel plus those recorded without one
(which could have been on any). Lines are filled in the order given and a lead is planned on
one channel at most. The summary then adds the lines up; ``by_channel`` shows each. A plan
without a channel is the plan it always was: every lead not opted out may be planned, its
touches on every channel count, and its entries name no channel.

Pure: no I/O, no clock (``now`` is an argument) and no global random state (the draw uses a
seed derived from the request's lead ids, so a plan can be reproduced from the request).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from candor.models.contract import Contract, Field, Role
from candor.models.errors import ErrorDetail, InputValidationError, raise_if_invalid

CONTACT_WINDOW_DAYS = 30
LOW_GRADES = frozenset({"C", "D"})
# Rural territories are 20% of the sample and were historically under-visited: by default every
# territory type gets at least a fifth of the calls (3 types x 0.2 leaves 40% to score alone).
DEFAULT_MIN_SHARE: Mapping[str, float] = {"territory_type": 0.2}
DEFAULT_MAX_TOUCHES_30D = 2
DEFAULT_EXPLORATION_SHARE = 0.05
MAX_EXPLORATION_SHARE = 0.5
# share * capacity in floating point: 0.3 * 10 == 3.0000000000000004, which must not ceil to 4
_EPSILON = 1e-9


class Basis(StrEnum):
    """Why an entry is on the plan (stable codes clients may rely on)."""

    TOP_SCORE = "top_score"  # a plain top-N plan of the same length would hold it too
    GUARANTEED_SHARE = "guaranteed_share"  # placed by a segment's minimum share
    EXPLORATION = "exploration"  # drawn at random among low-scored leads


class ExclusionReason(StrEnum):
    OPTED_OUT = "opted_out"
    CONTACT_CAP = "contact_cap"
    NO_CHANNEL_CONSENT = "no_channel_consent"  # no live consent on the line's channel


@dataclass(frozen=True)
class Candidate:
    """One lead of the request, after scoring.

    Attributes:
        lead_id: the lead's identifier (unique within a request).
        score: calibrated probability of conversion; None when the lead was not scored.
        grade: A-D from the scoring policy; None when not scored.
        segments: segment field -> value (None when not recorded).
        suppressed: why scoring skipped the lead ("opted_out"), or None.
        touches_30d: contacts in the contact window: supplied history plus earlier plans,
            on every channel.
        channels: the channels the lead may be contacted on now (read by channel plans).
        channel_touches: channel -> the part of ``touches_30d`` recorded on that channel.
    """

    lead_id: str
    score: float | None
    grade: str | None
    segments: Mapping[str, str | None]
    suppressed: str | None = None
    touches_30d: int = 0
    channels: frozenset[str] = frozenset()
    channel_touches: Mapping[str, int] = field(default_factory=dict)

    def touches_on(self, channel: str) -> int:
        """Touches that count against ``channel``'s cap: its own, and those recorded without a
        channel (they could have been on any)."""
        untagged = self.touches_30d - sum(self.channel_touches.values())
        return self.channel_touches.get(channel, 0) + untagged


@dataclass(frozen=True)
class ChannelLine:
    """One capacity line of a channel plan: ``capacity`` leads to contact on ``channel``, none
    of them touched ``max_touches_30d`` times on it in the contact window."""

    channel: str
    capacity: int
    max_touches_30d: int = DEFAULT_MAX_TOUCHES_30D


@dataclass(frozen=True)
class PlanRules:
    """What a plan must respect.

    Attributes:
        capacity: the most leads the plan may hold (calls the team can make), 1 or more.
        min_share: segment field -> minimum share of the plan (0 to 1) for each of its values.
        max_touches_30d: a lead touched this often in the contact window is not planned.
        exploration_share: share of the capacity for random low-scored leads (0 to 0.5).
        lines: a channel plan's capacity lines, filled in this order (empty: a plan without
            a channel, under ``capacity`` and ``max_touches_30d``); ``capacity`` is then their
            sum.
    """

    capacity: int
    min_share: Mapping[str, float]
    max_touches_30d: int = DEFAULT_MAX_TOUCHES_30D
    exploration_share: float = DEFAULT_EXPLORATION_SHARE
    lines: tuple[ChannelLine, ...] = ()

    def __post_init__(self) -> None:
        problems: list[ErrorDetail] = []
        for line in self.lines:
            for name, value in (
                ("capacity", line.capacity),
                ("max_touches_30d", line.max_touches_30d),
            ):
                if isinstance(value, bool) or value < 1:
                    problems.append(
                        ErrorDetail(f"{name}.{line.channel}", f"expected 1 or more, got {value!r}")
                    )
        repeated = sorted(
            c for c, n in Counter(line.channel for line in self.lines).items() if n > 1
        )
        if repeated:
            problems.append(ErrorDetail("capacity", f"channel(s) {repeated} given twice"))
        if isinstance(self.capacity, bool) or self.capacity < 1:
            problems.append(ErrorDetail("capacity", f"expected 1 or more, got {self.capacity!r}"))
        if isinstance(self.max_touches_30d, bool) or self.max_touches_30d < 1:
            problems.append(
                ErrorDetail("max_touches_30d", f"expected 1 or more, got {self.max_touches_30d!r}")
            )
        if not 0.0 <= self.exploration_share <= MAX_EXPLORATION_SHARE:
            problems.append(
                ErrorDetail(
                    "exploration_share",
                    f"expected 0 to {MAX_EXPLORATION_SHARE}, got {self.exploration_share!r}",
                )
            )
        for name, share in self.min_share.items():
            if not 0.0 <= share <= 1.0:
                problems.append(
                    ErrorDetail(f"min_share.{name}", f"expected a share from 0 to 1, got {share!r}")
                )
        raise_if_invalid(problems)


@dataclass(frozen=True)
class PlanEntry:
    lead_id: str
    rank: int  # 1 = highest score (on its channel's line)
    score: float  # calibrated probability of conversion
    grade: str
    segment: dict[str, str | None]
    basis: Basis
    why: str
    channel: str | None = None  # None: a plan without a channel


@dataclass(frozen=True)
class Exclusion:
    lead_id: str
    reason: str  # an ExclusionReason, or another suppression code of the scoring service
    why: str
    channel: str | None = None  # the line it was excluded from (None: from every line)


@dataclass(frozen=True)
class Guarantee:
    """How one segment value's minimum share was met.

    ``required`` is ``ceil(min_share * capacity)``, lowered to the value's eligible leads
    (``available``) and, where the rounding up of one field's values would exceed the capacity,
    lowered by one place per value in turn, largest values first. ``planned`` counts the value's
    entries in the final plan, whatever placed them.
    """

    field: str
    value: str
    min_share: float
    required: int
    available: int
    planned: int
    channel: str | None = None


@dataclass(frozen=True)
class ChannelSummary:
    """One line of a channel plan: its capacity and cap, the leads it planned, those eligible
    on it, those consent removed from it (no live consent on the channel, or opted out of all
    contact) and those its cap removed; expected conversions of its entries."""

    capacity: int
    max_touches_30d: int
    planned: int
    eligible: int
    removed_by_consent: int
    contact_capped: int
    expected_conversions: float


@dataclass(frozen=True)
class PlanSummary:
    capacity: int
    planned: int
    eligible: int
    expected_conversions: float  # sum of the plan's calibrated probabilities
    top_n_expected_conversions: float  # the same for a plain top-N plan of the same length
    cost_of_fairness: float  # top_n_expected_conversions - expected_conversions
    cost_of_exploration: float  # the part of it due to exploration; the rest is minimum shares
    share_by_segment: dict[str, dict[str, float]]
    top_n_share_by_segment: dict[str, dict[str, float]]
    exploration_slots: int  # entries with basis "exploration"
    exploration_pool: int  # low-scored eligible leads outside the top-N it was drawn from
    guarantees: tuple[Guarantee, ...]
    seed: int
    # channel plans only: what consent removed, per channel, and each line's own figures
    removed_by_consent: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, ChannelSummary] = field(default_factory=dict)


@dataclass(frozen=True)
class CallPlan:
    entries: tuple[PlanEntry, ...]
    excluded: tuple[Exclusion, ...]
    summary: PlanSummary


def window_start(now: datetime, *, days: int = CONTACT_WINDOW_DAYS) -> datetime:
    """Start of the contact window: midnight UTC of the date ``days`` before ``now``'s date.

    Whole days, so that a contact recorded as a date alone ("2026-11-01") counts the same as
    one recorded with a time on that day.
    """
    today = now.astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=days), time.min, tzinfo=UTC)


def recent_contacts(moments: Iterable[datetime], *, since: datetime) -> int:
    """How many of ``moments`` (timezone-aware) fall at or after ``since``."""
    return sum(1 for moment in moments if moment >= since)


def plan_seed(lead_ids: Iterable[str]) -> int:
    """The exploration draw's seed: a hash of the request's lead ids, in any order.

    The same leads give the same draw, so a plan is reproducible from its request; the ids say
    nothing about a lead's outcome, so the draw stays unbiased.
    """
    digest = hashlib.sha256("\n".join(sorted(lead_ids)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def guaranteed_places(share: float, capacity: int) -> int:
    """``ceil(share * capacity)``, without floating-point noise pushing a whole number up."""
    return max(0, math.ceil(share * capacity - _EPSILON))


def exploration_places(share: float, capacity: int) -> int:
    """``share * capacity`` rounded half up; at least 1 when share > 0 and capacity >= 10."""
    if share <= 0.0:
        return 0
    places = math.floor(share * capacity + 0.5 + _EPSILON)
    return max(places, 1) if capacity >= 10 else places


def default_min_share(segment_fields: Iterable[str]) -> dict[str, float]:
    """:data:`DEFAULT_MIN_SHARE` restricted to the segment fields a contract has."""
    available = set(segment_fields)
    return {name: share for name, share in DEFAULT_MIN_SHARE.items() if name in available}


def plan_calls(
    candidates: Sequence[Candidate],
    *,
    rules: PlanRules,
    seed: int,
    report_fields: Sequence[str] = (),
) -> CallPlan:
    """Build a fair call plan from scored leads (see the module docstring for the rules).

    Args:
        candidates: every lead of the request, scored or suppressed; lead ids must be unique.
        rules: capacity, minimum shares, contact cap and exploration share.
        seed: seed of the exploration draw (:func:`plan_seed`).
        report_fields: segment fields shown on entries and in the share reports, besides those
            of ``rules.min_share``.

    Raises:
        InputValidationError: duplicated lead ids ("leads"), or one field's minimum shares
            summing above 1 over its values present among the eligible leads ("min_share.X").
    """
    _refuse_duplicates([c.lead_id for c in candidates])
    if rules.lines:
        return _plan_lines(candidates, rules=rules, seed=seed, report_fields=report_fields)
    return _plan_one(candidates, rules=rules, seed=seed, report_fields=report_fields)


def _plan_one(
    candidates: Sequence[Candidate],
    *,
    rules: PlanRules,
    seed: int,
    report_fields: Sequence[str],
) -> CallPlan:
    """One plan under ``rules.capacity`` and ``rules.max_touches_30d`` (the four steps)."""
    excluded: list[Exclusion] = []
    eligible: list[Candidate] = []
    for c in candidates:
        if c.suppressed is not None:
            excluded.append(Exclusion(c.lead_id, c.suppressed, _excluded_why(c.suppressed)))
        elif c.touches_30d >= rules.max_touches_30d:
            excluded.append(
                Exclusion(
                    c.lead_id,
                    ExclusionReason.CONTACT_CAP,
                    f"Touched {c.touches_30d} times in the last {CONTACT_WINDOW_DAYS} days "
                    f"(cap {rules.max_touches_30d}): not planned until a touch leaves the window",
                )
            )
        elif c.score is None or c.grade is None:
            raise ValueError(f"lead {c.lead_id!r} is neither suppressed nor scored")
        else:
            eligible.append(c)

    ranked = sorted(eligible, key=_by_score)
    size = min(rules.capacity, len(eligible))
    top_n = ranked[:size]
    in_top_n = {c.lead_id for c in top_n}
    groups = _groups(ranked, rules)

    chosen: dict[str, str] = {}  # lead id -> why
    for group in groups:
        have = sum(1 for c in group.members if c.lead_id in chosen)
        for c in group.members:
            if have >= group.required or len(chosen) >= size:
                break
            if c.lead_id not in chosen:
                chosen[c.lead_id] = (
                    f"Guaranteed share for {group.field}={group.value} "
                    f"({_percent(group.share)} minimum): score {_percent(_score(c))}, "
                    f"grade {c.grade}"
                )
                have += 1

    # drawn outside the top-N only: a lead the plan would call anyway teaches nothing new
    pool = sorted(
        (
            c
            for c in eligible
            if c.grade in LOW_GRADES and c.lead_id not in chosen and c.lead_id not in in_top_n
        ),
        key=lambda c: c.lead_id,
    )
    wanted = min(exploration_places(rules.exploration_share, rules.capacity), size - len(chosen))
    drawn = random.Random(seed).sample(pool, min(wanted, len(pool)))
    for c in drawn:
        chosen[c.lead_id] = (
            f"Exploration slot: a low-scored lead (score {_percent(_score(c))}, grade {c.grade}) "
            f"drawn at random ({len(drawn)} of {len(pool)} grade C/D leads outside the top "
            f"{size}) so that its outcome teaches the model"
        )
    explored = {c.lead_id for c in drawn}

    rest = [c for c in ranked if c.lead_id not in chosen]
    fill = rest[: size - len(chosen)]
    chosen.update((c.lead_id, "") for c in fill)
    # the leads the fill would have taken had no place gone to exploration: what exploring costs
    displaced = rest[len(fill) : len(fill) + len(drawn)]

    fields = list(dict.fromkeys([*rules.min_share, *report_fields]))
    planned = [c for c in ranked if c.lead_id in chosen]
    entries = []
    for rank, c in enumerate(planned, start=1):
        if c.lead_id in in_top_n:
            basis, why = (
                Basis.TOP_SCORE,
                f"Top-scored lead (score {_percent(_score(c))}, grade {c.grade})",
            )
        elif c.lead_id in explored:
            basis, why = Basis.EXPLORATION, chosen[c.lead_id]
        else:  # besides exploration, only a guarantee places a lead outside the top-N
            basis, why = Basis.GUARANTEED_SHARE, chosen[c.lead_id]
        entries.append(
            PlanEntry(
                lead_id=c.lead_id,
                rank=rank,
                score=_score(c),
                grade=str(c.grade),
                segment={name: c.segments.get(name) for name in fields},
                basis=basis,
                why=why,
            )
        )

    expected = math.fsum(_score(c) for c in planned)
    top_expected = math.fsum(_score(c) for c in top_n)
    planned_ids = {c.lead_id for c in planned}
    summary = PlanSummary(
        capacity=rules.capacity,
        planned=len(planned),
        eligible=len(eligible),
        expected_conversions=expected,
        top_n_expected_conversions=top_expected,
        cost_of_fairness=top_expected - expected,
        cost_of_exploration=math.fsum(_score(c) for c in displaced)
        - math.fsum(_score(c) for c in drawn),
        share_by_segment=_shares(planned, eligible, fields),
        top_n_share_by_segment=_shares(top_n, eligible, fields),
        exploration_slots=sum(1 for e in entries if e.basis is Basis.EXPLORATION),
        exploration_pool=len(pool),
        guarantees=tuple(
            Guarantee(
                field=g.field,
                value=g.value,
                min_share=g.share,
                required=g.required,
                available=len(g.members),
                planned=sum(1 for c in g.members if c.lead_id in planned_ids),
            )
            for g in groups
        ),
        seed=seed,
    )
    return CallPlan(tuple(entries), tuple(excluded), summary)


def _plan_lines(
    candidates: Sequence[Candidate],
    *,
    rules: PlanRules,
    seed: int,
    report_fields: Sequence[str],
) -> CallPlan:
    """A channel plan: one plan per capacity line, in order, each lead on one line at most."""
    excluded = [
        Exclusion(c.lead_id, c.suppressed, _excluded_why(c.suppressed))
        for c in candidates
        if c.suppressed is not None
    ]
    reachable = [c for c in candidates if c.suppressed is None]
    n_suppressed = len(candidates) - len(reachable)
    taken: set[str] = set()
    entries: list[PlanEntry] = []
    by_channel: dict[str, ChannelSummary] = {}
    removed: dict[str, int] = {}
    line_summaries: list[PlanSummary] = []
    eligible: dict[str, Candidate] = {}
    planned: list[Candidate] = []
    for line in rules.lines:
        pool: list[Candidate] = []
        without = [c for c in reachable if line.channel not in c.channels]
        removed[line.channel] = n_suppressed + len(without)
        excluded += [
            Exclusion(
                c.lead_id,
                ExclusionReason.NO_CHANNEL_CONSENT,
                f"No live consent to be contacted by {line.channel}: never planned on it",
                line.channel,
            )
            for c in without
        ]
        for c in reachable:
            if c.lead_id not in taken and line.channel in c.channels:
                pool.append(replace(c, touches_30d=c.touches_on(line.channel), channel_touches={}))
        one = _plan_one(
            pool,
            rules=replace(
                rules, capacity=line.capacity, max_touches_30d=line.max_touches_30d, lines=()
            ),
            seed=seed,
            report_fields=report_fields,
        )
        by_id = {c.lead_id: c for c in pool}
        eligible.update((c.lead_id, c) for c in pool if c.touches_30d < line.max_touches_30d)
        entries += [replace(e, channel=line.channel) for e in one.entries]
        excluded += [replace(x, channel=line.channel) for x in one.excluded]
        planned += [by_id[e.lead_id] for e in one.entries]
        taken.update(e.lead_id for e in one.entries)
        line_summaries.append(one.summary)
        by_channel[line.channel] = ChannelSummary(
            capacity=line.capacity,
            max_touches_30d=line.max_touches_30d,
            planned=one.summary.planned,
            eligible=one.summary.eligible,
            removed_by_consent=removed[line.channel],
            contact_capped=len(one.excluded),
            expected_conversions=one.summary.expected_conversions,
        )
    # a lead planned on one line is not excluded for having missed another
    excluded = [x for x in excluded if x.lead_id not in taken]
    fields = list(dict.fromkeys([*rules.min_share, *report_fields]))
    expected = math.fsum(e.score for e in entries)
    top_expected = math.fsum(s.top_n_expected_conversions for s in line_summaries)
    summary = PlanSummary(
        capacity=sum(line.capacity for line in rules.lines),
        planned=len(entries),
        eligible=len(eligible),
        expected_conversions=expected,
        top_n_expected_conversions=top_expected,
        cost_of_fairness=top_expected - expected,
        cost_of_exploration=math.fsum(s.cost_of_exploration for s in line_summaries),
        share_by_segment=_shares(planned, list(eligible.values()), fields),
        top_n_share_by_segment=_weighted_shares(line_summaries, fields),
        exploration_slots=sum(s.exploration_slots for s in line_summaries),
        exploration_pool=sum(s.exploration_pool for s in line_summaries),
        guarantees=tuple(
            replace(g, channel=line.channel)
            for line, s in zip(rules.lines, line_summaries, strict=True)
            for g in s.guarantees
        ),
        seed=seed,
        removed_by_consent=removed,
        by_channel=by_channel,
    )
    return CallPlan(tuple(entries), tuple(excluded), summary)


def _weighted_shares(
    summaries: Sequence[PlanSummary], fields: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Each line's plain top-N shares, weighted by the line's length: those of the plain
    top-N plans of every line together."""
    total = sum(s.planned for s in summaries)
    out: dict[str, dict[str, float]] = {}
    for name in fields:
        values = sorted({v for s in summaries for v in s.top_n_share_by_segment.get(name, {})})
        out[name] = (
            {
                v: math.fsum(
                    s.top_n_share_by_segment.get(name, {}).get(v, 0.0) * s.planned
                    for s in summaries
                )
                / total
                for v in values
            }
            if total
            else {}
        )
    return out


@dataclass(frozen=True)
class _Group:
    field: str
    value: str
    share: float
    required: int
    members: tuple[Candidate, ...]  # eligible leads with this value, highest score first


def _groups(ranked: Sequence[Candidate], rules: PlanRules) -> list[_Group]:
    """One group per (field, value present among eligible leads), in request then value order."""
    groups: list[_Group] = []
    problems: list[ErrorDetail] = []
    for name, share in rules.min_share.items():
        members: dict[str, list[Candidate]] = {}
        for c in ranked:
            value = c.segments.get(name)
            if value is not None:
                members.setdefault(value, []).append(c)
        if share * len(members) > 1.0 + _EPSILON:
            problems.append(
                ErrorDetail(
                    f"min_share.{name}",
                    f"{share:g} for each of the {len(members)} values present among the eligible "
                    f"leads ({', '.join(sorted(members))}) sums to {share * len(members):g}; "
                    f"expected at most 1 (at most {1 / len(members):.4g} each)",
                )
            )
            continue
        wanted = guaranteed_places(share, rules.capacity)
        required = {value: min(wanted, len(leads)) for value, leads in members.items()}
        # rounding up each value can promise more than the capacity (3 x ceil(0.33 x 10) = 12):
        # take one place back from each value in turn, largest first (then by name): the
        # largest values are the likeliest to earn places on score alone
        excess = sum(required.values()) - rules.capacity
        order = sorted(members, key=lambda v: (-len(members[v]), v))
        while excess > 0:
            for value in order:
                if excess > 0 and required[value] > 0:
                    required[value] -= 1
                    excess -= 1
        groups += [
            _Group(name, value, share, required[value], tuple(members[value]))
            for value in sorted(members)
        ]
    raise_if_invalid(problems)
    return groups


def _shares(
    leads: Sequence[Candidate], eligible: Sequence[Candidate], fields: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Field -> value -> share of ``leads``, over the values present among eligible leads."""
    out: dict[str, dict[str, float]] = {}
    for name in fields:
        values = sorted({v for c in eligible if (v := c.segments.get(name)) is not None})
        counts = dict.fromkeys(values, 0)
        for c in leads:
            value = c.segments.get(name)
            if value is not None:
                counts[value] += 1
        out[name] = {v: n / len(leads) for v, n in counts.items()} if leads else {}
    return out


def _by_score(c: Candidate) -> tuple[float, str]:
    return (-_score(c), c.lead_id)  # ties broken by id: the same request, the same plan


def _score(c: Candidate) -> float:
    assert c.score is not None
    return c.score


def _percent(x: float) -> str:
    return f"{round(x * 100, 1):g}%"


def _excluded_why(suppressed: str) -> str:
    if suppressed == ExclusionReason.OPTED_OUT:
        return "Opted out of contact: never planned"
    return f"Not scored ({suppressed}): never planned"


def _refuse_duplicates(lead_ids: Sequence[str]) -> None:
    repeated = sorted(i for i, n in Counter(lead_ids).items() if n > 1)
    if repeated:
        shown = ", ".join(repr(i) for i in repeated[:5])
        raise InputValidationError(
            f"field 'leads': lead ids must be unique in a call plan; repeated: {shown}",
            [ErrorDetail("leads", f"lead_id {i!r} appears more than once") for i in repeated[:5]],
        )


def segment_fields(contract: Contract) -> list[Field]:
    """Segments a plan may guarantee and reports on: audit segments, protected ones excepted.

    Protected attributes are kept for fairness audits of the model; who is called is never
    decided on them.
    """
    return [f for f in contract.audit_segments if f.role is not Role.PROTECTED]


def segment_values(lead: Mapping[str, Any], segments: Sequence[Field]) -> dict[str, str | None]:
    """The lead's value of each segment field as text; None when missing or a missing token."""
    out: dict[str, str | None] = {}
    for f in segments:
        value = lead.get(f.name)
        text = None if value is None else str(value)
        out[f.name] = None if text is None or text in f.missing_tokens else text
    return out

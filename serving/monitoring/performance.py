"""Real-world accuracy from the audit log: audited scores paired with recorded outcomes.

The adapter between the log and :mod:`candor.models.monitoring.performance`: it reads the
score events of leads that have an outcome, keeps those that were predictions of it
(:data:`RULE`), groups them by month or by audit segment, and sets the figures of each group
beside the holdout figures of the model versions that made its scores (:class:`HoldoutLookup`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from candor.models.contract.fields import Kind
from candor.models.errors import CandorError
from candor.models.leads.features import FeatureSchema
from candor.models.leads.scorer import LeadScorer
from candor.models.monitoring.performance import (
    DEFINITIONS,
    Estimate,
    Figures,
    HoldoutPerformance,
    any_alert,
    holdout_checks,
    performance_figures,
)
from candor.models.policy import GRADES, ReviewCode
from candor.models.settings import Settings
from candor.registry import LEADS, load_model
from candor.serving.audit import events as ev
from candor.serving.audit.log import EVENTS
from candor.serving.audit.records import ModelView
from candor.serving.audit.sealing import UNREADABLE
from candor.serving.audit.store import OUTCOMES, AuditStore

BY = ("month", "segment")
RANDOM_AUDIT = str(ReviewCode.RANDOM_AUDIT)

RULE = (
    "A score counts when its lead has a recorded outcome and the score was made at or before "
    "the moment that outcome was observed (observed_at; a date alone is midnight UTC): a score "
    "made once the outcome was known is not a prediction of it, so a lead scored again after "
    "its outcome counts with its earlier score only. A lead's outcome is its latest recorded "
    "one (by observed_at, then by the order recorded), as in the error report. Each lead counts "
    "once per window: its latest such score made in the window (by the score's time, UTC, from "
    "the start of the since day to the end of the until day). With by=month each calendar month "
    "(UTC) is a window of its own, so a lead scored in two months before its outcome counts in "
    "each, and the months' counts may add up to more than the whole window's; with by=segment "
    "the whole window's counted scores are split by the segment's value recorded with each."
)
RANDOM_AUDIT_NOTE = (
    "random_audit: the same figures over the counted scores the random audit drew (review code "
    "random_audit), a uniform random sample of all scores: the unbiased estimate. The figures "
    "over all scores also hold scores sent to review because they looked doubtful, and "
    "outcomes may be recorded more often for some leads than for others."
)
SEGMENT_NOTE = (
    "by=segment groups by the audit segments that are model inputs: the log keeps the encoded "
    "model inputs of each score (mapped back to their categories through the model version's "
    "schema) and nothing else, so protected attributes and segments that are not model inputs "
    "are not in the log and cannot be grouped (segments_not_in_log)."
)
GRADE_NOTE = (
    "Grades are as given when scored (the cut-offs in force then); the holdout's are the "
    "cut-offs chosen at training, which settings may have overridden when serving."
)
NOT_STORED = "holdout figures not stored with this version (trained before they were kept)"
MISSING, UNSEEN, WITHHELD = "missing", "unseen", "withheld"


@dataclass(frozen=True)
class Window:
    """Scores made from the start of ``since`` (None: the first) to the end of ``until`` (UTC)."""

    since: date | None
    until: date

    def start(self) -> datetime | None:
        return None if self.since is None else datetime.combine(self.since, time(), tzinfo=UTC)

    def end(self) -> datetime | None:
        """The first moment after the window (None: ``until`` is the calendar's last day)."""
        if self.until == date.max:
            return None
        return datetime.combine(self.until + timedelta(days=1), time(), tzinfo=UTC)


@dataclass(frozen=True)
class ScoredOutcome:
    """One audited score of a lead with an outcome, made at or before that outcome."""

    seq: int
    at: datetime
    lead_key: str
    model: str  # name@version
    score: float  # probability of conversion
    grade: str
    review: tuple[str, ...]
    converted: bool
    segments: Mapping[str, str] = field(default_factory=dict)

    @property
    def month(self) -> str:
        return f"{self.at.year:04d}-{self.at.month:02d}"

    @property
    def random_audit(self) -> bool:
        return RANDOM_AUDIT in self.review


@dataclass(frozen=True)
class SegmentNote:
    segment: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"segment": self.segment, "reason": self.reason}


@dataclass(frozen=True)
class LogRead:
    """What the log holds for a window: the scores that count, and the segments seen."""

    rows: tuple[ScoredOutcome, ...]
    segments: tuple[str, ...]  # audit segments that are model inputs, in contract order
    not_in_log: tuple[SegmentNote, ...]
    runs: Mapping[str, str] = field(default_factory=dict)  # name@version -> its run id
    removed: int = 0  # scores with an outcome whose payload was erased or purged


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")  # the log's own format (utc_now)


class _Segments:
    """The audit segments of each model version in the log, and how to read their values."""

    def __init__(self, store: AuditStore, conn: Connection) -> None:
        self._store, self._conn = store, conn
        self._views: dict[str, tuple[FeatureSchema | None, list[tuple[int, str]]]] = {}
        self.grouped: dict[str, None] = {}
        self.not_in_log: dict[str, str] = {}
        self.runs: dict[str, str] = {}  # name@version -> the run id its model event names

    def _view(self, subject: str) -> tuple[FeatureSchema | None, list[tuple[int, str]]]:
        found = self._views.get(subject)
        if found is not None:
            return found
        try:
            view: ModelView = self._store.model_view(self._conn, subject)
        except CandorError:  # no model event (an imported record): counted, not grouped
            self._views[subject] = (None, [])
            return None, []
        self.runs[subject] = view.run_id
        schema, kept = view.schema, []
        if schema is not None and view.contract is not None:
            positions = {name: j for j, name in enumerate(schema.names)}
            for f in view.contract.audit_segments:
                j = positions.get(f.name)
                if j is None:
                    self.not_in_log.setdefault(
                        f.name, "not a model input: the log does not keep its value"
                    )
                elif schema.specs[j].kind is Kind.NUMERIC:
                    self.not_in_log.setdefault(
                        f.name, "a numeric model input: only categorical segments are grouped"
                    )
                else:
                    kept.append((j, f.name))
                    self.grouped.setdefault(f.name)
        self._views[subject] = (schema, kept)
        return schema, kept

    def values(self, subject: str, body: Mapping[str, Any]) -> dict[str, str]:
        schema, kept = self._view(subject)
        inputs = body.get("inputs")
        if schema is None or not kept or not isinstance(inputs, list):
            return {}
        withheld = set(body.get("withheld", ()))
        unseen = body.get("unseen") or {}
        out: dict[str, str] = {}
        for j, name in kept:
            encoded = inputs[j]
            spec = schema.specs[j]
            if encoded is None:
                out[name] = WITHHELD if name in withheld else UNSEEN if name in unseen else MISSING
            elif spec.kind is Kind.CATEGORICAL:
                out[name] = spec.categories[int(encoded)]
            else:
                out[name] = "true" if encoded else "false"
        return out


def read_scored_outcomes(store: AuditStore, window: Window) -> LogRead:
    """Every score made in ``window`` whose lead has an outcome it was made at or before."""
    with store.reading("scores with recorded outcomes") as conn:
        latest: dict[str, tuple[datetime, int, bool]] = {}
        for o in conn.execute(
            select(
                OUTCOMES.c.lead_key, OUTCOMES.c.converted, OUTCOMES.c.observed_at, OUTCOMES.c.seq
            )
        ):
            key = (_utc(o.observed_at), int(o.seq))
            held = latest.get(o.lead_key)
            if held is None or key > held[:2]:
                latest[o.lead_key] = (*key, bool(o.converted))
        if not latest:
            return LogRead((), (), ())
        query = select(
            EVENTS.c.seq,
            EVENTS.c.at,
            EVENTS.c.lead_key,
            EVENTS.c.body,
            EVENTS.c.sealed,
            EVENTS.c.payload,
        ).where(EVENTS.c.kind == ev.SCORE, EVENTS.c.lead_key.in_(select(OUTCOMES.c.lead_key)))
        start, end = window.start(), window.end()
        if start is not None:
            query = query.where(EVENTS.c.at >= _iso(start))
        if end is not None:
            query = query.where(EVENTS.c.at < _iso(end))
        segments = _Segments(store, conn)
        rows = []
        candidates = list(conn.execute(query.order_by(EVENTS.c.seq)))
        # opened together: one read of the leads' data keys; an erased or purged score has no
        # value left to measure: it is counted (removed), not measured
        removed = 0
        for r, body in zip(candidates, store.payloads.bodies(conn, candidates), strict=True):
            at = _utc(r.at)
            held = latest.get(r.lead_key)  # None: an outcome recorded since it was read
            if held is None:
                continue
            observed, _, converted = held
            if (
                at > observed
                or (start is not None and at < start)
                or (end is not None and at >= end)
            ):
                continue  # made after the outcome was observed: not a prediction of it
            if UNREADABLE in body:
                removed += 1  # it would count: its values are gone
                continue
            model = str(body["model"])
            rows.append(
                ScoredOutcome(
                    seq=int(r.seq),
                    at=at,
                    lead_key=str(r.lead_key),
                    model=model,
                    score=float(body["score"]),
                    grade=str(body["grade"]),
                    review=tuple(body.get("review", ())),
                    converted=converted,
                    segments=segments.values(model, body),
                )
            )
    notes = tuple(SegmentNote(s, why) for s, why in segments.not_in_log.items())
    return LogRead(tuple(rows), tuple(segments.grouped), notes, dict(segments.runs), removed)


def latest_per_lead(rows: Iterable[ScoredOutcome]) -> list[ScoredOutcome]:
    """Each lead once: its latest score (by time, then log position), in log order."""
    chosen: dict[str, ScoredOutcome] = {}
    for row in rows:
        held = chosen.get(row.lead_key)
        if held is None or (row.at, row.seq) > (held.at, held.seq):
            chosen[row.lead_key] = row
    return sorted(chosen.values(), key=lambda r: r.seq)


# --- holdout figures of the model versions that made the scores -----------------------------


@dataclass(frozen=True)
class HoldoutEntry:
    """One model version's holdout figures, or why they are not available."""

    model: str  # name@version
    performance: HoldoutPerformance | None
    reason: str | None = None

    def value(self, metric: str) -> float | None:
        if self.performance is None:
            return None
        estimate: Estimate | None = getattr(self.performance.figures, metric)
        return None if estimate is None else estimate.value

    def to_dict(self) -> dict[str, Any]:
        p = self.performance
        return {
            "model": self.model,
            "available": p is not None,
            "reason": self.reason,
            "n": None if p is None else p.n,
            "cutoffs": None if p is None else list(p.cutoffs),
            "figures": None if p is None else p.figures.to_dict(),
        }


@dataclass(frozen=True)
class ServedScorer:
    """The lead scorer this process serves: its version (name@version), run id and model."""

    subject: str
    run_id: str
    scorer: LeadScorer


# (tracking URI, version, run id) -> that version's holdout figures (None: not stored with it)
_registry_cache: dict[tuple[str, str, str], HoldoutPerformance | None] = {}
_registry_lock = threading.Lock()


class HoldoutLookup:
    """Holdout figures by model version: the served champion's from its loaded meta, any other
    version's from the registry (loaded once per process; only the figures are kept).

    A version counts as the one that scored only when its run id is the one the log's model
    event names: a registry that is not the one the scores came from gives no figures.
    """

    def __init__(self, settings: Settings, served: ServedScorer | None) -> None:
        self._settings = settings
        self._served = served

    def get(self, subject: str, run_id: str) -> HoldoutEntry:
        served = self._served
        if served is not None and subject == served.subject and run_id == served.run_id:
            return _entry(subject, served.scorer.holdout_performance)
        name, _, version = subject.rpartition("@")
        if name != self._settings.lead_model_name or not version.isdigit():
            return HoldoutEntry(
                subject, None, f"not available: not a version of {self._settings.lead_model_name}"
            )
        key = (self._settings.tracking_uri, version, run_id)
        with _registry_lock:
            if key in _registry_cache:
                return _entry(subject, _registry_cache[key])
        try:  # failures are not kept: the registry may answer next time
            loaded = load_model(self._settings, kind=LEADS, ref=version)
        except CandorError as exc:
            return HoldoutEntry(subject, None, f"not available: {exc.message}")
        if loaded.run_id != run_id:
            return HoldoutEntry(
                subject,
                None,
                f"not available: version {version} in the registry was trained in run "
                f"{loaded.run_id}, not in run {run_id} that made the scores",
            )
        performance = loaded.model.holdout_performance
        with _registry_lock:
            _registry_cache[key] = performance
        return _entry(subject, performance)


def _entry(subject: str, performance: HoldoutPerformance | None) -> HoldoutEntry:
    return HoldoutEntry(subject, performance, None if performance is not None else NOT_STORED)


# --- the report -------------------------------------------------------------------------------


def _figures(rows: Sequence[ScoredOutcome], min_outcomes: int) -> Figures:
    return performance_figures(
        score=np.array([r.score for r in rows], dtype=np.float64),
        outcome=np.array([r.converted for r in rows], dtype=bool),
        grades=[r.grade for r in rows],
        min_outcomes=min_outcomes,
    )


def _metric(
    estimate: Estimate | None, metric: str, holdouts: Sequence[HoldoutEntry]
) -> dict[str, Any] | None:
    if estimate is None:
        return None
    checks = holdout_checks(estimate, {h.model: h.value(metric) for h in holdouts})
    return {
        **estimate.to_dict(),
        "holdout": [c.to_dict() for c in checks],
        "alert": any_alert([c.alert for c in checks]),
    }


# what a grade's holdout figures show beside the window's
_HOLDOUT_GRADE = ("count", "converted", "status", "mean_score", "observed_rate", "observed_rate_ci")


def figures_json(figures: Figures, holdouts: Sequence[HoldoutEntry]) -> dict[str, Any]:
    """A group's figures with each version's holdout figure beside them, and the alerts."""
    roc_auc = _metric(figures.roc_auc, "roc_auc", holdouts)
    brier = _metric(figures.brier, "brier", holdouts)
    calibration = []
    for g in figures.calibration:
        beside = []
        for h in holdouts:
            found = None if h.performance is None else h.performance.figures.grade(g.grade)
            if found is not None:
                held = found.to_dict()
                beside.append({"model": h.model, **{k: held[k] for k in _HOLDOUT_GRADE}})
        calibration.append({**g.to_dict(), "holdout": beside})
    flags = [
        None if roc_auc is None else roc_auc["alert"],
        None if brier is None else brier["alert"],
        *(g.alert for g in figures.calibration),
    ]
    return {
        "status": figures.status,
        "count": figures.count,
        "converted": figures.converted,
        "roc_auc": roc_auc,
        "brier": brier,
        "calibration": calibration,
        "alert": any_alert(flags),
    }


def group_json(
    rows: Sequence[ScoredOutcome],
    *,
    segment: str | None,
    value: str,
    min_outcomes: int,
    holdout: Mapping[str, HoldoutEntry],
) -> dict[str, Any]:
    """One group's figures over all its counted scores and over the random-audit ones alone."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.model] = counts.get(r.model, 0) + 1
    beside = [holdout[m] for m in sorted(counts)]
    audited = [r for r in rows if r.random_audit]
    return {
        "segment": segment,
        "value": value,
        "models": [{"model": m, "count": counts[m]} for m in sorted(counts)],
        "all": figures_json(_figures(rows, min_outcomes), beside),
        "random_audit": figures_json(_figures(audited, min_outcomes), beside),
    }


@dataclass(frozen=True)
class MonthFigures:
    """One month's figures over all its counted scores (for the plot)."""

    month: str
    figures: Figures


def monthly(rows: Sequence[ScoredOutcome]) -> dict[str, list[ScoredOutcome]]:
    """Each month's own window: its leads once each (their latest score of that month)."""
    by_month: dict[str, list[ScoredOutcome]] = {}
    for r in rows:
        by_month.setdefault(r.month, []).append(r)
    return {m: latest_per_lead(by_month[m]) for m in sorted(by_month)}


def performance_report(
    store: AuditStore,
    *,
    window: Window,
    by: str,
    min_outcomes: int,
    holdouts: HoldoutLookup,
) -> dict[str, Any]:
    """The answer of ``GET /v1/monitoring/performance`` (shaped as ``PerformanceReport``)."""
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, got {by!r}")
    read = read_scored_outcomes(store, window)
    counted = latest_per_lead(read.rows)
    holdout = {
        m: holdouts.get(m, read.runs.get(m, "")) for m in sorted({r.model for r in read.rows})
    }
    groups: list[dict[str, Any]] = []
    if by == "month":
        for month, rows in monthly(read.rows).items():
            groups.append(
                group_json(
                    rows, segment=None, value=month, min_outcomes=min_outcomes, holdout=holdout
                )
            )
    else:
        for segment in read.segments:
            values = sorted({r.segments[segment] for r in counted if segment in r.segments})
            for value in values:
                rows = [r for r in counted if r.segments.get(segment) == value]
                groups.append(
                    group_json(
                        rows,
                        segment=segment,
                        value=value,
                        min_outcomes=min_outcomes,
                        holdout=holdout,
                    )
                )
    return {
        "since": None if window.since is None else window.since.isoformat(),
        "until": window.until.isoformat(),
        "by": by,
        "min_outcomes": min_outcomes,
        "rule": RULE,
        "random_audit_note": RANDOM_AUDIT_NOTE,
        "grade_note": GRADE_NOTE,
        "segment_note": SEGMENT_NOTE,
        "definitions": DEFINITIONS,
        "grades": list(GRADES),
        "overall": group_json(
            counted, segment=None, value="all", min_outcomes=min_outcomes, holdout=holdout
        ),
        "groups": groups,
        "segments": list(read.segments),
        "segments_not_in_log": [n.to_dict() for n in read.not_in_log],
        "holdout": [h.to_dict() for h in holdout.values()],
        "removed_scores": read.removed,
    }


def monthly_figures(
    store: AuditStore, *, window: Window, min_outcomes: int, holdouts: HoldoutLookup
) -> tuple[list[MonthFigures], list[HoldoutEntry]]:
    """Each month's figures over all its counted scores, and the holdout figures of the
    versions that made them (for the plot)."""
    read = read_scored_outcomes(store, window)
    months = [
        MonthFigures(m, _figures(rows, min_outcomes)) for m, rows in monthly(read.rows).items()
    ]
    models = sorted({r.model for r in read.rows})
    return months, [holdouts.get(m, read.runs.get(m, "")) for m in models]

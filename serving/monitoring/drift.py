"""Drift of the audited scores in a window against each model version's training reference.

Reads the ``score`` events committed in ``[since, until]`` (UTC days, both included) from the
audit log, groups them by the model version that made them (their ``model``, ``name@version``)
and compares each version's scores with *that version's own* reference, kept with the model at
training (``candor.models.monitoring.reference``): the served champion's from the loaded model,
any other version's by loading it from the registry (once per process: a registered version
does not change); a version that cannot be loaded, or was trained before references were kept,
is reported ``no_reference`` with the reason. Score events without encoded inputs (records
imported from the older log, and scores whose inputs were erased or purged) are counted and
skipped.

Overall and per group of each audit segment that is a model input (the group read from the
encoded input, its code mapped back to the category name), each group of scores is judged by
``candor.models.monitoring.drift`` against the holdout's shares *within the same group*.
Protected attributes and audit segments that are not model inputs are not kept in the log at
all, so the report lists them as not available.

Each report computed by :func:`check` is kept: a ``drift_check`` event with its summary, and
the summary as tags on each judged version (``drift.status``, ``drift.checked_at``,
``drift.window``, ``drift.worst_input``, ``drift.worst_psi``), which the model card shows.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection, func, select

from candor.models.errors import CandorError, ErrorDetail, raise_if_invalid
from candor.models.leads.scorer import LeadScorer
from candor.models.monitoring.drift import (
    DriftStatus,
    DriftSummary,
    GroupDrift,
    Observed,
    Thresholds,
    compare,
    worst,
)
from candor.models.monitoring.reference import DriftReference
from candor.models.policy import ReviewCode
from candor.models.settings import Settings
from candor.registry import LEADS, LoadedModel, load_model, versions
from candor.serving.audit import events as ev
from candor.serving.audit.events import NewEvent, body_text
from candor.serving.audit.log import EVENTS, utc_now
from candor.serving.audit.store import AuditStore

log = logging.getLogger("candor.monitoring")

DEFAULT_DAYS = 30  # the window when no since is given: the 30 days up to until
REVIEW_CODES = tuple(str(code) for code in ReviewCode)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# --- the window --------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """UTC days from ``since`` to ``until``, both included."""

    since: date
    until: date

    def bounds(self) -> tuple[str, str]:
        """The first and last instants of the window, as the log writes times (ISO text)."""
        return (
            f"{self.since.isoformat()}T00:00:00.000000+00:00",
            f"{self.until.isoformat()}T23:59:59.999999+00:00",
        )

    def to_dict(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}

    def is_current(self, today: date | None = None) -> bool:
        """Whether the window reaches today (UTC): only such a check is the drift status of
        /healthz and the model card; a look at an older window changes neither."""
        return self.until >= (today or datetime.now(UTC).date())


def parse_window(
    since: str | None, until: str | None, *, today: date | None = None, noun: str = "field"
) -> Window:
    """The window of ``since`` and ``until`` (ISO dates, YYYY-MM-DD); by default the
    :data:`DEFAULT_DAYS` days up to today (UTC). Every problem is named (422)."""
    problems: list[ErrorDetail] = []
    parsed: dict[str, date | None] = {}
    for name, text in (("since", since), ("until", until)):
        parsed[name] = None
        if text is None:
            continue
        try:
            if not _DATE.fullmatch(text):
                raise ValueError
            parsed[name] = date.fromisoformat(text)
        except ValueError:
            problems.append(ErrorDetail(name, f"expected a date YYYY-MM-DD, got {text[:40]!r}"))
    raise_if_invalid(problems, noun=noun)
    start = parsed["since"]
    end = parsed["until"] or today or datetime.now(UTC).date()
    if parsed["until"] is None and start is not None and start > end:
        end = start  # a window that starts after today ends on its first day (empty so far)
    if start is None:
        start = (
            end - timedelta(days=DEFAULT_DAYS - 1) if end.toordinal() > DEFAULT_DAYS else date.min
        )
    if start > end:
        raise_if_invalid(
            [ErrorDetail("until", f"{end.isoformat()} is before since {start.isoformat()}")],
            noun=noun,
        )
    return Window(start, end)


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentDrift:
    """One group of an audit segment: its scores against the holdout's same group."""

    segment: str
    group: str
    scores: int
    reference_rows: int  # holdout leads of this group (0: none, nothing to compare)
    drift: GroupDrift | None

    @property
    def status(self) -> DriftStatus:
        return self.drift.status if self.drift is not None else DriftStatus.NO_REFERENCE


@dataclass(frozen=True)
class VersionDrift:
    """One model version's scores in the window against its own reference."""

    model: str  # name@version
    version: str
    scores: int
    status: DriftStatus
    reference_note: str | None  # None: the reference was found; else why there is none
    overall: GroupDrift | None
    segments: tuple[SegmentDrift, ...] = ()
    segments_not_available: Mapping[str, str] | None = None


@dataclass(frozen=True)
class DriftReport:
    window: Window
    checked_at: str  # ISO 8601, UTC
    thresholds: Thresholds
    status: DriftStatus
    scores: int
    versions: tuple[VersionDrift, ...]
    skipped: int = 0  # score events without encoded inputs (imported older records)
    sampled_share: float = 1.0  # the share of the window's scores read (1: every one)

    def worst(self) -> tuple[str | None, float | None, str | None]:
        """(input, PSI, version) of the largest PSI over the judged versions."""
        judged = [
            (v.overall.worst_psi, v.overall.worst_input, v.version)
            for v in self.versions
            if v.overall is not None and v.overall.worst_psi is not None
        ]
        if not judged:
            return None, None, None
        value, name, version = max(judged, key=lambda item: item[0] or 0.0)
        return name, value, version

    def summary(self) -> DriftSummary:
        name, value, version = self.worst()
        return DriftSummary(
            status=str(self.status),
            checked_at=self.checked_at,
            since=self.window.since.isoformat(),
            until=self.window.until.isoformat(),
            worst_input=name,
            worst_psi=value,
            version=version,
            scores=self.scores,
            versions={v.version: str(v.status) for v in self.versions},
        )


# --- references ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A version's reference, or why there is none."""

    reference: DriftReference | None
    note: str | None = None


_cache: dict[tuple[str, str, str, str], Found] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 16


def reference_of(scorer: LeadScorer, version: str) -> Found:
    raw = scorer.drift_reference
    if raw is None:
        return Found(None, f"version {version} was trained before drift references were kept")
    try:
        return Found(DriftReference.from_dict(raw))
    except (KeyError, TypeError, ValueError) as exc:
        return Found(None, f"version {version}'s drift reference cannot be read: {exc}")


class References:
    """Each version's reference: the served champion's from memory, the others loaded from
    the registry once per process (kept: a registered version never changes)."""

    def __init__(self, settings: Settings, champion: LoadedModel[LeadScorer] | None) -> None:
        self.settings = settings
        self.champion = champion

    def get(self, model: str, *, run_id: str | None = None) -> Found:
        """The reference of ``model`` (name@version), which must be the version trained in
        ``run_id`` (the run its model event in the log names; None: not checked)."""
        name, _, version = model.rpartition("@")
        if name != self.settings.lead_model_name:
            return Found(None, f"{model} is not a version of {self.settings.lead_model_name}")
        champion = self.champion
        if champion is not None and champion.version == version:
            if run_id is not None and champion.run_id != run_id:
                return Found(None, _other_run(version, champion.run_id, run_id))
            return reference_of(champion.model, version)
        key = (self.settings.tracking_uri, name, version, run_id or "")
        with _cache_lock:
            found = _cache.get(key)
        if found is not None:
            return found
        try:
            loaded = load_model(self.settings, kind=LEADS, ref=version)
        except CandorError as exc:  # not cached: the registry may be back, or the version come
            return Found(None, f"version {version} could not be loaded: {exc.message}")
        if run_id is not None and loaded.run_id != run_id:
            found = Found(None, _other_run(version, loaded.run_id, run_id))
        else:
            found = reference_of(loaded.model, version)
        with _cache_lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            _cache[key] = found
        return found


def _other_run(version: str, registered: str, logged: str) -> str:
    return (
        f"version {version} in the registry was trained in run {registered}, not in run "
        f"{logged} that made these scores: this registry is not the one they came from"
    )


# --- reading the log ------------------------------------------------------------------------


@dataclass
class _Scores:
    """One version's audited scores, as they come from the log."""

    inputs: list[list[float | None]]
    unseen: list[Sequence[str]]
    score: list[float]
    review: list[list[str]]
    run_id: str | None = None


def sample_prefix(share: float) -> str | None:
    """The score ids (32 hex digits, uniform: a uuid4, or a batch row's keyed SHA-256) below
    this text are ``share`` of all ids; None: read every one."""
    if share >= 1.0:
        return None
    return f"{int(share * 16**SAMPLE_DIGITS):0{SAMPLE_DIGITS}x}"


SAMPLE_DIGITS = 6  # a share resolved to 1 / 16**6


def _opened(store: AuditStore, conn: Connection, rows: Iterable[Any]) -> Iterator[dict[str, Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _OPEN_CHUNK:
            yield from store.payloads.bodies(conn, chunk)
            chunk = []
    if chunk:
        yield from store.payloads.bodies(conn, chunk)


_OPEN_CHUNK = 5000


def read_scores(
    store: AuditStore, window: Window, *, model: str | None = None, max_scores: int | None = None
) -> tuple[dict[str, _Scores], int, float]:
    """The score events of the window by version (``name@version``), how many held no encoded
    inputs (skipped), and the share of the window read: when it holds more than
    ``max_scores`` scores, a uniform random sample of about that many, by score id (a random
    uuid, so the sample is the same on every read of the same window). ``model`` keeps that
    version's only. Each version's run id is read from its model event in the log."""
    low, high = window.bounds()
    in_window = (EVENTS.c.kind == ev.SCORE) & (EVENTS.c.at >= low) & (EVENTS.c.at <= high)
    out: dict[str, _Scores] = {}
    skipped = 0
    with store.reading("the audited scores") as conn:
        share = 1.0
        if max_scores is not None:
            total = int(
                conn.execute(select(func.count()).select_from(EVENTS).where(in_window)).scalar_one()
            )
            share = min(1.0, max_scores / total) if total else 1.0
        prefix = sample_prefix(share)
        query = select(
            EVENTS.c.seq, EVENTS.c.lead_key, EVENTS.c.body, EVENTS.c.sealed, EVENTS.c.payload
        ).where(in_window)
        if prefix is not None:
            query = query.where(EVENTS.c.subject < prefix)
        # sealed payloads are opened a chunk at a time; an erased or purged score has no
        # inputs left and is counted with those skipped
        for body in _opened(store, conn, conn.execute(query.order_by(EVENTS.c.seq))):
            subject = body.get("model")
            if model is not None and subject != model:
                continue
            if "inputs" not in body or not isinstance(subject, str):
                skipped += 1
                continue
            found = out.get(subject)
            if found is None:
                found = out[subject] = _Scores([], [], [], [])
            found.inputs.append(body["inputs"])
            found.unseen.append(tuple(body.get("unseen") or ()))
            found.score.append(float(body["score"]))
            found.review.append(list(body.get("review") or ()))
        for subject, scores in out.items():
            try:
                scores.run_id = store.model_view(conn, subject).run_id
            except CandorError:  # no model event: the version is not checked against its run
                scores.run_id = None
    return out, skipped, share


def observed(reference: DriftReference, scores: _Scores) -> Observed:
    """A version's scores as the arrays of :class:`Observed` (inputs in reference order)."""
    k = len(reference.inputs)
    n = len(scores.score)
    values = np.array(scores.inputs, dtype=np.float64) if n else np.empty((0, k), dtype=np.float64)
    if values.shape != (n, k):
        raise ValueError(f"audited inputs of shape {values.shape}, the reference has {k} inputs")
    unseen = np.zeros((n, k), dtype=bool)
    position = {name: j for j, name in enumerate(reference.names)}
    for i, names in enumerate(scores.unseen):
        for name in names:
            j = position.get(name)
            if j is not None:
                unseen[i, j] = True
    return Observed(values, unseen, np.asarray(scores.score, dtype=np.float64), scores.review)


# --- comparing -------------------------------------------------------------------------------


def version_drift(
    model: str,
    scores: _Scores,
    found: Found,
    thresholds: Thresholds,
    *,
    random_audit_share: float,
) -> VersionDrift:
    """One version's scores against its reference, overall and by segment group."""
    version = model.rpartition("@")[2]
    n = len(scores.score)
    reference = found.reference
    if reference is None:
        return VersionDrift(model, version, n, DriftStatus.NO_REFERENCE, found.note, None)
    seen = observed(reference, scores)
    overall = _with_audit_share(
        compare(reference, seen, thresholds, codes=REVIEW_CODES), random_audit_share
    )
    segments = []
    for segment in reference.segment_names:
        j = reference.names.index(segment)
        ref_input = reference.inputs[j]
        groups = ref_input.bins(seen.values[:, j], seen.unseen[:, j])
        held = reference.segment_groups(segment)
        for b, label in enumerate(ref_input.labels):
            mask = groups == b
            if not mask.any():
                continue
            group_ref = held.get(label)
            if group_ref is None:
                segments.append(SegmentDrift(segment, label, int(mask.sum()), 0, None))
                continue
            drift = compare(
                reference,
                seen.where(mask),
                thresholds,
                codes=REVIEW_CODES,
                reference_shares=group_ref.inputs,
                reference_rows=group_ref.rows,
            )
            segments.append(SegmentDrift(segment, label, drift.scores, group_ref.rows, drift))
    return VersionDrift(
        model,
        version,
        n,
        overall.status,
        None,
        overall,
        tuple(segments),
        dict(reference.segments_not_inputs),
    )


def _with_audit_share(drift: GroupDrift, share: float) -> GroupDrift:
    """The random audit's rate is the policy's share: say which share is in force now."""
    rates = tuple(
        replace(r, note=f"{r.note}; in force now: {share:g}")
        if r.code == str(ReviewCode.RANDOM_AUDIT) and r.note
        else r
        for r in drift.review_rates
    )
    return replace(drift, review_rates=rates)


def drift_report(
    store: AuditStore,
    settings: Settings,
    window: Window,
    *,
    champion: LoadedModel[LeadScorer] | None,
    model: str | None = None,
) -> DriftReport:
    """The drift of every version's scores in ``window`` (``model``: that version only, also
    when it has no scores there)."""
    thresholds = Thresholds.from_settings(settings)
    checked_at = utc_now()
    found, skipped, share_read = read_scores(
        store, window, model=model, max_scores=settings.drift_max_scores
    )
    if model is not None and model not in found:
        found[model] = _Scores([], [], [], [])
    references = References(settings, champion)
    share = settings.policy.random_audit_share
    drifts = tuple(
        version_drift(
            m, scores, references.get(m, run_id=scores.run_id), thresholds, random_audit_share=share
        )
        for m, scores in sorted(found.items(), key=lambda item: _version_order(item[0]))
    )
    status = worst([d.status for d in drifts], default=DriftStatus.TOO_SMALL)
    total = sum(d.scores for d in drifts)
    return DriftReport(window, checked_at, thresholds, status, total, drifts, skipped, share_read)


def _version_order(model: str) -> tuple[int, str]:
    version = model.rpartition("@")[2]
    return (-int(version) if version.isdigit() else 0, model)


# --- keeping the checks ----------------------------------------------------------------------


def record_check(
    store: AuditStore, report: DriftReport, *, actor: str, settings: Settings
) -> DriftSummary:
    """Keep a computed report: its summary as a ``drift_check`` event (committed before this
    returns) and as tags on each version it judged (best effort: the registry's failure is
    logged, the event stands)."""
    summary = report.summary()
    window = report.window
    subject = f"drift:{window.since.isoformat()}..{window.until.isoformat()}"
    store.log.append([NewEvent(ev.DRIFT_CHECK, actor, subject, body_text(summary.to_dict()))])
    for v in report.versions:
        if v.overall is None or not v.model.startswith(f"{settings.lead_model_name}@"):
            continue
        tags = {
            "drift.status": str(v.status),
            "drift.checked_at": report.checked_at,
            "drift.window": f"{window.since.isoformat()}..{window.until.isoformat()}",
            "drift.worst_input": v.overall.worst_input or "none",
            "drift.worst_psi": "none"
            if v.overall.worst_psi is None
            else f"{v.overall.worst_psi:.4f}",
        }
        try:
            versions.tag_version(settings, settings.lead_model_name, v.version, tags)
        except Exception as exc:  # the registry's failure must not lose the kept check
            log.warning("drift check not tagged on version %s: %s", v.version, exc)
    return summary


def latest_check(store: AuditStore) -> DriftSummary | None:
    """The summary of the last ``drift_check`` event in the log, or None when there is none."""
    with store.reading("the last drift check") as conn:
        row = conn.execute(
            select(EVENTS.c.body)
            .where(EVENTS.c.kind == ev.DRIFT_CHECK)
            .order_by(EVENTS.c.seq.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return DriftSummary.from_dict(orjson.loads(row.body))


def health_of(summary: DriftSummary | None) -> dict[str, Any]:
    """What ``/healthz`` (and the model card) say of the latest check."""
    if summary is None:
        return {"status": "never_checked"}
    return {
        "status": summary.status,
        "checked_at": summary.checked_at,
        "window": {"since": summary.since, "until": summary.until},
        "worst_input": summary.worst_input,
        "worst_psi": summary.worst_psi,
        "version": summary.version,
    }


# --- the report as JSON (the API's answer and `candor monitor drift --json`) -----------------

RULE = (
    "population stability index per input and for the score, sum over bins of (observed share "
    "- reference share) * ln(observed share / reference share), each share below 1e-4 counted "
    "as 1e-4; against the version's holdout at training (deciles of each numeric input and of "
    "the score, each category with (unseen) and (missing)); warn at PSI >= {warn:g}, alert at "
    ">= {alert:g}; a group of fewer than {min_scores} scores is too_small and not judged"
)


def report_dict(report: DriftReport) -> dict[str, Any]:
    name, value, version = report.worst()
    t = report.thresholds
    return {
        "window": report.window.to_dict(),
        "checked_at": report.checked_at,
        "status": str(report.status),
        "scores": report.scores,
        "skipped": report.skipped,
        "sampled_share": report.sampled_share,
        "worst_input": name,
        "worst_psi": value,
        "worst_version": version,
        "thresholds": t.to_dict(),
        "rule": RULE.format(warn=t.warn, alert=t.alert, min_scores=t.min_scores),
        "versions": [_version_dict(v) for v in report.versions],
    }


def _version_dict(v: VersionDrift) -> dict[str, Any]:
    return {
        "model": v.model,
        "version": v.version,
        "scores": v.scores,
        "status": str(v.status),
        "reference_note": v.reference_note,
        "overall": v.overall.to_dict() if v.overall is not None else None,
        "segments": [_segment_dict(s) for s in v.segments],
        "segments_not_available": dict(v.segments_not_available or {}),
    }


def _segment_dict(s: SegmentDrift) -> dict[str, Any]:
    d = s.drift
    return {
        "segment": s.segment,
        "group": s.group,
        "reference_rows": s.reference_rows,
        "scores": s.scores,
        "status": str(s.status),
        "worst_input": d.worst_input if d is not None else None,
        "worst_psi": d.worst_psi if d is not None else None,
        "inputs": [
            {"name": i.name, "status": str(i.status), "psi": i.psi}
            for i in ((*d.inputs, d.score) if d is not None else ())
        ],
    }


def last_drift_check(store: AuditStore | None) -> DriftSummary | None:
    """:func:`latest_check`, for the service's start: None without a store or when it cannot
    be read now (logged; /healthz then says never_checked until the next check)."""
    if store is None:
        return None
    try:
        return latest_check(store)
    except CandorError as exc:
        log.warning("the last drift check could not be read: %s", exc.message)
        return None

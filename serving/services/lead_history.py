"""A lead's score history and the change between two of its scores, from the audit log."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from candor.explain.score_changes import ScoreChange, ScoreSnapshot, decompose
from candor.models.errors import ErrorDetail, InputValidationError, NotFoundError
from candor.models.leads.features import display_value
from candor.models.leads.schema_translation import translate_row
from candor.models.leads.score_trend import Trend, score_trend
from candor.models.leads.scorer import LeadScorer
from candor.serving.audit import events as ev
from candor.serving.audit.lead_history import (
    LeadHistory,
    LeadRecord,
    lead_score_ids,
    read_lead_history,
    read_lead_records,
)
from candor.serving.audit.sealing import UNREADABLE
from candor.serving.audit.store import AuditStore

# the scorer of (version, run id): the champion's own, or one loaded from the registry
ScorerOf = Callable[[str, str], LeadScorer]
MAX_COMPARED = 200  # the default pair is looked for among the lead's newest scores


def lead_history(
    store: AuditStore, lead_id: str, *, reader: str, limit: int, cursor: int | None
) -> tuple[LeadHistory, Trend]:
    """The lead's records (a page, newest first) and the trend of its latest scores.

    The trend reads the newest scores of the lead whatever the page (suppressions have no
    score and are skipped).
    """
    history = read_lead_history(store, lead_id, reader=reader, limit=limit, cursor=cursor)
    return history, score_trend(history.recent_scores)


def score_change(
    store: AuditStore,
    lead_id: str,
    *,
    reader: str,
    from_id: str | None,
    to_id: str | None,
    scorer_of: ScorerOf,
) -> ScoreChange:
    """The change from score ``from_id`` to score ``to_id`` of the lead (default: its last two).

    Raises:
        NotFoundError: the lead has no scores, or a score id is not one of its scores.
        InputValidationError: fewer than two scores to compare, a suppression named, or the
            same score twice.
    """
    if from_id is None or to_id is None:
        from_id, to_id = _default_pair(store, lead_id, from_id=from_id, to_id=to_id)
    if from_id == to_id:
        raise InputValidationError(
            "field 'to': the same score as 'from'; name two different scores",
            [ErrorDetail("to", "same score as 'from'")],
        )
    found = read_lead_records(store, lead_id, [from_id, to_id], reader=reader)
    for name, score_id in (("from", from_id), ("to", to_id)):
        record = found.get(score_id)
        if record is None:
            raise NotFoundError(
                f"field {name!r}: not a score of this lead",
                [ErrorDetail(name, "not a score of this lead")],
            )
        if record.kind != ev.SCORE:
            raise InputValidationError(
                f"field {name!r}: the lead was not scored then ({record.body.get('suppressed')})",
                [ErrorDetail(name, "a suppression has no score")],
            )
        removed = record.body.get(UNREADABLE)
        if removed is not None:
            since = record.body.get(f"{removed}_at")
            raise InputValidationError(
                f"field {name!r}: this score's inputs and explanation were {removed}"
                f"{f' on {since}' if since else ''}; it can no longer be compared",
                [ErrorDetail(name, f"score {removed}")],
            )
    old, new = found[from_id], found[to_id]
    contract = new.model.contract
    kept = all("inputs" in r.body and "contributions" in r.body for r in (old, new))
    if not kept or contract is None or old.model.schema is None or new.model.schema is None:
        raise InputValidationError(
            "field 'from': a score recorded before the log kept the model's inputs cannot be "
            "compared",
            [ErrorDetail("from", "no input schema in the log")],
        )
    new_on_old = None
    new_score_on_old = None
    if not same_model(old, new):
        scorer = scorer_of(new.model.version, new.model.run_id)
        row = translate_row(
            old.body["inputs"],
            source=old.model.schema,
            target=new.model.schema,
            missing={*old.body.get("withheld", ()), *old.body.get("unseen", {})},
        )
        new_on_old = scorer.contributions(row.reshape(1, -1))[0].tolist()
        new_score_on_old = float(scorer.calibrate(np.array([sum(new_on_old)])).score[0])
    return decompose(
        snapshot(old),
        snapshot(new),
        contract=contract,
        new_model_on_old=new_on_old,
        new_score_on_old=new_score_on_old,
    )


def same_model(a: LeadRecord, b: LeadRecord) -> bool:
    """One model made both scores: the same name, version and training run."""
    return (a.model.name, a.model.version, a.model.run_id) == (
        b.model.name,
        b.model.version,
        b.model.run_id,
    )


def _default_pair(
    store: AuditStore, lead_id: str, *, from_id: str | None, to_id: str | None
) -> tuple[str, str]:
    """Neither named: the last two scores. Only ``from``: it against the latest. Only ``to``:
    the score before it against it."""
    scored = lead_score_ids(store, lead_id, limit=MAX_COMPARED)
    if from_id is None and to_id is None:
        if len(scored) < 2:
            raise InputValidationError(
                f"field 'lead_id': the lead has {len(scored)} score in the audit log; a change "
                "needs two",
                [ErrorDetail("lead_id", "fewer than two scores")],
            )
        return scored[1], scored[0]
    if to_id is None:
        return str(from_id), scored[0]
    if to_id in scored and scored.index(to_id) + 1 < len(scored):
        return scored[scored.index(to_id) + 1], to_id
    raise InputValidationError(
        "field 'from': no earlier score of this lead before 'to' among its newest "
        f"{MAX_COMPARED}; name 'from' too",
        [ErrorDetail("from", "no earlier score found")],
    )


def snapshot(record: LeadRecord) -> ScoreSnapshot:
    """A score record as :func:`decompose` reads it (human values; withheld ones None)."""
    schema = record.model.schema
    assert schema is not None  # checked by the caller
    body = record.body
    withheld = frozenset(body.get("withheld", ()))
    unseen = dict(body.get("unseen", {}))
    values = tuple(
        None
        if spec.name in withheld
        else unseen.get(spec.name)
        if spec.name in unseen
        else display_value(spec, np.nan if raw is None else float(raw))
        for spec, raw in zip(schema.specs, body["inputs"], strict=True)
    )
    return ScoreSnapshot(
        score_id=record.score_id,
        at=record.at,
        model_version=record.model.version,
        model_run=record.model.run_id,
        score=float(body["score"]),
        grade=str(body["grade"]),
        margin=float(body["margin"]),
        names=tuple(schema.names),
        values=values,
        contributions=tuple(float(c) for c in body["contributions"]),
        withheld=withheld,
        unseen=frozenset(unseen),
    )

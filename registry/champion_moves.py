"""Every move of a champion alias, as an audit event written before the alias moves, read
back from the log; and rollback.

MLflow keeps only where an alias points now. Each move (the training gate's, ``candor models
promote``, ``candor models rollback``) is therefore a ``promotion`` event in the signed audit
log, committed before the alias moves (a move that cannot be recorded is not made):

- actor: who moved it; subject: ``name@to``;
- body: ``model``, ``alias``, ``from`` (the champion before, or null), ``to``, ``by``, ``at``
  (UTC, ISO 8601), ``why`` (the gate's reason or the justification), ``how`` (``gate``,
  ``promote`` or ``rollback``), ``run_id``, and ``details`` (text values; for example the
  leakage risks accepted).

Older logs hold ``promotion`` events written by the command line only, with another body
(``version``, ``justification``, sometimes ``previous_champion``): :func:`move_from_event`
reads both. A move whose alias then failed to move is followed by its undo (``details.undone``).
:mod:`candor.registry.champion_history` answers from these which version was champion when.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from candor.models.errors import (
    AuditUnavailableError,
    CandorError,
    ConflictError,
    ErrorDetail,
    NotFoundError,
)
from candor.models.settings import Settings
from candor.registry import versions

if TYPE_CHECKING:
    from candor.serving.audit.events import StoredEvent
    from candor.serving.audit.store import AuditStore

log = logging.getLogger("candor.registry")

HOWS = ("gate", "promote", "rollback")
GATE_ACTOR = "training gate"  # the actor of the gate's moves (older logs used it too)
_LEGACY_GATE_PREFIX = "training gate: "


@dataclass(frozen=True)
class ChampionMove:
    """One move of a champion alias, as recorded."""

    model: str
    alias: str
    from_version: str | None  # the champion before; None: none (or an older log said not)
    to_version: str | None  # None only in the undo of a first move whose alias failed to move
    by: str
    at: str  # ISO 8601, UTC
    why: str
    how: str  # one of HOWS
    run_id: str | None
    details: Mapping[str, str] = field(default_factory=dict)
    seq: int | None = None  # its position in the audit log, once read back

    @property
    def subject(self) -> str:
        return f"{self.model}@{self.to_version or 'none'}"

    def body(self) -> dict[str, Any]:
        """The event's body (see the module's docstring)."""
        return {
            "model": self.model,
            "alias": self.alias,
            "from": self.from_version,
            "to": self.to_version,
            "by": self.by,
            "at": self.at,
            "why": self.why,
            "how": self.how,
            "run_id": self.run_id,
            "details": dict(self.details),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, **self.body()}

    def moment(self) -> datetime:
        return as_utc(datetime.fromisoformat(self.at))


# --- moving --------------------------------------------------------------------------------


def plan_move(
    settings: Settings,
    *,
    name: str,
    version: str,
    how: str,
    why: str,
    by: str,
    run_id: str | None,
    previous: str | None,
    at: str | None = None,
    details: Mapping[str, str] | None = None,
) -> ChampionMove:
    """The move of ``name``'s champion alias from ``previous`` to ``version``, not yet made."""
    if how not in HOWS:
        raise ValueError(f"how must be one of {HOWS}, got {how!r}")
    return ChampionMove(
        model=name,
        alias=settings.model_alias,
        from_version=previous,
        to_version=str(version),
        by=by,
        at=at or datetime.now(UTC).isoformat(timespec="seconds"),
        why=why,
        how=how,
        run_id=run_id,
        details=dict(details or {}),
    )


def record_move(settings: Settings, move: ChampionMove) -> None:
    """Commit ``move`` to the audit log of ``settings``.

    Raises:
        AuditUnavailableError: the log could not be opened or written; the alias must then
            not move (the message says so and how to retry).
    """
    # serving imports the registry; the registry reaches the audit store only here
    from candor.serving.audit.factory import open_store

    try:
        store = open_store(settings, authenticates=False)
        try:
            store.record_promotion(move.body(), by=move.by)
        finally:
            store.close()
    except Exception as exc:  # whatever failed, the move is not made unrecorded
        problem = exc.message if isinstance(exc, CandorError) else f"{type(exc).__name__}: {exc}"
        raise AuditUnavailableError(
            f"{move.model}'s {move.alias} alias was not moved to version {move.to_version}: the "
            f"move could not be recorded in the audit log ({problem}). Version "
            f"{move.to_version} stays registered; once the audit store can be written, run "
            f"`candor models promote {move.to_version} --justify ...`"
        ) from exc


def apply_move(settings: Settings, move: ChampionMove) -> None:
    """Point the alias as ``move`` (already recorded) says; if MLflow refuses, record the undo
    so that the history stays true, and raise."""
    if move.to_version is None:
        raise ValueError("a move to no version is only ever an undo")
    try:
        versions.set_alias(settings, move.model, move.alias, move.to_version)
    except Exception as exc:
        undo = replace(
            move,
            from_version=move.to_version,
            to_version=move.from_version,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            why=f"undone: the alias did not move ({type(exc).__name__}: {exc})",
            details={**move.details, "undone": "true"},
        )
        try:
            record_move(settings, undo)
        except AuditUnavailableError as unrecorded:
            log.error("the undo of a failed champion move was not recorded: %s", unrecorded)
        raise


def move_champion(
    settings: Settings,
    *,
    name: str,
    version: str,
    how: str,
    why: str,
    by: str,
    run_id: str | None,
    details: Mapping[str, str] | None = None,
) -> ChampionMove:
    """Move ``name``'s champion alias to ``version``: the audit event first, then the alias.

    Raises:
        AuditUnavailableError: the move could not be recorded (the alias has not moved).
    """
    move = plan_move(
        settings,
        name=name,
        version=version,
        how=how,
        why=why,
        by=by,
        run_id=run_id,
        previous=versions.champion_version(settings, name),
        details=details,
    )
    record_move(settings, move)
    apply_move(settings, move)
    return move


# --- rollback ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rollback:
    record: dict[str, Any]  # as versions.promote returns it
    warning: str | None  # the target was never champion (by the log and the version's tags)


def rollback(
    settings: Settings,
    version: str,
    *,
    justification: str,
    by: str,
    name: str | None = None,
    accept_leakage_risk: Sequence[str] = (),
) -> Rollback:
    """Move the champion of ``name`` (default: the lead scorer) back to an earlier ``version``.

    Any registered version older than the current champion may be the target; one that was
    never champion (no recorded move to it, and neither the gate's nor a promotion's tag) is
    allowed, with a warning. The rules of :func:`versions.promote` apply (a justification;
    leakage risks accepted by name) and it records the move (``how``: ``rollback``) and tags
    the version as a promotion does.

    Raises:
        CandorError: no justification (``justification_required``); an unaccepted leakage
            risk (``leakage_risk_not_accepted``).
        NotFoundError: no such model or version.
        ConflictError: no champion yet (``no_champion``), the target is the champion
            (``already_champion``) or newer than it (``not_a_rollback``: promote it instead).
    """
    name = resolve_model(settings, name or settings.lead_model_name, field="model")
    versions.require_justification(justification, what="a rollback")
    found = versions.find_version(settings, name, version)
    target = str(found.version)
    current = versions.champion_version(settings, name)
    if current is None:
        raise ConflictError(
            f"{name} has no {settings.model_alias} to roll back from; make one with "
            f"`candor models promote {target} --justify ...`",
            [ErrorDetail("version", "no champion yet")],
            code="no_champion",
        )
    if target == current:
        raise ConflictError(
            f"version {target} of {name} is already the {settings.model_alias}",
            [ErrorDetail("version", "already the champion")],
            code="already_champion",
        )
    if int(target) > int(current):
        raise ConflictError(
            f"version {target} of {name} is newer than the {settings.model_alias} (version "
            f"{current}): that is not a rollback; use `candor models promote {target} --justify`",
            [ErrorDetail("version", f"newer than the champion, version {current}")],
            code="not_a_rollback",
        )
    was = _was_champion(settings, name, found.tags, target)
    record = versions.promote(
        settings,
        target,
        justification=justification,
        by=by,
        accept_leakage_risk=accept_leakage_risk,
        name=name,
        how="rollback",
    )
    warning = None
    if not was:
        warning = (
            f"version {target} of {name} was never {settings.model_alias} before (no recorded "
            "move to it, and it had not passed the gate nor been promoted)"
        )
    return Rollback(record, warning)


def _was_champion(settings: Settings, name: str, tags: Mapping[str, str], version: str) -> bool:
    if tags.get("gate.promoted") == "True" or "promotion.at" in tags:
        return True
    from candor.serving.audit.factory import open_store

    store = open_store(settings, authenticates=False)
    try:
        return any(m.to_version == version for m in read_moves(store, name))
    finally:
        store.close()


# --- reading the moves back --------------------------------------------------------------


def known_models(settings: Settings) -> dict[str, str]:
    """Registered model name -> its kind (``leads``, ``forecast``), as configured."""
    return {settings.lead_model_name: "leads", settings.forecast_model_name: "forecast"}


def resolve_model(settings: Settings, name: str, *, field: str) -> str:
    """``name`` when it is one of the configured models; else NotFoundError naming ``field``."""
    known = known_models(settings)
    if name not in known:
        raise NotFoundError(
            f"no model named {name!r}; known: {sorted(known)}",
            [ErrorDetail(field, f"unknown model; expected one of {sorted(known)}")],
        )
    return name


def move_from_event(event: StoredEvent) -> ChampionMove:
    """A ``promotion`` event as a move, in either body: this module's, or an older log's."""
    body = json.loads(event.body)
    if "how" in body:
        return ChampionMove(
            model=str(body["model"]),
            alias=str(body["alias"]),
            from_version=_text(body.get("from")),
            to_version=_text(body.get("to")),
            by=str(body.get("by") or event.actor),
            at=_log_time(event.at),
            why=str(body.get("why", "")),
            how=str(body["how"]),
            run_id=_text(body.get("run_id")),
            details={str(k): str(v) for k, v in (body.get("details") or {}).items()},
            seq=event.seq,
        )
    why = str(body.get("justification", ""))
    gate = event.actor == GATE_ACTOR or why.startswith(_LEGACY_GATE_PREFIX)
    return ChampionMove(
        model=str(body["model"]),
        alias=str(body.get("alias", "")),
        from_version=_text(body.get("previous_champion")),
        to_version=_text(body.get("version")),
        by=str(body.get("by") or event.actor),
        at=_log_time(event.at),
        why=why.removeprefix(_LEGACY_GATE_PREFIX) if gate else why,
        how="gate" if gate else "promote",
        run_id=_text(body.get("run_id")),
        details={"recorded_as": "older promotion event"},
        seq=event.seq,
    )


def read_moves(store: AuditStore, name: str) -> list[ChampionMove]:
    """Every recorded move of ``name``'s champion alias, oldest first."""
    return [move_from_event(e) for e in store.champion_history(name)]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive one is taken to be UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _log_time(at: str) -> str:
    return as_utc(datetime.fromisoformat(at)).isoformat(timespec="microseconds")


__all__ = [
    "GATE_ACTOR",
    "HOWS",
    "ChampionMove",
    "Rollback",
    "apply_move",
    "as_utc",
    "known_models",
    "move_champion",
    "move_from_event",
    "plan_move",
    "read_moves",
    "record_move",
    "resolve_model",
    "rollback",
]

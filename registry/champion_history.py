"""Which version was champion when: the history of a champion alias, read from the audit log.

The moves are the ``promotion`` events of :mod:`candor.registry.champion_moves`. The version
in force at a moment is the ``to`` of the last recorded move at or before it, by the log's
commit time; a date means the end of that day (23:59:59.999999 UTC). With a moment comes that
UTC day's moves and its audited results (scores, forecasts) per version, whose ``model`` field
names the version that made them: a cross-check of the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from candor.models.errors import ErrorDetail, InputValidationError
from candor.models.settings import Settings
from candor.registry import versions
from candor.registry.champion_moves import (
    ChampionMove,
    as_utc,
    known_models,
    read_moves,
    resolve_model,
)

if TYPE_CHECKING:
    from candor.serving.audit.store import AuditStore

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LEAP_SECOND = re.compile(r"(T[0-9]{2}:[0-9]{2}):60")
IN_FORCE_RULE = (
    "the version the last recorded move of the champion alias made champion, at or before the "
    "moment (the log's commit time); a date means the end of that day, 23:59:59.999999 UTC"
)


@dataclass(frozen=True)
class Moment:
    """What ``at`` asks about: an instant, and the UTC day whose results are counted."""

    asked: str
    instant: datetime  # the end of the day for a date
    day: date
    whole_day: bool


def parse_moment(text: str, *, field: str = "at") -> Moment:
    """An ISO 8601 date (the end of that day, UTC) or date-time (UTC when it has no offset).

    Raises:
        InputValidationError: anything else, naming ``field``.
    """
    value = text.strip()
    try:
        if _DATE.fullmatch(value):
            day = date.fromisoformat(value)
            return Moment(text, datetime.combine(day, time.max, tzinfo=UTC), day, True)
        # RFC 3339 allows a lower-case t and z, and a leap second (read as its second 59)
        moment = datetime.fromisoformat(_LEAP_SECOND.sub(r"\1:59", value.upper()))
    except ValueError:
        raise InputValidationError(
            f"field {field!r}: expected an ISO 8601 date (2025-11-03) or date-time "
            "(2025-11-03T14:30:00Z)",
            [ErrorDetail(field, "expected an ISO 8601 date or date-time")],
        ) from None
    try:
        instant = as_utc(moment)
    except OverflowError:  # past either end of the calendar once in UTC: the end it is past
        instant = (datetime.max if moment.year > 1 else datetime.min).replace(tzinfo=UTC)
    return Moment(text, instant, instant.date(), False)


@dataclass(frozen=True)
class InForce:
    """The answer to "which version was champion then"."""

    moment: Moment
    move: ChampionMove | None  # the move that made it champion; None: no move recorded before
    moves_that_day: tuple[ChampionMove, ...]  # oldest first (a date's day; an instant's too)
    results: dict[str, int]  # version -> audited scores (forecasts) of that UTC day

    @property
    def version(self) -> str | None:
        return None if self.move is None else self.move.to_version

    def to_dict(self) -> dict[str, Any]:
        return {
            "asked": self.moment.asked,
            "at": self.moment.instant.isoformat(timespec="microseconds"),
            "rule": IN_FORCE_RULE,
            "version": self.version,
            "since": None if self.move is None else self.move.to_dict(),
            "day": self.moment.day.isoformat(),
            "moves_that_day": [m.to_dict() for m in self.moves_that_day],
            "results_that_day": [
                {"version": v, "count": n}
                for v, n in sorted(self.results.items(), key=lambda item: _version_key(item[0]))
            ],
        }


def in_force(moves: Sequence[ChampionMove], moment: Moment) -> ChampionMove | None:
    """The last of ``moves`` (oldest first) at or before ``moment.instant``."""
    before = [m for m in moves if m.moment() <= moment.instant]
    return before[-1] if before else None


@dataclass(frozen=True)
class ChampionHistory:
    model: str
    kind: str  # leads or forecast
    alias: str
    champion: str | None  # where the registry's alias points now
    moves: tuple[ChampionMove, ...]  # newest first
    in_force: InForce | None  # when a moment was asked
    warning: str | None  # the registry and the log disagree

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "kind": self.kind,
            "alias": self.alias,
            "champion": self.champion,
            "moves": [m.to_dict() for m in self.moves],
            "in_force": None if self.in_force is None else self.in_force.to_dict(),
            "warning": self.warning,
        }


def champion_history(
    settings: Settings, store: AuditStore, name: str, *, at: str | None = None, field: str = "name"
) -> ChampionHistory:
    """The moves of ``name``'s champion, newest first, and with ``at`` the version in force
    then (see :data:`IN_FORCE_RULE`) with the audited results of that UTC day per version.

    Raises:
        NotFoundError: ``name`` is not a configured model (naming ``field``).
        InputValidationError: ``at`` is neither a date nor a date-time.
    """
    name = resolve_model(settings, name, field=field)
    moment = None if at is None else parse_moment(at)
    moves = read_moves(store, name)
    champion = versions.champion_version(settings, name)
    answer = None
    if moment is not None:
        start = datetime.combine(moment.day, time.min, tzinfo=UTC)
        end = datetime.combine(moment.day, time.max, tzinfo=UTC)
        counts = store.results_per_model(name, since=start, until=end)
        answer = InForce(
            moment=moment,
            move=in_force(moves, moment),
            moves_that_day=tuple(m for m in moves if start <= m.moment() <= end),
            results={ref.partition("@")[2]: n for ref, n in counts.items()},
        )
    return ChampionHistory(
        model=name,
        kind=known_models(settings)[name],
        alias=settings.model_alias,
        champion=champion,
        moves=tuple(reversed(moves)),
        in_force=answer,
        warning=_disagreement(moves, champion, settings.model_alias),
    )


def _disagreement(moves: Sequence[ChampionMove], champion: str | None, alias: str) -> str | None:
    recorded = moves[-1].to_version if moves else None
    if recorded == champion:
        return None
    if not moves:
        return (
            f"the registry's {alias} is version {champion}, but no move of it is recorded: it "
            "was set before Candor recorded champion moves, or outside Candor"
        )
    return (
        f"the registry's {alias} is {'version ' + champion if champion else 'unset'}, but the "
        f"last recorded move made version {recorded} {alias}: the alias was moved outside Candor"
    )


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)


__all__ = [
    "IN_FORCE_RULE",
    "ChampionHistory",
    "InForce",
    "Moment",
    "champion_history",
    "in_force",
    "parse_moment",
]

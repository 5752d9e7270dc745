"""Weekly sales actuals in the audit log: what each series really sold, and corrections.

Each value is one ``sales_actual`` event (the series by field, the week as forecasts label it,
the units), keyed like forecasts by the series' keyed hash, so it sits in the same signed log
as the forecasts it measures. Sending a week again with other units is a correction: the new
event names the one it corrects (``corrects``: its position in the log) and the units it held,
and the newest value stands; the same units again are not written (``unchanged``).
Reads go through ``projected_actuals`` (rebuilt from the events by ``candor audit verify``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from candor.models.errors import ErrorDetail, InputValidationError
from candor.serving.audit import events as ev
from candor.serving.audit.events import NewEvent, body_text
from candor.serving.audit.store import AuditStore
from candor.serving.audit.tables import ProjectedActual

ACTUALS = cast(Table, ProjectedActual.__table__)
_CHUNK = 500  # bound parameters per IN (...)


@dataclass(frozen=True)
class Actual:
    """Units one series sold in one week (checked at the edge)."""

    series: dict[str, str]
    week: str  # ISO date labelling the week as the model's forecasts do
    units: float


@dataclass(frozen=True)
class ActualsReceipt:
    recorded: int  # weeks recorded for the first time
    corrected: int  # weeks that held other units: each correction is its own event
    unchanged: int  # weeks sent again with the units they hold: nothing written
    first_seq: int | None  # the events' positions in the log (None: nothing written)
    last_seq: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "corrected": self.corrected,
            "unchanged": self.unchanged,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
        }


def record_actuals(
    store: AuditStore,
    actuals: Sequence[Actual],
    *,
    recorded_by: str,
    where: str = "actuals",
    number_from: int = 0,
) -> ActualsReceipt:
    """Append the actuals (all or none), in one transaction written alone, before returning:
    alone, so that what it corrects is what stood when it was written (two submissions in one
    group of the log's writer would not see each other's values).

    Raises:
        InputValidationError: the same series and week twice in one request, named
            ``<where>[<i + number_from>]`` (a file's rows count from 1).
    """
    keys = [store.series_key(a.series) for a in actuals]
    seen: dict[tuple[str, str], int] = {}
    for i, (key, actual) in enumerate(zip(keys, actuals, strict=True)):
        first = seen.setdefault((key, actual.week), i)
        if first != i:
            at, then = f"{where}[{i + number_from}]", f"{where}[{first + number_from}]"
            raise InputValidationError(
                f"field {at!r}: the same series and week as {then}; send each week once (a "
                "later request corrects it)",
                [ErrorDetail(at, f"duplicate of {then}")],
            )

    def prepare(conn: Connection) -> tuple[Sequence[NewEvent], Any]:
        held = latest_actuals(conn, sorted(set(keys)))
        events: list[NewEvent] = []
        recorded = corrected = unchanged = 0
        for key, actual in zip(keys, actuals, strict=True):
            before = held.get((key, actual.week))
            body: dict[str, Any] = {
                "series": actual.series,
                "week": actual.week,
                "units": float(actual.units),
            }
            if before is not None:
                seq, units = before
                if units == float(actual.units):
                    unchanged += 1
                    continue
                body.update(corrects=seq, previous_units=units)
                corrected += 1
            else:
                recorded += 1
            events.append(NewEvent(ev.ACTUAL, recorded_by, "actual", body_text(body), key))
        return events, (recorded, corrected, unchanged)

    done = store.log.submit(prepare, exclusive=True)
    recorded, corrected, unchanged = done.result
    return ActualsReceipt(
        recorded,
        corrected,
        unchanged,
        done.seqs[0] if done.seqs else None,
        done.seqs[-1] if done.seqs else None,
    )


def latest_actuals(
    conn: Connection, series_keys: Sequence[str] | None = None
) -> dict[tuple[str, str], tuple[int, float]]:
    """(series key, week) -> (seq, units) of the value that stands (the newest); of every
    series, or of ``series_keys`` only."""
    out: dict[tuple[str, str], tuple[int, float]] = {}
    queries = (
        [select(ACTUALS)]
        if series_keys is None
        else [
            select(ACTUALS).where(ACTUALS.c.series_key.in_(series_keys[i : i + _CHUNK]))
            for i in range(0, len(series_keys), _CHUNK)
        ]
    )
    for query in queries:
        for row in conn.execute(query.order_by(ACTUALS.c.seq)):
            out[(str(row.series_key), str(row.week))] = (int(row.seq), float(row.units))
    return out


def first_recorded(conn: Connection) -> dict[tuple[str, str], str]:
    """(series key, week) -> when an actual of that week was first recorded (ISO, UTC)."""
    out: dict[tuple[str, str], str] = {}
    for row in conn.execute(select(ACTUALS).order_by(ACTUALS.c.seq)):
        out.setdefault((str(row.series_key), str(row.week)), str(row.recorded_at))
    return out

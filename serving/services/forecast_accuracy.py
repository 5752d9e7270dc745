"""Forecast accuracy from the audit log: every audited forecast beside the recorded actuals.

Reads the forecast events (their weeks, intervals and scale as served; a scenario's plans are
what-ifs, not forecasts a plan was made with, and are left out), the newest decision on each
(an override's replacement units), and the actuals that stand, and measures them with
:func:`candor.models.forecast.accuracy.measure`. The served forecaster, where one is loaded,
adds what the log may lack: the units of its history (seasonal naive's values for weeks before
the first recorded actual) and a series' scale at the forecast's origin for forecasts recorded
before the log kept it. An override's replacement counts only for weeks whose actual was not
yet known when it was made.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
from sqlalchemy import select

from candor.models.forecast import noise_scale
from candor.models.forecast.accuracy import Accuracy, ServedWeek, measure
from candor.serving.audit import events as ev
from candor.serving.audit.log import EVENTS
from candor.serving.audit.sales_actuals import first_recorded, latest_actuals
from candor.serving.audit.store import AuditStore
from candor.serving.services.forecasts import ForecastService

SERIES_LEVEL = "series"  # every audited forecast, each as it was forecast


def levels(service: ForecastService | None) -> list[str]:
    """What accuracy can be measured at: every forecast as forecast, or, with a hierarchy,
    the forecasts of one level of it (``region/product_line``)."""
    hierarchy = service.forecaster.hierarchy_ if service is not None else None
    return [SERIES_LEVEL, *(hierarchy.level_labels if hierarchy is not None else [])]


def forecast_accuracy(
    store: AuditStore,
    service: ForecastService | None,
    *,
    since: date | None = None,
    until: date | None = None,
    level: str = SERIES_LEVEL,
) -> Accuracy:
    """Accuracy of the audited forecasts' weeks in [``since``, ``until``) (forecast weeks).

    With a hierarchy, a node's actual of a week is the sum of its series' actuals, once every
    one of them is recorded (known from when the last was); ``level`` keeps the forecasts of
    one level of the hierarchy only.
    """
    history_units, histories = _from_history(store, service)
    node_levels = _node_levels(store, service)
    forecasts = select(EVENTS.c.subject).where(EVENTS.c.kind == ev.FORECAST)
    with store.reading("the forecasts and actuals") as conn:
        rows = list(
            conn.execute(
                select(EVENTS.c.subject, EVENTS.c.lead_key, EVENTS.c.body)
                .where(EVENTS.c.kind == ev.FORECAST)
                .order_by(EVENTS.c.seq)
            )
        )
        decisions = store.decisions_of(conn, forecasts)  # type: ignore[arg-type]
        actuals = {k: units for k, (_, units) in latest_actuals(conn).items()}
        known_since = first_recorded(conn)
    if service is not None:
        _add_node_actuals(store, service, actuals, known_since)
    weeks: list[ServedWeek] = []
    for row in rows:
        body = json.loads(row.body)
        if "scenario" in body:
            continue  # a what-if plan, not the forecast the plan was made with
        if level != SERIES_LEVEL and node_levels.get(str(row.lead_key)) != level:
            continue
        standing = decisions.get(row.subject, [])
        decision = standing[-1] if standing else None
        replacement = decision.get("replacement") if decision else None
        scale = body.get("scale")
        if scale is None:  # recorded before forecasts kept it: the history's, at the origin
            scale = _scale_at(histories.get(row.lead_key), body.get("last_observed_week"))
        for i, week in enumerate(body.get("forecast", [])):
            day = date.fromisoformat(week["week"])
            if (since is not None and day < since) or (until is not None and day >= until):
                continue
            # an override counts as a forecast only where it was made before the week's
            # actual was known: a replacement written with the actual in hand is hindsight
            known = known_since.get((str(row.lead_key), str(week["week"])))
            foresight = (
                replacement is not None
                and decision is not None
                and (known is None or str(decision["decided_at"]) < known)
            )
            weeks.append(
                ServedWeek(
                    forecast_id=str(row.subject),
                    series_key=str(row.lead_key),
                    step=i + 1,
                    week=str(week["week"]),
                    point=float(week["point"]),
                    lo80=float(week["lo80"]),
                    hi80=float(week["hi80"]),
                    lo95=float(week["lo95"]),
                    hi95=float(week["hi95"]),
                    scale=None if scale is None else float(scale),
                    replacement=float(replacement[i]) if foresight and replacement else None,
                )
            )
    return measure(weeks, actuals, known_units={**history_units, **actuals})


def _from_history(
    store: AuditStore, service: ForecastService | None
) -> tuple[dict[tuple[str, str], float], dict[str, tuple[list[str], np.ndarray]]]:
    """The served model's history: (series key, week) -> units, and per series key its weeks
    and units (for the scale of a forecast recorded before forecasts kept theirs)."""
    units: dict[tuple[str, str], float] = {}
    histories: dict[str, tuple[list[str], np.ndarray]] = {}
    if service is None:
        return units, histories
    forecaster = service.forecaster
    source = (
        forecaster.node_histories() if forecaster.hierarchy_ is not None else forecaster.history_
    )
    for key, history in source.items():
        series_key = store.series_key(forecaster.describe(key))
        observed = history.units.astype(float)
        labels = [str(w) for w in history.week(np.arange(len(observed)))]
        for week, value in zip(labels, observed, strict=True):
            units[(series_key, week)] = float(value)
        histories[series_key] = (labels, observed)
    return units, histories


def _scale_at(history: tuple[list[str], np.ndarray] | None, origin: str | None) -> float | None:
    """The series' noise scale at the forecast's origin (its last observed week), where the
    served model's history holds that week; None (the week is not measured) otherwise."""
    if history is None or origin is None:
        return None
    labels, observed = history
    if origin not in labels:
        return None
    return float(noise_scale(observed, np.array([labels.index(origin)]))[0])


def _node_levels(store: AuditStore, service: ForecastService | None) -> dict[str, str]:
    """Series key (pseudonym) -> level of the hierarchy, for every node of the served model."""
    hierarchy = service.forecaster.hierarchy_ if service is not None else None
    if hierarchy is None:
        return {}
    return {store.series_key(dict(n.fields)): n.level_label for n in hierarchy.nodes}


def _add_node_actuals(
    store: AuditStore,
    service: ForecastService,
    actuals: dict[tuple[str, str], float],
    known_since: dict[tuple[str, str], str],
) -> None:
    """Each node's weekly actual: the sum of its series', where all of them are recorded."""
    hierarchy = service.forecaster.hierarchy_
    if hierarchy is None:
        return
    bottom = [
        store.series_key(dict(zip(hierarchy.series_names, k, strict=True)))
        for k in hierarchy.bottom
    ]
    by_series: dict[str, dict[str, float]] = {}
    for (key, week), units in actuals.items():
        by_series.setdefault(key, {})[week] = units
    for node in hierarchy.aggregates:
        members = [bottom[i] for i in node.members]
        weeks = set.intersection(*(set(by_series.get(m, {})) for m in members))
        key = store.series_key(dict(node.fields))
        for week in weeks:
            actuals[(key, week)] = float(sum(by_series[m][week] for m in members))
            recorded = [known_since.get((m, week)) for m in members]
            if all(r is not None for r in recorded):
                known_since[(key, week)] = max(str(r) for r in recorded)

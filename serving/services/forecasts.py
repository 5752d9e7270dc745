"""The forecasting path: forecast checked series, explain, flag for review. No HTTP and no
storage here (the router adds those); the request is checked at the edge
(:mod:`candor.serving.requests.forecasts`).

Each requested series gets one forecast per week with its 80% and 95% conformal intervals and
its drivers (SHAP contributions grouped into recent level, seasonality and activity, in units,
adding up to the point forecast), and a review verdict from :mod:`models.policy`. The
backcasts that review needs (one-week-ahead forecasts of the latest observed weeks) depend only
on the model's stored history, so they are computed once per series and kept.

Every date of a result (each forecast ``week``, ``last_observed_week``, the ``recent_weeks``)
labels its week as the training file does (the contract's ``week_label``: a file of weeks
ending on Friday gets Fridays back); ``week_start``, the first day of a forecast week, is kept
for clients that read it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from candor.explain.forecast_drivers import week_drivers
from candor.models.contract import SalesContract
from candor.models.forecast import (
    SalesForecaster,
    SeriesForecast,
    SeriesHistory,
    WeekForecast,
    week_starts,
)
from candor.models.model_ref import ModelRef
from candor.models.policy import Backcast, ForecastPolicy, ReviewFlag, review_forecast
from candor.models.transparency import FORECAST_DISCLOSURE_TEXT, disclosure
from candor.registry import LoadedModel
from candor.serving.requests.forecasts import ForecastRequestValidator, Key, SeriesRequest


@dataclass(frozen=True, slots=True)
class WeekResult:
    """One forecast week (in the target's unit): the point, both intervals and its drivers."""

    week: str  # ISO date labelling the week as the training file does (its week_label)
    week_start: str  # ISO date of the week's first day (the same as ``week`` for "start")
    point: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float
    drivers: dict[str, float]  # recent level, seasonality, activity: they add up to ``point``

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # field order is the response's key order


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """One series' forecast: its weeks, the covariates planned and assumed, its review."""

    series: dict[str, str]  # the series key by field (e.g. territory, product)
    forecast_id: str
    last_observed_week: str
    weeks: tuple[WeekResult, ...]
    planned_covariates: dict[str, list[float]]
    assumed_covariates: tuple[str, ...]  # assumed at their recent mean
    review: ReviewFlag
    recent_weeks: Backcast | None  # one-week-ahead backcasts of the latest weeks
    # units: the series' mean absolute week-to-week change at the origin (its intervals are
    # multiples of it; forecast accuracy scales errors by it, as MASE does)
    scale: float | None = None
    # a model with a hierarchy: the level forecast (region/product) and the series it sums
    hierarchy_level: str | None = None
    sums: tuple[dict[str, str], ...] | None = None

    def weeks_json(self) -> list[dict[str, Any]]:
        return [w.to_dict() for w in self.weeks]

    def recent_weeks_json(self) -> dict[str, Any] | None:
        return self.recent_weeks.to_dict() if self.recent_weeks is not None else None


class ForecastService:
    """Everything needed to forecast with one loaded model; built once per model load."""

    def __init__(self, loaded: LoadedModel[SalesForecaster], policy: ForecastPolicy) -> None:
        self.loaded = loaded
        self.forecaster = loaded.model
        self.contract: SalesContract = loaded.model.contract_
        self.policy = policy
        self._backcasts: dict[Key, Backcast | None] = {}
        self.requests = ForecastRequestValidator(self.forecaster, policy)
        self._lock = threading.Lock()

    # --- the model, as clients see it -------------------------------------------------------

    @property
    def series_fields(self) -> list[str]:
        return self.contract.series_names

    @property
    def request_fields(self) -> list[str]:
        """The fields a request names a series by; with a hierarchy, its groups too."""
        hierarchy = self.forecaster.hierarchy_
        return hierarchy.field_names if hierarchy is not None else self.series_fields

    @property
    def future_covariates(self) -> list[str]:
        return [f.name for f in self.contract.future_covariates]

    @property
    def model_ref(self) -> ModelRef:
        return self.loaded.ref

    def model_info(self) -> dict[str, Any]:
        """What the model forecasts, for clients; every date it answers with is labelled as
        the training file labels weeks (``week_label``: each week's first or last day)."""
        return {
            **self.model_ref.to_dict(),
            "alias": self.loaded.alias,
            "trained_at": self.loaded.trained_at,
            "metrics": self.loaded.metrics,
            "max_horizon": self.forecaster.horizon,
            "week_label": str(self.contract.week_label),
            "series_fields": self.series_fields,
            "future_covariates": self.future_covariates,
            "series": [dict(zip(self.series_fields, k, strict=True)) for k in self.known_keys()],
            "hierarchy": self._hierarchy_info(),
        }

    def _hierarchy_info(self) -> dict[str, Any] | None:
        """The levels and nodes a client may ask for (``null``: the series only)."""
        hierarchy = self.forecaster.hierarchy_
        if hierarchy is None:
            return None
        return {
            "reconciliation": "MinTrace (wls_var), hierarchicalforecast; BottomUp and "
            "base forecasts beside it in the backtest",
            "levels": [{"level": d.series, "groups": list(d.groups)} for d in hierarchy.dimensions],
            "nodes": [
                {"level": n.level_label, "node": n.fields, "series": len(n.members)}
                for n in hierarchy.aggregates
            ],
        }

    def known_keys(self) -> list[Key]:
        return self.forecaster.series_keys

    # --- forecasting -------------------------------------------------------------------------

    def forecast(self, requests: Sequence[SeriesRequest], horizon: int) -> list[SeriesResult]:
        """One result per request, in order (see the module docstring)."""
        forecasts = self.forecaster.forecast_checked(
            keys=[r.key for r in requests],
            horizon=horizon,
            planned={r.key: r.planned for r in requests},
            explain=True,
        )
        return [self._result(r, f) for r, f in zip(requests, forecasts, strict=True)]

    def _result(self, request: SeriesRequest, forecast: SeriesForecast) -> SeriesResult:
        label = self.contract.week_label
        labels = np.array([w.week for w in forecast.weeks], dtype="datetime64[D]")
        starts = week_starts(labels, label) if len(labels) else labels
        weeks = tuple(
            WeekResult(
                week=w.week,
                week_start=str(start),
                point=w.point,
                lo80=w.lower[80],
                hi80=w.upper[80],
                lo95=w.lower[95],
                hi95=w.upper[95],
                drivers=week_drivers(w, self.forecaster.layout_),
            )
            for w, start in zip(forecast.weeks, starts, strict=True)
        )
        backcast = self.backcast(request.key)
        verdict = review_forecast(
            point=np.array([w.point for w in weeks]),
            lo80=np.array([w.lo80 for w in weeks]),
            hi80=np.array([w.hi80 for w in weeks]),
            backcast=backcast,
            policy=self.policy,
        )
        return SeriesResult(
            series=dict(forecast.key),
            forecast_id=uuid.uuid4().hex,
            last_observed_week=forecast.last_observed_week,
            weeks=weeks,
            planned_covariates=request.planned,
            assumed_covariates=tuple(forecast.assumed),
            review=verdict,
            recent_weeks=backcast,
            scale=forecast.scale,
            hierarchy_level=forecast.hierarchy_level,
            sums=tuple(forecast.sums) if forecast.sums is not None else None,
        )

    def backcast(self, key: Key) -> Backcast | None:
        """One-week-ahead forecasts of the series' latest observed weeks (cached)."""
        with self._lock:
            if key in self._backcasts:
                return self._backcasts[key]
        result = self._compute_backcast(key)
        with self._lock:
            self._backcasts[key] = result
        return result

    def history(self, key: Key) -> SeriesHistory:
        """A series' or a node's history (a node's summed from its series)."""
        if self.forecaster.hierarchy_ is not None:
            return self.forecaster.node_histories()[key]
        return self.forecaster.history_[key]

    def _compute_backcast(self, key: Key) -> Backcast | None:
        if self.forecaster.hierarchy_ is not None:
            return self._coherent_backcasts()[key]
        history = self.forecaster.history_[key]
        n = len(history)
        weeks = self.policy.recent_weeks
        if n < weeks + 2 * 13:  # too short to judge the latest weeks fairly
            return None
        future = {f.name for f in self.contract.future_covariates}
        rows: list[tuple[str, float, float, float, float, float, float]] = []
        for i in range(n - weeks, n):
            past = history.until(i - 1)
            planned = {
                name: [float(values[i])]
                for name, values in history.covariates.items()
                if name in future
            }
            [one] = self.forecaster.forecast_checked(
                keys=[key], horizon=1, planned={key: planned}, history={key: past}, explain=False
            )
            rows.append(_backcast_row(one.weeks[0], float(history.units[i])))
        return _backcast(rows)

    def _coherent_backcasts(self) -> dict[Key, Backcast | None]:
        """A hierarchy's backcasts: each latest week forecast coherently for every node at
        once, from the weeks before it (as it was served, reconciled)."""
        cached: dict[Key, Backcast | None] | None = self.__dict__.get("_all_backcasts")
        if cached is not None:
            return cached
        forecaster = self.forecaster
        nodes = forecaster.node_histories()
        weeks = self.policy.recent_weeks
        shortest = min(len(h) for h in forecaster.history_.values())
        if shortest < weeks + 2 * 13:
            out: dict[Key, Backcast | None] = dict.fromkeys(nodes)
        else:
            future = {f.name for f in self.contract.future_covariates}
            rows: dict[Key, list[tuple[str, float, float, float, float, float, float]]] = {
                k: [] for k in nodes
            }
            for back in range(weeks, 0, -1):
                past = {k: h.until(len(h) - 1 - back) for k, h in forecaster.history_.items()}
                plans = {
                    k: {
                        name: np.array([float(values[len(h) - back])])
                        for name, values in h.covariates.items()
                        if name in future
                    }
                    for k, h in nodes.items()
                }
                one = forecaster.coherent(forecaster.node_histories(past), 1, plans, explain=False)
                for k, h in nodes.items():
                    rows[k].append(_backcast_row(one[k].weeks[0], float(h.units[len(h) - back])))
            out = {k: _backcast(r) for k, r in rows.items()}
        self.__dict__["_all_backcasts"] = out
        return out

    def disclosure(self) -> dict[str, str]:
        return disclosure(self.loaded.name, text=FORECAST_DISCLOSURE_TEXT)


def _backcast_row(
    w: WeekForecast, actual: float
) -> tuple[str, float, float, float, float, float, float]:
    return (w.week, actual, w.point, w.lower[80], w.upper[80], w.lower[95], w.upper[95])


def _backcast(rows: list[tuple[str, float, float, float, float, float, float]]) -> Backcast:
    columns = list(zip(*rows, strict=True))
    return Backcast(
        tuple(str(w) for w in columns[0]),
        *(np.array(c, dtype=float) for c in columns[1:]),
    )

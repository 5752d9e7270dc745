"""The forecasting path: check a request against the forecaster's contract, forecast, explain,
flag for review. No HTTP and no storage here (the router adds those).

Each requested series gets one forecast per week with its 80% and 95% conformal intervals and
its drivers (SHAP contributions grouped into recent level, seasonality and activity, in units,
adding up to the point forecast), and a review verdict from :mod:`models.policy`. The
backcasts that review needs (one-week-ahead forecasts of the latest observed weeks) depend only
on the model's stored history, so they are computed once per series and kept.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from candor.explain.forecast_drivers import week_drivers
from candor.models.contract import Kind, SalesContract
from candor.models.errors import ErrorDetail, InputValidationError
from candor.models.forecast import SalesForecaster, SeriesForecast, week_starts
from candor.models.model_ref import ModelRef
from candor.models.policy import Backcast, ForecastPolicy, review_forecast
from candor.models.transparency import FORECAST_DISCLOSURE_TEXT, disclosure
from candor.registry import LoadedModel

Key = tuple[str, ...]


@dataclass(frozen=True)
class SeriesRequest:
    """One series of a request, checked: its key and planned future covariates."""

    key: Key
    planned: dict[str, list[float]]


class ForecastService:
    def __init__(self, loaded: LoadedModel[SalesForecaster], policy: ForecastPolicy) -> None:
        self.loaded = loaded
        self.forecaster = loaded.model
        self.contract: SalesContract = loaded.model.contract_
        self.policy = policy
        self._backcasts: dict[Key, Backcast | None] = {}
        self._covariate_max = {
            name: max(
                (
                    float(np.max(h.covariates[name]))
                    for h in self.forecaster.history_.values()
                    if name in h.covariates and len(h.covariates[name])
                ),
                default=0.0,
            )
            for name in self.future_covariates
        }
        self._lock = threading.Lock()

    # --- the model, as clients see it -------------------------------------------------------

    @property
    def series_fields(self) -> list[str]:
        return self.contract.series_names

    @property
    def future_covariates(self) -> list[str]:
        return [f.name for f in self.contract.future_covariates]

    @property
    def model_ref(self) -> ModelRef:
        return self.loaded.ref

    def model_info(self) -> dict[str, Any]:
        return {
            **self.model_ref.to_dict(),
            "alias": self.loaded.alias,
            "trained_at": self.loaded.trained_at,
            "metrics": self.loaded.metrics,
            "max_horizon": self.forecaster.horizon,
            "series_fields": self.series_fields,
            "future_covariates": self.future_covariates,
            "series": [dict(zip(self.series_fields, k, strict=True)) for k in self.known_keys()],
        }

    def known_keys(self) -> list[Key]:
        return self.forecaster.series_keys

    # --- request checks: every error names its field -----------------------------------------

    def check_horizon(self, horizon: int) -> int:
        top = self.forecaster.horizon
        if not 1 <= horizon <= top:
            raise InputValidationError(
                f"field 'horizon': must be between 1 and {top} weeks, got {horizon}",
                [ErrorDetail("horizon", f"must be between 1 and {top} weeks")],
            )
        return horizon

    def check_series(
        self,
        series: Sequence[Mapping[str, Any]],
        horizon: int,
        shared: Mapping[str, Any] | None,
        *,
        in_body: bool = True,
    ) -> list[SeriesRequest]:
        """Keys known to the model; planned covariates known-in-future, one finite value a week.

        ``shared`` holds future covariates for every series; a series' own
        ``future_covariates`` take precedence for the covariates it names. Errors name fields
        as in a JSON body (``series[1].product``), or, with ``in_body=False`` (one series
        given as query parameters), by the parameter (``product``).
        """
        fields = self.series_fields
        known = set(self.known_keys())
        details: list[ErrorDetail] = []
        checked: list[SeriesRequest] = []
        seen: dict[Key, int] = {}
        common = self._check_covariates(shared or {}, horizon, "future_covariates", details)
        for i, item in enumerate(series):
            where = f"series[{i}]" if in_body else ""
            key_field = where or ",".join(fields)  # an unknown series: the whole key
            extra = sorted(set(item) - {*fields, "future_covariates"})
            for name in extra:
                details.append(
                    ErrorDetail(_join(where, name), f"unknown field; a series is named by {fields}")
                )
            missing = [f for f in fields if not isinstance(item.get(f), str) or not item.get(f)]
            for name in missing:
                details.append(ErrorDetail(_join(where, name), "required: a non-empty string"))
            own_raw = item.get("future_covariates")
            if own_raw is None:
                own_raw = {}
            elif not isinstance(own_raw, Mapping):
                details.append(
                    ErrorDetail(_join(where, "future_covariates"), "must be an object of lists")
                )
                own_raw = {}
            own = self._check_covariates(
                own_raw, horizon, _join(where, "future_covariates"), details
            )
            if extra or missing:
                continue
            key = tuple(str(item[f]) for f in fields)
            if key not in known:
                details.append(ErrorDetail(key_field, self._unknown(key)))
                continue
            if key in seen:
                details.append(
                    ErrorDetail(key_field, f"the same series as series[{seen[key]}]; ask once")
                )
                continue
            seen[key] = i
            checked.append(SeriesRequest(key, {**common, **own}))
        if details:
            raise InputValidationError(_summary(details), details)
        return checked

    def _unknown(self, key: Key) -> str:
        keys = self.known_keys()
        hints = []
        for j, name in enumerate(self.series_fields):
            values = sorted({k[j] for k in keys})
            if key[j] not in values:
                shown = values[:12] + (["..."] if len(values) > 12 else [])
                hints.append(f"{name} {key[j]!r} is unknown (known: {', '.join(shown)})")
        detail = "; ".join(hints) or "this combination has no history"
        return f"unknown series {dict(zip(self.series_fields, key, strict=True))}: {detail}"

    def _check_covariates(
        self,
        raw: Mapping[str, Any],
        horizon: int,
        where: str,
        details: list[ErrorDetail],
    ) -> dict[str, list[float]]:
        allowed = self.future_covariates
        out: dict[str, list[float]] = {}
        for name, values in raw.items():
            field = f"{where}.{name}"
            if name not in allowed:
                past = [f.name for f in self.contract.past_covariates]
                why = " (only its history is used)" if name in past else ""
                details.append(
                    ErrorDetail(
                        field,
                        f"not a known-in-future covariate{why}; allowed: {allowed or 'none'}",
                    )
                )
                continue
            if not isinstance(values, list) or len(values) != horizon:
                got = len(values) if isinstance(values, list) else type(values).__name__
                details.append(
                    ErrorDetail(field, f"needs a list of {horizon} weekly values, got {got}")
                )
                continue
            reasons = [self._bad_value(name, v) for v in values]
            first_bad = next((j for j, why in enumerate(reasons) if why is not None), None)
            if first_bad is not None:
                details.append(
                    ErrorDetail(
                        f"{field}[{first_bad}]",
                        f"{reasons[first_bad]}, got {repr(values[first_bad])[:40]}",
                    )
                )
                continue
            out[name] = [float(v) for v in values]
        return out

    def _bad_value(self, name: str, value: Any) -> str | None:
        """Why a planned weekly value cannot be used (None when it can)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        try:
            number = float(value)
        except OverflowError:  # a JSON integer too large for a float
            return "must be a finite number"
        if not math.isfinite(number) or number < 0:
            return "must be a finite number >= 0"
        if self.contract[name].kind is Kind.BOOLEAN and number not in (0.0, 1.0):
            return "must be 0 or 1 (a flag)"
        top = self._covariate_max.get(name, 0.0)
        if number > self.policy.max_covariate_stretch * max(top, 1.0):
            return (
                f"is far beyond anything the model was trained on (at most {top:g} in its "
                f"history); it would extrapolate"
            )
        return None

    # --- forecasting -------------------------------------------------------------------------

    def forecast(self, requests: Sequence[SeriesRequest], horizon: int) -> list[dict[str, Any]]:
        """One result per request, in order (see the module docstring)."""
        forecasts = self.forecaster.forecast_checked(
            keys=[r.key for r in requests],
            horizon=horizon,
            planned={r.key: r.planned for r in requests},
            explain=True,
        )
        return [self._result(r, f) for r, f in zip(requests, forecasts, strict=True)]

    def _result(self, request: SeriesRequest, forecast: SeriesForecast) -> dict[str, Any]:
        label = self.contract.week_label
        labels = np.array([w.week for w in forecast.weeks], dtype="datetime64[D]")
        starts = week_starts(labels, label) if len(labels) else labels
        weeks = [
            {
                "week_start": str(start),
                "point": w.point,
                "lo80": w.lower[80],
                "hi80": w.upper[80],
                "lo95": w.lower[95],
                "hi95": w.upper[95],
                "drivers": week_drivers(w, self.forecaster.layout_),
            }
            for w, start in zip(forecast.weeks, starts, strict=True)
        ]
        backcast = self.backcast(request.key)
        verdict = review_forecast(
            point=np.array([w["point"] for w in weeks]),
            lo80=np.array([w["lo80"] for w in weeks]),
            hi80=np.array([w["hi80"] for w in weeks]),
            backcast=backcast,
            policy=self.policy,
        )
        return {
            **dict(zip(self.series_fields, request.key, strict=True)),
            "forecast_id": uuid.uuid4().hex,
            "last_observed_week": forecast.last_observed_week,
            "forecast": weeks,
            "assumed_covariates": list(forecast.assumed),
            "planned_covariates": request.planned,
            "review": verdict.to_dict(),
            "recent_weeks": backcast.to_dict() if backcast is not None else None,
        }

    def backcast(self, key: Key) -> Backcast | None:
        """One-week-ahead forecasts of the series' latest observed weeks (cached)."""
        with self._lock:
            if key in self._backcasts:
                return self._backcasts[key]
        result = self._compute_backcast(key)
        with self._lock:
            self._backcasts[key] = result
        return result

    def _compute_backcast(self, key: Key) -> Backcast | None:
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
            w = one.weeks[0]
            rows.append(
                (
                    w.week,
                    float(history.units[i]),
                    w.point,
                    w.lower[80],
                    w.upper[80],
                    w.lower[95],
                    w.upper[95],
                )
            )
        columns = list(zip(*rows, strict=True))
        return Backcast(
            tuple(str(w) for w in columns[0]),
            *(np.array(c, dtype=float) for c in columns[1:]),
        )

    def disclosure(self) -> dict[str, str]:
        return disclosure(self.loaded.name, text=FORECAST_DISCLOSURE_TEXT)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _summary(details: list[ErrorDetail]) -> str:
    first = "; ".join(f"{d.field}: {d.message}" for d in details[:3])
    more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
    return f"invalid forecast request: {first}{more}"

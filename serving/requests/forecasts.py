"""A forecast request checked against the forecaster's contract and history, once, at the edge.

Every error names its field as in the JSON body (``series[1].future_covariates.promo[0]``), or
by query parameter for the plot; below this the forecaster checks shapes only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from candor.models.contract import Kind
from candor.models.errors import ErrorDetail, InputValidationError
from candor.models.forecast import SalesForecaster
from candor.models.policy import ForecastPolicy
from candor.serving.errors import json_kind

Key = tuple[str, ...]


@dataclass(frozen=True)
class SeriesRequest:
    """One series of a request, checked: its key and planned future covariates."""

    key: Key
    planned: dict[str, list[float]]


class ForecastRequestValidator:
    """Checks horizons, series keys and planned covariates; built once per model load."""

    def __init__(self, forecaster: SalesForecaster, policy: ForecastPolicy) -> None:
        self.forecaster = forecaster
        self.contract = forecaster.contract_
        self.policy = policy
        self.series_fields = self.contract.series_names
        self._key_values = [
            {k[j] for k in forecaster.series_keys} for j in range(len(self.series_fields))
        ]
        self.future_covariates = [f.name for f in self.contract.future_covariates]
        self._covariate_max = {
            name: max(
                (
                    float(np.max(h.covariates[name]))
                    for h in forecaster.history_.values()
                    if name in h.covariates and len(h.covariates[name])
                ),
                default=0.0,
            )
            for name in self.future_covariates
        }

    def known_keys(self) -> list[Key]:
        return self.forecaster.series_keys

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
        hierarchy = self.forecaster.hierarchy_
        if hierarchy is not None:
            return self._check_nodes(series, horizon, shared, in_body=in_body)
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
            values = {f: self._key_value(j, item.get(f)) for j, f in enumerate(fields)}
            missing = {f: why for f, (_, why) in values.items() if why is not None}
            for name, why in missing.items():
                details.append(ErrorDetail(_join(where, name), why))
            own = self._own_covariates(item, horizon, where, details)
            if extra or missing:
                continue
            key = tuple(values[f][0] for f in fields)
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

    def _check_nodes(
        self,
        series: Sequence[Mapping[str, Any]],
        horizon: int,
        shared: Mapping[str, Any] | None,
        *,
        in_body: bool,
    ) -> list[SeriesRequest]:
        """:meth:`check_series` for a model with a hierarchy: each item names a series or a
        node, one level per hierarchy (``{"region": "North", "product_line": "Respiratory"}``;
        a hierarchy left out is its total, ``{}`` the national total)."""
        hierarchy = self.forecaster.hierarchy_
        assert hierarchy is not None
        levels = hierarchy.field_names
        details: list[ErrorDetail] = []
        checked: list[SeriesRequest] = []
        seen: dict[Key, int] = {}
        common = self._check_covariates(shared or {}, horizon, "future_covariates", details)
        for i, item in enumerate(series):
            where = f"series[{i}]" if in_body else ""
            extra = sorted(set(item) - {*levels, "future_covariates"})
            for name in extra:
                details.append(
                    ErrorDetail(
                        _join(where, name),
                        f"unknown field; a series or node is named by some of {levels}",
                    )
                )
            given: dict[str, str] = {}
            for name in levels:
                if name not in item:
                    continue
                index = fields_index(self.series_fields, name)
                text, why = (
                    self._key_value(index, item[name])
                    if index is not None
                    else (self._text_value(item[name]))
                )
                if why is not None:
                    details.append(ErrorDetail(_join(where, name), why))
                else:
                    given[name] = text
            own = self._own_covariates(item, horizon, where, details)
            if extra or len(given) < len([n for n in levels if n in item]):
                continue
            if set(given) == set(self.series_fields):  # a series, named as without a hierarchy
                key = tuple(given[f] for f in self.series_fields)
                if key not in set(self.known_keys()):
                    details.append(
                        ErrorDetail(where or ",".join(self.series_fields), self._unknown(key))
                    )
                    continue
            try:
                node = hierarchy.find(given)
            except InputValidationError as exc:
                for d in exc.details:
                    name = d.field.removeprefix("series.")
                    details.append(ErrorDetail(_join(where, name), exc.message))
                continue
            if node.key in seen:
                details.append(
                    ErrorDetail(
                        where or "series", f"the same series as series[{seen[node.key]}]; ask once"
                    )
                )
                continue
            seen[node.key] = i
            checked.append(SeriesRequest(node.key, {**common, **own}))
        if details:
            raise InputValidationError(_summary(details), details)
        return checked

    def _own_covariates(
        self, item: Mapping[str, Any], horizon: int, where: str, details: list[ErrorDetail]
    ) -> dict[str, list[float]]:
        """One item's own ``future_covariates``, checked (problems added to ``details``)."""
        raw = item.get("future_covariates")
        if raw is None:
            raw = {}
        elif not isinstance(raw, Mapping):
            details.append(
                ErrorDetail(_join(where, "future_covariates"), "must be an object of lists")
            )
            raw = {}
        return self._check_covariates(raw, horizon, _join(where, "future_covariates"), details)

    @staticmethod
    def _text_value(value: Any) -> tuple[str, str | None]:
        """A group's value as text (a whole number as its digits), or why it cannot be one."""
        if isinstance(value, str):
            return value, None if value else "required: a non-empty string or a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "", f"must be a string or a number, got {json_kind(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return "", "must be a finite number"
        if isinstance(value, float) and value.is_integer():
            return str(int(value)), None
        try:
            return str(value), None
        except ValueError:  # an integer of more digits than Python prints
            return "", "must be a string or a number of fewer digits"

    def _key_value(self, index: int, value: Any) -> tuple[str, str | None]:
        """A series key value as the training file held it (text), or why it cannot be one.

        A JSON number names the key whose training values are its digits (``1`` for ``"1"``;
        ``1.0`` too, where ``"1"`` is known and ``"1.0"`` is not); a bool, an object or a list
        is refused without echoing it.
        """
        if isinstance(value, str):
            return value, None if value else "required: a non-empty string or a number"
        if value is None:
            return "", "required: a non-empty string or a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "", f"must be a string or a number, got {json_kind(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return "", "must be a finite number"
        try:
            text = str(value)
        except ValueError:  # an integer of more digits than Python prints
            return "", "must be a string or a number of fewer digits"
        if isinstance(value, float) and value.is_integer():
            whole = str(int(value))
            if whole in self._key_values[index] and text not in self._key_values[index]:
                return whole, None
        return text, None

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


def fields_index(fields: Sequence[str], name: str) -> int | None:
    return fields.index(name) if name in fields else None


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _summary(details: list[ErrorDetail]) -> str:
    first = "; ".join(f"{d.field}: {d.message}" for d in details[:3])
    more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
    return f"invalid forecast request: {first}{more}"

"""Weekly sales actuals checked against the forecaster's series and weeks, once, at the edge.

An actual names a series the model knows (by the contract's series fields, as a forecast
request does), a week labelled as the model's forecasts label weeks (the same weekday), not in
the future, and its units (a finite number of at least 0). Every error names its field as in
the JSON body (``actuals[2].week``) or, for a file, its data row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from candor.models.errors import ErrorDetail, InputValidationError
from candor.serving.audit.sales_actuals import Actual
from candor.serving.errors import json_kind
from candor.serving.requests.forecasts import ForecastRequestValidator

VALUE_FIELDS = ("week", "units")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def week_weekday(validator: ForecastRequestValidator) -> int:
    """The weekday (0 = Monday) the model's weeks are labelled by."""
    histories = validator.forecaster.history_.values()
    last = next(iter(histories)).last_week.astype("datetime64[D]")
    return int((last.astype(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday


def check_actuals(
    validator: ForecastRequestValidator,
    items: Sequence[Mapping[str, Any]],
    *,
    today: date,
    where: str = "actuals",
    number_from: int = 0,
) -> list[Actual]:
    """The actuals, checked; every problem at once (``InputValidationError``), each named
    ``<where>[<i + number_from>].<field>`` (a file's rows count from 1)."""
    fields = validator.series_fields
    weekday = week_weekday(validator)
    details: list[ErrorDetail] = []
    checked: list[Actual] = []
    for i, item in enumerate(items):
        at = f"{where}[{i + number_from}]"
        if not isinstance(item, Mapping):
            details.append(ErrorDetail(at, f"must be an object, got {json_kind(item)}"))
            continue
        for name in sorted(set(item) - {*fields, *VALUE_FIELDS}):
            details.append(
                ErrorDetail(
                    f"{at}.{name}", f"unknown field; an actual has {[*fields, *VALUE_FIELDS]}"
                )
            )
        key = _series(validator, {f: item.get(f) for f in fields}, at, details)
        week = _week(item.get("week"), weekday, today, f"{at}.week", details)
        units = _units(item.get("units"), f"{at}.units", details)
        if key is not None and week is not None and units is not None:
            checked.append(Actual(dict(zip(fields, key, strict=True)), week, units))
    if details:
        shown = "; ".join(f"field {d.field!r}: {d.message}" for d in details[:3])
        more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
        raise InputValidationError(shown + more, details)
    return checked


def _series(
    validator: ForecastRequestValidator,
    series: dict[str, Any],
    at: str,
    details: list[ErrorDetail],
) -> tuple[str, ...] | None:
    try:
        [request] = validator.check_series([series], 1, None, in_body=False)
    except InputValidationError as exc:
        # a field's own problem names it; an unknown series (the fields together) the item
        details.extend(
            ErrorDetail(at if "," in d.field else f"{at}.{d.field}", d.message) for d in exc.details
        )
        return None
    return request.key


def _week(
    value: Any, weekday: int, today: date, field: str, details: list[ErrorDetail]
) -> str | None:
    if not isinstance(value, str):
        details.append(ErrorDetail(field, f"required: an ISO 8601 date, got {json_kind(value)}"))
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        details.append(ErrorDetail(field, "expected an ISO 8601 date such as 2026-11-02"))
        return None
    if day.weekday() != weekday:
        details.append(
            ErrorDetail(
                field,
                f"the model labels weeks by their {WEEKDAYS[weekday]}; {day.isoformat()} is a "
                f"{WEEKDAYS[day.weekday()]}",
            )
        )
        return None
    if day > today:
        details.append(ErrorDetail(field, "in the future: an actual is recorded once sold"))
        return None
    return day.isoformat()


def _units(value: Any, field: str, details: list[ErrorDetail]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        details.append(ErrorDetail(field, f"required: a number of units, got {json_kind(value)}"))
        return None
    try:
        units = float(value)  # an integer of hundreds of digits is past any float
    except OverflowError:
        units = math.inf
    if not math.isfinite(units) or units < 0:
        details.append(ErrorDetail(field, "must be a finite number of units of at least 0"))
        return None
    return units

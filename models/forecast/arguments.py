"""Checks of :meth:`SalesForecaster.forecast`'s arguments, for callers that have not validated
them at an edge of their own (Python callers, the MLflow pyfunc model). Errors name the
argument (``horizon``, ``series``, ``explain``, ``future_covariates.<name>``), not a field of an
HTTP request: serving validates its requests itself and calls the checked path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from candor.models.contract import Kind, SalesContract
from candor.models.errors import ErrorDetail, InputValidationError

EXPLAIN_VALUES = ("none", "groups", "all")


def checked_horizon(horizon: Any, top: int) -> int:
    """A whole number of weeks from 1 to ``top`` (``None``: ``top``)."""
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, Integral)):
        raise InputValidationError(
            f"horizon must be a whole number of weeks, got {horizon!r}",
            [ErrorDetail("horizon", "not an integer")],
        )
    horizon = top if horizon is None else int(horizon)
    if not 1 <= horizon <= top:
        raise InputValidationError(
            f"horizon must be between 1 and {top} weeks, got {horizon}",
            [ErrorDetail("horizon", f"out of range 1..{top}")],
        )
    return horizon


def check_explain(explain: str) -> None:
    if explain not in EXPLAIN_VALUES:
        raise InputValidationError(
            f"explain must be 'none', 'groups' or 'all', got {explain!r}",
            [ErrorDetail("explain", "unknown value")],
        )


def series_key(key: Sequence[str], names: Sequence[str]) -> tuple[str, ...]:
    """A series key as a tuple of text, checked against the number of series fields."""
    if isinstance(key, str) or len(key) != len(names):
        raise InputValidationError(
            f"a series key gives one value per series field {list(names)}, got {key!r}",
            [ErrorDetail("series", "wrong number of key values")],
        )
    return tuple(str(v) for v in key)


def describe(key: Sequence[str], names: Sequence[str]) -> dict[str, str]:
    """A series key as ``{field: value}`` (for messages and responses)."""
    return dict(zip(names, (str(v) for v in key), strict=True))


def check_series(
    wanted: Sequence[tuple[str, ...]],
    planned: Mapping[tuple[str, ...], Any],
    known: Mapping[tuple[str, ...], Any],
    names: Sequence[str],
) -> None:
    """Every series asked for is known; covariates are planned only for series asked for."""
    stray = [k for k in planned if k not in wanted]
    if stray:
        raise InputValidationError(
            f"future covariates are given for series {[describe(k, names) for k in stray]} "
            "that the request does not forecast",
            [ErrorDetail("future_covariates", "series not requested")],
        )
    for key in wanted:
        if key not in known:
            examples = [describe(k, names) for k in list(known)[:3]]
            raise InputValidationError(
                f"series {describe(key, names)} is unknown to this model; it knows "
                f"{len(known)} series, e.g. {examples}",
                [ErrorDetail("series", f"unknown series {describe(key, names)}")],
            )


def planned_covariates(
    planned: Mapping[str, Any], contract: SalesContract, horizon: int, series: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """One series' planned covariates: known-in-future ones, ``horizon`` finite values each.

    Raises:
        InputValidationError: a covariate that is not known in the future, a list that is
            not exactly ``horizon`` finite numbers, or a flag other than 0/1.
    """
    known = {f.name: f for f in contract.future_covariates}
    unknown = sorted(set(planned) - set(known))
    if unknown:
        raise InputValidationError(
            f"future covariate(s) {unknown} are not known-in-future covariates of contract "
            f"{contract.name!r}; expected some of {sorted(known)}",
            [ErrorDetail(f"future_covariates.{n}", "not a future covariate") for n in unknown],
        )
    return {
        name: _planned_values(planned[name], name, horizon, series, known[name].kind)
        for name in sorted(known)
        if name in planned
    }


def _planned_values(
    raw: Any, name: str, horizon: int, series: Mapping[str, str], kind: Kind | None
) -> np.ndarray:
    """Planned weekly values of one covariate: exactly ``horizon`` finite numbers (0/1 flags)."""
    where = f"future_covariates.{name}"
    problem = None
    values = np.zeros(0)
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence | np.ndarray):
        problem = "a list of numbers"
    else:
        try:
            values = np.asarray([float(v) for v in raw], dtype=float)
        except (TypeError, ValueError):
            problem = "numbers"
    if problem is None and len(values) != horizon:
        problem = f"exactly {horizon} weekly values (one per forecast week)"
    if problem is None and not np.all(np.isfinite(values)):
        problem = "finite numbers"
    if problem is None and kind is Kind.BOOLEAN and not np.isin(values, (0.0, 1.0)).all():
        problem = "0 or 1 for each week (a flag)"
    if problem is not None:
        shown = list(raw)[: horizon + 1] if isinstance(raw, Sequence) else raw
        raise InputValidationError(
            f"future covariate {name!r} of series {series} needs {problem}, got {shown!r}",
            [ErrorDetail(where, f"expected {problem}")],
        )
    return values

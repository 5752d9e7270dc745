"""Read a weekly sales table (long or wide), check it against a sales contract, make series.

Every refusal names the column (and, where it helps, the series and the week): a missing or
unparseable date, a non-numeric, missing or negative target, a duplicate (series, week), a week
missing inside a series (unless the contract's ``gaps: zero`` fills it), mixed weekdays, or a
series too short for the requested horizon and backtest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from candor.models.contract import GapPolicy, Kind, SalesContract
from candor.models.errors import DataValidationError, ErrorDetail
from candor.models.forecast import SeriesHistory
from candor.models.forecast.hierarchy import Hierarchy, parents_from_frame
from candor.training.data import read_file

Panel = dict[tuple[str, ...], SeriesHistory]


def read_sales_table(path: str | Path) -> pd.DataFrame:
    """The file as text columns (CSV) or as stored (Parquet); parsing is the contract's job."""
    return read_file(path, csv_dtype=str)


def to_long(frame: pd.DataFrame, contract: SalesContract) -> pd.DataFrame:
    """Reshape to one row per series and week, with exactly the contract's columns."""
    unknown = [c for c in frame.columns if c not in contract.file_columns]
    missing = [c for c in contract.file_columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"column(s) {missing} declared in sales contract {contract.name!r} are missing "
            f"from the data; columns present: {list(frame.columns)}",
            [ErrorDetail(c, "missing column") for c in missing],
        )
    if unknown:
        raise DataValidationError(
            f"column(s) {unknown} are not in sales contract {contract.name!r}; describe them "
            "in the contract or remove them",
            [ErrorDetail(c, "unknown column") for c in unknown],
        )
    date, target = contract.date_field.name, contract.target_field.name
    if contract.wide is not None:
        frame = frame.melt(
            id_vars=[date],
            value_vars=list(contract.wide.value_columns),
            var_name=contract.wide.key,
            value_name=target,
        )
    frame = frame.copy()
    for name, value in contract.constants:
        frame[name] = value
    _add_mapped_groups(frame, contract)
    return frame[contract.names].reset_index(drop=True)


def _add_mapped_groups(frame: pd.DataFrame, contract: SalesContract) -> None:
    """Group columns given by a mapping (not held in the file), finest first; a value below
    that the mapping does not place is refused by name."""
    pending = [f for f in contract.group_fields if f.mapping]
    while pending:
        ready = [f for f in pending if f.groups in frame.columns]
        if not ready:
            return  # a group over a missing column: the missing column is refused later
        for f in ready:
            below = frame[f.groups].astype(str).str.strip()
            mapping = dict(f.mapping)
            unmapped = sorted(set(below) - set(mapping))
            if unmapped:
                raise DataValidationError(
                    f"group {f.name!r} maps no {f.groups!r} value(s) {unmapped[:5]}; add them "
                    "to its mapping in the contract",
                    [ErrorDetail(f.name, "value not mapped")],
                )
            frame[f.name] = below.map(mapping)
            pending.remove(f)


def read_actuals(path: str | Path, contract: SalesContract) -> list[dict[str, Any]]:
    """A file of weekly actuals as records (series fields, ``week`` as an ISO date, ``units``).

    It holds the contract's date, series and target columns (covariates, if present, are
    not read); a wide layout is read whole. Dates are parsed as for training; units that are
    not numbers become NaN, for the edge to refuse by row.
    """
    frame = read_sales_table(path)
    date, target = contract.date_field.name, contract.target_field.name
    if contract.wide is not None:
        frame = to_long(frame, contract)
    else:
        needed = [date, *contract.series_names, target]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataValidationError(
                f"column(s) {missing} are missing from the actuals file; it needs {needed}",
                [ErrorDetail(c, "missing column") for c in missing],
            )
        frame = frame[needed]
    weeks = _parse_dates(frame[date], contract).dt.strftime("%Y-%m-%d")
    units = pd.to_numeric(frame[target], errors="coerce").astype(float)
    series = {name: frame[name].astype(str).str.strip() for name in contract.series_names}
    return [
        {
            **{name: values.iloc[i] for name, values in series.items()},
            "week": weeks.iloc[i],
            "units": float(units.iloc[i]),
        }
        for i in range(len(frame))
    ]


def _parse_dates(raw: pd.Series, contract: SalesContract) -> pd.Series:
    name = contract.date_field.name
    if raw.isna().any():
        rows = [int(i) for i in np.flatnonzero(raw.isna().to_numpy())[:5]]
        raise DataValidationError(
            f"date column {name!r} is empty in {int(raw.isna().sum())} row(s) (first rows "
            f"{rows}); every row needs its week",
            [ErrorDetail(name, "missing date")],
        )
    fmt = contract.date_format or "ISO8601"
    parsed = pd.to_datetime(raw.astype(str), format=fmt, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        examples = sorted(set(raw[bad].astype(str)))[:5]
        expected = contract.date_format or "ISO dates (YYYY-MM-DD)"
        raise DataValidationError(
            f"date column {name!r} has {int(bad.sum())} value(s) that are not dates, e.g. "
            f"{examples}; expected {expected}",
            [ErrorDetail(name, "unparseable date")],
        )
    return parsed.dt.normalize()


def _parse_numbers(raw: pd.Series, name: str, what: str) -> pd.Series:
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        examples = sorted(set(raw[bad].astype(str)))[:5]
        raise DataValidationError(
            f"{what} column {name!r} has {int(bad.sum())} non-numeric value(s), e.g. "
            f"{examples}; expected numbers",
            [ErrorDetail(name, "not numeric")],
        )
    return values.astype(float)


def validate_long(frame: pd.DataFrame, contract: SalesContract) -> pd.DataFrame:
    """Parse and check a long frame; returns it typed, sorted by series and week."""
    date, target = contract.date_field.name, contract.target_field.name
    keys = contract.series_names
    out = frame.copy()
    out[date] = _parse_dates(out[date], contract)
    for k in keys:
        if out[k].isna().any():
            raise DataValidationError(
                f"series column {k!r} is empty in {int(out[k].isna().sum())} row(s)",
                [ErrorDetail(k, "missing series key")],
            )
        out[k] = out[k].astype(str)
    out[target] = _parse_numbers(out[target], target, "target")
    if out[target].isna().any():
        where = out.loc[out[target].isna(), [*keys, date]].head(3)
        raise DataValidationError(
            f"target column {target!r} is missing in {int(out[target].isna().sum())} row(s), "
            f"e.g. {where.astype(str).to_dict('records')}; record 0 for a week without sales",
            [ErrorDetail(target, "missing values")],
        )
    if (out[target] < 0).any():
        neg = out.loc[out[target] < 0, [*keys, date, target]].head(3)
        raise DataValidationError(
            f"target column {target!r} has {int((out[target] < 0).sum())} negative value(s), "
            f"e.g. {neg.astype(str).to_dict('records')}; units sold cannot be negative "
            "(net returns out first)",
            [ErrorDetail(target, "negative units")],
        )
    for f in contract.covariates:
        values = _parse_numbers(out[f.name], f.name, "covariate")
        if values.isna().any():
            raise DataValidationError(
                f"covariate column {f.name!r} is missing in {int(values.isna().sum())} row(s); "
                "record 0 for a week without activity",
                [ErrorDetail(f.name, "missing values")],
            )
        if f.kind is Kind.BOOLEAN and not values.isin([0.0, 1.0]).all():
            raise DataValidationError(
                f"covariate column {f.name!r} is boolean but holds "
                f"{sorted(set(values[~values.isin([0.0, 1.0])]))[:5]}; expected 0 or 1",
                [ErrorDetail(f.name, "not 0/1")],
            )
        out[f.name] = values
    duplicated = out.duplicated([*keys, date], keep=False)
    if duplicated.any():
        first = out.loc[duplicated, [*keys, date]].head(3).astype(str).to_dict("records")
        raise DataValidationError(
            f"{int(duplicated.sum())} rows share a (series, week): {first}; "
            f"columns {[*keys, date]} must identify a row",
            [ErrorDetail(date, "duplicate series and week")],
        )
    weekdays = out[date].dt.day_of_week.unique()
    if len(weekdays) > 1:
        names = sorted(pd.Timestamp(2024, 1, 1 + int(d)).day_name() for d in weekdays)
        raise DataValidationError(
            f"date column {date!r} mixes weekdays {names}; every week must be labelled by the "
            "same day",
            [ErrorDetail(date, "mixed weekdays")],
        )
    return out.sort_values([*keys, date]).reset_index(drop=True)


def to_panel(frame: pd.DataFrame, contract: SalesContract) -> Panel:
    """One contiguous :class:`SeriesHistory` per series; gaps refused or filled (``gaps``)."""
    date, target = contract.date_field.name, contract.target_field.name
    keys = contract.series_names
    panel: Panel = {}
    for raw_key, group in frame.groupby(keys, sort=True):
        key = tuple(str(k) for k in (raw_key if isinstance(raw_key, tuple) else (raw_key,)))
        weeks = group[date].to_numpy().astype("datetime64[D]")
        index = (weeks - weeks[0]).astype(np.int64) // 7
        n = int(index[-1]) + 1
        if n != len(weeks):
            full = weeks[0] + 7 * np.arange(n)
            missing = np.setdiff1d(full, weeks)
            if contract.gaps is GapPolicy.ERROR:
                shown = [str(w) for w in missing[:5]]
                raise DataValidationError(
                    f"series {dict(zip(keys, key, strict=True))} misses {len(missing)} week(s) "
                    f"in column {date!r}, first {shown}; add them (0 units if nothing was "
                    "sold) or set `gaps: zero` in the contract",
                    [ErrorDetail(date, "gap in weeks")],
                )
        units = np.zeros(n)
        units[index] = group[target].to_numpy(dtype=float)
        covariates: dict[str, np.ndarray] = {}
        for f in contract.covariates:
            values = np.zeros(n)
            values[index] = group[f.name].to_numpy(dtype=float)
            covariates[f.name] = values
        panel[key] = SeriesHistory(key, np.datetime64(weeks[0], "D"), units, covariates)
    return panel


def check_lengths(panel: Panel, contract: SalesContract, *, minimum: int, why: str) -> None:
    """Every series needs ``minimum`` weeks; the error names the short ones."""
    short = {k: len(s) for k, s in panel.items() if len(s) < minimum}
    if short:
        shown = [
            f"{dict(zip(contract.series_names, k, strict=True))}: {n} weeks"
            for k, n in list(short.items())[:5]
        ]
        raise DataValidationError(
            f"{len(short)} series are too short: {shown}; at least {minimum} weeks are needed "
            f"({why})",
            [ErrorDetail(contract.target_field.name, "series too short")],
        )


def check_aligned(panel: Panel, contract: SalesContract) -> np.datetime64:
    """All series must end on the same week (the forecast origin); that week."""
    ends = {k: s.last_week for k, s in panel.items()}
    last = max(ends.values())
    behind = {k: str(v) for k, v in ends.items() if v != last}
    if behind:
        raise DataValidationError(
            f"{len(behind)} series end before the last week {last} in column "
            f"{contract.date_field.name!r}, e.g. {list(behind.items())[:3]}; a forecast starts "
            "from the same week for every series (record 0 units for weeks without sales)",
            [ErrorDetail(contract.date_field.name, "series end early")],
        )
    return np.datetime64(last)


def read_panel(path: str | Path, contract: SalesContract) -> tuple[pd.DataFrame, Panel]:
    """Read, reshape, validate and split into series: the long frame and the panel."""
    frame = validate_long(to_long(read_sales_table(path), contract), contract)
    panel = to_panel(frame, contract)
    check_aligned(panel, contract)
    return frame, panel


def read_hierarchy(frame: pd.DataFrame, contract: SalesContract, panel: Panel) -> Hierarchy | None:
    """The hierarchy the contract declares over the panel's series; ``None`` without groups.

    Raises:
        DataValidationError: (naming the group column) a value below placed in two groups,
            an empty group, or a value the hierarchy cannot place.
    """
    if not contract.group_fields:
        return None
    try:
        return Hierarchy.build(contract, panel, parents_from_frame(frame, contract))
    except ValueError as exc:
        name = contract.group_fields[0].name
        for f in contract.group_fields:
            if repr(f.name) in str(exc):
                name = f.name
        raise DataValidationError(str(exc), [ErrorDetail(name, "inconsistent hierarchy")]) from exc

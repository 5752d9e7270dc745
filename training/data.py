"""Read a CRM export (CSV or Parquet) and check it against the data contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from candor.models.contract import Contract, Kind
from candor.models.errors import DataValidationError, ErrorDetail
from candor.models.leads.features import is_missing, parse_bool

MIN_PER_CLASS = 40


def read_table(path: str | Path, contract: Contract) -> pd.DataFrame:
    """Read CSV or Parquet; categorical and text columns stay text (never parsed as numbers)."""
    text_columns = {f.name: "string" for f in contract.fields if f.kind is not Kind.NUMERIC}
    return read_file(path, csv_dtype=text_columns)


def read_file(path: str | Path, *, csv_dtype: Any) -> pd.DataFrame:
    """A CSV (columns typed by ``csv_dtype``) or Parquet file (as stored), refusing a missing,
    empty, unreadable or row-less file with a :class:`DataValidationError` that names it."""
    path = Path(path)
    if not path.exists():
        raise DataValidationError(f"data file {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise DataValidationError(f"data file {str(path)!r} is empty")
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=csv_dtype, keep_default_na=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError) as exc:
        raise DataValidationError(f"data file {str(path)!r} could not be read: {exc}") from exc
    if frame.empty:
        raise DataValidationError(f"data file {str(path)!r} has no rows")
    return frame


def parse_target(frame: pd.DataFrame, contract: Contract) -> np.ndarray:
    """The target as 0/1 integers; errors name the column and the offending values."""
    name = contract.target_field.name
    if name not in frame.columns:
        raise DataValidationError(
            f"target column {name!r} is missing; columns present: {list(frame.columns)}",
            [ErrorDetail(name, "missing target column")],
        )
    raw = frame[name].tolist()
    missing = sum(is_missing(v) for v in raw)
    if missing:
        raise DataValidationError(
            f"target column {name!r} has {missing} missing value(s); every row needs an outcome",
            [ErrorDetail(name, "missing values")],
        )
    values: list[int] = []
    bad: set[str] = set()
    for v in raw:
        try:
            parsed = parse_bool(v)
        except ValueError:
            bad.add(str(v))
            continue
        values.append(int(bool(parsed)))
    if bad:
        raise DataValidationError(
            f"target column {name!r} is not binary: found values {sorted(bad)[:10]}; "
            "expected 0/1, true/false or yes/no",
            [ErrorDetail(name, "not binary")],
        )
    return np.asarray(values, dtype=np.int8)


def validate_frame(frame: pd.DataFrame, contract: Contract) -> np.ndarray:
    """Check columns and classes against the contract; return the target as 0/1."""
    unknown = contract.unknown(frame.columns)
    if unknown:
        raise DataValidationError(
            f"column(s) {unknown} are not in contract {contract.name!r}; describe them in the "
            "contract (a role of pii, protected or feature) or remove them",
            [ErrorDetail(c, "unknown column") for c in unknown],
        )
    target = parse_target(frame, contract)
    needed = [f.name for f in contract.model_inputs]
    absent = [n for n in needed if n not in frame.columns]
    if absent:
        raise DataValidationError(
            f"model input column(s) {absent} declared in contract {contract.name!r} are missing "
            "from the data",
            [ErrorDetail(n, "missing column") for n in absent],
        )
    for label in (0, 1):
        count = int((target == label).sum())
        if count < MIN_PER_CLASS:
            raise DataValidationError(
                f"target column {contract.target_field.name!r} has {count} example(s) of class "
                f"{label}; at least {MIN_PER_CLASS} of each class needed to fit and calibrate",
                [ErrorDetail(contract.target_field.name, "too few examples of a class")],
            )
    return target


def columns_of(frame: pd.DataFrame) -> dict[str, list[object]]:
    """Frame columns as plain lists, the form ``build_features`` reads (same as serving)."""
    return {c: frame[c].tolist() for c in frame.columns}

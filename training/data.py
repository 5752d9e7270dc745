"""Read a CRM export (CSV or Parquet) and check it against the data contract."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from candor.models.contract import Contract, Kind, Role
from candor.models.errors import DataValidationError, ErrorDetail
from candor.models.leads.features import FALSE_SPELLINGS, TRUE_SPELLINGS

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
    text = frame[name].astype("string").str.strip()
    missing = int((text.isna() | (text == "")).sum())
    if missing:
        raise DataValidationError(
            f"target column {name!r} has {missing} missing value(s); every row needs an outcome",
            [ErrorDetail(name, "missing values")],
        )
    spelled = text.str.lower().str.removesuffix(".0")  # 1.0 / 0.0 from a numeric column
    true, false = spelled.isin(TRUE_SPELLINGS), spelled.isin(FALSE_SPELLINGS)
    bad = ~(true | false)
    if bool(bad.any()):
        found = sorted(set(text[bad].tolist()))
        raise DataValidationError(
            f"target column {name!r} is not binary: found values {found[:10]}; "
            "expected 0/1, true/false or yes/no",
            [ErrorDetail(name, "not binary")],
        )
    return true.to_numpy(dtype=bool).astype(np.int8)


def target_statement(frame: pd.DataFrame, contract: Contract, outcome: np.ndarray) -> str:
    """How the target was read, for the training output: which spellings count as the
    positive outcome and how many leads have it (``'yes' = converted (1); 'no' = 0``)."""
    name = contract.target_field.name
    spelled = frame[name].astype("string").str.strip()
    distinct = spelled.value_counts().index.tolist()
    norm = {v: str(v).lower().removesuffix(".0") for v in distinct}
    positive = sorted(v for v in distinct if norm[v] in TRUE_SPELLINGS)
    negative = sorted(v for v in distinct if norm[v] in FALSE_SPELLINGS)
    n, hits = len(outcome), int(outcome.sum())
    return (
        f"target {name!r}: {', '.join(map(repr, positive))} = {contract.positive_label} (1), "
        f"{', '.join(map(repr, negative))} = not (0); {hits:,} of {n:,} leads "
        f"({hits / max(n, 1):.1%}) {contract.positive_label}"
    )


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
    if contract.declares_id and contract.id_field.name not in frame.columns:
        name = contract.id_field.name
        raise DataValidationError(
            f"id column {name!r} declared in contract {contract.name!r} is missing from the "
            "data; training needs no id: remove the field from the contract if the export has "
            "none (scoring requests still carry a lead_id)",
            [ErrorDetail(name, "declared id column is missing")],
        )
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


def columns_of(frame: pd.DataFrame, contract: Contract | None = None) -> dict[str, Any]:
    """Frame columns in the typed forms ``build_features`` reads column-wise (the batch file
    reader's): numbers as float arrays (NaN missing), flags as 1/0 float arrays, text as Arrow
    strings (null missing). A column that does not fit its field's kind stays a list of values,
    so that ``build_features`` names the field and the value it cannot read, as for a request.

    Without ``contract`` every column is a list (the JSON path)."""
    if contract is None:
        return {c: frame[c].tolist() for c in frame.columns}
    out: dict[str, Any] = {}
    for name in frame.columns:
        series = frame[name]
        kind = contract[name].kind if name in contract else None
        role = contract[name].role if name in contract else None
        flag = kind is Kind.BOOLEAN or role is Role.CONSENT
        if flag:
            out[name] = _flags(series, contract[name].missing_tokens if name in contract else ())
        elif kind is Kind.NUMERIC and pd.api.types.is_numeric_dtype(series.dtype):
            out[name] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        elif kind is Kind.NUMERIC:
            out[name] = series.tolist()  # text in a number column: the per-value path names it
        else:
            out[name] = pa.array(series.astype("string"), type=pa.string(), from_pandas=True)
    return out


def _flags(series: pd.Series, tokens: Sequence[str] = ()) -> Any:
    """A boolean column as 1.0 / 0.0 / NaN (missing, or one of the field's missing ``tokens``),
    or its values when one is not a boolean."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    trimmed = series.astype("string").str.strip()
    text = trimmed.str.lower().str.removesuffix(".0")
    true, false = text.isin(TRUE_SPELLINGS), text.isin(FALSE_SPELLINGS)
    missing = text.isna() | (text == "") | trimmed.isin(list(tokens))
    if not bool((true | false | missing).all()):
        return series.tolist()  # build_features names the field and the unreadable value
    values = np.where(true.to_numpy(dtype=bool, na_value=False), 1.0, 0.0)
    values[missing.to_numpy(dtype=bool, na_value=True)] = np.nan
    return values

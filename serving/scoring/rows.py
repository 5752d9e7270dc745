"""Rows of a file (an Arrow record batch) checked against the contract, as the API checks a lead.

The API refuses a whole request for one bad lead; a file of a million rows must not stop for
one, so each bad row is set aside with its field and a message, and the others go on. The
checks are the request model's (``candor.serving.requests.leads``): the id is required, numbers
are finite numbers, flags are booleans, text is text; missing values are allowed everywhere
else. Unknown columns refuse the whole file, as unknown fields refuse a request; the target
column (an outcome in an export) is ignored and reported. Messages never repeat the value.

What comes out is typed for the columnar path of ``build_features``: numbers and flags as
float arrays (NaN missing), text as Arrow strings (null missing), ids as Python strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from candor.models.contract import Contract, Kind, Role
from candor.models.errors import ErrorDetail, InputValidationError
from candor.models.leads.consent import EXPIRY_FORMAT, parse_moment
from candor.models.leads.features import FALSE_SPELLINGS, TRUE_SPELLINGS
from candor.models.leads.input_limits import DEFAULT_LIMITS, InputLimits

# parse_bool's spellings, and 1.0 / 0.0 from a numeric CSV column as it reads them
_TRUE = (*sorted(TRUE_SPELLINGS), "1.0")
_FALSE = (*sorted(FALSE_SPELLINGS), "0.0")


@dataclass(frozen=True)
class FileColumns:
    """How a file's columns map onto the contract, decided once from its schema."""

    used: tuple[str, ...]  # request fields present in the file
    ignored: tuple[str, ...]  # the target column(s): outcomes, not inputs

    @classmethod
    def of(cls, names: Sequence[str], contract: Contract) -> FileColumns:
        """Raises InputValidationError naming unknown columns or a missing id column."""
        requested = {f.name for f in contract.request_fields}  # every field but the target
        unknown = contract.unknown(names)
        if unknown:
            listed = ", ".join(repr(n) for n in unknown[:10])
            raise InputValidationError(
                f"column(s) {listed} are not fields of contract {contract.version_tag}; "
                "remove them or add them to the contract",
                [ErrorDetail(n, "not a field of the contract") for n in unknown[:20]],
            )
        id_name = contract.id_field.name
        if id_name not in names:
            raise InputValidationError(
                f"column {id_name!r} (the lead id) is missing",
                [ErrorDetail(id_name, "required column is missing")],
            )
        return cls(
            tuple(n for n in names if n in requested),
            tuple(n for n in names if n not in requested),
        )


@dataclass(frozen=True)
class Reject:
    """A row set aside: its position in the batch, the first offending field and why."""

    index: int
    field: str
    message: str


@dataclass(frozen=True)
class CheckedRows:
    """The good rows of a batch, typed, and the rejected ones."""

    columns: dict[str, Any]  # field -> typed column, good rows only
    kept: np.ndarray  # batch positions of the good rows, ascending
    rejects: list[Reject]


def check_rows(
    batch: pa.RecordBatch | pa.Table, contract: Contract, limits: InputLimits = DEFAULT_LIMITS
) -> CheckedRows:
    """Type every request field of ``batch`` and set aside the rows that do not fit."""
    n = batch.num_rows
    bad = np.zeros(n, dtype=bool)
    first: dict[int, tuple[str, str]] = {}
    typed: dict[str, Any] = {}
    names = set(batch.schema.names)
    for f in contract.request_fields:
        if f.name not in names:
            continue
        column = batch.column(f.name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        values: Any
        problem: np.ndarray | None
        if f.role is Role.ID:
            values, problem = _ids(column)
            message = "is required (the lead id)"
            # the few suspicious ids found column-wise; the rule and its words are InputLimits'
            suspicious = _longer_than(pa.array(values), limits.max_lead_id_length) | _control(
                pa.array(values)
            )
            for i in np.flatnonzero(suspicious & ~problem & ~bad).tolist():
                why = limits.lead_id_problem(values[i])
                if why is not None:
                    first[i], bad[i] = (f.name, why), True
        elif f.role is Role.CONSENT_EXPIRY:
            values, problem = _moments(column)
            message = f"expected {EXPIRY_FORMAT}"
        elif f.role is Role.CONSENT or f.kind is Kind.BOOLEAN:
            values, problem = _booleans(column, f.missing_tokens)
            message = "expected a boolean (true/false, yes/no, 1/0)"
        elif f.kind is Kind.NUMERIC:
            values, problem = _numbers(column, f.missing_tokens)
            message = "expected a finite number"
        elif f.role is Role.PII:  # read for nothing and never stored: no category to bound
            values, problem = _texts(column), None
        else:
            values = _texts(column)
            problem = _longer_than(values, limits.max_category_length)
            message = f"longer than {limits.max_category_length} characters"
        typed[f.name] = values
        if problem is not None and problem.any():
            for i in np.flatnonzero(problem & ~bad).tolist():
                first[i] = (f.name, message)
            bad |= problem
    kept = np.flatnonzero(~bad)
    rejects = [Reject(i, *first[i]) for i in sorted(first)]
    if len(kept) < n:
        take = pa.array(kept)
        typed = {
            name: (
                col[kept]
                if isinstance(col, np.ndarray)
                else col.take(take)
                if isinstance(col, pa.Array)
                else [col[i] for i in kept.tolist()]
            )
            for name, col in typed.items()
        }
    return CheckedRows(typed, kept, rejects)


def _ids(column: pa.Array) -> tuple[list[str], np.ndarray]:
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    missing = np.asarray(
        pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False), dtype=bool
    )
    return [v if v is not None else "" for v in text.to_pylist()], missing


def _texts(column: pa.Array) -> pa.Array:
    return pc.cast(column, pa.string())


def _control(text: pa.Array) -> np.ndarray:
    found = pc.fill_null(pc.match_substring_regex(text, r"[\x00-\x1f\x7f]"), False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _longer_than(text: pa.Array, limit: int) -> np.ndarray:
    longer = pc.fill_null(pc.greater(pc.utf8_length(text), limit), False)
    return np.asarray(longer.to_numpy(zero_copy_only=False), dtype=bool)


def _numbers(column: pa.Array, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values = np.asarray(
            pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        present = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return np.where(present, values, np.nan), present & ~np.isfinite(values)
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan), np.zeros(len(column), dtype=bool)
    if pa.types.is_boolean(kind):  # the API refuses true for a number; so does the file
        present = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return np.full(len(column), np.nan), present
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    empty = _empty(text, tokens)
    try:  # Arrow's cast parses every value at once; it refuses the column if one is bad
        parsed = pc.cast(pc.if_else(pa.array(empty), None, text), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    else:
        values = np.asarray(parsed.to_numpy(zero_copy_only=False), dtype=np.float64)
        return np.where(empty, np.nan, values), ~empty & ~np.isfinite(values)
    values = np.full(len(column), np.nan)
    problem = np.zeros(len(column), dtype=bool)
    strings = text.to_pylist()
    for i in np.flatnonzero(~empty).tolist():
        try:
            number = float(strings[i])
        except ValueError:
            problem[i] = True
            continue
        if not np.isfinite(number):
            problem[i] = True
        else:
            values[i] = number
    return values, problem


def _moments(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A consent expiry as POSIX seconds (NaN missing): a date or timestamp column (a naive
    one is UTC), or ISO 8601 text; a value that is neither is a problem."""
    kind = column.type
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan), np.zeros(len(column), dtype=bool)
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        micros = pc.cast(pc.cast(column, pa.timestamp("us", tz="UTC")), pa.int64())
        values = np.asarray(
            pc.cast(micros, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        return values / 1e6, np.zeros(len(column), dtype=bool)
    values = np.full(len(column), np.nan)
    problem = np.zeros(len(column), dtype=bool)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        present = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return values, present  # a number is not a moment
    seen: dict[str, float | None] = {}
    for i, text in enumerate(column.to_pylist()):
        if text is None:
            continue
        if text not in seen:
            try:
                seen[text] = parse_moment(text)
            except ValueError:
                problem[i] = True
                continue
        moment = seen[text]
        values[i] = np.nan if moment is None else moment
    return values, problem


def _booleans(column: pa.Array, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    kind = column.type
    present = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_boolean(kind):
        raw = np.asarray(
            pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        return np.where(present, raw, np.nan), np.zeros(len(column), dtype=bool)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        raw = np.asarray(
            pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        ok = ~present | (raw == 0.0) | (raw == 1.0)
        return np.where(present & ok, raw, np.nan), ~ok
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
    truth = np.asarray(
        pc.fill_null(pc.is_in(text, value_set=pa.array(_TRUE)), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    falsity = np.asarray(
        pc.fill_null(pc.is_in(text, value_set=pa.array(_FALSE)), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    empty = _empty(pc.utf8_trim_whitespace(pc.cast(column, pa.string())), tokens)
    values = np.where(truth, 1.0, np.where(falsity, 0.0, np.nan))
    return values, ~(truth | falsity | empty)


def _empty(text: pa.Array, tokens: Sequence[str]) -> np.ndarray:
    """True where a text value is missing: null, empty or one of the field's missing tokens."""
    empty = pc.fill_null(pc.equal(text, ""), True)
    if tokens:
        empty = pc.or_(empty, pc.fill_null(pc.is_in(text, value_set=pa.array(tokens)), False))
    return np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)

"""Who is audited, and each lead's group.

Every protected attribute of the contract (``Role.PROTECTED``: never a model input) and every
audit segment it names (``audit_segment: true``) is audited. The groups are kept apart from the
model's inputs (Fairlearn's ``sensitive_features``): the scores were computed without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from candor.models.contract import Contract, Role
from candor.models.leads.features import is_missing

PROTECTED = "protected"
SEGMENT = "audit_segment"
MISSING_GROUP = "(missing)"


def audited_attributes(contract: Contract) -> list[tuple[str, str]]:
    """(name, role) of every audited field: protected attributes first, then audit segments."""
    protected = [(f.name, PROTECTED) for f in contract.protected_fields]
    segments = [(f.name, SEGMENT) for f in contract.audit_segments if f.role is not Role.PROTECTED]
    return protected + segments


def take_rows(values: Any, rows: np.ndarray) -> np.ndarray:
    """``values[rows]`` of one column as a numpy array, whatever holds the column: a Python
    list (or other sequence), a numpy array, a pandas Series or a pyarrow (Chunked)Array.

    A list becomes an object array of its own values; a pyarrow column keeps its values too
    (nulls are ``None``; an integer column with nulls does not turn into floats).
    """
    rows = np.asarray(rows, np.intp)
    if isinstance(values, np.ndarray):
        return values[rows]
    if hasattr(values, "to_pylist") and hasattr(values, "take"):  # pyarrow
        return _objects(values.take(rows).to_pylist())
    if isinstance(values, Sequence) and not hasattr(values, "dtype"):
        return _objects([values[i] for i in rows.tolist()])
    return np.asarray(values)[rows]


def _objects(items: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _label(value: Any) -> str:
    return MISSING_GROUP if is_missing(value) else str(value)


def group_labels(values: Any) -> np.ndarray:
    """Text labels of a sensitive column; missing values form their own group.

    ``values``: a list, numpy array, pandas Series or pyarrow array. Each distinct value is
    labelled once (``str``, or :data:`MISSING_GROUP` where ``is_missing``) and the labels are
    spread back to the leads: a text or numeric column of a million leads takes no Python call
    per lead. (Other object columns, mixing numbers and text, are labelled value by value, so
    that ``1``, ``1.0`` and ``True``, equal in Python, keep their own labels.)
    """
    if hasattr(values, "to_pylist") and not isinstance(values, np.ndarray):  # pyarrow
        values = values.to_pylist()
    if isinstance(values, np.ndarray):
        array = values
    elif isinstance(values, Sequence):
        array = _objects(list(values))
    else:
        array = np.asarray(values)
    if array.ndim != 1:
        array = _objects(list(array))
    kind = array.dtype.kind
    if kind == "O" and pd.api.types.infer_dtype(array, skipna=True) in ("string", "empty"):
        # text (and None, NaN, pd.NA: code -1, missing): values equal only when they are
        codes, uniques = pd.factorize(array)
        table = [_label(u) for u in uniques] + [MISSING_GROUP]  # code -1 takes the last
        return _objects(table)[codes]
    if kind in "biuUS" or (kind == "f" and array.dtype.itemsize in (2, 4, 8)):
        # floats by their bits, so that -0.0 and 0.0 (or two NaNs) are labelled on their own
        keys = array.view(f"i{array.dtype.itemsize}") if kind == "f" else array
        first, inverse = np.unique(keys, return_index=True, return_inverse=True)[1:]
        return _objects([_label(array[i]) for i in first])[inverse.reshape(-1)]
    return _objects([_label(v) for v in array])


def group_codes(labels: Any) -> tuple[np.ndarray, list[str]]:
    """(each lead's group code, the group names by code): groups in sorted order, as
    Fairlearn's ``MetricFrame`` orders ``by_group``; a missing label is an error
    (:func:`group_labels` gives missing values a group of their own)."""
    codes, uniques = pd.factorize(np.asarray(labels, dtype=object), sort=True)
    if len(codes) and codes.min() < 0:
        raise ValueError(
            "group labels must not be missing (None or NaN); group_labels labels them "
            f"{MISSING_GROUP!r}"
        )
    return codes.astype(np.intp), [str(u) for u in uniques]


def sensitive_features(
    columns: Mapping[str, Any], rows: np.ndarray, contract: Contract
) -> dict[str, np.ndarray]:
    """The audited columns for ``rows``, as group labels; columns absent from the data skipped.

    A column may be a list, a numpy array, a pandas Series or a pyarrow array
    (:func:`take_rows`).
    """
    return {
        name: group_labels(take_rows(columns[name], rows))
        for name, _ in audited_attributes(contract)
        if name in columns
    }

"""Who is audited, and each lead's group.

Every protected attribute of the contract (``Role.PROTECTED``: never a model input) and every
audit segment it names (``audit_segment: true``) is audited. The groups are kept apart from the
model's inputs (Fairlearn's ``sensitive_features``): the scores were computed without them.

A numeric field the contract bands (``bins`` or ``quantiles``: ``training.fairness.bands``) is
audited by band, not by value: age in years would otherwise make every age its own group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from candor.models.contract import Contract, Field, Role
from candor.models.leads.features import is_missing
from candor.training.fairness.bands import Banding, band_edges, banding_of, numbers_of

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


def banded_labels(values: Any, banding: Banding, field: Field) -> np.ndarray:
    """Each value's band label (an object array); missing values :data:`MISSING_GROUP`."""
    numbers = numbers_of(values, field)
    labels = np.asarray([*banding.labels, MISSING_GROUP], dtype=object)
    which = np.searchsorted(np.asarray(banding.edges, float), numbers, side="right")
    which[np.isnan(numbers)] = len(labels) - 1
    return labels[which]


def group_codes(labels: Any, order: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """(each lead's group code, the group names by code): groups in sorted order, as
    Fairlearn's ``MetricFrame`` orders ``by_group``, or in ``order`` (a banded attribute's
    bands, lowest first) keeping only the groups present; a missing label is an error
    (:func:`group_labels` gives missing values a group of their own), and so is a label
    ``order`` does not hold."""
    array = np.asarray(labels, dtype=object)
    codes, uniques = pd.factorize(array, sort=True)
    if len(codes) and codes.min() < 0:
        raise ValueError(
            "group labels must not be missing (None or NaN); group_labels labels them "
            f"{MISSING_GROUP!r}"
        )
    names = [str(u) for u in uniques]
    if order is None:
        return codes.astype(np.intp), names
    unknown = sorted(set(names) - set(order))
    if unknown:
        raise ValueError(f"groups {unknown} are not in the order given: {list(order)}")
    present = set(names)
    ordered = [name for name in order if name in present]
    position = {name: i for i, name in enumerate(ordered)}
    remap = np.asarray([position[name] for name in names], dtype=np.intp)
    return remap[codes], ordered


def attribute_labels(
    columns: Mapping[str, Any], name: str, contract: Contract | None = None
) -> np.ndarray:
    """Group labels of one audited column over every row, by band where ``contract`` bands it
    (for reweighing and per-group thresholds); without ``contract``, by value."""
    field = contract[name] if contract is not None and name in contract else None
    if field is None or not field.is_banded:
        return group_labels(columns[name])
    return banded_labels(columns[name], banding_of(field, columns[name]), field)


def sensitive_features(
    columns: Mapping[str, Any],
    rows: np.ndarray,
    contract: Contract,
    bands: Mapping[str, Banding] | None = None,
) -> dict[str, np.ndarray]:
    """The audited columns for ``rows``, as group labels; columns absent from the data skipped.

    A column may be a list, a numpy array, a pandas Series or a pyarrow array
    (:func:`take_rows`). A banded field is labelled by band: ``bands`` gives the banding of
    each (default: :func:`~candor.training.fairness.bands.band_edges` over every row of
    ``columns``, so that quantile edges come from all the training data, not only ``rows``).

    Raises:
        DataValidationError: a banded column holds text that is not a number.
    """
    if bands is None:
        bands = band_edges(contract, columns)
    found = {}
    for name, _ in audited_attributes(contract):
        if name not in columns:
            continue
        values = take_rows(columns[name], rows)
        banding = bands.get(name)
        found[name] = (
            group_labels(values)
            if banding is None
            else banded_labels(values, banding, contract[name])
        )
    return found

"""Who is audited, and each lead's group.

Every protected attribute of the contract (``Role.PROTECTED``: never a model input) and every
audit segment it names (``audit_segment: true``) is audited. The groups are kept apart from the
model's inputs (Fairlearn's ``sensitive_features``): the scores were computed without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

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


def group_labels(values: Sequence[Any]) -> np.ndarray:
    """Text labels of a sensitive column; missing values form their own group."""
    return np.asarray([MISSING_GROUP if is_missing(v) else str(v) for v in values], dtype=object)


def sensitive_features(
    columns: Mapping[str, Sequence[Any]], rows: np.ndarray, contract: Contract
) -> dict[str, np.ndarray]:
    """The audited columns for ``rows``, as group labels; columns absent from the data skipped."""
    return {
        name: group_labels([columns[name][i] for i in rows])
        for name, _ in audited_attributes(contract)
        if name in columns
    }

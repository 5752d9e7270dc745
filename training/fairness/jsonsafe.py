"""JSON-safe values for the audit's artifacts: nan -> None, tuples -> lists, numpy -> Python."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def json_safe(value: Any) -> Any:
    """``value`` with every nested nan or inf as None, tuples as lists, numpy scalars as Python."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def finite_or_none(value: float) -> float | None:
    """An undefined rate (nan: a group without converters, say) as None."""
    return None if not math.isfinite(value) else float(value)

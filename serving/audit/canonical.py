"""Canonical JSON of audit events: sorted keys, no spaces, UTF-8, floats in shortest form.

The same value always gives the same bytes, which is what is hashed; NaN and infinities are
refused (JSON has none), never turned into null.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS


def canonical_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


def canonical_text(value: Any) -> str:
    return canonical_bytes(value).decode()


def finite_or_none(value: float) -> float | None:
    """NaN (a missing input) as None; refuse an infinity rather than store it silently."""
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise ValueError("an infinite value cannot be recorded")
    return value

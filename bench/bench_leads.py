"""Sample leads as JSON-ready dicts and the request bodies sent to each server.

Both servers receive the same dicts: the CSV's rows without the outcome column, NaN as None.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from candor.models.contract import HCP_LEADS

Lead = dict[str, Any]


def _json_value(value: Any) -> Any:
    """A plain Python value that JSON can carry; NaN (missing) becomes None."""
    if hasattr(value, "item"):  # a NumPy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def load_leads(path: Path) -> list[Lead]:
    """Every row of a leads CSV as a request dict, without the outcome (target) column."""
    frame = pd.read_csv(path).drop(columns=[HCP_LEADS.target_field.name], errors="ignore")
    records = frame.to_dict(orient="records")
    return [{str(k): _json_value(v) for k, v in record.items()} for record in records]


def candor_body(leads: Sequence[Lead], *, explain: str = "top", top_k: int = 5) -> bytes:
    """POST /v1/leads/score body."""
    return json.dumps({"leads": list(leads), "top_k": top_k, "explain": explain}).encode()


def mlflow_body(leads: Sequence[Lead]) -> bytes:
    """POST /invocations body (pandas records orientation)."""
    return json.dumps({"dataframe_records": list(leads)}).encode()


def batches(pool: Sequence[Lead], *, size: int, count: int) -> list[list[Lead]]:
    """``count`` batches of ``size`` leads, walking round the pool so that batches differ."""
    if not pool:
        raise ValueError("no leads to build batches from")
    return [[pool[(start * size + i) % len(pool)] for i in range(size)] for start in range(count)]

"""The training fairness audit at the size of a real HCP holdout: ``audit_scores`` timed.

Builds a synthetic holdout (default 200,000 leads, the 6 audited attributes of the HCP lead
contract with 2 to 12 groups each, one with a small group and one with missing labels; a
calibrated score with a 10% base rate and a Venn-Abers-like interval around it) and times
``candor.training.fairness.audit_scores`` with 1,000 bootstrap resamples, the pipeline's
default: the median of ``--repeats`` calls, printed. It also times ``sensitive_features``, the
audit's other step over the leads: the holdout's labels taken from training columns of
``--train-rows`` leads (Python lists, numpy or pyarrow arrays: ``--columns``). Not part of
``make bench``; run it by hand:

    .venv/bin/python bench/run_fairness_bench.py [--rows 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from candor.models.contract import HCP_LEADS
from candor.training.fairness import (
    MISSING_GROUP,
    RESAMPLES,
    FairnessAudit,
    audit_scores,
    sensitive_features,
)

# (attribute, groups, protected): the audited fields of the HCP lead contract, 2 to 12 groups
ATTRIBUTES = (
    ("gender", 3, True),
    ("age_band", 6, True),
    ("specialty", 12, False),
    ("region", 8, False),
    ("territory_type", 3, False),
    ("practice_setting", 2, False),
)
THRESHOLD = 0.4  # the B cut-off of the default scoring policy


def holdout(rows: int, seed: int = 0) -> dict[str, object]:
    """A synthetic holdout: outcomes drawn from a calibrated score, groups of uneven shares."""
    rng = np.random.default_rng(seed)
    score = rng.beta(1.2, 10.0, rows)  # mean about 0.11, a tail past the B cut-off
    outcome = (rng.uniform(size=rows) < score).astype(int)
    half = 0.02 + 0.3 * np.sqrt(score * (1 - score) / 50)
    lower, upper = np.clip(score - half, 0, 1), np.clip(score + half, 0, 1)
    sensitive: dict[str, np.ndarray] = {}
    for name, k, _ in ATTRIBUTES:
        shares = rng.dirichlet(np.full(k, 2.0))
        labels = np.array([f"{name}_{i}" for i in range(k)], dtype=object)
        column = labels[rng.choice(k, size=rows, p=shares)]
        if name == "specialty":  # a small group, reported but never compared
            column[rng.choice(rows, size=12, replace=False)] = "rare"
        if name == "region":  # missing values form their own group
            column[rng.uniform(size=rows) < 0.03] = MISSING_GROUP
        sensitive[name] = column
    return {
        "outcome": outcome,
        "score": score,
        "lower": lower,
        "upper": upper,
        "sensitive": sensitive,
        "protected": {name for name, _, protected in ATTRIBUTES if protected},
    }


def training_columns(rows: int, kind: str, seed: int = 1) -> dict[str, Any]:
    """The audited columns of ``rows`` training leads, held as the pipeline may hold them."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for name, k, _ in ATTRIBUTES:
        values = np.array([f"{name}_{i}" for i in range(k)] + [None], dtype=object)
        column = values[rng.choice(k + 1, size=rows, p=[0.97 / k] * k + [0.03])]
        columns[name] = (
            column.tolist() if kind == "list" else pa.array(column) if kind == "pyarrow" else column
        )
    return columns


def median_time(call: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="holdout leads")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls (median)")
    parser.add_argument("--resamples", type=int, default=RESAMPLES, help="bootstrap resamples")
    parser.add_argument("--train-rows", type=int, default=1_000_000, help="training leads")
    parser.add_argument("--columns", choices=("list", "numpy", "pyarrow"), default="list")
    args = parser.parse_args(argv)

    data = holdout(args.rows)
    audits: list[FairnessAudit] = []

    def audit() -> None:
        audits.append(audit_scores(**data, threshold=THRESHOLD, resamples=args.resamples))  # type: ignore[arg-type]

    median, times = median_time(audit, args.repeats)
    groups = sum(len(a.groups) for a in audits[-1].attributes)
    print(
        f"audit_scores: {args.rows:,} rows, {len(audits[-1].attributes)} attributes, {groups} "
        f"groups, {args.resamples:,} resamples: median {median:.3f} s of {args.repeats} "
        f"({', '.join(f'{t:.3f}' for t in times)})"
    )

    columns = training_columns(args.train_rows, args.columns)
    rows = np.random.default_rng(2).permutation(args.train_rows)[: args.rows]
    median, times = median_time(lambda: sensitive_features(columns, rows, HCP_LEADS), args.repeats)
    print(
        f"sensitive_features: {args.rows:,} holdout rows of {args.train_rows:,}-lead "
        f"{args.columns} columns: median {median:.3f} s of {args.repeats} "
        f"({', '.join(f'{t:.3f}' for t in times)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

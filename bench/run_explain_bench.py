"""`make bench` (explanations): the TreeSHAP kernel against LightGBM's `pred_contrib`, in process.

Trains the lead model on the committed sample into a throwaway CANDOR_HOME (as
bench/run_bench.py does) and explains 100,000 generated leads with both; then, where
../shared/data/Leads.csv exists, does the same for a 31-leaf model trained on that export.
Reports rows/s (median of repeats), one-lead latency, the tables' size and build time and the
largest difference between the two. Writes bench/results/tree_shap.md (overwritten) and prints
it. See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numba
import numpy as np
import pandas as pd
from bench_report import machine, package_versions
from run_bench import isolate_environment, publish, say, train

from candor.data_samples import HCP_LEADS_CSV
from candor.data_samples.generate_leads import generate_leads
from candor.models.leads.features import build_features
from candor.models.settings import Settings
from candor.models.tree_shap import TreeShap, TreeShapInfo
from candor.registry import LEADS, load_model

REPO = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "results" / "tree_shap.md"
LEADS_CSV = REPO.parent / "shared" / "data" / "Leads.csv"
PACKAGES = ("lightgbm", "numba", "numpy")
SEED = 7
TOLERANCE = 1e-9  # largest |kernel - pred_contrib| allowed, log-odds
# targets of issue 12
SAMPLE_SPEEDUP, SAMPLE_AIM_ROWS_PER_S, ONE_LEAD_US, WIDE_SPEEDUP = 10.0, 250_000.0, 20.0, 3.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="generated leads explained")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per rate (median)")
    parser.add_argument("--singles", type=int, default=1000, help="timed one-lead calls")
    parser.add_argument("--warmup", type=int, default=50, help="untimed one-lead calls first")
    parser.add_argument(
        "--wide-rows",
        type=int,
        default=0,
        help="rows for the 31-leaf model's rate, Leads.csv tiled (default: its rows once)",
    )
    parser.add_argument("--leads-csv", type=Path, default=LEADS_CSV, help="the X Education export")
    parser.add_argument("--out", type=Path, default=OUT, help="Markdown report path")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Timings:
    """One explainer's figures on one model."""

    rows_per_s: float
    one_us: tuple[float, float]  # p50, p99 of one-lead calls on 2 threads
    one_serial_us: tuple[float, float]  # the same on 1 thread


@dataclass(frozen=True)
class Figures:
    """One model, both explainers, one run."""

    model: str
    rows: int
    info: TreeShapInfo  # the kernel's method, table size and build time
    kernel: Timings
    native: Timings  # LightGBM's pred_contrib
    max_abs_difference: float
    max_additivity_error: float  # |base value + contributions - raw margin|, kernel

    @property
    def speedup(self) -> float:
        return self.kernel.rows_per_s / self.native.rows_per_s


def median_rates(
    explainers: Sequence[Callable[[np.ndarray], object]], x: np.ndarray, repeats: int
) -> list[float]:
    """Rows/s of each explainer on the whole matrix, median of ``repeats`` calls; the calls
    alternate between the explainers, so that a burst of other work on the machine falls on
    both rather than on one."""
    for explain in explainers:
        explain(x[:1000])  # warm-up: numba compiles (or loads its cache), LightGBM allocates
    times: list[list[float]] = [[] for _ in explainers]
    for _ in range(repeats):
        for explain, took in zip(explainers, times, strict=True):
            started = time.perf_counter()
            explain(x)
            took.append(time.perf_counter() - started)
    return [len(x) / statistics.median(took) for took in times]


def one_lead_us(
    explain: Callable[[np.ndarray], object], x: np.ndarray, *, calls: int, warmup: int
) -> tuple[float, float]:
    """p50 and p99 of one-row calls (different rows, cycling), in microseconds."""
    rows = [x[i % len(x) : i % len(x) + 1] for i in range(warmup + calls)]
    for row in rows[:warmup]:
        explain(row)
    took = []
    for row in rows[warmup:]:
        started = time.perf_counter_ns()
        explain(row)
        took.append((time.perf_counter_ns() - started) / 1000)
    return float(np.percentile(took, 50)), float(np.percentile(took, 99))


def measure(name: str, booster: lgb.Booster, x: np.ndarray, args: argparse.Namespace) -> Figures:
    explainer = TreeShap(booster)
    info = explainer.info
    say(f"{name}: {info.method}, {info.table_bytes:,} table bytes in {info.build_seconds:.2f} s")

    def native(rows: np.ndarray) -> np.ndarray:
        return np.asarray(booster.predict(rows, pred_contrib=True), dtype=np.float64)

    def native_serial(rows: np.ndarray) -> np.ndarray:
        return np.asarray(booster.predict(rows, pred_contrib=True, num_threads=1))

    kernel = explainer.contributions(x)
    difference = float(np.max(np.abs(kernel - native(x))))
    margin = np.asarray(booster.predict(x, raw_score=True), dtype=np.float64)
    additivity = float(np.max(np.abs(kernel.sum(axis=1) - margin)))
    say(f"{name}: max |difference| {difference:.2e}; timing {len(x):,} rows x {args.repeats}")
    kernel_rate, native_rate = median_rates([explainer.contributions, native], x, args.repeats)
    say(f"{name}: {kernel_rate:,.0f} vs {native_rate:,.0f} rows/s; {args.singles} single leads")
    kernel_one = one_lead_us(explainer.contributions, x, calls=args.singles, warmup=args.warmup)
    native_one = one_lead_us(native, x, calls=args.singles, warmup=args.warmup)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # this thread's parallel loops only
    try:
        kernel_serial = one_lead_us(
            explainer.contributions, x, calls=args.singles, warmup=args.warmup
        )
    finally:
        numba.set_num_threads(threads)
    native_serial_one = one_lead_us(native_serial, x, calls=args.singles, warmup=args.warmup)
    return Figures(
        model=name,
        rows=len(x),
        info=info,
        kernel=Timings(kernel_rate, kernel_one, kernel_serial),
        native=Timings(native_rate, native_one, native_serial_one),
        max_abs_difference=difference,
        max_additivity_error=additivity,
    )


def tree_shape(booster: lgb.Booster) -> str:
    def depth(node: dict[str, object]) -> int:
        if "leaf_value" in node:
            return 0
        return 1 + max(depth(node["left_child"]), depth(node["right_child"]))  # type: ignore[arg-type]

    trees = booster.dump_model()["tree_info"]
    leaves = max(t["num_leaves"] for t in trees)
    deepest = max(depth(t["tree_structure"]) for t in trees)
    return f"{len(trees)} trees, up to {leaves} leaves, depth up to {deepest}"


def sample_model(args: argparse.Namespace) -> tuple[str, Figures]:
    with tempfile.TemporaryDirectory(prefix="candor-explain-bench-") as tmp:
        settings = Settings(home=Path(tmp) / "home", mlflow_tracking_uri=None)
        train(HCP_LEADS_CSV, settings)
        loaded = load_model(settings, kind=LEADS)
    scorer = loaded.model
    frame = generate_leads(rows=args.rows, seed=SEED)
    columns = {c: frame[c].tolist() for c in frame.columns}
    x = build_features(columns, schema=scorer.schema_, n_rows=len(frame)).values
    booster = scorer.booster_
    threads = booster.params.get("num_threads", "LightGBM's default")
    described = (
        f"{loaded.name} v{loaded.version} trained on `data_samples/hcp_leads.csv` as "
        f"`make bench` trains it: {tree_shape(booster)}, "
        f"{x.shape[1]} inputs; explaining {len(x):,} leads generated with seed {SEED} "
        f"(`build_features`, as serving); `pred_contrib` with num_threads={threads} (the "
        "booster's own parameter)"
    )
    return described, measure("sample model", booster, x, args)


def leads_csv_matrix(path: Path) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Leads.csv's columns: numeric as float, the rest as integer category codes (NaN missing)."""
    frame = pd.read_csv(path).drop(columns=["Prospect ID", "Lead Number"])
    outcome = frame.pop("Converted").to_numpy()
    columns, categorical = [], []
    for j, name in enumerate(frame.columns):
        if pd.api.types.is_numeric_dtype(frame[name]):
            columns.append(frame[name].to_numpy(dtype=np.float64))
        else:
            codes = pd.Categorical(frame[name]).codes.astype(np.float64)
            codes[codes < 0] = np.nan
            columns.append(codes)
            categorical.append(j)
    return np.column_stack(columns), outcome, categorical


def wide_model(path: Path, args: argparse.Namespace) -> tuple[str, Figures]:
    x, outcome, categorical = leads_csv_matrix(path)
    params = {"objective": "binary", "num_leaves": 31, "num_threads": 2, "seed": 1, "verbose": -1}
    train_set = lgb.Dataset(x, outcome, categorical_feature=categorical)
    booster = lgb.train(params, train_set, num_boost_round=300)
    tiled = np.tile(x, (math.ceil(args.wide_rows / len(x)), 1)) if args.wide_rows else x
    rows_note = (
        "its rows tiled"
        if args.wide_rows
        else "its own rows, not tiled: one call already takes seconds; `--wide-rows N` tiles them"
    )
    described = (
        f"`lgb.train` with num_leaves=31, 300 rounds, on `{path.name}` ({len(x):,} rows, "
        f"{x.shape[1]} inputs of which {len(categorical)} categorical as integer codes): "
        f"{tree_shape(booster)}; explaining {len(tiled):,} rows "
        f"({rows_note}); `pred_contrib` with num_threads=2"
    )
    return described, measure("31-leaf model", booster, tiled, args)


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def figures_table(f: Figures) -> list[str]:
    def one(label: str, kernel: float, native: float) -> tuple[str, str, str, str]:
        return label, _n(kernel, 1), _n(native, 1), f"{native / kernel:.1f}x"

    rows = [
        (
            f"rows/s, one matrix of {f.rows:,} rows, 2 threads (median)",
            _n(f.kernel.rows_per_s),
            _n(f.native.rows_per_s),
            f"{f.speedup:.1f}x",
        ),
        one("one lead, 2 threads, p50 (µs)", f.kernel.one_us[0], f.native.one_us[0]),
        one("one lead, 2 threads, p99 (µs)", f.kernel.one_us[1], f.native.one_us[1]),
        one("one lead, 1 thread, p50 (µs)", f.kernel.one_serial_us[0], f.native.one_serial_us[0]),
        one("one lead, 1 thread, p99 (µs)", f.kernel.one_serial_us[1], f.native.one_serial_us[1]),
    ]
    return [
        f"| {f.model} | kernel (`TreeShap`) | LightGBM `pred_contrib` | kernel faster by |",
        "|---|--:|--:|--:|",
        *(f"| {name} | {k} | {n} | {r} |" for name, k, n, r in rows),
        "",
        f"- Kernel: method `{f.info.method}`, tables {f.info.table_bytes / 2**20:,.2f} MiB "
        f"({f.info.table_bytes:,} bytes), built in {f.info.build_seconds:.2f} s at load.",
        f"- Largest |kernel - `pred_contrib`| over the {f.rows:,} rows x every column: "
        f"{f.max_abs_difference:.1e} (log-odds; limit {TOLERANCE:.0e}: "
        f"{'met' if f.max_abs_difference <= TOLERANCE else '**EXCEEDED**'}); largest "
        f"|base value + contributions - raw margin|: {f.max_additivity_error:.1e}.",
    ]


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def targets_table(sample: Figures, wide: Figures | None) -> list[str]:
    rows = [
        (
            f"sample model: >= {SAMPLE_SPEEDUP:.0f}x `pred_contrib`'s rows/s",
            f"{sample.speedup:.1f}x",
            _met(sample.speedup >= SAMPLE_SPEEDUP),
        ),
        (
            f"sample model: aim >= {SAMPLE_AIM_ROWS_PER_S:,.0f} rows/s",
            _n(sample.kernel.rows_per_s),
            _met(sample.kernel.rows_per_s >= SAMPLE_AIM_ROWS_PER_S),
        ),
        (
            f"sample model: one lead <= {ONE_LEAD_US:.0f} µs (p50, 2 threads)",
            f"{sample.kernel.one_us[0]:.1f} µs",
            _met(sample.kernel.one_us[0] <= ONE_LEAD_US),
        ),
        (
            f"sample model: one lead <= {ONE_LEAD_US:.0f} µs (p50, 1 thread)",
            f"{sample.kernel.one_serial_us[0]:.1f} µs",
            _met(sample.kernel.one_serial_us[0] <= ONE_LEAD_US),
        ),
    ]
    if wide is not None:
        rows.append(
            (
                f"31-leaf model: >= {WIDE_SPEEDUP:.0f}x `pred_contrib`'s rows/s",
                f"{wide.speedup:.1f}x",
                _met(wide.speedup >= WIDE_SPEEDUP),
            )
        )
    return [
        "| target (issue 12) | measured | |",
        "|---|--:|---|",
        *(f"| {name} | {value} | {verdict} |" for name, value, verdict in rows),
    ]


def render(
    *,
    started: str,
    load_at_start: tuple[float, float, float],
    run_seconds: float,
    sample: tuple[str, Figures],
    wide: tuple[str, Figures] | None,
    args: argparse.Namespace,
) -> str:
    load_at_end = os.getloadavg()

    def load(values: tuple[float, float, float]) -> str:
        return " / ".join(f"{v:.2f}" for v in values)

    wide_lines = (
        [
            f"- 31-leaf model: {wide[0]}.",
        ]
        if wide
        else [f"- 31-leaf model: skipped, `{args.leads_csv}` is absent."]
    )
    lines = [
        "# Exact SHAP: the TreeSHAP kernel against LightGBM's `pred_contrib`",
        "",
        "Written by `make bench` (`bench/run_explain_bench.py`); see `bench/README.md`. Machines "
        "are noisy: compare figures from one run, not across runs.",
        "",
        f"- Date: {started}",
        f"- Machine: {machine()}; load average (1 / 5 / 15 min) {load(load_at_start)} at start, "
        f"{load(load_at_end)} at end (other work on the machine skews every figure)",
        f"- Packages: {package_versions(PACKAGES)}",
        f"- Threads: the kernel runs numba's parallel loop over rows on {numba.get_num_threads()} "
        f"threads (layer {numba.threading_layer()}); `pred_contrib` on LightGBM's OpenMP "
        "threads, num_threads as stated per model. Both in process, float64 matrices.",
        f"- Rates: one call on the whole matrix, after a warm-up call; median of {args.repeats}, "
        "the two explainers' calls alternating. "
        f"One lead: {args.singles:,} calls on a one-row matrix (different rows), after "
        f"{args.warmup} warm-up calls; the kernel's figure includes its Python entry "
        "(input check, output allocation). On 2 threads each call starts a parallel region "
        "for one row: where the other core is busy, waking its thread can cost a scheduler "
        "slice (milliseconds), for both explainers; the 1-thread rows (`numba.set_num_threads"
        "(1)`, `pred_contrib` with num_threads=1) show the calls without that.",
        f"- Sample model: {sample[0]}.",
        *wide_lines,
        "",
        *targets_table(sample[1], wide[1] if wide else None),
        "",
        *figures_table(sample[1]),
        "",
        *(figures_table(wide[1]) if wide else []),
        *([""] if wide else []),
        f"Whole benchmark run (training, table builds, measurements): {run_seconds:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    isolate_environment()
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()
    load_at_start = os.getloadavg()
    sample = sample_model(args)
    wide = wide_model(args.leads_csv, args) if args.leads_csv.exists() else None
    report = render(
        started=started_at,
        load_at_start=load_at_start,
        run_seconds=time.perf_counter() - started,
        sample=sample,
        wide=wide,
        args=args,
    )
    publish(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`candor train leads` on a generated universe beside its peer, in one run (issue 18).

The peer is the fit alone, as a user would write it: a pandas read of the same CSV, categories
as pandas categories, and one ``lightgbm.train`` with the shape and tree count Candor chose, on
the same training rows. Both run as fresh processes; wall time is the whole process, peak memory
its resident high-water mark (``getrusage`` of the child). Candor's stages (its own stage lines)
are tabulated beside them.

Usage: ``python bench/run_training_bench.py [--rows 1000000] [--out bench/results/training.md]``
(``--rows 10000000`` for the 10M run; the table is appended per size).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_BIN = Path(sys.executable).parent
STAGE_LINE = re.compile(
    r"^stage (?P<name>.+?): (?P<s>[\d.]+) s, peak (?P<mib>[\d,]+) MiB(?: \((?P<detail>.*)\))?$"
)

PEER = """
import json, sys, time
started = time.perf_counter()
import lightgbm as lgb
import numpy as np
import pandas as pd
from candor.models.contract import HCP_LEADS, Kind
from candor.training.fit import TreeShape, base_params, split_indices
path, leaves, depth, trees = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
frame = pd.read_csv(path)
inputs = [f.name for f in HCP_LEADS.model_inputs]
x = frame[inputs].copy()
for f in HCP_LEADS.model_inputs:
    if f.kind is Kind.CATEGORICAL:
        x[f.name] = x[f.name].astype("category")
y = frame[HCP_LEADS.target_field.name].astype(int).to_numpy()
train = split_indices(y, seed=42).train
read = time.perf_counter()
params = base_params(TreeShape(leaves, depth), seed=42)
lgb.train(params, lgb.Dataset(x.iloc[train], y[train]), num_boost_round=trees)
done = time.perf_counter()
print(json.dumps({"read_s": read - started, "train_s": done - read}))
"""


@dataclass(frozen=True)
class Process:
    wall_s: float
    peak_mib: float
    stdout: str
    stderr: str


def run(command: list[str], env: dict[str, str], peak_file: Path) -> Process:
    """Run ``command``; its peak resident memory from GNU time (``%M``: this process only)."""
    started = time.perf_counter()
    child = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(peak_file), *command],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed ({child.returncode}):\n{child.stderr[-3000:]}")
    peak = int(peak_file.read_text().split()[-1]) / 1024.0
    return Process(wall, peak, child.stdout, child.stderr)


def chosen_fit(home: Path, stdout: str) -> tuple[int, int, int, dict[str, str]]:
    from mlflow.tracking import MlflowClient

    run_id = re.search(r"^run (\w+):", stdout, re.M)
    assert run_id, stdout
    client = MlflowClient(tracking_uri=f"sqlite:///{home}/mlflow.db")
    params = client.get_run(run_id.group(1)).data.params
    return int(params["num_leaves"]), int(params["max_depth"]), int(params["trees"]), params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "training.md")
    args = parser.parse_args(argv)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CANDOR_", "MLFLOW_"))}
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="candor-train-bench-") as tmp:
        data = Path(tmp) / "leads.csv"
        subprocess.run(
            [
                str(VENV_BIN / "candor"),
                "data",
                "generate",
                "leads",
                "--rows",
                str(args.rows),
                "--out",
                str(data),
            ],
            check=True,
            env=base_env,
            capture_output=True,
        )
        size_mb = data.stat().st_size / 1e6
        print(f"[train bench] {args.rows:,} leads, {size_mb:,.0f} MB", flush=True)
        home = Path(tmp) / "home"
        env = {
            **base_env,
            "CANDOR_HOME": str(home),
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        }
        candor = run(
            [str(VENV_BIN / "candor"), "train", "leads", "--data", str(data)],
            env,
            Path(tmp) / "candor.peak",
        )
        leaves, depth, trees, params = chosen_fit(home, candor.stdout)
        print(
            f"[train bench] candor: {candor.wall_s:.1f} s, peak {candor.peak_mib:,.0f} MiB; "
            f"chose {leaves} leaves, depth {depth}, {trees} trees",
            flush=True,
        )
        peer = run(
            [sys.executable, "-c", PEER, str(data), str(leaves), str(depth), str(trees)],
            base_env,
            Path(tmp) / "peer.peak",
        )
        peer_times = json.loads(peer.stdout.strip().splitlines()[-1])
        print(f"[train bench] peer: {peer.wall_s:.1f} s, peak {peer.peak_mib:,.0f} MiB", flush=True)
    stages = [m.groupdict() for line in candor.stderr.splitlines() if (m := STAGE_LINE.match(line))]
    auc = re.search(r"holdout ROC-AUC ([\d.]+)", candor.stdout)
    report = render(args.rows, size_mb, candor, peer, peer_times, stages, params, auc, load_start)
    sections = read_sections(args.out)
    sections[args.rows] = report
    args.out.write_text(
        "# Training at the size of an HCP universe\n\n"
        + "\n".join(f"<!-- rows {n} -->\n{text}" for n, text in sorted(sections.items()))
    )
    print(report)
    return 0


def read_sections(path: Path) -> dict[int, str]:
    """The report's section per size, so that a 10M run keeps the 1M table beside it."""
    if not path.exists():
        return {}
    parts = re.split(r"^<!-- rows (\d+) -->\n", path.read_text(), flags=re.M)
    return {int(n): text for n, text in zip(parts[1::2], parts[2::2], strict=True)}


def render(rows, size_mb, candor, peer, peer_times, stages, params, auc, load_start) -> str:  # type: ignore[no-untyped-def]
    lines = [
        f"## {rows:,} generated leads ({size_mb:,.0f} MB CSV)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M UTC} by `python bench/run_training_bench.py "
        f"--rows {rows}`, 2-core machine, load average {load_start:.2f} at start. One run each.",
        "",
        "| | wall (s) | peak memory (MiB) |",
        "|---|---|---|",
        f"| `candor train leads` (whole process: read, guard, grid, fit, calibration, SHAP, "
        f"fairness, MLflow) | {candor.wall_s:.1f} | {candor.peak_mib:,.0f} |",
        f"| peer: pandas read + one `lightgbm.train` ({params['num_leaves']} leaves, depth "
        f"{params['max_depth']}, {params['trees']} trees, {int(params['split_train']):,} rows) "
        f"| {peer.wall_s:.1f} (read {peer_times['read_s']:.1f}, train {peer_times['train_s']:.1f}) "
        f"| {peer.peak_mib:,.0f} |",
        f"| ratio | {candor.wall_s / peer.wall_s:.2f}x | {candor.peak_mib / peer.peak_mib:.2f}x |",
        "",
        f"Holdout ROC-AUC {auc.group(1) if auc else '?'}; shape grid on "
        f"{int(params.get('grid_train_rows', 0)):,} training rows, chosen shape fitted on "
        f"{int(params['split_train']):,}.",
        "",
        "Candor's stages (its stage lines; peak sampled every 20 ms within the stage):",
        "",
        "| stage | seconds | peak MiB | detail |",
        "|---|---|---|---|",
        *[f"| {s['name']} | {s['s']} | {s['mib']} | {s['detail'] or ''} |" for s in stages],
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

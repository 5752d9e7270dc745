"""`make bench`: `candor score batch` on generated leads, beside raw LightGBM predict, in one run.

Trains the lead model on the committed sample into a throwaway CANDOR_HOME, generates N leads
(`candor data generate leads`, Parquet), then measures, each in a fresh process and with an
audit database of its own:

- raw LightGBM ``predict`` (log-odds) on the same matrix the batch builds (the peer);
- ``candor score batch --explain none`` and ``--explain top --top-k 5``, Parquet in, Parquet
  out, every row audited: rows/s and peak memory (max RSS of the process);
- the same with 1/10 of the rows, for memory against input size;
- ``--engine spark`` (local[2]) on the smaller input beside the local engine on it.

Writes a Markdown table to bench/results/batch_scoring.md. Noisy machines: ratios matter.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "bench" / "results" / "batch_scoring.md"
CANDOR = [sys.executable, "-m", "candor.cli.main"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="generated leads")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report path")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark engine")
    return parser.parse_args(argv)


def measured(cmd: Sequence[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``cmd`` in a child that reports its own peak RSS (exact per run)."""
    probe = (
        "import json, resource, subprocess, sys, time; "
        "t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "w = time.perf_counter() - t; "
        "m = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
        "print(json.dumps({'rc': r.returncode, 'wall': w, 'rss_mib': m / 1024, "
        "'out': r.stdout, 'err': r.stderr[-3000:]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *cmd], env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result['err']}")
    return result  # type: ignore[no-any-return]


def batch(
    source: Path, home: Path, name: str, env: dict[str, str], *extra: str
) -> dict[str, float]:
    out = home / f"{name}.parquet"
    summary = home / f"{name}.json"
    run_env = {**env, "CANDOR_DATABASE_URL": f"sqlite:///{home / (name + '.db')}"}
    result = measured(
        [
            *CANDOR, "score", "batch", "--input", str(source), "--output", str(out),
            "--summary", str(summary), *extra,
        ],
        run_env,
    )  # fmt: skip
    facts = json.loads(summary.read_text())
    return {
        "rows": facts["rows"],
        "seconds": facts["seconds"],
        "rows_per_s": facts["rows"] / facts["seconds"],
        "process_s": result["wall"],
        "rss_mib": result["rss_mib"],
    }


RAW_PREDICT = """
import json, sys, time
import pyarrow.parquet as pq
from candor.models.settings import get_settings
from candor.registry import LEADS, load_model
from candor.serving.scoring.rows import check_rows
from candor.models.leads.features import build_features
loaded = load_model(get_settings(), kind=LEADS)
scorer = loaded.model
table = pq.read_table(sys.argv[1])
checked = check_rows(table, scorer.contract_)
matrix = build_features(checked.columns, schema=scorer.schema_, n_rows=len(checked.kept)).values
scorer.booster_.predict(matrix[:1000], raw_score=True)
best = []
for _ in range(3):
    t = time.perf_counter(); scorer.booster_.predict(matrix, raw_score=True)
    best.append(time.perf_counter() - t)
best.sort()
print(json.dumps({"rows": len(matrix), "seconds": best[1]}))
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="candor-batch-bench-") as tmp:
        home = Path(tmp)
        env = {**os.environ, "CANDOR_HOME": str(home), "OMP_WAIT_POLICY": "PASSIVE"}
        for name in ("CANDOR_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI", "CANDOR_DATABASE_URL"):
            env.pop(name, None)
        sample = REPO / "data_samples" / "hcp_leads.csv"
        subprocess.run([*CANDOR, "train", "leads", "--data", str(sample)], env=env,
                       check=True, capture_output=True)  # fmt: skip
        big, small = home / "leads-big.parquet", home / "leads-small.parquet"
        for path, rows in ((big, args.rows), (small, max(args.rows // 10, 1000))):
            subprocess.run(
                [*CANDOR, "data", "generate", "leads", "--rows", str(rows), "--out", str(path)],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
        raw = json.loads(
            subprocess.run(
                [sys.executable, "-c", RAW_PREDICT, str(big)],
                env=env, check=True, capture_output=True, text=True,
            ).stdout.strip().splitlines()[-1]
        )  # fmt: skip
        raw_rate = raw["rows"] / raw["seconds"]
        figures = {
            "none_big": batch(big, home, "none-big", env, "--explain", "none"),
            "top_big": batch(big, home, "top-big", env, "--explain", "top", "--top-k", "5"),
            "top_small": batch(small, home, "top-small", env, "--explain", "top"),
        }
        if not args.no_spark:
            figures["spark_small"] = batch(
                small, home, "spark-small", env, "--engine", "spark",
                "--spark-master", "local[2]",
            )  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(args.rows, raw_rate, figures))
    print(args.out.read_text())
    return 0


def render(rows: int, raw_rate: float, f: dict[str, dict[str, float]]) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    small = f["top_small"]
    lines = [
        "# Batch scoring: `candor score batch` beside raw LightGBM predict",
        "",
        f"Measured {now} on {os.cpu_count()} cores by `python bench/run_batch_bench.py` "
        f"(`make bench`), {rows:,} generated leads (`candor data generate leads`), Parquet in "
        "and out, every scored row audited in SQLite (one signed event per row, one commit "
        "per chunk of 50,000). Rows/s count the run itself (reading, checks, scoring, "
        "explaining, audit, writing), not the process start or the model load.",
        "",
        "| measure | figure | target |",
        "|---|---:|---|",
        f"| raw LightGBM `predict` (log-odds), same matrix | {raw_rate:,.0f} rows/s | peer |",
        f"| `--explain none`, audited | {f['none_big']['rows_per_s']:,.0f} rows/s "
        f"(**{f['none_big']['rows_per_s'] / raw_rate:.2f}x** raw predict) | >= 0.80x |",
        f"| `--explain top --top-k 5`, audited | **{f['top_big']['rows_per_s']:,.0f} rows/s** "
        "| >= 25,000 |",
        f"| peak memory, {small['rows']:,.0f} rows (top-5) | {small['rss_mib']:,.0f} MiB | flat |",
        f"| peak memory, {f['top_big']['rows']:,.0f} rows (top-5) | "
        f"{f['top_big']['rss_mib']:,.0f} MiB | flat |",
        f"| peak memory, {f['none_big']['rows']:,.0f} rows (none) | "
        f"{f['none_big']['rss_mib']:,.0f} MiB | flat |",
    ]
    if "spark_small" in f:
        spark = f["spark_small"]
        lines.append(
            f"| `--engine spark` local[2], {spark['rows']:,.0f} rows (top-5) | "
            f"{spark['rows_per_s']:,.0f} rows/s ({small['rows_per_s'] / spark['rows_per_s']:.2f}x"
            f" the local engine's time; process {spark['process_s']:.0f} s vs "
            f"{small['process_s']:.0f} s) | within 2x |"
        )
    lines += [
        "",
        "Whole-process wall times (with imports, model load, audit store open): "
        + ", ".join(f"{k} {v['process_s']:.1f} s" for k, v in f.items())
        + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

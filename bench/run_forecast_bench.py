"""`make bench` (forecasts): the sales forecaster against seasonal naive, AutoETS, mlforecast.

On the public weekly pharmacy sales (../shared/data/salesweekly.csv, read through
data_samples/contracts/pharmacy_sales_weekly.yaml): a rolling-origin backtest whose scored
forecasts target the last 52 weeks, 1 to 4 weeks ahead, every method on the same origins and
scored with the same MASE scales. Writes bench/results/forecast_backtest.md (overwritten) and
prints it. Skipped, saying so, where the data file is absent. See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from forecast_mlforecast import MLFORECAST_DIRECT, MLFORECAST_RECURSIVE, mlforecast_backtest

from candor.models.contract import load_sales_contract
from candor.models.forecast.hierarchy import Key
from candor.training.forecast.backtest import (
    AUTO_ETS,
    MODEL,
    BacktestConfig,
    BacktestResult,
    run_backtest,
)
from candor.training.forecast.data import read_hierarchy, read_panel
from candor.training.forecast.fit import BoosterParams
from candor.training.forecast.metrics import Forecasts
from candor.training.forecast.pipeline import backtest_served
from candor.training.forecast.reconcile import RECONCILED
from candor.training.forecast.report import (
    metrics_table,
    overall_table,
    relative_mase,
    series_table,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "salesweekly.csv"
DEFAULT_CONTRACT = REPO / "data_samples" / "contracts" / "pharmacy_sales_weekly.yaml"
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "forecast_backtest.md"
COVERAGE80_TARGET = (0.75, 0.85)
AIM = 0.90  # MASE at most 90% of AutoETS's: 10% better


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="weekly sales file")
    parser.add_argument("--contract", type=Path, default=DEFAULT_CONTRACT, help="sales contract")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report path")
    parser.add_argument("--eval-weeks", type=int, default=52, help="last weeks scored")
    parser.add_argument("--horizon", type=int, default=4, help="weeks ahead scored")
    parser.add_argument("--step", type=int, default=1, help="weeks between scored origins")
    parser.add_argument("--calibration-weeks", type=int, default=52)
    parser.add_argument("--refit-every", type=int, default=13)
    parser.add_argument("--no-mlforecast", action="store_true", help="skip the mlforecast rows")
    return parser.parse_args(argv)


SERVED_OVER_HIERARCHY = f"{RECONCILED} (series level)"


def series_rows(served: Forecasts, node_keys: list[Key], series_keys: list[Key]) -> Forecasts:
    """The reconciled forecasts of the series (the bottom level), indexed as ``series_keys``."""
    index = {node_keys.index(k): i for i, k in enumerate(series_keys)}
    mask = np.isin(served.series, list(index))
    return Forecasts(
        np.array([index[int(i)] for i in served.series[mask]], dtype=int),
        served.step[mask],
        served.actual[mask],
        served.point[mask],
        {lv: v[mask] for lv, v in served.lower.items()},
        {lv: v[mask] for lv, v in served.upper.items()},
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verdicts(result: BacktestResult) -> list[str]:
    """The issue's targets, measured on the forecasts as served (the contract's hierarchy
    reconciled, where it has one): MASE against AutoETS and the 80% coverage band."""
    model = result.overall()
    lines = ["| target | measured | met |", "|---|---|---|"]
    ratio = relative_mase(result, result.served, AUTO_ETS)
    if ratio is not None:
        ets = result.overall(AUTO_ETS)["mase"]
        change = f"{abs(1 - ratio) * 100:.1f}% {'better' if ratio <= 1 else 'worse'}"
        lines.append(
            f"| MASE no worse than AutoETS's | {model['mase']:.3f} vs {ets:.3f} ({change}) | "
            f"{'yes' if ratio <= 1 else 'NO'} |"
        )
        lines.append(
            f"| aim: MASE 10% better than AutoETS's | ratio {ratio:.3f} (aim <= {AIM:.2f}) | "
            f"{'yes' if ratio <= AIM else 'no: ' + change} |"
        )
    lo, hi = COVERAGE80_TARGET
    cov = model["coverage80"]
    lines.append(
        f"| 80% interval coverage in [{lo:.2f}, {hi:.2f}] | {cov:.3f} | "
        f"{'yes' if lo <= cov <= hi else 'NO'} |"
    )
    return lines


def by_step_table(result: BacktestResult) -> list[str]:
    rows = [
        (f"{method}, {h} week{'s' if h > 1 else ''} ahead", metrics)
        for method in result.by_step
        for h, metrics in sorted(result.by_step[method].items())
    ]
    return metrics_table(rows, first="method, weeks ahead")


def render(result: BacktestResult, args: argparse.Namespace, contract_tag: str) -> str:
    config = result.config
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    ratios = [
        f"| {m} | {relative_mase(result, m, AUTO_ETS):.3f} |"
        for m in result.tables
        if relative_mase(result, m, AUTO_ETS) is not None
    ]
    seconds = [f"| {m} | {s:.1f} |" for m, s in result.seconds.items()]
    origins = config.scored_origins()
    lines = [
        "# Sales forecasts: rolling-origin backtest on weekly pharmacy sales",
        "",
        f"Generated by `make bench` (`bench/run_forecast_bench.py`) on "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} at the end.",
        "",
        f"- Data: `{args.data.name}` (sha256 `{sha256(args.data)[:16]}...`), "
        f"{len(result.series_names)} series, read through `{args.contract.name}` "
        f"(`{contract_tag}`), no code changes.",
        f"- Origins: {len(origins)} scored origins, weeks {origins[0]} to {origins[-1]} "
        f"relative to the last week, every {config.step} week(s); each forecast 1 to "
        f"{config.horizon} weeks ahead, so the scored weeks are the last {config.eval_weeks}. "
        f"Before them, {config.calibration_weeks} unscored origins start the interval "
        "calibration.",
        f"- Candor (`{MODEL}`): one global LightGBM booster per week ahead (direct), target "
        "= units / 26-week level; refitted every "
        f"{config.refit_every} weeks on weeks up to the refit only. Intervals: split conformal "
        "per step on residuals over the series' noise scale, using only residuals already "
        "observed at each origin (coverage is out of sample).",
        f"- `{SERVED_OVER_HIERARCHY}` (a contract with a hierarchy, e.g. the pharmacy's ATC "
        "groups): what Candor serves: every node of the hierarchy backtested by the one model on "
        "the same origins, reconciled with MinTrace (training/forecast/reconcile.py), scored at "
        "the series level with the same scales; its intervals are the series level's conformal "
        "ones. The targets are measured on it.",
        "- Seasonal naive: the same week 52 weeks earlier; intervals by the same conformal "
        "procedure on its own residuals. AutoETS: statsforecast, `season_length=52`, refitted "
        "at every origin, its own prediction intervals. statsforecast's ETS holds at most 24 "
        "seasonal states, so with 52 it only considers non-seasonal models.",
        "- mlforecast rows (if present): see `bench/forecast_mlforecast.py`; refitted at every "
        "origin, its own conformal intervals.",
        "- MASE: absolute error over the series' mean absolute week-to-week change before the "
        "scored weeks (one scale per series for every method); overall = mean over all "
        "forecasts. sMAPE in percent; RMSE and Winkler scores in units.",
        "",
        "## Targets",
        "",
        *verdicts(result),
        "",
        "## Overall",
        "",
        *overall_table(result),
        "",
        "MASE relative to AutoETS's (below 1: better):",
        "",
        "| method | MASE / AutoETS MASE |",
        "|---|---:|",
        *ratios,
        "",
        "## By weeks ahead",
        "",
        *by_step_table(result),
        "",
        "## Per series",
        "",
        *series_table(result),
        "",
        "## Seconds per method (whole backtest)",
        "",
        "| method | seconds |",
        "|---|---:|",
        *seconds,
        "",
        "## How the settings were chosen",
        "",
        "The forecaster's settings were compared on the 52 weeks *before* the scored ones "
        "(the data cut 52 weeks earlier, same backtest): L1 loss beat Huber and L2 (MASE 0.877 "
        "against 0.890-0.917), tree shape, tree count, row/column sampling and recency "
        "weighting moved MASE by about 0.01 or less, and a 26-week level beat 13 and 52 weeks "
        "(0.870, 0.877, 0.889). The scored weeks were not kept out of sight during development: "
        "the defaults inherited from the first draft scored 0.931 here before any of this, "
        "and an automatic tree count chosen on the calibration origins, dropped because it "
        "gained nothing on the earlier window, also scored worse here (0.935).",
        "",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if not args.data.exists():
        print(f"forecast bench skipped: {args.data} is absent (the public pharmacy sales file)")
        return 0
    contract = load_sales_contract(args.contract)
    frame, panel = read_panel(args.data, contract)
    config = BacktestConfig(
        eval_weeks=args.eval_weeks,
        horizon=args.horizon,
        step=args.step,
        calibration_weeks=args.calibration_weeks,
        refit_every=args.refit_every,
    )
    result = run_backtest(
        panel,
        contract=contract,
        config=config,
        params=BoosterParams(),
        model_horizon=config.horizon,  # steps beyond it do not change steps 1..horizon
        log=print,
    )
    hierarchy = read_hierarchy(frame, contract, panel)
    if hierarchy is not None:  # what Candor serves: every node forecast, then reconciled
        clock = time.perf_counter()
        nodes = hierarchy.aggregate(panel)
        _, reconciled = backtest_served(
            nodes,
            hierarchy,
            contract=contract,
            config=replace(config, baselines=False),
            params=BoosterParams(),
            model_horizon=config.horizon,
            log=print,
        )
        assert reconciled is not None
        served = series_rows(reconciled.served, list(nodes), list(panel))
        result.add(SERVED_OVER_HIERARCHY, served, time.perf_counter() - clock)
        result.served = SERVED_OVER_HIERARCHY
    if not args.no_mlforecast:
        for method, direct in ((MLFORECAST_RECURSIVE, False), (MLFORECAST_DIRECT, True)):
            clock = time.perf_counter()
            forecasts = mlforecast_backtest(panel, result.series_names, config, direct=direct)
            result.add(method, forecasts, time.perf_counter() - clock)
            print(f"{method} done")
    report = render(result, args, contract.version_tag)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)
    print(f"wrote {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

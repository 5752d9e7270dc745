"""The Markdown report: context lines, the HTTP table (Candor beside MLflow), in-process figures."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bench_http import BatchThroughput, Latency, ScoreParity, Throughput
from bench_inprocess import InProcess, ModelShape

PACKAGES = ("lightgbm", "mlflow", "fastapi", "uvicorn", "httpx")
RETURNS = (
    "Candor returns, per lead, the calibrated score, the top-k SHAP reasons in plain language, "
    "a confidence level with its Venn-Abers interval and a human-review flag, after checking the "
    "API key and committing an audit event of every lead (every SHAP contribution as numbers, "
    "under a signed Merkle tree head; SQLite in WAL mode with synchronous=FULL, concurrent "
    "requests group-committed) before it answers; the registered MLflow model runs the same "
    "scoring core (suppression, consent, review flags, TreeSHAP) and returns the result "
    "columns without reason texts (not asked for), with no key and no audit."
)


@dataclass(frozen=True)
class ServerFigures:
    latency: Latency
    concurrent: Throughput
    batch: BatchThroughput
    batch_all: BatchThroughput | None = None  # every reason per lead (Candor only)


@dataclass(frozen=True)
class Conditions:
    date: str
    data: str
    data_rows: int
    warmup: int
    top_k: int
    run_seconds: float
    load_at_start: tuple[float, float, float]
    load_at_end: tuple[float, float, float]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    return (
        f"{os.cpu_count()} logical CPUs, {cpu_model()}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}"
    )


def package_versions(names: Sequence[str] = PACKAGES) -> str:
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _batch(figure: BatchThroughput | None) -> str:
    if figure is None:
        return "n/a"
    return f"{_n(figure.leads_per_s)} ({_n(figure.mean_batch_ms)} ms/batch)"


def _concurrent(figure: Throughput) -> str:
    errors = f", {figure.errors} errors" if figure.errors else ""
    return f"{_n(figure.requests_per_s, 1)}{errors}"


def parity_line(parity: ScoreParity) -> str:
    p = parity
    if p.matches:
        verdict = (
            f"MLflow's scores and intervals equal Candor's for all {p.compared} leads Candor "
            f"scored (max |difference| {max(p.score_max_diff, p.interval_max_diff):.1e})"
        )
    else:
        verdict = (
            f"**MISMATCH**: MLflow's score differs from Candor's for {p.score_mismatches} of "
            f"{p.compared} leads (max |difference| {p.score_max_diff:.3g}), an interval bound "
            f"for {p.interval_mismatches} (max {p.interval_max_diff:.3g})"
        )
    return (
        f"{verdict}; tolerance {p.tolerance:.0e}; {p.suppressed} opted-out leads that Candor "
        "suppresses are not compared"
    )


def http_table(candor: ServerFigures, mlflow: ServerFigures, *, top_k: int) -> list[str]:
    lat_c, lat_m = candor.latency, mlflow.latency
    clients, seconds = candor.concurrent.clients, candor.concurrent.seconds
    size = candor.batch.leads_per_batch
    rows = [
        ("one lead, sequential, p50 (ms)", _n(lat_c.p50_ms, 2), _n(lat_m.p50_ms, 2)),
        ("one lead, sequential, p99 (ms)", _n(lat_c.p99_ms, 2), _n(lat_m.p99_ms, 2)),
        ("one lead, sequential, mean (ms)", _n(lat_c.mean_ms, 2), _n(lat_m.mean_ms, 2)),
        (
            f"one lead, {clients} clients for ~{seconds:.0f} s (requests/s)",
            _concurrent(candor.concurrent),
            _concurrent(mlflow.concurrent),
        ),
        (
            f"batches of {size} leads, Candor top-{top_k} reasons (leads/s)",
            _batch(candor.batch),
            _batch(mlflow.batch),
        ),
        (
            f"batches of {size} leads, Candor every reason (leads/s)",
            _batch(candor.batch_all),
            _batch(mlflow.batch_all),
        ),
    ]
    return [
        "| over HTTP | Candor (`candor serve`) | MLflow (`mlflow models serve`) |",
        "|---|--:|--:|",
        *(f"| {name} | {c} | {m} |" for name, c, m in rows),
    ]


@dataclass(frozen=True)
class AuditFootprint:
    """The audit database after the run: its size and the score records it holds."""

    bytes: int
    records: int

    @property
    def bytes_per_record(self) -> float:
        return self.bytes / self.records if self.records else float("nan")


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def targets_table(
    candor: ServerFigures, mlflow: ServerFigures, audit: AuditFootprint, *, top_k: int
) -> list[str]:
    """The audit-log issue's targets, each as a ratio to MLflow measured in this run."""
    batch_ratio = candor.batch.leads_per_s / mlflow.batch.leads_per_s
    clients_ratio = candor.concurrent.requests_per_s / mlflow.concurrent.requests_per_s
    p99 = candor.latency.p99_ms
    per_record = audit.bytes_per_record
    rows = [
        (
            f"batches of {candor.batch.leads_per_batch} leads with top-{top_k} reasons and the "
            "audit, leads/s as a share of MLflow's (no reasons, no audit)",
            f"{batch_ratio:.2f}x",
            ">= 0.5x",
            _verdict(batch_ratio >= 0.5),
        ),
        ("one lead, sequential, p99 (ms)", _n(p99, 2), "<= 10", _verdict(p99 <= 10)),
        (
            f"one lead, {candor.concurrent.clients} clients, requests/s as a multiple of MLflow's",
            f"{clients_ratio:.2f}x",
            ">= 1.5x",
            _verdict(clients_ratio >= 1.5),
        ),
        (
            f"audit database bytes per scored lead (SQLite file after a WAL checkpoint, with "
            f"indexes and projections; {audit.records:,} records in {audit.bytes:,} bytes)",
            _n(per_record),
            "<= 1000",
            _verdict(per_record <= 1000),
        ),
    ]
    return [
        "| target (same run) | measured | target | |",
        "|---|--:|--:|---|",
        *(f"| {name} | {value} | {target} | {verdict} |" for name, value, target, verdict in rows),
    ]


def in_process_table(figures: InProcess, *, top_k: int) -> list[str]:
    rows = [
        (
            f"TreeSHAP contributions (`LeadScorer.contributions`: the exact kernel), one matrix "
            f"of {figures.contrib_rows} rows (rows/s; `pred_contrib` beside it: tree_shap.md)",
            _n(figures.contrib_rows_per_s),
        ),
        (
            "one lead: `build_features` + contributions, p50 (ms)",
            _n(figures.one_row_contrib_p50_ms, 3),
        ),
        (
            f"one lead: `LeadScoringService.score` (top-{top_k}), p50 (ms)",
            _n(figures.one_row_service_p50_ms, 3),
        ),
    ]
    return [
        "| in process, no HTTP (Candor's scoring path) | value |",
        "|---|--:|",
        *(f"| {name} | {value} |" for name, value in rows),
    ]


def render(
    *,
    conditions: Conditions,
    model: ModelShape,
    parity: ScoreParity,
    candor: ServerFigures,
    mlflow: ServerFigures,
    in_process: InProcess,
    audit: AuditFootprint,
) -> str:
    c = conditions
    lines = [
        "# Lead scoring: Candor vs `mlflow models serve`",
        "",
        "Written by `make bench` (`bench/run_bench.py`); see `bench/README.md`. Machines are "
        "noisy: compare figures from one run, not across runs.",
        "",
        f"- Date: {c.date}",
        f"- Machine: {machine()}; load average (1 / 5 / 15 min) {_load(c.load_at_start)} at "
        f"start, {_load(c.load_at_end)} at end (other work on the machine skews every figure)",
        f"- Packages: {package_versions()}",
        f"- Model: {model.name} v{model.version}: {model.shape}, {model.trees} trees, "
        f"{model.inputs} inputs; trained on `{c.data}` ({c.data_rows} rows)",
        f"- Same model: {parity_line(parity)}",
        f"- What each server returns: {RETURNS}",
        "- Setup: each server runs one uvicorn worker on 127.0.0.1; the client shares the "
        "machine. Only leads that Candor scores are sent (opted-out leads skip the model).",
        f"- Sequential: {candor.latency.requests} requests of one lead each, after {c.warmup} "
        f"warm-up requests. Batches: {candor.batch.batches} per row after one warm-up batch.",
        "",
        *http_table(candor, mlflow, top_k=c.top_k),
        "",
        *targets_table(candor, mlflow, audit, top_k=c.top_k),
        "",
        *in_process_table(in_process, top_k=c.top_k),
        "",
        f"Whole benchmark run (training, start-up, measurements): {c.run_seconds:.0f} s.",
        "",
    ]
    return "\n".join(lines)

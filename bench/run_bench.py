"""`make bench`: Candor's lead-scoring API against `mlflow models serve` on the same model.

Trains the lead model on the committed sample into a throwaway CANDOR_HOME, serves the champion
both ways on loopback, measures latency and throughput over HTTP (plus in-process context
figures), checks that both servers return the same scores, and writes a Markdown table to
bench/results/leads_scoring.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from itertools import cycle, islice
from pathlib import Path

from bench_http import (
    Endpoint,
    ScoreParity,
    batch_throughput,
    candor_scores,
    concurrent_throughput,
    mlflow_scores,
    score_parity,
    sequential_latency,
)
from bench_inprocess import ModelShape, measure_in_process
from bench_leads import Lead, batches, candor_body, load_leads, mlflow_body
from bench_report import AuditFootprint, Conditions, ServerFigures, render
from bench_servers import Server, candor_server, free_port, mlflow_server, server_env

from candor.data_samples import HCP_LEADS_CSV
from candor.models.settings import Settings
from candor.registry import LEADS, load_model
from candor.serving.audit.factory import open_store
from candor.serving.services.leads import LeadScoringService

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = HCP_LEADS_CSV
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "leads_scoring.md"
SCORE_TOLERANCE = 1e-9


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="leads CSV to train on")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report path")
    parser.add_argument("--requests", type=int, default=1000, help="timed one-lead requests")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests first")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of concurrency")
    parser.add_argument("--batch-size", type=int, default=1000, help="leads per batch request")
    parser.add_argument("--batches", type=int, default=10, help="timed batch requests")
    parser.add_argument("--rows", type=int, default=5000, help="rows for in-process SHAP")
    parser.add_argument("--top-k", type=int, default=5, help="reasons per lead")
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def isolate_environment() -> None:
    """Ignore the caller's CANDOR_* and MLFLOW_* settings: the run must not touch their store."""
    for key in [k for k in os.environ if k.startswith(("CANDOR_", "MLFLOW_"))]:
        del os.environ[key]


def train(data: Path, settings: Settings) -> None:
    from candor.training.pipeline import train_leads  # serving code never imports training

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*input example was not provided.*")
        summary = train_leads(data=data, settings=settings)
    if not summary.gate.promoted:
        raise RuntimeError(f"the trained model did not become champion: {summary.gate.reason}")
    auc = summary.metrics["roc_auc"]
    say(f"trained {summary.model_name} v{summary.version} ({summary.shape}), holdout AUC {auc:.4f}")


def take(leads: Sequence[Lead], n: int) -> list[Lead]:
    """``n`` leads, cycling when there are fewer."""
    return list(islice(cycle(leads), n))


def scoreable(service: LeadScoringService, leads: Sequence[Lead]) -> list[Lead]:
    """The leads Candor actually scores (not suppressed), so both servers do the full work."""
    results = service.score(leads, top_k=1)
    return [lead for lead, r in zip(leads, results, strict=True) if r.suppressed is None]


def start_servers(stack: ExitStack, settings: Settings, log_dir: Path) -> tuple[Server, Server]:
    """Start both servers on free loopback ports, stop them when ``stack`` closes."""
    env = server_env(os.environ, home=settings.home, tracking_uri=settings.tracking_uri)
    model_uri = f"models:/{settings.lead_model_name}@{settings.model_alias}"
    servers = (
        candor_server(port=free_port(), log_dir=log_dir),
        mlflow_server(port=free_port(), log_dir=log_dir, model_uri=model_uri),
    )
    for server in servers:
        stack.callback(server.stop)
        server.start(env)
    for server in servers:
        waited = server.wait_ready()
        say(f"{server.name} ready on {server.base_url} after {waited:.1f} s")
    return servers


def check_parity(
    candor: Endpoint, mlflow: Endpoint, leads: Sequence[Lead], size: int
) -> ScoreParity:
    parity = score_parity(
        candor_scores(candor, leads, size=size),
        mlflow_scores(mlflow, leads, size=size),
        tolerance=SCORE_TOLERANCE,
    )
    verdict = "MATCH" if parity.matches else "DO NOT MATCH"
    say(
        f"scores {verdict} on {parity.compared} leads: {parity.score_mismatches} scores "
        f"(max |diff| {parity.score_max_diff:.2e}) and {parity.interval_mismatches} intervals "
        f"(max {parity.interval_max_diff:.2e}) beyond {parity.tolerance:.0e}"
    )
    return parity


def measure_server(
    endpoint: Endpoint,
    *,
    singles: Sequence[bytes],
    batch_bodies: Sequence[bytes],
    all_reason_bodies: Sequence[bytes] | None,
    args: argparse.Namespace,
) -> ServerFigures:
    say(f"{endpoint.name}: {len(singles)} sequential one-lead requests")
    latency = sequential_latency(endpoint, singles, warmup=args.warmup)
    say(f"{endpoint.name}: {args.clients} clients for {args.duration:g} s")
    concurrent = concurrent_throughput(
        endpoint, singles, clients=args.clients, duration_s=args.duration
    )
    say(f"{endpoint.name}: {len(batch_bodies)} batches of {args.batch_size}")
    batch = batch_throughput(endpoint, batch_bodies, leads=args.batch_size)
    batch_all = None
    if all_reason_bodies is not None:
        say(f"{endpoint.name}: {len(all_reason_bodies)} batches, every reason")
        batch_all = batch_throughput(endpoint, all_reason_bodies, leads=args.batch_size)
    return ServerFigures(latency, concurrent, batch, batch_all)


def measure_http(
    candor: Endpoint, mlflow: Endpoint, pool: Sequence[Lead], args: argparse.Namespace
) -> tuple[ServerFigures, ServerFigures]:
    singles = take(pool, args.requests)
    groups = batches(pool, size=args.batch_size, count=args.batches)
    candor_figures = measure_server(
        candor,
        singles=[candor_body([lead], top_k=args.top_k) for lead in singles],
        batch_bodies=[candor_body(g, top_k=args.top_k) for g in groups],
        all_reason_bodies=[candor_body(g, explain="all") for g in groups],
        args=args,
    )
    mlflow_figures = measure_server(
        mlflow,
        singles=[mlflow_body([lead]) for lead in singles],
        batch_bodies=[mlflow_body(g) for g in groups],
        all_reason_bodies=None,
        args=args,
    )
    return candor_figures, mlflow_figures


def run(args: argparse.Namespace) -> str:
    started = time.perf_counter()
    load_at_start = os.getloadavg()
    leads = load_leads(args.data)
    with tempfile.TemporaryDirectory(prefix="candor-bench-") as tmp, ExitStack() as stack:
        settings = Settings(home=Path(tmp) / "home", mlflow_tracking_uri=None)
        say(f"training on {args.data} ({len(leads)} rows) into {settings.home}")
        train(args.data, settings)
        service = LeadScoringService(load_model(settings, kind=LEADS), settings.policy)
        pool = scoreable(service, leads)
        say(f"in-process figures ({len(pool)} of {len(leads)} leads are scored)")
        in_process = measure_in_process(
            service,
            batch=take(leads, args.rows),
            singles=take(pool, args.requests),
            warmup=args.warmup,
            top_k=args.top_k,
        )
        candor_server_, mlflow_server_ = start_servers(stack, settings, Path(tmp))
        scorer_key = open_store(settings).create_key(name="bench-scorer", role="scorer")
        candor = Endpoint(
            "candor",
            candor_server_.base_url,
            "/v1/leads/score",
            (("Authorization", f"Bearer {scorer_key}"),),
        )
        mlflow = Endpoint("mlflow", mlflow_server_.base_url, "/invocations")
        parity = check_parity(candor, mlflow, leads, args.batch_size)
        candor_figures, mlflow_figures = measure_http(candor, mlflow, pool, args)
        audit = audit_footprint(settings.home / "audit.db")
        say(f"audit: {audit.bytes_per_record:.0f} bytes per record ({audit.records} records)")
    conditions = Conditions(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        data=_display_path(args.data),
        data_rows=len(leads),
        warmup=args.warmup,
        top_k=args.top_k,
        run_seconds=time.perf_counter() - started,
        load_at_start=load_at_start,
        load_at_end=os.getloadavg(),
    )
    return render(
        conditions=conditions,
        model=ModelShape.of(service),
        parity=parity,
        candor=candor_figures,
        mlflow=mlflow_figures,
        in_process=in_process,
        audit=audit,
    )


def audit_footprint(db: Path) -> AuditFootprint:
    """Bytes of the audit database (after folding the WAL in) and the records in it."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
        records = con.execute(
            "SELECT COUNT(*) FROM audit_events WHERE kind IN ('score', 'suppression')"
        ).fetchone()[0]
    return AuditFootprint(bytes=(pages - free) * size, records=int(records))


def _display_path(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    isolate_environment()
    publish(run(args), args.out)
    return 0


def publish(report: str, out: Path) -> None:
    """Write a report where it belongs, and show it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    say(f"wrote {_display_path(out)}")


if __name__ == "__main__":
    sys.exit(main())

"""The HTTP edge's costs, measured in one run (issue 14):

1. Scoring latency (p50/p99 of one-lead requests, sequential) alone, and while 8 anonymous
   clients ask for the public model card in a loop: with the card cached (the default) and with
   the cache off (``CANDOR_MODEL_CARD_CACHE_SECONDS=0``: every request builds the card, as before
   the cache). The rate limit is raised for these runs so that the card is really served.
2. Strict request reading (``serving/request_body.py``) beside plain ``json.loads`` on the same
   1,000-lead body: the cost the middleware adds to each request.

Writes ``bench/results/http_edge.md``. Usage: ``python bench/run_edge_bench.py``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_http import Endpoint, Latency, sequential_latency  # noqa: E402
from bench_servers import candor_server, free_port, server_env  # noqa: E402

from candor.models.settings import Settings  # noqa: E402
from candor.serving.audit.factory import open_store  # noqa: E402
from candor.serving.request_body import parse_json_body  # noqa: E402

REPO = BENCH.parent
DATA = REPO / "data_samples" / "hcp_leads.csv"
DEMO = REPO / "data_samples" / "demo_request.json"
OUT = BENCH / "results" / "http_edge.md"
REQUESTS, WARMUP, CARD_CLIENTS = 300, 30, 8
CARD_REQUESTS = 15  # under the default burst of 20
LOAD_SECONDS = 25.0  # longer than the timed requests take under load


def say(message: str) -> None:
    print(f"[edge bench] {message}", flush=True)


def train(settings: Settings) -> None:
    from candor.training.pipeline import train_leads

    summary = train_leads(data=DATA, settings=settings)
    if not summary.gate.promoted:
        raise RuntimeError(f"not promoted: {summary.gate.reason}")


def hammer(base_url: str, path: str, seconds: float, served: Any) -> None:
    """``CARD_CLIENTS`` threads asking for the card in a loop for ``seconds``; a process of its
    own, so that its threads do not hold the measuring client's GIL."""
    stop = threading.Event()
    lock = threading.Lock()

    def one() -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while not stop.is_set():
                if client.get(path).status_code == 200:
                    with lock:
                        served.value += 1

    threads = [threading.Thread(target=one) for _ in range(CARD_CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()


def latency_with_card_load(
    endpoint: Endpoint, bodies: list[bytes], path: str
) -> tuple[Latency, int]:
    served = multiprocessing.Value("q", 0)
    clients = multiprocessing.Process(
        target=hammer, args=(endpoint.base_url, path, LOAD_SECONDS, served)
    )
    clients.start()
    time.sleep(1.0)  # the card clients are running before the first timed request
    try:
        latency = sequential_latency(endpoint, bodies, warmup=WARMUP)
    finally:
        clients.join()
    return latency, int(served.value)


def measure_server(
    home: Path, tmp: Path, *, cache_seconds: float, limited: bool
) -> dict[str, Latency | int]:
    env = server_env(os.environ, home=home, tracking_uri=f"sqlite:///{home}/mlflow.db")
    env["CANDOR_MODEL_CARD_CACHE_SECONDS"] = str(cache_seconds)
    if not limited:  # every card request served
        env.update(CANDOR_MODEL_CARD_RATE_PER_MINUTE="1000000", CANDOR_MODEL_CARD_BURST="1000000")
    with ExitStack() as stack:
        server = candor_server(port=free_port(), log_dir=tmp)
        stack.callback(server.stop)
        server.start(env)
        server.wait_ready()
        store = open_store(Settings(home=home, mlflow_tracking_uri=None))
        key = store.create_key(name=f"edge-{cache_seconds}-{limited}", role="scorer")
        store.close()
        endpoint = Endpoint(
            "candor", server.base_url, "/v1/leads/score", (("Authorization", f"Bearer {key}"),)
        )
        lead = json.loads(DEMO.read_text())["leads"][0]
        bodies = [
            json.dumps({"leads": [dict(lead, lead_id=f"E{i}")]}).encode() for i in range(REQUESTS)
        ]
        path = f"/v1/models/{Settings(home=home).lead_model_name}/card"
        card_ms = card_latency(server.base_url, path)
        alone = sequential_latency(endpoint, bodies, warmup=WARMUP)
        loaded, cards = latency_with_card_load(endpoint, bodies, path)
    return {"alone": alone, "loaded": loaded, "cards": cards, "card_ms": card_ms}


def card_latency(base_url: str, path: str) -> float:
    """Median time of one card request, sequential, after a first (the cache's miss); fewer
    than the rate limit's burst, so that all are served."""
    times = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        client.get(path)
        for _ in range(CARD_REQUESTS):
            started = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return 1000.0 * statistics.median(times)


def parse_costs() -> tuple[float, float, int]:
    lead = json.loads(DEMO.read_text())["leads"][0]
    body = json.dumps({"leads": [dict(lead, lead_id=f"L{i}") for i in range(1000)]}).encode()
    runs: dict[str, list[float]] = {"loads": [], "strict": []}
    for _ in range(50):
        for name, parse in (("loads", json.loads), ("strict", parse_json_body)):
            started = time.perf_counter()
            parse(body)
            runs[name].append(time.perf_counter() - started)
    return statistics.median(runs["loads"]), statistics.median(runs["strict"]), len(body)


CONFIGURATIONS = (
    ("cache off, no rate limit (every request builds the card: before this change)", 0, False),
    ("cache on, no rate limit", 300, False),
    ("cache on, default rate limit (20 at once, 60 a minute per client)", 300, True),
)


def render(runs: dict[str, dict], parse: tuple[float, float, int], load: tuple) -> str:
    def row(name: str, figures: dict) -> str:
        alone, loaded = figures["alone"], figures["loaded"]
        return (
            f"| {name} | {figures['card_ms']:.1f} | {alone.p50_ms:.1f} | {loaded.p50_ms:.1f} "
            f"| {loaded.p50_ms / alone.p50_ms:.2f}x "
            f"| {alone.p99_ms:.1f} | {loaded.p99_ms:.1f} | {figures['cards']:,} |"
        )

    loads_s, strict_s, size = parse
    return "\n".join(
        [
            "# The HTTP edge: model-card load and strict request reading",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M UTC} by `python bench/run_edge_bench.py`, "
            f"2-core machine, load average {load[0]:.2f} at start, {load[1]:.2f} at end. "
            f"Medians of one run; ratios matter more than milliseconds on this noisy machine.",
            "",
            f"## Scoring latency while {CARD_CLIENTS} anonymous clients fetch the model card",
            "",
            f"{REQUESTS} sequential one-lead `POST /v1/leads/score` requests (top-5 reasons, "
            f"audited), after {WARMUP} warm-up, alone and then with {CARD_CLIENTS} clients asking "
            "for the card in a loop.",
            "",
            "| server | one card (ms, p50) | p50 alone (ms) | p50 with card load (ms) "
            "| slowdown | p99 alone | p99 loaded | cards served |",
            "|---|---|---|---|---|---|---|---|",
            *[row(name, figures) for name, figures in runs.items()],
            "",
            "The card clients run in a process of their own (8 threads, a tight loop), on the "
            "same 2 cores as the server and the measuring client: the slowdown that remains is "
            "the machine's CPU shared by a flood, not the card's cost (one card: the second "
            "column). Cards served counts 200 answers; with the rate limit the rest are 429, "
            "which cost the server little but are not free: a flood is for a proxy in front to "
            "refuse.",
            "",
            "## Strict request reading beside json.loads",
            "",
            f"One 1,000-lead body ({size:,} bytes), median of 50 parses each, in-process.",
            "",
            "| parser | median (ms) |",
            "|---|---|",
            f"| json.loads | {loads_s * 1000:.2f} |",
            f"| parse_json_body (duplicate keys, big integers, surrogates located) | "
            f"{strict_s * 1000:.2f} ({strict_s / loads_s:.1f}x) |",
            "",
            "FastAPI parses the body again after the check (Starlette keeps no parsed body "
            "between middleware and route), so a request pays both.",
            "",
        ]
    )


def main() -> int:
    for key in [k for k in os.environ if k.startswith(("CANDOR_", "MLFLOW_"))]:
        del os.environ[key]
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="candor-edge-") as tmp:
        home = Path(tmp) / "home"
        settings = Settings(home=home, mlflow_tracking_uri=None)
        say(f"training on {DATA}")
        train(settings)
        runs = {}
        for name, cache_seconds, limited in CONFIGURATIONS:
            say(f"server: {name}")
            runs[name] = measure_server(
                home, Path(tmp), cache_seconds=cache_seconds, limited=limited
            )
    parse = parse_costs()
    report = render(runs, parse, (load_start, os.getloadavg()[0]))
    OUT.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

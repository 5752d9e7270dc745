"""HTTP measurements: sequential latency, concurrent throughput, batch throughput, score parity.

Request bodies are serialised before any clock starts, so the client's JSON encoding is not
timed; each measured request reads the full response body. Every client is a persistent
``httpx.Client`` (keep-alive), one per thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import cycle, islice
from typing import Any

import httpx
import numpy as np
from bench_leads import Lead, candor_body, mlflow_body

JSON_HEADERS = {"Content-Type": "application/json"}
REQUEST_TIMEOUT_S = 120.0

# (score, lower, upper) as probabilities, or None for a lead the server did not score
Scored = tuple[float, float, float] | None


@dataclass(frozen=True)
class Endpoint:
    name: str
    base_url: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()  # e.g. the API key


@dataclass(frozen=True)
class Latency:
    requests: int
    p50_ms: float
    p99_ms: float
    mean_ms: float


@dataclass(frozen=True)
class Throughput:
    clients: int
    requests: int
    errors: int
    seconds: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class BatchThroughput:
    batches: int
    leads_per_batch: int
    seconds: float

    @property
    def leads_per_s(self) -> float:
        return self.batches * self.leads_per_batch / self.seconds

    @property
    def mean_batch_ms(self) -> float:
        return 1000.0 * self.seconds / self.batches


@dataclass(frozen=True)
class ScoreParity:
    """Candor against MLflow on the leads both scored; differences are in probability units."""

    compared: int
    suppressed: int
    score_mismatches: int
    score_max_diff: float
    interval_mismatches: int
    interval_max_diff: float
    tolerance: float

    @property
    def matches(self) -> bool:
        return self.compared > 0 and self.score_mismatches == self.interval_mismatches == 0


class RequestFailed(RuntimeError):
    """A server answered a benchmark request with an error status."""


def _client(endpoint: Endpoint) -> httpx.Client:
    return httpx.Client(
        base_url=endpoint.base_url, timeout=REQUEST_TIMEOUT_S, headers=dict(endpoint.headers)
    )


def _post(client: httpx.Client, endpoint: Endpoint, body: bytes) -> httpx.Response:
    response = client.post(endpoint.path, content=body, headers=JSON_HEADERS)
    if response.status_code != 200:
        raise RequestFailed(
            f"{endpoint.name}: POST {endpoint.path} -> {response.status_code}: "
            f"{response.text[:500]}"
        )
    return response


def sequential_latency(endpoint: Endpoint, bodies: Sequence[bytes], *, warmup: int) -> Latency:
    """One client, one request at a time: ``warmup`` untimed requests, then one per body."""
    times_ms = np.empty(len(bodies))
    with _client(endpoint) as client:
        for body in islice(cycle(bodies), warmup):
            _post(client, endpoint, body)
        for i, body in enumerate(bodies):
            started = time.perf_counter()
            _post(client, endpoint, body)
            times_ms[i] = 1000.0 * (time.perf_counter() - started)
    return Latency(
        requests=len(bodies),
        p50_ms=float(np.percentile(times_ms, 50)),
        p99_ms=float(np.percentile(times_ms, 99)),
        mean_ms=float(times_ms.mean()),
    )


def concurrent_throughput(
    endpoint: Endpoint, bodies: Sequence[bytes], *, clients: int, duration_s: float
) -> Throughput:
    """``clients`` threads, each with its own connection, sending requests for ``duration_s``.

    The clock starts when every thread has connected (one untimed request each); a thread sends
    no new request after the deadline, and the clock stops when the last one is answered.
    """
    start: list[float] = []
    barrier = threading.Barrier(
        clients, action=lambda: start.append(time.perf_counter()), timeout=REQUEST_TIMEOUT_S
    )

    def worker(offset: int) -> tuple[int, int, float]:
        ok = errors = 0
        with _client(endpoint) as client:
            try:
                _post(client, endpoint, bodies[offset % len(bodies)])
            except BaseException:
                barrier.abort()  # release the other threads instead of leaving them waiting
                raise
            barrier.wait()
            deadline = start[0] + duration_s
            for body in islice(cycle(bodies), offset, None):
                if time.perf_counter() >= deadline:
                    break
                response = client.post(endpoint.path, content=body, headers=JSON_HEADERS)
                if response.status_code == 200:
                    ok += 1
                else:
                    errors += 1
        return ok, errors, time.perf_counter()

    spacing = max(len(bodies) // clients, 1)
    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(worker, [i * spacing for i in range(clients)]))
    ended = max(end for _, _, end in outcomes)
    return Throughput(
        clients=clients,
        requests=sum(ok for ok, _, _ in outcomes),
        errors=sum(err for _, err, _ in outcomes),
        seconds=ended - start[0],
    )


def batch_throughput(endpoint: Endpoint, bodies: Sequence[bytes], *, leads: int) -> BatchThroughput:
    """One client sends each batch body in turn, after one untimed warm-up batch."""
    with _client(endpoint) as client:
        _post(client, endpoint, bodies[0])
        started = time.perf_counter()
        for body in bodies:
            _post(client, endpoint, body)
        seconds = time.perf_counter() - started
    return BatchThroughput(batches=len(bodies), leads_per_batch=leads, seconds=seconds)


def _in_chunks(
    endpoint: Endpoint,
    leads: Sequence[Lead],
    *,
    size: int,
    encode: Callable[[Sequence[Lead]], bytes],
    key: str,
) -> list[Any]:
    items: list[Any] = []
    with _client(endpoint) as client:
        for start in range(0, len(leads), size):
            body = encode(leads[start : start + size])
            items.extend(_post(client, endpoint, body).json()[key])
    return items


def candor_scores(endpoint: Endpoint, leads: Sequence[Lead], *, size: int) -> list[Scored]:
    """Candor's calibrated score and interval per lead; None where it suppressed the lead."""
    results = _in_chunks(endpoint, leads, size=size, encode=candor_body, key="results")
    return [_candor_scored(r) for r in results]


def _candor_scored(result: dict[str, Any]) -> Scored:
    if result["suppressed"] is not None:
        return None
    lower, upper = result["confidence"]["interval"]
    return float(result["score"]), float(lower), float(upper)


def mlflow_scores(endpoint: Endpoint, leads: Sequence[Lead], *, size: int) -> list[Scored]:
    """The pyfunc's calibrated score and interval per lead; None where it suppressed the lead
    (the registered model runs the same core: opted-out leads get no score there either)."""
    rows = _in_chunks(endpoint, leads, size=size, encode=mlflow_body, key="predictions")
    return [
        None
        if p.get("suppressed") or p["score"] is None or p["score"] != p["score"]
        else (float(p["score"]), float(p["interval_low"]), float(p["interval_high"]))
        for p in rows
    ]


def score_parity(
    candor: Sequence[Scored], mlflow: Sequence[Scored], *, tolerance: float
) -> ScoreParity:
    """Compare score and interval bounds lead by lead, over the leads both servers scored."""
    if len(candor) != len(mlflow):
        raise ValueError(f"{len(candor)} Candor results against {len(mlflow)} MLflow results")
    pairs = [(c, m) for c, m in zip(candor, mlflow, strict=True) if c is not None and m is not None]
    diff = np.abs(np.array([c for c, _ in pairs]) - np.array([m for _, m in pairs]))
    diff = diff.reshape(len(pairs), 3)  # columns: score, lower, upper
    score, interval = diff[:, 0], diff[:, 1:].max(axis=1)
    return ScoreParity(
        compared=len(pairs),
        suppressed=sum(c is None for c in candor),
        score_mismatches=int((score > tolerance).sum()),
        score_max_diff=float(score.max(initial=0.0)),
        interval_mismatches=int((interval > tolerance).sum()),
        interval_max_diff=float(interval.max(initial=0.0)),
        tolerance=tolerance,
    )

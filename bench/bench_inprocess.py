"""In-process figures (no HTTP), for context: what the scoring path costs before any server."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import cycle, islice

import numpy as np
from bench_leads import Lead

from candor.models.leads.features import build_features, columns_from_records
from candor.serving.services.leads import LeadScoringService


@dataclass(frozen=True)
class ModelShape:
    name: str
    version: str
    shape: str
    trees: int
    inputs: int

    @classmethod
    def of(cls, service: LeadScoringService) -> ModelShape:
        meta = service.scorer.meta_
        return cls(
            name=service.loaded.name,
            version=service.loaded.version,
            shape=str(meta.get("shape", "?")),
            trees=int(meta.get("trees", service.scorer.booster_.num_trees())),
            inputs=len(service.schema.specs),
        )


@dataclass(frozen=True)
class InProcess:
    contrib_rows: int
    contrib_rows_per_s: float
    one_row_contrib_p50_ms: float
    one_row_service_p50_ms: float
    one_row_requests: int


def _p50_ms(run: Callable[[Lead], object], leads: Sequence[Lead], *, warmup: int) -> float:
    for lead in islice(cycle(leads), warmup):
        run(lead)
    times_ms = np.empty(len(leads))
    for i, lead in enumerate(leads):
        started = time.perf_counter()
        run(lead)
        times_ms[i] = 1000.0 * (time.perf_counter() - started)
    return float(np.percentile(times_ms, 50))


def contributions_rows_per_s(
    service: LeadScoringService, leads: Sequence[Lead], *, repeats: int = 3
) -> float:
    """Contributions (the scorer's TreeSHAP) of one matrix of ``len(leads)`` rows; median."""
    columns = columns_from_records(leads)
    values = build_features(columns, schema=service.schema, n_rows=len(leads)).values
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        service.scorer.contributions(values)
        rates.append(len(leads) / (time.perf_counter() - started))
    return float(np.median(rates))


def measure_in_process(
    service: LeadScoringService,
    *,
    batch: Sequence[Lead],
    singles: Sequence[Lead],
    warmup: int,
    top_k: int,
) -> InProcess:
    """Batch contributions rate, and one-lead p50 of features + SHAP and of the full service."""

    def features_and_contributions(lead: Lead) -> object:
        matrix = build_features(columns_from_records([lead]), schema=service.schema, n_rows=1)
        return service.scorer.contributions(matrix.values)

    def service_score(lead: Lead) -> object:
        return service.score([lead], top_k=top_k)

    return InProcess(
        contrib_rows=len(batch),
        contrib_rows_per_s=contributions_rows_per_s(service, batch),
        one_row_contrib_p50_ms=_p50_ms(features_and_contributions, singles, warmup=warmup),
        one_row_service_p50_ms=_p50_ms(service_score, singles, warmup=warmup),
        one_row_requests=len(singles),
    )

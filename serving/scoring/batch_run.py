"""A batch run: a whole file of leads scored, audited and written, resumable chunk by chunk.

The run reads its input in chunks of ``chunk_rows`` rows. Each chunk is scored (by the local
engine in threads, or read back from the Spark engine's results), then, in input order, its
events are committed to the audit log together with one ``batch_chunk`` event, and only then
is its part of the output written. The chunk event and the check that it is not already there
are one transaction (:meth:`AuditStore.append_chunk`), and score ids are derived from the run's
secret nonce and the row number, so a killed run resumed with ``--resume`` neither scores nor
audits a finished chunk twice; a chunk audited but not yet written is scored again, to the
same ids and results, and written without a second audit. At the end the parts become the
output file (and the rejects file), and one ``batch_run`` event records the run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from candor.models.errors import OptionError
from candor.models.leads.input_limits import DEFAULT_LIMITS, InputLimits
from candor.models.leads.scorer import LeadScorer
from candor.models.model_ref import ModelRef
from candor.models.policy import ScoringPolicy
from candor.registry import LoadedModel
from candor.serving.audit import events as ev
from candor.serving.audit.events import NewEvent, body_text
from candor.serving.audit.log import utc_now
from candor.serving.audit.records import lead_model_event, model_subject
from candor.serving.audit.secrets import lead_key
from candor.serving.audit.store import AuditStore
from candor.serving.scoring.chunks import row_score_ids, score_chunk
from candor.serving.scoring.core import LeadBatchScorer
from candor.serving.scoring.files import (
    column_names,
    count_rows,
    file_format,
    fingerprint,
    input_files,
    read_chunks,
    write_csv,
    write_parquet,
)
from candor.serving.scoring.rows import FileColumns
from candor.serving.scoring.table import EVENT_BODY, EVENT_KIND, RESULT_SCHEMA
from candor.serving.services.leads import LeadScoringService

EXPLAIN_CHOICES = ("none", "top", "all")
ENGINES = ("local", "spark")
MANIFEST = "manifest.json"
LEAD_KEY = "_lead_key"  # the keyed pseudonym of the lead id, added by the local workers
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class BatchOptions:
    """What ``candor score batch`` was asked to do."""

    input: Path
    output: Path
    explain: str = "top"
    top_k: int = 5
    workers: int = 1
    engine: str = "local"
    spark_master: str | None = None
    resume: bool = False
    chunk_rows: int = 50_000
    rejects: Path | None = None  # default: beside the output, <name>.rejects.csv
    requested_by: str = "batch"

    def __post_init__(self) -> None:
        if self.explain not in EXPLAIN_CHOICES:
            raise OptionError(f"--explain must be one of {', '.join(EXPLAIN_CHOICES)}")
        if self.engine not in ENGINES:
            raise OptionError(f"--engine must be one of {', '.join(ENGINES)}")
        if self.top_k < 1:
            raise OptionError(f"--top-k must be at least 1, got {self.top_k}")
        if self.workers < 1:
            raise OptionError(f"--workers must be at least 1, got {self.workers}")
        if self.chunk_rows < 1:
            raise OptionError(f"--chunk-rows must be at least 1, got {self.chunk_rows}")
        file_format(self.output)
        if self.spark_master is not None and self.engine != "spark":
            raise OptionError("--spark-master needs --engine spark")

    @property
    def top(self) -> int | None:
        return None if self.explain == "all" else self.top_k

    @property
    def rejects_path(self) -> Path:
        if self.rejects is not None:
            return self.rejects
        return self.output.with_name(self.output.name.split(".")[0] + ".rejects.csv")

    @property
    def parts(self) -> Path:
        """The run's working folder, beside the output, removed when the run ends."""
        return self.output.with_name(self.output.name + ".parts")


@dataclass
class BatchSummary:
    """What a run read, with which model, and what it wrote."""

    run_id: str
    input: str
    input_sha256: str
    model: dict[str, str]
    engine: str
    explain: str
    top_k: int | None
    started_at: str
    ended_at: str = ""
    seconds: float = 0.0
    rows: int = 0
    scored: int = 0
    suppressed: int = 0
    rejected: int = 0
    review_required: int = 0
    chunks: int = 0
    resumed_chunks: int = 0
    output: str = ""
    rejects: str | None = None
    ignored_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        resumed = f", {self.resumed_chunks} chunk(s) resumed" if self.resumed_chunks else ""
        rejects = f" (see {self.rejects})" if self.rejected else ""
        return (
            f"batch {self.run_id}: {self.rows:,} rows in {self.seconds:.1f} s ({rate:,.0f}/s): "
            f"{self.scored:,} scored ({self.review_required:,} for review), "
            f"{self.suppressed:,} suppressed (opted out), {self.rejected:,} rejected{rejects}"
            f"{resumed}; model {self.model['name']} v{self.model['version']}; "
            f"wrote {self.output}"
        )


@dataclass(frozen=True)
class _Manifest:
    run_id: str
    nonce: str
    input_sha256: str
    model: dict[str, str]
    explain: str
    top_k: int | None
    chunk_rows: int
    engine: str
    started_at: str

    def matches(self, other: _Manifest) -> list[str]:
        """What differs from ``other`` among what a resumed run must keep."""
        mine, theirs = asdict(self), asdict(other)
        fixed = ("input_sha256", "model", "explain", "top_k", "chunk_rows", "engine")
        return [k for k in fixed if mine[k] != theirs[k]]


@dataclass(frozen=True)
class _Chunk:
    index: int
    first_row: int
    table: pa.Table | None  # scored, with event columns; None when already finished


def run_batch(
    options: BatchOptions,
    *,
    loaded: LoadedModel[LeadScorer],
    policy: ScoringPolicy,
    store: AuditStore,
    progress: Progress | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
) -> BatchSummary:
    """Score ``options.input`` into ``options.output``, auditing every row; the summary."""
    files = input_files(options.input)
    service = LeadScoringService(loaded, policy, limits, store.unseen_label)
    columns = FileColumns.of(column_names(files), service.contract)  # unknown columns: refuse
    manifest = _start(options, files, loaded)
    summary = BatchSummary(
        run_id=manifest.run_id,
        input=str(options.input),
        input_sha256=manifest.input_sha256,
        model=loaded.ref.to_dict(),
        engine=options.engine,
        explain=options.explain,
        top_k=options.top if options.explain != "none" else None,
        started_at=manifest.started_at,
        ignored_columns=list(columns.ignored),
    )
    clock = time.perf_counter()
    total = count_rows(files)
    done = store.batch_chunks(manifest.run_id)
    model_event = lead_model_event(service)
    for chunk in _scored_chunks(options, files, service, manifest, done, store.pseudonym_key):
        subject = f"{manifest.run_id}:{chunk.index:06d}"
        part = options.parts / f"chunk-{chunk.index:06d}.parquet"
        if chunk.table is None:  # finished before the run was stopped
            counts = done[subject]
            summary.resumed_chunks += 1
        else:
            counts = _counts(chunk)
            events = _events(chunk.table, store, options.requested_by)
            chunk_event = NewEvent(ev.BATCH_CHUNK, options.requested_by, subject, body_text(counts))
            if subject not in done:
                store.append_chunk(events, chunk=chunk_event, model=model_event)
            private = [
                c for c in (EVENT_KIND, EVENT_BODY, LEAD_KEY) if c in chunk.table.column_names
            ]
            _write_part(chunk.table.drop_columns(private), part)
        for name in ("rows", "scored", "suppressed", "rejected", "review_required"):
            setattr(summary, name, getattr(summary, name) + int(counts[name]))
        summary.chunks += 1
        if progress is not None:
            progress(summary.rows, total)
    _assemble(options, summary)
    summary.ended_at = utc_now()
    summary.seconds = round(time.perf_counter() - clock, 3)
    store.record_batch_run(
        {
            **{k: v for k, v in summary.to_dict().items() if k not in ("input", "output")},
            "input_files": [p.name for p in files],
            "model": model_subject(loaded.ref),
            "model_run_id": loaded.ref.run_id,
        },
        run_id=manifest.run_id,
        by=options.requested_by,
    )
    shutil.rmtree(options.parts)
    return summary


def _start(options: BatchOptions, files: list[Path], loaded: LoadedModel[LeadScorer]) -> _Manifest:
    """The run's manifest: a new one, or the interrupted run's when resuming."""
    fresh = _Manifest(
        run_id=uuid.uuid4().hex,
        nonce=secrets.token_hex(16),
        input_sha256=fingerprint(files),
        model=loaded.ref.to_dict(),
        explain=options.explain,
        top_k=options.top if options.explain != "none" else None,
        chunk_rows=options.chunk_rows,
        engine=options.engine,
        started_at=utc_now(),
    )
    path = options.parts / MANIFEST
    if path.exists():
        if not options.resume:
            raise OptionError(
                f"{options.parts} holds an interrupted run into {options.output}: "
                "rerun with --resume to finish it, or remove that folder to start again"
            )
        old = _Manifest(**json.loads(path.read_text()))
        changed = old.matches(fresh)
        if changed:
            raise OptionError(
                f"cannot resume batch {old.run_id}: {', '.join(changed)} changed since it "
                f"started; remove {options.parts} to start again"
            )
        return old
    options.parts.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(fresh)))
    os.chmod(tmp, 0o600)  # the nonce makes the score ids unpredictable: keep it private
    tmp.replace(path)
    return fresh


def _scored_chunks(
    options: BatchOptions,
    files: list[Path],
    service: LeadScoringService,
    manifest: _Manifest,
    done: dict[str, dict[str, Any]],
    store_key: bytes,
) -> Iterator[_Chunk]:
    """Every chunk in input order, scored ahead by ``options.workers`` threads (or Spark)."""

    def finished(index: int) -> bool:
        subject = f"{manifest.run_id}:{index:06d}"
        return subject in done and (options.parts / f"chunk-{index:06d}.parquet").exists()

    if options.engine == "spark":
        yield from _spark_chunks(options, files, service, manifest, finished)
        return

    task = _ChunkTask(
        nonce=manifest.nonce,
        top_k=options.top,
        explain=options.explain != "none",
        model=service.model_ref,
        pseudonym_key=store_key,
    )
    # threads: LightGBM, the TreeSHAP kernel and Arrow release the interpreter lock, so chunks
    # score beside the audit writer (spawned processes were tried: on 2 cores their OpenMP
    # runtimes and the tables sent back and forth made them 2-4x slower than one thread)
    pool = ThreadPoolExecutor(max_workers=options.workers)
    score = partial(task.run, service.core)
    window: deque[tuple[int, int, Future[pa.Table] | None]] = deque()
    first_row = 0
    with pool:
        for index, table in enumerate(read_chunks(files, options.chunk_rows)):
            job = None if finished(index) else pool.submit(score, table, first_row)
            window.append((index, first_row, job))
            first_row += table.num_rows
            while len(window) > options.workers:
                i, start, ready = window.popleft()
                yield _Chunk(i, start, ready.result() if ready is not None else None)
        while window:
            i, start, ready = window.popleft()
            yield _Chunk(i, start, ready.result() if ready is not None else None)


@dataclass(frozen=True)
class _ChunkTask:
    """What scoring one chunk needs besides the core (sent to worker processes)."""

    nonce: str
    top_k: int | None
    explain: bool
    model: ModelRef
    pseudonym_key: bytes  # the scoring threads key the lead ids too, off the writer's thread

    def run(self, core: LeadBatchScorer, table: pa.Table, first_row: int) -> pa.Table:
        scored = score_chunk(
            core,
            table,
            score_ids=row_score_ids(self.nonce, range(first_row, first_row + table.num_rows)),
            top_k=self.top_k,
            explain=self.explain,
            model=self.model,
            audited=True,
            with_events=True,
        ).table
        keys = [
            None if kind is None else lead_key(self.pseudonym_key, lead_id)
            for kind, lead_id in zip(
                scored.column(EVENT_KIND).to_pylist(),
                scored.column("lead_id").to_pylist(),
                strict=True,
            )
        ]
        return scored.append_column(LEAD_KEY, pa.array(keys, pa.string()))


def _spark_chunks(
    options: BatchOptions,
    files: list[Path],
    service: LeadScoringService,
    manifest: _Manifest,
    finished: Callable[[int], bool],
) -> Iterator[_Chunk]:
    """The Spark engine scores the whole input once (kept for a resumed run), then its results
    are read back in chunks, in input order."""
    from candor.serving.scoring.spark import score_file_on_spark

    results = options.parts / "spark"
    if not (results / "_SUCCESS").exists():
        score_file_on_spark(
            options.input,
            results,
            loaded=service.loaded,
            policy=service.policy,
            limits=service.limits,
            unseen_label=service.core.unseen_label,
            top_k=options.top,
            explain=options.explain,
            master=options.spark_master or "local[*]",
            run_nonce=manifest.nonce,
        )
    parts = sorted(p for p in results.iterdir() if p.suffix == ".parquet")
    first_row = 0
    for index, table in enumerate(read_chunks(parts, options.chunk_rows)):
        yield _Chunk(index, first_row, None if finished(index) else table)
        first_row += table.num_rows


def _counts(chunk: _Chunk) -> dict[str, Any]:
    table = chunk.table
    assert table is not None
    scored = pc.sum(pc.is_valid(table.column("score"))).as_py() or 0
    suppressed = pc.sum(pc.is_valid(table.column("suppressed"))).as_py() or 0
    rejected = pc.sum(pc.is_valid(table.column("rejected"))).as_py() or 0
    review = pc.sum(pc.fill_null(table.column("review_required"), False)).as_py() or 0
    return {
        "chunk": chunk.index,
        "first_row": chunk.first_row,
        "rows": table.num_rows,
        "scored": scored,
        "suppressed": suppressed,
        "rejected": rejected,
        "review_required": review,
    }


def _events(table: pa.Table, store: AuditStore, requested_by: str) -> list[NewEvent]:
    """The chunk's audit events, in row order, with the keyed lead pseudonyms added here."""
    kinds = table.column(EVENT_KIND).to_pylist()
    bodies = table.column(EVENT_BODY).to_pylist()
    ids = table.column("score_id").to_pylist()
    if LEAD_KEY in table.column_names:
        keys = table.column(LEAD_KEY).to_pylist()
    else:
        keys = [store.lead_key(lead_id) for lead_id in table.column("lead_id").to_pylist()]
    return [
        NewEvent(kind, requested_by, score_id, body, key)
        for kind, body, key, score_id in zip(kinds, bodies, keys, ids, strict=True)
        if kind is not None
    ]


def _write_part(table: pa.Table, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def _parts(options: BatchOptions) -> list[Path]:
    return sorted(options.parts.glob("chunk-*.parquet"))


def _assemble(options: BatchOptions, summary: BatchSummary) -> None:
    """The parts become the output file; rejected rows also go to the rejects file."""
    options.output.parent.mkdir(parents=True, exist_ok=True)
    parts = _parts(options)
    tmp = options.output.with_name(options.output.name + ".tmp")
    tables = (pq.read_table(p) for p in parts)
    if file_format(options.output) == "csv":
        write_csv(tables, tmp, RESULT_SCHEMA)
    else:
        write_parquet(tables, tmp, RESULT_SCHEMA)
    tmp.replace(options.output)
    summary.output = str(options.output)
    if summary.rejected:
        _write_rejects(parts, options.rejects_path)
        summary.rejects = str(options.rejects_path)


def _write_rejects(parts: list[Path], path: Path) -> None:
    """row (1-based, the input's data rows), lead_id, field, message: one line per rejected row."""
    schema = pa.schema(
        [
            ("row", pa.int64()),
            ("lead_id", pa.string()),
            ("field", pa.string()),
            ("message", pa.string()),
        ]
    )
    first_row = 0
    with path.open("wb") as sink, pcsv.CSVWriter(sink, schema) as writer:
        for p in parts:
            table = pq.read_table(p, columns=["lead_id", "rejected"])
            rejected = table.column("rejected").to_pylist()
            at = [i for i, r in enumerate(rejected) if r is not None]
            if at:
                field_message = [rejected[i].split(": ", 1) for i in at]
                writer.write_table(
                    pa.table(
                        {
                            "row": pa.array([first_row + i + 1 for i in at], pa.int64()),
                            "lead_id": table.column("lead_id").take(pa.array(at)),
                            "field": pa.array([f for f, _ in field_message], pa.string()),
                            "message": pa.array([m for _, m in field_message], pa.string()),
                        },
                        schema=schema,
                    )
                )
            first_row += table.num_rows

"""Batch scoring on Spark: the one scoring core (``score_chunk``) run inside ``mapInArrow``.

Two entries, one adapter. :func:`score` is the Python API for Spark users: a DataFrame of leads
in, a DataFrame of ``RESULT_SCHEMA`` out, lazily, with random score ids and ``audited`` false
(this path cannot write Candor's audit log). :func:`score_file_on_spark` is the engine of
``candor score batch --engine spark``: it reads a file or a folder of part files, scores it with
the audit event of each row beside its result, and writes Parquet part files in input order
with score ids derived from the run, so that the command can write the audit log and the
output, and a re-run gives the same ids.

The model reaches the executors as plain files (``LeadScorer.save``, one tar archive named by
a hash of their contents, ``SparkContext.addFile``), loaded once per Python worker. One archive,
not a directory: Spark refuses ``addFile`` of a local directory outside local mode.

Arrow batches follow ``spark.sql.execution.arrow.maxRecordsPerBatch``: :func:`score` leaves the
caller's session as it is (a session-wide setting is the caller's to choose). Spark's
default, 10,000 rows, suits the core: its fixed cost per batch is spread over the rows, and
10,000 results with their audit events take ~12 MB of Arrow (the sample's leads, top-5
reasons); :func:`spark_session` sets that default explicitly.

Needs ``pyspark`` (the dev extra; on a cluster, on every node with Candor itself) and Java.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import logging
import math
import os
import re
import shutil
import sys
import tarfile
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

import pyarrow as pa

from candor.models.contract import Contract
from candor.models.errors import OptionError
from candor.models.leads.input_limits import DEFAULT_LIMITS, InputLimits
from candor.models.leads.scorer import LeadScorer
from candor.models.model_ref import ModelRef
from candor.models.policy import ScoringPolicy
from candor.models.settings import Settings
from candor.serving.audit.labels import UNKEYED, UnseenLabel
from candor.serving.scoring.chunks import row_score_ids, score_chunk
from candor.serving.scoring.core import LeadBatchScorer
from candor.serving.scoring.files import column_names, file_format, input_files
from candor.serving.scoring.rows import FileColumns
from candor.serving.scoring.table import RESULT_SCHEMA, RESULT_WITH_EVENTS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from candor.registry import LoadedModel

Explain = Literal["top", "none", "all"]

LOG = logging.getLogger("candor.spark")

APP_NAME = "candor-batch"
BATCH_ROWS = 10_000  # rows per Arrow batch handed to the core
PARTITION_ROWS = 100_000  # rows per task of the file engine (at least one task per core)
SUCCESS_MARKER = "_SUCCESS"
ORDER_KEY = "_candor_row"  # a row's position in the input, 0-based, across all its files
_FILE, _BLOCK, _SEQ = "_candor_file", "_candor_block", "_candor_seq"


# --- the session ---------------------------------------------------------------------------


def spark_session(master: str = "local[*]") -> SparkSession:
    """The batch engine's SparkSession (or the running one, whose static settings then stay).

    Quiet (no UI, WARN logs), Arrow on, a few shuffle partitions in local mode (one per core),
    Python workers on this interpreter unless ``PYSPARK_PYTHON`` already names one (a cluster
    whose nodes keep Candor in their own environment).
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(APP_NAME)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS))
    )
    cores = _local_cores(master)
    if cores is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(max(cores, 1)))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def _local_cores(master: str) -> int | None:
    """Cores of a ``local``, ``local[n]``, ``local[*]`` or ``local[n,retries]`` master."""
    if master == "local":
        return 1
    found = re.fullmatch(r"local\[(\*|\d+)(?:,\s*\d+)?\]", master)
    if found is None:
        return None
    if found.group(1) == "*":
        return os.cpu_count() or 1
    return int(found.group(1))


# --- the model on the executors ---------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """What each task needs, pickled into it: where the model is, and how to score."""

    archive: str  # name of the model archive among the job's SparkFiles
    digest: str  # sha256 of the model's files
    model: ModelRef
    policy: ScoringPolicy
    top_k: int | None
    explain: bool
    audited: bool
    with_events: bool
    run_nonce: str | None  # ids from (nonce, ORDER_KEY); None: random ids, no ORDER_KEY column
    limits: InputLimits = DEFAULT_LIMITS  # what the row checks refuse
    # a key derived for unseen-category labels only (never the lead pseudonym key): audited runs
    unseen_label: UnseenLabel = UNKEYED


_SCORERS: dict[str, LeadScorer] = {}  # digest -> scorer, per Python worker
_SHIPPED: set[tuple[str, str]] = set()  # (application id, digest), on the driver
_staging: Path | None = None  # the driver's archives; kept while the process lives


def _files_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _staging_dir() -> Path:
    global _staging
    if _staging is None:
        _staging = Path(tempfile.mkdtemp(prefix="candor-spark-"))
        atexit.register(shutil.rmtree, _staging, ignore_errors=True)
    return _staging


def _ship(spark: SparkSession, scorer: LeadScorer) -> tuple[str, str]:
    """Add the scorer's files to the job as one archive; its (SparkFiles name, digest)."""
    with tempfile.TemporaryDirectory(prefix="candor-model-") as tmp:
        folder = scorer.save(Path(tmp) / "model")
        digest = _files_digest(folder)
        name = f"candor-model-{digest[:24]}.tar"
        archive = _staging_dir() / name
        if not archive.exists():
            with tarfile.open(archive, "w") as tar:
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    info = tarfile.TarInfo(path.relative_to(folder).as_posix())
                    info.size = path.stat().st_size
                    # no mtime or owner: the same model is the same archive, byte for byte
                    tar.addfile(info, io.BytesIO(path.read_bytes()))
    key = (spark.sparkContext.applicationId, digest)
    if key not in _SHIPPED:
        spark.sparkContext.addFile(str(archive))
        _SHIPPED.add(key)
    return name, digest


def _scorer(archive: str, digest: str) -> LeadScorer:
    """The job's model in this Python worker: unpacked, checked and loaded on first use."""
    scorer = _SCORERS.get(digest)
    if scorer is None:
        from pyspark import SparkFiles

        with tempfile.TemporaryDirectory(prefix="candor-model-") as tmp:
            with tarfile.open(SparkFiles.get(archive)) as tar:
                tar.extractall(tmp, filter="data")
            found = _files_digest(Path(tmp))
            if found != digest:
                raise RuntimeError(
                    f"model archive {archive} has digest {found}, expected {digest}: "
                    "the file shipped to this executor is not the driver's model"
                )
            scorer = LeadScorer.load(tmp)
        _SCORERS[digest] = scorer
    return scorer


def _score_batches(batches: Iterator[pa.RecordBatch], job: _Job) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function: every Arrow batch through ``score_chunk``, order kept."""
    core = LeadBatchScorer(
        _scorer(job.archive, job.digest), job.policy, job.limits, job.unseen_label
    )
    for batch in batches:
        if batch.num_rows == 0:
            continue
        if job.run_nonce is None:
            data, ids = batch, [uuid.uuid4().hex for _ in range(batch.num_rows)]
        else:
            rows = batch.column(ORDER_KEY).to_pylist()
            data, ids = batch.drop_columns([ORDER_KEY]), row_score_ids(job.run_nonce, rows)
        chunk = score_chunk(
            core,
            data,
            score_ids=ids,
            top_k=job.top_k,
            explain=job.explain,
            model=job.model,
            audited=job.audited,
            with_events=job.with_events,
        )
        yield from chunk.table.to_batches()


# --- shared by both entries -------------------------------------------------------------


def _explain_args(explain: str, top_k: int | None) -> tuple[int | None, bool]:
    """(top_k, explain) of ``score_chunk`` for an ``explain`` mode."""
    if explain == "top":
        return top_k, True
    if explain == "all":
        return None, True
    if explain == "none":
        return top_k, False
    raise ValueError(f"explain must be 'top', 'none' or 'all', got {explain!r}")


def _used_columns(names: list[str], contract: Contract) -> tuple[str, ...]:
    """The contract's columns among ``names`` (InputValidationError for unknown ones, before
    any task starts: a bad file fails on the driver with the columns named)."""
    return FileColumns.of(names, contract).used


def _spark_schema(schema: pa.Schema) -> StructType:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _map_in_arrow(frame: DataFrame, job: _Job, schema: pa.Schema) -> DataFrame:
    """``frame`` scored batch by batch, each task's batches in order, as ``schema``."""
    with warnings.catch_warnings():
        # mapInArrow is built on pandas_udf, which warns about pandas 3; no pandas is used here
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        return frame.mapInArrow(partial(_score_batches, job=job), _spark_schema(schema))


# --- the Python API -------------------------------------------------------------------------


def score(
    dataframe: DataFrame,
    *,
    settings: Settings | None = None,
    model_ref: str | None = None,
    top_k: int = 5,
    explain: Explain = "top",
) -> DataFrame:
    """Score a Spark DataFrame of leads (columns named as the contract's fields, any Spark
    types the row checks accept: strings, numbers, booleans).

    Returns a DataFrame of exactly the ``RESULT_SCHEMA`` columns, one row per input row, lazy
    like any transformation. Score ids are random (uuid4 hex); ``audited`` is false on every
    row: nothing here writes Candor's audit log. For audited scores of a file, run
    ``candor score batch --engine spark``.

    Args:
        settings: where the model registry is (default: the environment's settings); its
            scoring policy grades and flags the leads.
        model_ref: a registered version number or alias (default: the configured champion).
        top_k: reasons in words per scored lead when ``explain`` is "top".
        explain: "top" (``top_k`` reasons), "all" (one per input) or "none" (no reasons).

    Raises:
        InputValidationError: a column that is not a field of the model's contract, or no id.
        ModelNotAvailableError: no such model version or alias.
    """
    from candor.models.settings import get_settings
    from candor.registry import LEADS, load_model

    k, explained = _explain_args(explain, top_k)
    settings = settings or get_settings()
    loaded = load_model(settings, kind=LEADS, ref=model_ref)
    used = _used_columns(list(dataframe.columns), loaded.model.contract_)
    archive, digest = _ship(dataframe.sparkSession, loaded.model)
    job = _Job(
        archive=archive,
        digest=digest,
        model=loaded.ref,
        policy=settings.policy,
        top_k=k,
        explain=explained,
        audited=False,
        with_events=False,
        run_nonce=None,
        limits=settings.input_limits,
    )
    LOG.warning(
        "candor.serving.scoring.spark.score: these %s@%s scores are NOT in Candor's audit log "
        "(audited=false on every row; score ids are random); for audited scores run "
        "`candor score batch --engine spark`",
        loaded.name,
        loaded.version,
    )
    inputs = dataframe.select(*[dataframe[name] for name in used])
    return _map_in_arrow(inputs, job, RESULT_SCHEMA)


# --- the engine of `candor score batch --engine spark` ------------------------------------


def score_file_on_spark(
    input_path: str | Path,
    work_dir: str | Path,
    *,
    loaded: LoadedModel[LeadScorer],
    policy: ScoringPolicy,
    top_k: int | None,
    explain: str,
    master: str = "local[*]",
    run_nonce: str,
    limits: InputLimits = DEFAULT_LIMITS,
    unseen_label: UnseenLabel = UNKEYED,
) -> Path:
    """Score a CSV or Parquet file, or a folder of part files, into Parquet part files in
    ``work_dir`` (replaced), each result with its audit event (``RESULT_WITH_EVENTS``,
    ``audited`` true).

    The input's files and their order are the local engine's (``files.input_files``: a
    folder's .csv or .parquet files by sorted name, each in its row order). Row i of the part
    files read in sorted name order is input row i, and its score id is
    ``row_score_ids(run_nonce, [i])``, the local engine's id of that row. CSV is read with a
    header and every column as text (the row checks parse numbers and flags, as for any file).

    Returns:
        ``work_dir``, complete: it holds Spark's ``_SUCCESS`` marker.

    Raises:
        OptionError: no such input, no data files, mixed formats, parts whose columns differ.
        InputValidationError: an unknown column or no id column.
    """
    from pyspark.sql import SparkSession

    files = _input_files(Path(input_path))
    out = Path(work_dir).resolve()
    k, explained = _explain_args(explain, top_k)
    owned = SparkSession.getActiveSession() is None
    spark = spark_session(master)
    try:
        frame = _read(spark, files)
        used = _used_columns(list(frame.columns), loaded.model.contract_)
        numbered, n_rows = _numbered(spark, frame, used, [p.name for p in files])
        archive, digest = _ship(spark, loaded.model)
        job = _Job(
            archive=archive,
            digest=digest,
            model=loaded.ref,
            policy=policy,
            top_k=k,
            explain=explained,
            audited=True,
            with_events=True,
            run_nonce=run_nonce,
            limits=limits,
            unseen_label=unseen_label,
        )
        parts = max(spark.sparkContext.defaultParallelism, math.ceil(n_rows / PARTITION_ROWS))
        # range partitions hold consecutive rows, in partition order, and the writer names
        # each part file by its partition's index: sorted names keep input order
        ordered = numbered.repartitionByRange(parts, ORDER_KEY).sortWithinPartitions(ORDER_KEY)
        scored = _map_in_arrow(ordered, job, RESULT_WITH_EVENTS)
        scored.write.mode("overwrite").parquet(str(out))
    finally:
        if owned:
            spark.stop()
    if not (out / SUCCESS_MARKER).is_file():
        raise RuntimeError(f"Spark wrote no {SUCCESS_MARKER} marker in {out}: output incomplete")
    LOG.info("scored %d rows on Spark into %s", n_rows, out)
    return out


def _input_files(source: Path) -> list[Path]:
    """The local engine's files of ``source``, checked to share the first one's columns."""
    files = [p.resolve() for p in input_files(source)]
    names = column_names(files[:1])
    for path in files[1:]:
        if column_names([path]) != names:
            raise OptionError(
                f"{path.name}: its columns differ from the first file's ({', '.join(names)})"
            )
    return files


def _read(spark: SparkSession, files: list[Path]) -> DataFrame:
    """The files, listed (not their folder, whose other files Spark would read too)."""
    paths = [str(p) for p in files]
    if file_format(files[0]) == "parquet":
        return spark.read.parquet(*paths)
    return (
        spark.read.option("header", True)
        .option("inferSchema", False)
        .option("escape", '"')  # RFC 4180 quoting (""), as pyarrow reads it
        .csv(paths)
    )


def _numbered(
    spark: SparkSession, frame: DataFrame, used: tuple[str, ...], names: list[str]
) -> tuple[DataFrame, int]:
    """``frame``'s ``used`` columns and ORDER_KEY, each row's position in the whole input,
    whose files ``names`` are in input order.

    Spark packs files into tasks by size, not by name, so the scan's order is not the input's.
    What it does keep: each split of a file (file, block start) is read in file order within
    one task, where ``monotonically_increasing_id`` counts up by one. A first pass counts the
    rows of every split; their order (file, block start) gives each split its first position,
    and a row's position is that plus its rank within its split. Positions depend on the files
    alone, not on how Spark splits them.
    """
    from pyspark.sql import functions as F

    rank = {name: i for i, name in enumerate(names)}
    keyed = frame.select(
        *[frame[name] for name in used],
        F.col("_metadata.file_name").alias(_FILE),  # URL-encoded, as in a Hadoop path
        F.col("_metadata.file_block_start").alias(_BLOCK),
        F.monotonically_increasing_id().alias(_SEQ),
    )
    splits = (
        keyed.groupBy(_FILE, _BLOCK)
        .agg(F.min(_SEQ).alias("first"), F.count(F.lit(1)).alias("rows"))
        .collect()
    )
    unknown = [s[_FILE] for s in splits if unquote(s[_FILE]) not in rank]
    if unknown:
        raise RuntimeError(f"Spark read file(s) {unknown[:3]} that are not among the input's")
    offsets, position = [], 0
    for split in sorted(splits, key=lambda s: (rank[unquote(s[_FILE])], s[_BLOCK])):
        offsets.append((split[_FILE], split[_BLOCK], position - split["first"]))
        position += split["rows"]
    shift = spark.createDataFrame(offsets, f"{_FILE} string, {_BLOCK} bigint, shift bigint")
    numbered = keyed.join(F.broadcast(shift), [_FILE, _BLOCK]).select(
        *[keyed[name] for name in used], (F.col(_SEQ) + F.col("shift")).alias(ORDER_KEY)
    )
    return numbered, position

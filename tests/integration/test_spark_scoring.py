"""The Spark engine scores as the local engine does, row for row, in input order.

One SparkSession (local[2]) for the module. The file engine is checked against ``score_chunk``
on the same rows read by pyarrow, with the same deterministic score ids, for a CSV read as
text and for a folder of Parquet parts whose sizes make Spark read them out of name order.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import settings_support as support

if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime and `java` is not on PATH", allow_module_level=True)
pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[dev]')")

from pyspark.sql import SparkSession

from candor.models.errors import InputValidationError, OptionError
from candor.models.leads.scorer import LeadScorer
from candor.models.settings import Settings
from candor.registry import LEADS, LoadedModel, load_model
from candor.serving.scoring import spark as engine
from candor.serving.scoring.chunks import row_score_ids, score_chunk
from candor.serving.scoring.core import LeadBatchScorer
from candor.serving.scoring.table import RESULT_SCHEMA, RESULT_WITH_EVENTS

NONCE = "run-7f3a"
TOP_K = 5


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = engine.spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def loaded(trained_settings: Settings) -> LoadedModel[LeadScorer]:
    return load_model(trained_settings, kind=LEADS)


@pytest.fixture(scope="module")
def core(loaded: LoadedModel[LeadScorer], trained_settings: Settings) -> LeadBatchScorer:
    return LeadBatchScorer(loaded.model, trained_settings.policy)


@pytest.fixture(scope="module")
def sample_table() -> pa.Table:
    """The sample as the local engine reads it: pyarrow's CSV reader, types inferred."""
    return pacsv.read_csv(support.SAMPLE_LEADS)


@pytest.fixture(scope="module")
def local_result(
    core: LeadBatchScorer, loaded: LoadedModel[LeadScorer], sample_table: pa.Table
) -> pa.Table:
    return score_chunk(
        core,
        sample_table,
        score_ids=row_score_ids(NONCE, range(sample_table.num_rows)),
        top_k=TOP_K,
        explain=True,
        model=loaded.ref,
        audited=True,
        with_events=True,
    ).table


def spark_file(
    spark: SparkSession,
    source: Path,
    work: Path,
    loaded: LoadedModel[LeadScorer],
    settings: Settings,
    *,
    split_bytes: int | None = None,
) -> pa.Table:
    """Score ``source`` with the file engine; its parts read back in sorted name order."""
    if split_bytes is not None:  # small splits: one file read by several tasks
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(split_bytes))
    try:
        out = engine.score_file_on_spark(
            source,
            work,
            loaded=loaded,
            policy=settings.policy,
            top_k=TOP_K,
            explain="top",
            master="local[2]",
            run_nonce=NONCE,
        )
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert (out / "_SUCCESS").is_file()
    parts = sorted(p for p in out.iterdir() if p.name.startswith("part-"))
    assert len(parts) >= 2
    return pa.concat_tables([pq.read_table(p).cast(RESULT_WITH_EVENTS) for p in parts])


def assert_same_rows(got: pa.Table, want: pa.Table) -> None:
    assert got.num_rows == want.num_rows
    same = [
        "lead_id",
        "score_id",
        "score",
        "grade",
        "interval_low",
        "interval_high",
        "confidence",
        "review_required",
        "review_reasons",
        "review_notes",
        "withheld",
        "suppressed",
        "rejected",
        "model_version",
        "audited",
        "_event_kind",
    ]
    for name in same:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    for g, w in zip(
        got.column("margin").to_pylist(), want.column("margin").to_pylist(), strict=True
    ):
        assert (g is None and w is None) or abs(g - w) < 1e-9
    for g, w in zip(
        got.column("reasons").to_pylist(), want.column("reasons").to_pylist(), strict=True
    ):
        assert (g is None) == (w is None)
        if g is not None:
            assert [(r["feature"], r["value"], r["text"]) for r in g] == [
                (r["feature"], r["value"], r["text"]) for r in w
            ]
            assert all(
                abs(a["contribution"] - b["contribution"]) < 1e-9 for a, b in zip(g, w, strict=True)
            )
    for g, w in zip(
        got.column("_event_body").to_pylist(), want.column("_event_body").to_pylist(), strict=True
    ):
        assert (g is None) == (w is None)
        if g is not None:
            assert_same_body(json.loads(g), json.loads(w))


def assert_same_body(got: dict[str, Any], want: dict[str, Any]) -> None:
    close = {"contributions", "margin"}
    assert {k: v for k, v in got.items() if k not in close} == {
        k: v for k, v in want.items() if k not in close
    }
    if "contributions" in want:
        assert len(got["contributions"]) == len(want["contributions"])
        assert all(
            abs(a - b) < 1e-9
            for a, b in zip(got["contributions"], want["contributions"], strict=True)
        )
        assert abs(got["margin"] - want["margin"]) < 1e-9


def test_csv_on_spark_equals_the_local_engine_row_for_row(
    spark: SparkSession,
    loaded: LoadedModel[LeadScorer],
    trained_settings: Settings,
    local_result: pa.Table,
    tmp_path: Path,
) -> None:
    # the sample holds opted-out and unconsented leads: suppressed and withheld rows included
    assert set(local_result.column("suppressed").to_pylist()) == {None, "opted_out"}
    assert any(local_result.column("withheld").to_pylist())
    got = spark_file(
        spark,
        support.SAMPLE_LEADS,
        tmp_path / "work",
        loaded,
        trained_settings,
        split_bytes=64 * 1024,
    )
    assert_same_rows(got, local_result)
    assert set(got.column("audited").to_pylist()) == {True}


def test_parquet_folder_on_spark_keeps_sorted_name_order(
    spark: SparkSession,
    loaded: LoadedModel[LeadScorer],
    trained_settings: Settings,
    sample_table: pa.Table,
    local_result: pa.Table,
    tmp_path: Path,
) -> None:
    assert pa.types.is_int64(sample_table.schema.field("practice_size").type)  # bigint columns
    folder = tmp_path / "leads"
    folder.mkdir()
    # sizes out of name order (Spark packs files into tasks largest first); names with a space
    # (Spark reports them URL-encoded)
    for name, (start, stop) in {
        "leads a.parquet": (0, 600),
        "leads b.parquet": (600, 3600),
        "leads c.parquet": (3600, 5000),
    }.items():
        pq.write_table(sample_table.slice(start, stop - start), folder / name, row_group_size=700)
    (folder / "_SUCCESS").touch()  # not data, as Spark's own folders hold it
    got = spark_file(spark, folder, tmp_path / "work", loaded, trained_settings)
    assert_same_rows(got, local_result)


def test_a_bad_row_is_rejected_and_the_others_scored(
    spark: SparkSession,
    loaded: LoadedModel[LeadScorer],
    trained_settings: Settings,
    sample_frame: pd.DataFrame,
    tmp_path: Path,
) -> None:
    rows = sample_frame.head(40).astype({"practice_size": "object"})
    rows.loc[3, "practice_size"] = "many"
    source = tmp_path / "bad.csv"
    rows.to_csv(source, index=False)
    got = spark_file(spark, source, tmp_path / "work", loaded, trained_settings)
    rejected = got.column("rejected").to_pylist()
    assert rejected[3] == "practice_size: expected a finite number"
    assert "many" not in rejected[3]
    assert [r for i, r in enumerate(rejected) if i != 3] == [None] * 39
    assert got.column("score")[3].as_py() is None
    assert got.column("lead_id").to_pylist() == rows["lead_id"].tolist()
    scored = got.column("score").drop_null()
    assert len(scored) == 39 - int(rows["do_not_contact"].sum() - rows["do_not_contact"][3])


def test_unknown_column_refuses_the_file_before_any_task(
    spark: SparkSession,
    loaded: LoadedModel[LeadScorer],
    trained_settings: Settings,
    sample_frame: pd.DataFrame,
    tmp_path: Path,
) -> None:
    source = tmp_path / "extra.csv"
    sample_frame.head(5).assign(shoe_size=42).to_csv(source, index=False)
    with pytest.raises(InputValidationError, match="'shoe_size'"):
        spark_file(spark, source, tmp_path / "work", loaded, trained_settings)


def test_parts_with_other_columns_refuse_the_folder(
    spark: SparkSession,
    loaded: LoadedModel[LeadScorer],
    trained_settings: Settings,
    sample_table: pa.Table,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "leads"
    folder.mkdir()
    pq.write_table(sample_table.slice(0, 10), folder / "part-0.parquet")
    pq.write_table(sample_table.slice(10, 10).drop_columns(["region"]), folder / "part-1.parquet")
    with pytest.raises(OptionError, match=r"part-1\.parquet: its columns differ"):
        spark_file(spark, folder, tmp_path / "work", loaded, trained_settings)


def test_score_a_dataframe(
    spark: SparkSession,
    loaded: LoadedModel[LeadScorer],
    core: LeadBatchScorer,
    trained_settings: Settings,
    sample_table: pa.Table,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = sample_table.slice(0, 400)
    frame = spark.createDataFrame(rows)  # Arrow straight in: bigint, double, boolean, string
    with caplog.at_level(logging.WARNING, logger="candor.spark"):
        result = engine.score(frame, settings=trained_settings, top_k=3)
    warned = [r for r in caplog.records if r.name == "candor.spark"]
    assert len(warned) == 1 and "candor score batch --engine spark" in warned[0].getMessage()
    assert result.schema == engine._spark_schema(RESULT_SCHEMA)
    got = result.toArrow()
    assert got.column_names == RESULT_SCHEMA.names
    assert got.column("lead_id").to_pylist() == rows.column("lead_id").to_pylist()
    assert set(got.column("audited").to_pylist()) == {False}
    ids = got.column("score_id").to_pylist()
    assert len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)
    opted_out = rows.column("do_not_contact").to_pylist()
    assert any(opted_out)
    for out, flag in zip(got.column("score").to_pylist(), opted_out, strict=True):
        assert (out is None) == flag
    want = score_chunk(
        core,
        rows,
        score_ids=ids,
        top_k=3,
        explain=True,
        model=loaded.ref,
        audited=False,
        with_events=False,
    ).table
    assert got.column("score").to_pylist() == want.column("score").to_pylist()
    assert got.column("reasons").to_pylist() == want.column("reasons").to_pylist()

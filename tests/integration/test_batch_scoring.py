"""`candor score batch`: a whole file scored like the API scores a lead, audited, resumable."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import settings_support as support
from api_support import serve
from sqlalchemy import select

from candor.cli.main import main as candor_main
from candor.models.errors import OptionError
from candor.models.settings import Settings, get_settings
from candor.registry import LEADS, load_model
from candor.serving.audit.factory import open_store
from candor.serving.audit.log import EVENTS
from candor.serving.scoring.batch_run import BatchOptions, run_batch
from candor.serving.scoring.table import RESULT_SCHEMA
from candor.serving.services.leads import LeadScoringService


@pytest.fixture()
def isolated(trained_settings: Settings, tmp_path: Path) -> Settings:
    """The session's champion with an audit database of this test's own."""
    return trained_settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'audit.db'}"}
    )


@pytest.fixture()
def cli_env(isolated: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    support.no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(isolated.home))
    monkeypatch.setenv("CANDOR_DATABASE_URL", str(isolated.database_url))
    get_settings.cache_clear()
    yield isolated
    get_settings.cache_clear()


def _batch(options: BatchOptions, settings: Settings, **kwargs):  # type: ignore[no-untyped-def]
    loaded = load_model(settings, kind=LEADS)
    store = open_store(settings, authenticates=False)
    try:
        return run_batch(options, loaded=loaded, policy=settings.policy, store=store, **kwargs)
    finally:
        store.close()


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    rows = frame.drop(columns=["converted"]).to_dict("records")
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in rows
    ]


def _score_events(settings: Settings) -> pd.DataFrame:
    store = open_store(settings, authenticates=False)
    try:
        with store.reading("the test's events") as conn:
            rows = list(conn.execute(select(EVENTS).order_by(EVENTS.c.seq)))
            # whole bodies, as a reviewer reads them (each score's sealed payload opened)
            bodies = [json.dumps(b) for b in store.opened(conn, rows)]
            return pd.DataFrame(
                {
                    "kind": [r.kind for r in rows],
                    "subject": [r.subject for r in rows],
                    "body": bodies,
                }
            )
    finally:
        store.close()


def test_the_cli_scores_a_file_in_order_as_the_api_does(
    cli_env: Settings, sample_frame: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, summary = tmp_path / "scores.parquet", tmp_path / "summary.json"
    code = candor_main(
        [
            "score", "batch", "--input", str(support.SAMPLE_LEADS), "--output", str(out),
            "--chunk-rows", "1500", "--summary", str(summary),
        ]
    )  # fmt: skip
    assert code == 0
    line = capsys.readouterr().out
    assert "5,000 rows" in line and "suppressed (opted out)" in line
    table = pq.read_table(out)
    assert table.schema.equals(RESULT_SCHEMA)
    result = table.to_pandas()
    assert result["lead_id"].tolist() == sample_frame["lead_id"].astype(str).tolist()
    opted_out = sample_frame["do_not_contact"].to_numpy(dtype=bool)
    assert result.loc[opted_out, "score"].isna().all()
    assert (result.loc[opted_out, "suppressed"] == "opted_out").all()
    assert result.loc[opted_out, "reasons"].isna().all()
    assert result.loc[~opted_out, "score"].notna().all()
    assert result["audited"].all()
    assert result["score_id"].is_unique

    # the same meaning as the HTTP answer, lead for lead
    loaded = load_model(cli_env, kind=LEADS)
    service = LeadScoringService(loaded, cli_env.policy)
    answers = service.score(_records(sample_frame), top_k=5)
    for answer, (_, row) in zip(answers, result.iterrows(), strict=True):
        if answer.suppressed:
            continue
        assert row["score"] == answer.score
        assert row["grade"] == answer.grade
        assert row["confidence"] == answer.confidence.level
        assert [row["interval_low"], row["interval_high"]] == [
            answer.confidence.lower,
            answer.confidence.upper,
        ]
        assert list(row["withheld"]) == list(answer.withheld)
        assert [r["text"] for r in row["reasons"]] == [r.text for r in answer.reasons]
        assert [r["feature"] for r in row["reasons"]] == [r.feature for r in answer.reasons]
        # review codes differ only by the random audit, which is drawn from the score id
        fixed = [c for c in answer.review.reasons if c != "random_audit"]
        assert [c for c in row["review_reasons"] if c != "random_audit"] == fixed

    facts = json.loads(summary.read_text())
    assert facts["rows"] == 5000
    assert facts["suppressed"] == int(opted_out.sum())
    assert facts["scored"] == 5000 - int(opted_out.sum())
    assert facts["rejected"] == 0
    assert facts["chunks"] == 4
    assert facts["ignored_columns"] == ["converted"]
    assert facts["input_sha256"] == hashlib.sha256(support.SAMPLE_LEADS.read_bytes()).hexdigest()

    # every row is in the log, once, and the run itself is an event
    events = _score_events(cli_env)
    records = events[events["kind"].isin(["score", "suppression"])]
    assert sorted(records["subject"]) == sorted(result["score_id"])
    runs = events[events["kind"] == "batch_run"]
    assert len(runs) == 1
    run = json.loads(runs["body"].iloc[0])
    assert run["input_sha256"] == facts["input_sha256"]
    assert run["scored"] == facts["scored"] and run["rejected"] == 0
    assert run["model"] == f"{loaded.name}@{loaded.version}"
    assert run["started_at"] <= run["ended_at"]
    assert (events["kind"] == "batch_chunk").sum() == 4
    assert candor_main(["audit", "verify"]) == 0
    assert not (tmp_path / "scores.parquet.parts").exists()


def test_reviewers_open_batch_scored_rows_and_see_flagged_ones_queued(
    isolated: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "scores.parquet"
    _batch(BatchOptions(input=support.SAMPLE_LEADS, output=out), isolated)
    result = pq.read_table(out).to_pandas()
    flagged = result[result["review_required"].fillna(False).astype(bool)]
    assert len(flagged) > 0
    with serve(isolated, role="reviewer") as api:
        row = result[result["score"].notna()].iloc[0]
        record = api.get(f"/v1/scores/{row['score_id']}")
        assert record.status_code == 200, record.text
        body = record.json()
        assert body["score"] == row["score"] and body["grade"] == row["grade"]
        assert body["requested_by"] == "batch"
        assert [r["text"] for r in body["contributions"][:5]] == [r["text"] for r in row["reasons"]]
        queue = api.get("/v1/reviews", params={"limit": "200"}).json()["items"]
        queued = {item["score_id"] for item in queue}
        assert queued and queued <= set(flagged["score_id"])


def test_bad_rows_go_to_the_rejects_file_and_the_run_goes_on(
    isolated: Settings, sample_frame: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sample_frame.head(300).astype({"practice_size": object, "data_use_consent": object})
    frame.loc[10, "practice_size"] = "many"
    frame.loc[20, "data_use_consent"] = "maybe"
    frame.loc[30, "lead_id"] = None
    frame.loc[40, "practice_size"] = "inf"
    source = tmp_path / "leads.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "scores.csv"
    summary = _batch(BatchOptions(input=source, output=out), isolated)
    assert summary.rows == 300 and summary.rejected == 4
    assert summary.scored + summary.suppressed + summary.rejected == 300
    rejects = pcsv.read_csv(summary.rejects).to_pandas()
    assert rejects["row"].tolist() == [11, 21, 31, 41]
    assert rejects["field"].tolist() == [
        "practice_size",
        "data_use_consent",
        "lead_id",
        "practice_size",
    ]
    assert not rejects["message"].str.contains("many|maybe|inf").any()  # never the value
    result = pcsv.read_csv(out).to_pandas()
    assert len(result) == 300
    assert result.loc[10, "rejected"].startswith("practice_size: ")
    assert math.isnan(result.loc[10, "score"])
    # CSV cells hold lists as JSON text
    scored = result[result["score"].notna()].iloc[0]
    reasons = orjson.loads(scored["reasons"])
    assert len(reasons) == 5 and {"feature", "value", "contribution", "text"} <= set(reasons[0])


def test_batch_rows_keep_the_http_edges_text_rules(
    isolated: Settings, sample_frame: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sample_frame.head(50).astype({"lead_id": object, "specialty": object})
    frame.loc[5, "specialty"] = "x" * 500  # a note mapped into a category
    frame.loc[6, "lead_id"] = "L\x07bell"
    frame.loc[7, "specialty"] = "unseen-batch-marker"
    source = tmp_path / "leads.parquet"
    frame.to_parquet(source)
    out = tmp_path / "scores.parquet"
    summary = _batch(BatchOptions(input=source, output=out), isolated)
    rejects = pcsv.read_csv(summary.rejects).to_pandas()
    assert rejects["row"].tolist() == [6, 7]
    assert rejects["field"].tolist() == ["specialty", "lead_id"]
    assert "128" in rejects["message"].iloc[0]
    result = pq.read_table(out).to_pandas()
    shown = str(result.loc[7, "reasons"]) + str(result.loc[7, "review_notes"])
    assert "unseen-batch-marker" not in shown and "unseen:" in shown
    stored = b"".join(p.read_bytes() for p in Path(isolated.home).glob("audit.db*"))
    assert b"unseen-batch-marker" not in stored


def test_unknown_columns_refuse_the_whole_file_by_name(
    cli_env: Settings, sample_frame: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = tmp_path / "leads.parquet"
    sample_frame.head(20).assign(notes_from_rep="x").to_parquet(source)
    out = tmp_path / "scores.parquet"
    code = candor_main(["score", "batch", "--input", str(source), "--output", str(out)])
    assert code == 2
    assert "'notes_from_rep'" in capsys.readouterr().err
    assert not out.exists()


def test_a_folder_of_parquet_parts_scores_like_one_file(
    isolated: Settings, sample_frame: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, start in enumerate(range(0, 900, 300)):  # bigint columns, as Spark writes them
        pq.write_table(
            pa.Table.from_pandas(sample_frame.iloc[start : start + 300], preserve_index=False),
            folder / f"part-{i:05d}.parquet",
        )
    (folder / "_SUCCESS").write_text("")
    out = tmp_path / "scores.parquet"
    summary = _batch(BatchOptions(input=folder, output=out, explain="all"), isolated)
    result = pq.read_table(out).to_pandas()
    assert summary.rows == 900
    assert result["lead_id"].tolist() == sample_frame["lead_id"].head(900).tolist()
    scored = result[result["score"].notna()]
    n_inputs = len(load_model(isolated, kind=LEADS).model.schema_.specs)
    assert scored["reasons"].map(len).eq(n_inputs).all()  # --explain all: every input


def test_explain_none_still_audits_every_contribution(isolated: Settings, tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    _batch(BatchOptions(input=support.SAMPLE_LEADS, output=out, explain="none"), isolated)
    result = pq.read_table(out).to_pandas()
    scored = result[result["score"].notna()]
    assert scored["reasons"].map(len).eq(0).all()
    events = _score_events(isolated)
    body = json.loads(events[events["kind"] == "score"]["body"].iloc[0])
    assert len(body["contributions"]) == len(body["inputs"]) + 1


class _Killed(Exception):
    pass


def test_a_killed_run_resumes_without_scoring_or_auditing_twice(
    isolated: Settings, sample_frame: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "scores.parquet"
    options = BatchOptions(input=support.SAMPLE_LEADS, output=out, chunk_rows=1000, workers=1)

    def kill_after_two_chunks(rows: int, total: int | None) -> None:
        if rows >= 2000:
            raise _Killed

    with pytest.raises(_Killed):
        _batch(options, isolated, progress=kill_after_two_chunks)
    parts = tmp_path / "scores.parquet.parts"
    assert sorted(p.name for p in parts.glob("chunk-*.parquet")) == [
        "chunk-000000.parquet",
        "chunk-000001.parquet",
    ]
    # the second chunk was audited but its part lost: it is scored again, not audited again
    first_ids = pq.read_table(parts / "chunk-000001.parquet").column("score_id").to_pylist()
    (parts / "chunk-000001.parquet").unlink()

    with pytest.raises(OptionError, match="--resume"):
        _batch(options, isolated)

    resumed = BatchOptions(
        input=support.SAMPLE_LEADS, output=out, chunk_rows=1000, workers=1, resume=True
    )
    summary = _batch(resumed, isolated)
    assert summary.rows == 5000 and summary.resumed_chunks == 1
    result = pq.read_table(out).to_pandas()
    assert result["lead_id"].tolist() == sample_frame["lead_id"].tolist()
    assert result["score_id"].iloc[1000:2000].tolist() == first_ids  # the same ids again
    events = _score_events(isolated)
    records = events[events["kind"].isin(["score", "suppression"])]
    assert len(records) == 5000
    assert sorted(records["subject"]) == sorted(result["score_id"])
    assert (events["kind"] == "batch_chunk").sum() == 5
    assert (events["kind"] == "batch_run").sum() == 1


def test_a_resume_refuses_a_changed_input(
    isolated: Settings, sample_frame: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "leads.csv"
    sample_frame.head(3000).to_csv(source, index=False)
    out = tmp_path / "scores.parquet"

    def kill(rows: int, total: int | None) -> None:
        raise _Killed

    with pytest.raises(_Killed):
        _batch(BatchOptions(input=source, output=out, chunk_rows=1000), isolated, progress=kill)
    sample_frame.head(2999).to_csv(source, index=False)
    with pytest.raises(OptionError, match="input_sha256"):
        _batch(BatchOptions(input=source, output=out, chunk_rows=1000, resume=True), isolated)


def test_generate_writes_the_format_its_name_says(tmp_path: Path) -> None:
    out = tmp_path / "leads.parquet"
    assert candor_main(["data", "generate", "leads", "--rows", "50", "--out", str(out)]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 50 and "lead_id" in table.column_names
    assert pa.types.is_integer(table.schema.field("practice_size").type)


def test_two_scoring_threads_give_the_one_thread_results(
    isolated: Settings, tmp_path: Path
) -> None:
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    _batch(BatchOptions(input=support.SAMPLE_LEADS, output=one, workers=1), isolated)
    _batch(BatchOptions(input=support.SAMPLE_LEADS, output=two, workers=2), isolated)
    a, b = pq.read_table(one).to_pandas(), pq.read_table(two).to_pandas()
    np.testing.assert_array_equal(a["score"].to_numpy(), b["score"].to_numpy())
    assert a["grade"].tolist() == b["grade"].tolist()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime (java)")
def test_the_spark_engine_writes_and_audits_what_the_local_engine_does(
    isolated: Settings, tmp_path: Path
) -> None:
    pytest.importorskip("pyspark", reason="pyspark is in the dev extra")
    local, spark = tmp_path / "local.parquet", tmp_path / "spark.parquet"
    _batch(BatchOptions(input=support.SAMPLE_LEADS, output=local), isolated)
    summary = _batch(
        BatchOptions(
            input=support.SAMPLE_LEADS,
            output=spark,
            engine="spark",
            spark_master="local[2]",
            chunk_rows=2000,
        ),
        isolated,
    )
    assert summary.rows == 5000 and summary.chunks == 3
    a, b = pq.read_table(local).to_pandas(), pq.read_table(spark).to_pandas()
    assert a["lead_id"].tolist() == b["lead_id"].tolist()
    np.testing.assert_array_equal(a["score"].to_numpy(), b["score"].to_numpy())
    assert a["grade"].tolist() == b["grade"].tolist()
    scored = a["score"].notna()
    assert [[r["text"] for r in x] for x in a.loc[scored, "reasons"]] == [
        [r["text"] for r in x] for x in b.loc[scored, "reasons"]
    ]
    events = _score_events(isolated)
    records = events[events["kind"].isin(["score", "suppression"])]
    assert set(b["score_id"]) <= set(records["subject"])
    assert (events["kind"] == "batch_run").sum() == 2

"""Candor over time, at the size of a nightly rescoring: the reads of issue 13 on a log of
``--rows`` batch-scored leads (default 300,000), beside the floor of reading the same events.

A model is trained on the committed sample; ``--rows`` generated leads are batch scored into a
SQLite audit log (one score event each), 3,000 of them get an outcome, and 30 are scored again
over HTTP with other inputs (so they have two scores). Then, in process through the HTTP API
(FastAPI's TestClient, a reviewer's key), each median of several calls:

- ``GET /v1/monitoring/drift`` over the whole window, and with ``drift_max_scores`` 50,000
  (read as a stated random sample), beside the floor: the bare SQL read of the window's score
  events and their JSON decoding, nothing computed (the peer: what any drift check must pay);
- ``GET /v1/leads/{id}/scores`` and ``GET /v1/leads/{id}/changes`` of one lead;
- ``GET /v1/monitoring/performance`` over the leads with outcomes.

Writes ``bench/results/monitoring.md`` and prints it. No figure is asserted anywhere.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select

from candor.data_samples.generate_leads import generate_leads
from candor.models.settings import Settings, get_settings
from candor.registry import LEADS, load_model
from candor.serving.app import create_app
from candor.serving.audit import events as ev
from candor.serving.audit.factory import open_store
from candor.serving.audit.log import EVENTS
from candor.serving.scoring.batch_run import BatchOptions, run_batch
from candor.training.pipeline import train_leads

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data_samples" / "hcp_leads.csv"
OUT = Path(__file__).resolve().parent / "results" / "monitoring.md"
OUTCOMES = 3000
RESCORED = 30


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def client_for(settings: Settings, secret: str) -> TestClient:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        settings = Settings(home=home, mlflow_tracking_uri=None)  # type: ignore[call-arg]
        train_leads(data=SAMPLE, settings=settings, warn=lambda _: None, show=lambda _: None)
        frame = generate_leads(rows=args.rows, seed=11)
        universe = home / "universe.parquet"
        frame.drop(columns=["converted"]).to_parquet(universe)
        store = open_store(settings)
        started = time.perf_counter()
        run_batch(
            BatchOptions(input=universe, output=home / "scores.parquet"),
            loaded=load_model(settings, kind=LEADS),
            policy=settings.policy,
            store=store,
        )
        batch_seconds = time.perf_counter() - started
        contactable = frame[~frame["do_not_contact"].astype(bool)]
        observed = datetime.now(UTC).isoformat(timespec="microseconds")
        for row in contactable.head(OUTCOMES).itertuples():
            store.add_outcome(
                lead_id=str(row.lead_id),
                converted=bool(row.converted),
                observed_at=observed,
                recorded_by="bench",
            )
        reviewer = store.create_key(name="bench-reviewer", role="admin")
        store.close()

        client = client_for(settings, reviewer)
        with client:
            again = [
                {k: (None if v != v else v) for k, v in r.items()}  # NaN -> null
                for r in contactable.head(RESCORED).drop(columns=["converted"]).to_dict("records")
            ]
            for lead in again:
                lead["rep_visits_90d"] = int(lead["rep_visits_90d"]) + 4
            rescored = client.post("/v1/leads/score", json={"leads": again})
            assert rescored.status_code == 200, rescored.text
            today = datetime.now(UTC).date().isoformat()
            lead_id = str(again[0]["lead_id"])

            audit = open_store(settings, creates_keys=False)
            low, high = f"{today}T00:00:00.000000+00:00", f"{today}T23:59:59.999999+00:00"
            # the query a drift check runs (serving.monitoring.drift.read_scores), uncapped
            window_query = (
                select(EVENTS.c.body)
                .where(EVENTS.c.kind == ev.SCORE, EVENTS.c.at >= low, EVENTS.c.at <= high)
                .order_by(EVENTS.c.seq)
            )

            def floor() -> int:
                read = 0
                with audit.reading("bench") as conn:
                    for r in conn.execute(window_query):
                        orjson.loads(r.body)
                        read += 1
                return read

            floor_s = median_seconds(floor, 3)
            in_window = floor()
            audit.close()

            def history() -> None:
                assert client.get(f"/v1/leads/{lead_id}/scores").status_code == 200

            def changes() -> None:
                assert client.get(f"/v1/leads/{lead_id}/changes").status_code == 200

            def performance() -> None:
                answer = client.get("/v1/monitoring/performance", params={"by": "segment"})
                assert answer.status_code == 200, answer.text

            history_s = median_seconds(history, 30)
            changes_s = median_seconds(changes, 30)
            performance_s = median_seconds(performance, 3)
        drift_rows = []
        for cap in (10 * args.rows, settings.drift_max_scores, 50_000):
            capped = settings.model_copy(update={"drift_max_scores": cap})
            with client_for(capped, reviewer) as capped_client:

                def drift() -> dict[str, object]:
                    answer = capped_client.get("/v1/monitoring/drift", params={"since": today})
                    assert answer.status_code == 200, answer.text
                    return answer.json()  # type: ignore[no-any-return]

                seconds = median_seconds(drift, 3)
                report = drift()
            drift_rows.append((cap, seconds, report))

    ms = 1000.0
    lines = [
        "# Candor over time: history, changes, drift and accuracy on a nightly-sized log",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on 2 cores by "
        f"`python bench/run_monitoring_bench.py --rows {args.rows}` (`make bench`): "
        f"{args.rows:,} generated leads batch scored into a SQLite audit log "
        f"({batch_seconds:.0f} s), {OUTCOMES:,} outcomes, {RESCORED} leads scored again over "
        "HTTP. Each figure is the median of several calls through the HTTP API in process "
        "(TestClient, a reviewer's key). The peer of a drift check is the floor any check "
        "pays: the bare SQL read of the window's score events and their JSON decoding. "
        f"The default `drift_max_scores` is {settings.drift_max_scores:,}; the first drift "
        "line reads every score.",
        "",
        "| measure | figure | beside the floor |",
        "|---|---:|---:|",
        f"| floor: read and decode the window's {in_window:,} score events | "
        f"{floor_s:.2f} s | 1.00x |",
        *(
            f"| `GET /v1/monitoring/drift`, `drift_max_scores` {cap:,} (read "
            f"{report['scores']:,}, sampled_share {report['sampled_share']:.3f}) | "
            f"{seconds:.2f} s | {seconds / floor_s:.2f}x |"
            for cap, seconds, report in drift_rows
        ),
        f"| `GET /v1/leads/{{id}}/scores` (one lead, {args.rows:,}-event log) | "
        f"{history_s * ms:.1f} ms | |",
        f"| `GET /v1/leads/{{id}}/changes` (its two scores) | {changes_s * ms:.1f} ms | |",
        f"| `GET /v1/monitoring/performance?by=segment` ({OUTCOMES:,} outcomes) | "
        f"{performance_s:.2f} s | |",
        "",
        "The machine is shared and noisy: read the ratios within one run.",
        "",
    ]
    text = "\n".join(lines)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

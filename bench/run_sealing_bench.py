"""What sealing a lead's score payload costs (issue 16), beside the same log unsealed.

Two SQLite audit stores in one run, the same events: ``--events`` score events (default
100,000) of ``--leads`` distinct leads, in groups of 5,000 (a batch run's chunk), each body
the shape of a real score record (22 encoded inputs, 22 contributions, interval, review
codes). The peer is the same writer with sealing off (``payload_kek = None``: the body goes
in the clear, as before this issue). Each figure is the median of ``--repeats`` fresh runs:

- writing the events (group commit, signed head per group), sealed vs clear;
- reading them back whole: opening every sealed payload (one read of the leads' data keys per
  5,000 rows, AES-256-GCM) vs parsing the clear bodies;
- erasing one lead, and purging every payload, on the sealed log.

Writes ``bench/results/sealing.md`` and prints it. No figure is asserted anywhere.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from candor.models.settings import Settings
from candor.serving.audit import events as ev
from candor.serving.audit.events import NewEvent, body_text
from candor.serving.audit.factory import open_store
from candor.serving.audit.log import EVENTS
from candor.serving.audit.store import AuditStore

OUT = Path(__file__).resolve().parent / "results" / "sealing.md"
GROUP = 5000
READ_CHUNK = 5000


def score_body(rng: random.Random) -> str:
    score = rng.random()
    return body_text(
        {
            "model": "candor-lead-scorer@1",
            "score": score,
            "grade": "ABCD"[min(int(score * 4), 3)],
            "interval": [max(score - 0.1, 0.0), min(score + 0.1, 1.0)],
            "confidence": "medium",
            "margin": rng.gauss(0, 1),
            "inputs": [float(rng.randint(0, 40)) for _ in range(22)],
            "contributions": [rng.gauss(0, 0.3) for _ in range(22)],
            "review": ["random_audit"] if rng.random() < 0.05 else [],
        }
    )


def events_for(store: AuditStore, n: int, leads: int, seed: int) -> list[NewEvent]:
    rng = random.Random(seed)
    keys = [store.lead_key(f"L{i}") for i in range(leads)]
    model = NewEvent(ev.MODEL, "bench", "candor-lead-scorer@1", body_text({"name": "m"}))
    return [model] + [
        NewEvent(ev.SCORE, "bench", uuid.uuid4().hex, score_body(rng), keys[i % leads])
        for i in range(n)
    ]


def open_fresh(root: Path, name: str, *, sealed: bool) -> AuditStore:
    home = root / name
    home.mkdir()
    store = open_store(Settings(home=home, mlflow_tracking_uri=None), authenticates=False)
    if not sealed:
        store.log.payload_kek = None  # the peer: the writer as it was, bodies in the clear
    return store


def write(store: AuditStore, events: list[NewEvent]) -> float:
    started = time.perf_counter()
    for start in range(0, len(events), GROUP):
        store.append(events[start : start + GROUP])
    return time.perf_counter() - started


def read_back(store: AuditStore) -> float:
    started = time.perf_counter()
    with store.reading("bench") as conn:
        rows = list(conn.execute(select(EVENTS).where(EVENTS.c.kind == ev.SCORE)))
        for start in range(0, len(rows), READ_CHUNK):
            bodies = store.payloads.bodies(conn, rows[start : start + READ_CHUNK])
            assert all("score" in b for b in bodies)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {
        k: [] for k in ("w_s", "w_c", "r_s", "r_c", "v_s", "v_c", "erase", "purge")
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(args.repeats):
            for sealed in (True, False):
                store = open_fresh(root, f"{i}-{'sealed' if sealed else 'clear'}", sealed=sealed)
                events = events_for(store, args.events, args.leads, seed=i)
                runs["w_s" if sealed else "w_c"].append(write(store, events))
                runs["r_s" if sealed else "r_c"].append(read_back(store))
                started = time.perf_counter()
                assert store.verify().ok
                runs["v_s" if sealed else "v_c"].append(time.perf_counter() - started)
                if sealed:
                    started = time.perf_counter()
                    store.erase_lead("L7", reason="bench", by="bench")
                    runs["erase"].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    store.purge(
                        retention_days=1, by="bench", now=datetime.now(UTC) + timedelta(days=2)
                    )
                    runs["purge"].append(time.perf_counter() - started)
                store.close()
                store.engines.dispose()
    med = {k: statistics.median(v) for k, v in runs.items()}
    n = args.events
    table = [
        "# Sealed score payloads: cost beside the same log in the clear",
        "",
        f"`python bench/run_sealing_bench.py --events {n} --leads {args.leads} "
        f"--repeats {args.repeats}`: SQLite, groups of {GROUP:,} events; medians of "
        f"{args.repeats} fresh runs, in one run (ratios, not absolute times, are the result).",
        "",
        "| step | sealed | clear (peer) | ratio |",
        "|---|---:|---:|---:|",
        f"| write {n:,} score events | {med['w_s']:.2f} s ({n / med['w_s']:,.0f}/s) | "
        f"{med['w_c']:.2f} s ({n / med['w_c']:,.0f}/s) | {med['w_s'] / med['w_c']:.2f}x |",
        f"| read them back whole | {med['r_s']:.2f} s | {med['r_c']:.2f} s | "
        f"{med['r_s'] / med['r_c']:.2f}x |",
        f"| candor audit verify, whole log | {med['v_s']:.2f} s | {med['v_c']:.2f} s | "
        f"{med['v_s'] / med['v_c']:.2f}x |",
        f"| erase one lead | {med['erase'] * 1000:.0f} ms | | |",
        f"| purge every payload | {med['purge']:.2f} s | | |",
        "",
        "The peer is the writer with sealing off (bodies in the clear, as before issue 16). "
        "Reading back whole is the floor drift and performance reads pay per score. Verify, "
        "sealed, checks each payload's digest and opens one payload per lead under its key "
        "(a replaced salt is caught).",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()

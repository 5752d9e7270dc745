"""What a user sees of a long training run: each stage's time and memory, and a progress line
for boosting on a terminal."""

from __future__ import annotations

import io

import lightgbm as lgb
import numpy as np

from candor.training.progress import boosting_progress
from candor.training.stages import StageClock


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_each_stage_reports_its_time_and_peak_memory_in_order() -> None:
    lines: list[str] = []
    clock = StageClock(show=lines.append)

    with clock.stage("read") as detail:
        block = np.ones(40_000_000)  # 305 MiB resident while the stage runs
        block[::512] = 2.0
        detail.append("40,000,000 values")
        del block
    with clock.stage("fit"):
        pass

    assert [s.name for s in clock.stages] == ["read", "fit"]
    read, fit = clock.stages
    assert read.peak_mib >= 300 and read.peak_mib > fit.peak_mib
    assert lines[0].startswith("stage read: ") and "(40,000,000 values)" in lines[0]
    metrics = clock.metrics()
    assert metrics["stage_read_peak_mib"] == read.peak_mib
    assert metrics["stage_peak_mib"] == read.peak_mib
    assert metrics["stage_total_seconds"] >= metrics["stage_read_seconds"]


def test_boosting_draws_a_progress_line_on_a_terminal_only() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    y = (x[:, 0] + rng.normal(size=500) > 0).astype(int)
    train = lgb.Dataset(x[:400], y[:400])
    valid = lgb.Dataset(x[400:], y[400:], reference=train)
    terminal, log = Terminal(), io.StringIO()

    bar = boosting_progress("7 leaves", max_rounds=30, stream=terminal)
    assert boosting_progress("7 leaves", max_rounds=30, stream=log) is None
    assert bar is not None
    params = {"objective": "binary", "metric": "auc", "verbose": -1, "num_leaves": 7}
    lgb.train(params, train, num_boost_round=30, valid_sets=[valid], callbacks=[bar])

    shown = terminal.getvalue()
    assert "7 leaves: round 30 of at most 30, valid auc" in shown

"""A progress line for a long stage, on a terminal only (a file or a CI log gets stage lines).

Boosting is the stage that runs longest: :func:`boosting_progress` is a LightGBM callback that
keeps one line up to date with the round and the validation ROC-AUC.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

REDRAW_EVERY_S = 0.2


def on_terminal(stream: IO[str] | None = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def boosting_progress(
    label: str, *, max_rounds: int, stream: IO[str] | None = None
) -> Callable[[Any], None] | None:
    """A LightGBM callback drawing ``label: round r of at most N, valid auc x``; None when
    the stream is not a terminal."""
    out = stream or sys.stderr
    if not on_terminal(out):
        return None
    drawn = [0.0]

    def callback(env: Any) -> None:
        now = time.monotonic()
        last = env.iteration + 1 >= env.end_iteration
        if now - drawn[0] < REDRAW_EVERY_S and not last:
            return
        drawn[0] = now
        score = ""
        if env.evaluation_result_list:
            _, metric, value, _ = env.evaluation_result_list[0][:4]
            score = f", valid {metric} {value:.4f}"
        out.write(f"\r{label}: round {env.iteration + 1:,} of at most {max_rounds:,}{score}  ")
        out.flush()

    callback.order = 30  # type: ignore[attr-defined]  # after early stopping's bookkeeping
    return callback


def end_line(stream: IO[str] | None = None) -> None:
    """Close a progress line before the next stage line."""
    out = stream or sys.stderr
    if on_terminal(out):
        out.write("\n")
        out.flush()

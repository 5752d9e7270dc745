"""Split conformal intervals per horizon step, from rolling-origin backtest residuals.

A residual is ``|actual - point| / scale`` where ``scale`` is the series' noise scale at the
origin (``models.forecast.history.noise_scale``, units). For each step h and level, the quantile is
the ``ceil((n + 1) * level) / n`` empirical quantile of the n residuals of step h (the usual
finite-sample correction). The interval is ``point +/- q * scale``.

In the backtest the quantile used at an origin is computed only from residuals whose target
week was already observed at that origin (online, time-respecting): coverage reported there is
out-of-sample. The deployed model uses the residuals of every backtest origin.
"""

from __future__ import annotations

import math

import numpy as np

from candor.models.forecast import INTERVAL_LEVELS


def conformal_quantile(residuals: np.ndarray, level: int) -> float:
    """Finite-sample corrected quantile of absolute scaled residuals; inf with too few."""
    n = len(residuals)
    if n == 0:
        return math.inf
    rank = math.ceil((n + 1) * level / 100.0)
    if rank > n:
        return float(np.max(residuals))  # too few residuals: the widest seen, flagged by n
    return float(np.sort(residuals)[rank - 1])


def quantiles_by_step(
    residuals: np.ndarray, steps: np.ndarray, horizon: int
) -> dict[int, np.ndarray]:
    """Level -> array of per-step quantiles (index h - 1), from all given residuals.

    A step without residuals borrows the quantile of the nearest earlier step that has them,
    made non-decreasing in h (uncertainty does not shrink further ahead).
    """
    out: dict[int, np.ndarray] = {}
    for level in INTERVAL_LEVELS:
        q = np.array(
            [conformal_quantile(residuals[steps == h], level) for h in range(1, horizon + 1)]
        )
        finite = np.isfinite(q)
        if not finite.any():
            raise ValueError("no backtest residuals to calibrate intervals")
        for i in range(horizon):
            if not finite[i]:
                q[i] = q[i - 1] if i > 0 else q[finite][0]
        out[level] = np.maximum.accumulate(q)
    return out


def online_quantiles(
    residuals: np.ndarray,
    steps: np.ndarray,
    target_week: np.ndarray,
    *,
    origin_week: np.ndarray,
    query_steps: np.ndarray,
    level: int,
) -> np.ndarray:
    """For each query (origin, step): the quantile of residuals of that step already observed.

    ``target_week`` and ``origin_week`` are integer week numbers on one clock.
    """
    out = np.full(len(origin_week), np.inf)
    for h in np.unique(query_steps):
        mine = steps == h
        r, t = residuals[mine], target_week[mine]
        order = np.argsort(t)
        r, t = r[order], t[order]
        for i in np.flatnonzero(query_steps == h):
            seen = np.searchsorted(t, origin_week[i], side="right")
            out[i] = conformal_quantile(r[:seen], level)
    return out

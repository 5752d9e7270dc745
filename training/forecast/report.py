"""The backtest as Markdown tables: overall and per series, one row per method.

Shared by ``candor train forecast`` (printed) and ``make bench`` (written to bench/results).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from candor.training.forecast.backtest import BacktestResult

if TYPE_CHECKING:
    from candor.training.forecast.reconcile import ReconciliationResult

COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (metric key, header, format)
    ("mase", "MASE", "{:.3f}"),
    ("smape", "sMAPE %", "{:.1f}"),
    ("rmse", "RMSE", "{:.2f}"),
    ("coverage80", "cov80", "{:.3f}"),
    ("coverage95", "cov95", "{:.3f}"),
    ("winkler80", "Winkler80", "{:.1f}"),
    ("winkler95", "Winkler95", "{:.1f}"),
)


def metrics_table(
    rows: Sequence[tuple[str, Mapping[str, float]]], *, first: str = "method"
) -> list[str]:
    """Markdown lines: one row per ``(label, metrics)``; a missing metric shows as a dash."""
    header = f"| {first} | " + " | ".join(h for _, h, _ in COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(COLUMNS)
    lines = [header, rule]
    for label, metrics in rows:
        cells = [fmt.format(metrics[k]) if k in metrics else "-" for k, _, fmt in COLUMNS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def overall_table(result: BacktestResult) -> list[str]:
    """Every method over all series and scored forecasts."""
    return metrics_table([(m, t["overall"]) for m, t in result.tables.items()])


def series_table(result: BacktestResult) -> list[str]:
    """Every series, every method (rows grouped by series)."""
    rows = [
        (f"{series} / {method}", result.tables[method][series])
        for series in result.series_names
        for method in result.tables
        if series in result.tables[method]
    ]
    return metrics_table(rows, first="series / method")


def relative_mase(result: BacktestResult, model: str, baseline: str) -> float | None:
    """The model's overall MASE over the baseline's, or None when the baseline did not run."""
    if baseline not in result.tables:
        return None
    return result.tables[model]["overall"]["mase"] / result.tables[baseline]["overall"]["mase"]


def level_table(reconciled: ReconciliationResult) -> list[str]:
    """Per level of the hierarchy (coarsest first): base, BottomUp and MinTrace forecasts."""
    levels = list(dict.fromkeys(r["level"] for r in reconciled.table))
    ordered = sorted(reconciled.table, key=lambda r: levels.index(r["level"]))
    rows = [(f"{r['level']} ({r['nodes']}) / {r['method']}", r) for r in ordered]
    return metrics_table(rows, first="level (nodes) / method")

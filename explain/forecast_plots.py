"""PNG plots of sales forecasts: recent history, point forecast and 80%/95% bands (matplotlib).

Used by training (logged to the MLflow run) and by serving (one series on request). Inputs are
the framework-free :class:`SeriesHistory` and :class:`SeriesForecast`; the y axis is in the
contract's target unit (:func:`target_unit`: units sold, dollars...).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a server has no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from candor.models.contract import SalesContract
from candor.models.forecast import SeriesForecast, SeriesHistory

HISTORY_WEEKS_SHOWN = 104
COLOURS = {"history": "#333333", "point": "#1f5fa8", "band80": "#6e9fd6", "band95": "#c4d8ef"}


@dataclass(frozen=True)
class ForecastPanel:
    """One series to draw: its history, its forecast and a title."""

    history: SeriesHistory
    forecast: SeriesForecast
    title: str


def target_unit(contract: SalesContract) -> str:
    """The unit of the contract's target (``units``, ``USD``), or its name when none is given."""
    target = contract.target_field
    return target.unit or target.name


def _draw(ax: Axes, panel: ForecastPanel, *, history_weeks: int, legend: bool, unit: str) -> None:
    shown = panel.history.tail(history_weeks)
    weeks = shown.week(np.arange(len(shown))).astype("datetime64[D]")
    f = panel.forecast
    future = np.array([np.datetime64(w.week, "D") for w in f.weeks])
    point = np.array([w.point for w in f.weeks])
    ax.plot(weeks, shown.units, color=COLOURS["history"], linewidth=1.0, label="actual")
    if len(future):
        # join the forecast to the last actual week so the eye follows one line
        x = np.concatenate([weeks[-1:], future])
        last = shown.units[-1:]
        for level, colour in ((95, COLOURS["band95"]), (80, COLOURS["band80"])):
            lo = np.concatenate([last, [w.lower[level] for w in f.weeks]])
            hi = np.concatenate([last, [w.upper[level] for w in f.weeks]])
            ax.fill_between(x, lo, hi, color=colour, linewidth=0, label=f"{level}% interval")
        ax.plot(x, np.concatenate([last, point]), color=COLOURS["point"], label="forecast")
    ax.set_title(panel.title, fontsize=9)
    ax.set_ylabel(f"{unit} / week", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_ylim(bottom=0)
    if legend:
        ax.legend(fontsize=7, loc="upper left")


def forecast_figure(
    panels: Sequence[ForecastPanel],
    *,
    unit: str,
    history_weeks: int = HISTORY_WEEKS_SHOWN,
    title: str | None = None,
) -> Figure:
    """A grid of panels (up to 4 columns), one per series; the first carries the legend.

    ``unit`` labels the y axis (``{unit} / week``): the contract's :func:`target_unit`.
    """
    if not panels:
        raise ValueError("nothing to plot: no series given")
    columns = min(4, len(panels))
    rows = math.ceil(len(panels) / columns)
    # one series alone (the HTTP picture) gets a readable size of its own
    size = (8.0, 4.2) if len(panels) == 1 else (3.6 * columns, 2.5 * rows + 0.6)
    fig, axes = plt.subplots(rows, columns, figsize=size, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < len(panels):
            _draw(ax, panels[i], history_weeks=history_weeks, legend=i == 0, unit=unit)
        else:
            ax.set_visible(False)
    fig.autofmt_xdate()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def forecast_plot(
    panels: Sequence[ForecastPanel],
    path: Path,
    *,
    unit: str,
    history_weeks: int = HISTORY_WEEKS_SHOWN,
    title: str | None = None,
) -> Path:
    """Write the grid of :func:`forecast_figure` to ``path`` (PNG)."""
    fig = forecast_figure(panels, unit=unit, history_weeks=history_weeks, title=title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def forecast_png(
    panels: Sequence[ForecastPanel],
    *,
    unit: str,
    history_weeks: int = HISTORY_WEEKS_SHOWN,
    title: str | None = None,
) -> bytes:
    """The same picture as PNG bytes (for an HTTP response)."""
    fig = forecast_figure(panels, unit=unit, history_weeks=history_weeks, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()

"""Forecast drivers: a forecast week's point split into recent level, seasonality and activity.

The forecaster returns each week's TreeSHAP contributions in units (one per feature, plus the
baseline ``level * base value``); here they are summed by the feature groups of its layout, as
lead reasons are built from the scorer's contributions in :mod:`candor.explain.lead_reasons`.
``recent_level`` also holds the baseline (the forecast of an "average week at this level") and
whatever the clip of a negative forecast to 0 units removed, so that the drivers of a week add
up exactly to its point forecast.
"""

from __future__ import annotations

import numpy as np

from candor.models.forecast import FEATURE_GROUPS, GROUP_LEVEL, FeatureLayout, WeekForecast


def week_drivers(week: WeekForecast, layout: FeatureLayout) -> dict[str, float]:
    """Units per group of :data:`FEATURE_GROUPS`; they add up to ``week.point``.

    Raises:
        ValueError: the week was forecast without contributions (``explain="none"``).
    """
    if week.contributions is None or week.baseline is None:
        raise ValueError(f"week {week.week} was forecast without contributions")
    phi = np.array([week.contributions[name] for name in layout.names] + [week.baseline])
    grouped = phi[:-1] @ layout.group_matrix()
    level = FEATURE_GROUPS.index(GROUP_LEVEL)
    grouped[level] += week.baseline
    # a forecast below 0 units is reported as 0: the clip goes to recent_level
    grouped[level] += week.point - float(phi.sum())
    return {group: float(v) for group, v in zip(FEATURE_GROUPS, grouped, strict=True)}

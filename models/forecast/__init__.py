"""The sales forecaster, one concept a module (as ``models/leads/``: features, then the model).

``calendar`` (holidays, week starts, calendar features), ``history`` (a series' weekly history,
its level and noise scale), ``features`` (the feature layout and the one transformation of
training and serving), ``arguments`` (checks of :meth:`SalesForecaster.forecast`'s arguments),
``forecaster`` (the fitted model and its forecasts), ``persistence`` (its plain files).
"""

from candor.models.forecast.calendar import (
    FOURIER_ORDER,
    calendar_features,
    holiday_dates,
    holiday_days,
    holiday_source,
    week_starts,
)
from candor.models.forecast.features import (
    EWM_ALPHAS,
    FEATURE_GROUPS,
    GROUP_ACTIVITY,
    GROUP_LEVEL,
    GROUP_SEASONALITY,
    RECENT_WINDOW,
    FeatureLayout,
    assemble,
    build_features,
    origin_features,
    target_features,
)
from candor.models.forecast.forecaster import (
    HISTORY_WEEKS,
    INTERVAL_LEVELS,
    MAX_HORIZON,
    MIN_ORIGIN,
    SalesForecaster,
    SeriesForecast,
    WeekForecast,
)
from candor.models.forecast.history import (
    LEVEL_FLOOR,
    LEVEL_WINDOW,
    NOISE_FLOOR,
    NOISE_FLOOR_SHARE,
    NOISE_WINDOW,
    SeriesHistory,
    noise_scale,
    series_level,
)

__all__ = [
    "EWM_ALPHAS",
    "FEATURE_GROUPS",
    "FOURIER_ORDER",
    "GROUP_ACTIVITY",
    "GROUP_LEVEL",
    "GROUP_SEASONALITY",
    "HISTORY_WEEKS",
    "INTERVAL_LEVELS",
    "LEVEL_FLOOR",
    "LEVEL_WINDOW",
    "MAX_HORIZON",
    "MIN_ORIGIN",
    "NOISE_FLOOR",
    "NOISE_FLOOR_SHARE",
    "NOISE_WINDOW",
    "RECENT_WINDOW",
    "FeatureLayout",
    "SalesForecaster",
    "SeriesForecast",
    "SeriesHistory",
    "WeekForecast",
    "assemble",
    "build_features",
    "calendar_features",
    "holiday_dates",
    "holiday_days",
    "holiday_source",
    "noise_scale",
    "origin_features",
    "series_level",
    "target_features",
    "week_starts",
]

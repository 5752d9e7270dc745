"""The calendar of weekly sales: holidays, week starts and the calendar features of a week.

Holidays are a country's (and subdivision's) public holidays from the ``holidays`` package,
named by the sales contract (:class:`~candor.models.contract.HolidayCalendar`): a week is a
holiday week when one of them (or its observed day) falls within it.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib.metadata import version

import numpy as np

from candor.models.contract import HolidayCalendar, WeekLabel

FOURIER_ORDER = 3  # pairs of yearly sine/cosine terms


def holiday_dates(calendar: HolidayCalendar, first_year: int, last_year: int) -> dict[date, str]:
    """Every public holiday of the calendar in the years, with its name (observed days too).

    From the ``holidays`` package (its version is :func:`holiday_source`): the same package
    version gives the same dates, so training and serving flag the same weeks.
    """
    import holidays  # about 50 ms, lazily loaded: only a contract with a calendar pays it

    days = holidays.country_holidays(
        calendar.country,
        subdiv=calendar.subdiv,
        years=range(first_year, last_year + 1),
        observed=True,
    )
    return dict(sorted(days.items()))


@lru_cache(maxsize=32)
def holiday_days(calendar: HolidayCalendar, first_year: int, last_year: int) -> np.ndarray:
    """Sorted holiday dates (days since the epoch, int64) of the calendar in the years."""
    days = holiday_dates(calendar, first_year, last_year)
    return np.array([np.datetime64(d, "D").astype(np.int64) for d in days], dtype=np.int64)


def holiday_source(calendar: HolidayCalendar | None) -> str:
    """Where the holiday feature's dates come from, for the model's metadata and card."""
    if calendar is None:
        return "none (the contract names no holiday calendar)"
    return (
        f"public holidays of {calendar.label}, observed days included, from the holidays "
        f"package {version('holidays')}"
    )


def week_starts(labels: np.ndarray, week_label: WeekLabel) -> np.ndarray:
    """First day of each week (datetime64[D]) from the dates the file gives."""
    labels = labels.astype("datetime64[D]")
    return labels - np.timedelta64(6, "D") if week_label is WeekLabel.END else labels


def calendar_features(
    labels: np.ndarray, *, week_label: WeekLabel, holidays: HolidayCalendar | None
) -> dict[str, np.ndarray]:
    """Yearly Fourier terms of the week's middle day and a holiday flag, one value per week."""
    start = week_starts(labels, week_label)
    middle = start + np.timedelta64(3, "D")
    years = middle.astype("datetime64[Y]")
    day_of_year = (middle - years.astype("datetime64[D]")).astype(float)
    phase = 2.0 * np.pi * day_of_year / 365.25
    out: dict[str, np.ndarray] = {}
    for k in range(1, FOURIER_ORDER + 1):
        out[f"week_sin_{k}"] = np.sin(k * phase)
        out[f"week_cos_{k}"] = np.cos(k * phase)
    flag = np.zeros(len(labels))
    if holidays is not None and len(labels):
        year_numbers = years.astype(int) + 1970
        hd = holiday_days(holidays, int(year_numbers.min()) - 1, int(year_numbers.max()) + 1)
        first = start.astype(np.int64)
        flag = (np.searchsorted(hd, first + 7) - np.searchsorted(hd, first)).astype(float)
        flag = np.minimum(flag, 1.0)
    out["holiday_week"] = flag
    return out

"""The calendar of weekly sales: holidays, week starts and the calendar features of a week."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from candor.models.contract import WeekLabel

FOURIER_ORDER = 3  # pairs of yearly sine/cosine terms


def easter_western(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month = (h + el - 7 * m + 114) // 31
    day = (h + el - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def easter_orthodox(year: int) -> date:
    """Orthodox Easter Sunday (Julian computus), as a Gregorian date (valid 1900-2099)."""
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month = (d + e + 114) // 31
    day = (d + e + 114) % 31 + 1
    return date(year, month, day) + timedelta(days=13)


def _thanksgiving_us(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def _holiday(name: str, year: int) -> date:
    fixed = {
        "new_year": (1, 1),
        "labour_day": (5, 1),
        "christmas": (12, 25),
        "boxing_day": (12, 26),
        "orthodox_christmas": (1, 7),
    }
    if name in fixed:
        month, day = fixed[name]
        return date(year, month, day)
    if name == "good_friday":
        return easter_western(year) - timedelta(days=2)
    if name == "easter_monday":
        return easter_western(year) + timedelta(days=1)
    if name == "orthodox_easter":
        return easter_orthodox(year)
    if name == "thanksgiving_us":
        return _thanksgiving_us(year)
    raise ValueError(f"unknown holiday {name!r}")


@lru_cache(maxsize=32)
def holiday_days(names: tuple[str, ...], first_year: int, last_year: int) -> np.ndarray:
    """Sorted holiday dates (days since the epoch, int64) of the named holidays."""
    days = {
        np.datetime64(_holiday(n, y), "D").astype(np.int64)
        for n in names
        for y in range(first_year, last_year + 1)
    }
    return np.array(sorted(days), dtype=np.int64)


def week_starts(labels: np.ndarray, week_label: WeekLabel) -> np.ndarray:
    """First day of each week (datetime64[D]) from the dates the file gives."""
    labels = labels.astype("datetime64[D]")
    return labels - np.timedelta64(6, "D") if week_label is WeekLabel.END else labels


def calendar_features(
    labels: np.ndarray, *, week_label: WeekLabel, holidays: tuple[str, ...]
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
    if holidays and len(labels):
        year_numbers = years.astype(int) + 1970
        hd = holiday_days(
            tuple(sorted(holidays)), int(year_numbers.min()) - 1, int(year_numbers.max()) + 1
        )
        first = start.astype(np.int64)
        flag = (np.searchsorted(hd, first + 7) - np.searchsorted(hd, first)).astype(float)
        flag = np.minimum(flag, 1.0)
    out["holiday_week"] = flag
    return out

"""Deterministic generator of synthetic weekly sales per territory and product.

Every number is invented (territory and product names too). The columns are those of the
built-in sales contract ``SALES_WEEKLY`` (``models/contract.py``): ``week`` (the Monday that
starts the week), ``territory``, ``product``, ``units`` and the field-force covariates
``rep_calls``, ``samples_dropped`` and ``promo``.

True model (multiplicative; the exact numbers are the module constants below). For series
(territory ``i``, product ``p``) in week ``t``::

    expected units = PRODUCTS[p].base_units * TERRITORY_SIZE[i]
        * (1 + PRODUCTS[p].yearly_growth) ** years_since_start
        * (1 + PRODUCTS[p].season_amplitude * cos(2 pi (day_of_year - SEASON_PEAK_DAY) / 365.25))
        * HOLIDAY_FACTOR[holiday] for a week holding that holiday
        * exp(activity)
    activity = CALL_EFFECT * (rep_calls[t] - usual_calls)
        + CALL_CARRYOVER * (rep_calls[t-1] - usual_calls)
        + SAMPLE_EFFECT * (samples_dropped[t-1] + samples_dropped[t-2]) / 10
        + PROMO_EFFECT * promo[t] + PROMO_DIP * promo[t-1] * (1 - promo[t])
    units ~ Poisson(expected units * Gamma(NOISE_SHAPE, 1 / NOISE_SHAPE))

where ``usual_calls = USUAL_CALLS_PER_SIZE * TERRITORY_SIZE[i]`` (the mean outside campaigns).

In words:

* **Trend**: cardiovascular and diabetes products grow (+8% and +14% a year), the respiratory
  ones barely (+2%, +0%).
* **Seasonality**: the respiratory products ``Bronchivent`` (inhaler) and ``Flumistar``
  (antiviral) peak in mid-January, 45% and 70% above their yearly mean, and trough in July;
  the others vary by 4% or less.
* **Holidays** (the US public holidays of the ``holidays`` package, as the contract's
  calendar): the week holding Christmas Day sells 45% less, New Year's Day 30% less,
  Thanksgiving 15% less, Memorial Day and Labor Day 10% less each; the other public holidays
  (which the contract flags too) change nothing.
* **Rep calls** (known in advance: the call plan): each call above the series' usual number
  adds 2.0% to that week's expected units and 1.0% to the next week's. Call campaigns (six
  weeks, about 45% more calls) start at random, a few times a year per territory.
* **Samples dropped** (only known afterwards): each 10 samples left with prescribers add 2.5%
  to the expected units of each of the *two following* weeks, not the week itself. Reps drop
  about 2.5 samples per call.
* **Promotions** (planned): +30% in a promotion week; the week after a promotion, if not one
  itself, sells 10% less (purchases pulled forward). Promotions run in blocks of two weeks,
  about four blocks a year per series.
* **Noise**: Poisson counts on a Gamma(40) multiplicative shock: about 16% relative noise
  week to week on top of the counting noise.

Because the generating model is known, tests can check that a trained forecaster credits
promotions to the ``activity`` group and winter to ``seasonality``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from candor.data_samples.sampling import gamma_poisson
from candor.models.contract import SALES_WEEKLY, HolidayCalendar
from candor.models.forecast import holiday_dates

COLUMNS: tuple[str, ...] = tuple(SALES_WEEKLY.names)
START_WEEK = "2021-01-04"  # a Monday
DEFAULT_WEEKS = 209  # four years: 2021-01-04 .. 2024-12-30
DEFAULT_SEED = 11

TERRITORY_SIZE: dict[str, float] = {
    "Northgate": 1.6,
    "Riverside": 1.2,
    "Lakeshore": 1.0,
    "Highland": 0.8,
    "Eastmoor": 0.6,
    "Southvale": 0.4,
}
RESPIRATORY = ("Bronchivent", "Flumistar")
# the hierarchy of the sample's contract: territory -> region -> national, product -> line
REGION: dict[str, str] = {
    "Northgate": "North",
    "Highland": "North",
    "Riverside": "Central",
    "Lakeshore": "Central",
    "Eastmoor": "South",
    "Southvale": "South",
}
PRODUCT_LINE: dict[str, str] = {
    "Bronchivent": "Respiratory",
    "Flumistar": "Respiratory",
    "Cardiolex": "Cardiometabolic",
    "Glucora": "Cardiometabolic",
}


@dataclass(frozen=True)
class Product:
    """One product's true demand, before activity, holidays and noise."""

    base_units: float  # units a week in a territory of size 1, at the start
    yearly_growth: float  # share a year (0.08: +8% a year)
    season_amplitude: float  # share above the yearly mean at the peak, below it at the trough


PRODUCTS: dict[str, Product] = {
    "Bronchivent": Product(base_units=110.0, yearly_growth=0.02, season_amplitude=0.45),
    "Flumistar": Product(base_units=60.0, yearly_growth=0.0, season_amplitude=0.70),
    "Cardiolex": Product(base_units=140.0, yearly_growth=0.08, season_amplitude=0.04),
    "Glucora": Product(base_units=90.0, yearly_growth=0.14, season_amplitude=0.02),
}
SEASON_PEAK_DAY = 15  # day of the year of the peak (mid-January)
# by the holiday's name in the holidays package's US calendar (the day itself, not an observed
# day: "Christmas Day (observed)" is not listed)
HOLIDAY_FACTOR: dict[str, float] = {
    "Christmas Day": 0.55,
    "New Year's Day": 0.70,
    "Thanksgiving Day": 0.85,
    "Memorial Day": 0.90,
    "Labor Day": 0.90,
}
USUAL_CALLS_PER_SIZE = 9.0  # usual calls per week of a series = this * territory size
CAMPAIGN_LIFT = 0.45  # share of extra calls during a campaign
CAMPAIGN_WEEKS = 6
CAMPAIGNS_PER_YEAR = 3.0  # per territory (all its products)
SAMPLES_PER_CALL = 2.5
PROMO_BLOCK_WEEKS = 2
PROMO_BLOCKS_PER_YEAR = 4.0  # per series
CALL_EFFECT = 0.020  # log-units per call above the usual number, same week
CALL_CARRYOVER = 0.010  # log-units per call above the usual number, the week after
SAMPLE_EFFECT = 0.025  # log-units per 10 samples, in each of the two following weeks
PROMO_EFFECT = float(np.log(1.30))
PROMO_DIP = float(np.log(0.90))
NOISE_SHAPE = 40.0

CALENDAR = HolidayCalendar("US")
assert SALES_WEEKLY.holidays == CALENDAR, "the sample's contract flags the generator's calendar"
# Every holiday the generator uses must be one the contract's calendar flags.
assert set(HOLIDAY_FACTOR) <= set(holiday_dates(CALENDAR, 2021, 2024).values())


def week_starts(weeks: int, start: str = START_WEEK) -> np.ndarray:
    """The Mondays that start each week (datetime64[D])."""
    first = np.datetime64(start, "D")
    if (first.astype(np.int64) - 4) % 7 != 0:  # 1970-01-05 was a Monday
        raise ValueError(f"start must be a Monday, got {start}")
    return first + 7 * np.arange(weeks)


def seasonal_factor(product: str, weeks: np.ndarray) -> np.ndarray:
    """The yearly seasonal multiplier of a product for each week (from its middle day)."""
    middle = weeks + np.timedelta64(3, "D")
    day_of_year = (middle - middle.astype("datetime64[Y]").astype("datetime64[D]")).astype(float)
    phase = 2.0 * np.pi * (day_of_year - SEASON_PEAK_DAY) / 365.25
    return 1.0 + PRODUCTS[product].season_amplitude * np.cos(phase)


def holiday_factor(weeks: np.ndarray) -> np.ndarray:
    """Product of HOLIDAY_FACTOR over the holidays falling in each Monday-to-Sunday week."""
    years = weeks.astype("datetime64[Y]").astype(int) + 1970
    first, last = int(years.min()) - 1, int(years.max()) + 1
    dates = holiday_dates(CALENDAR, first, last)
    start = weeks.astype(np.int64)
    out = np.ones(len(weeks))
    for name, factor in HOLIDAY_FACTOR.items():
        days = np.array(
            [np.datetime64(d, "D").astype(np.int64) for d, n in dates.items() if n == name],
            dtype=np.int64,
        )
        hit = np.searchsorted(days, start + 7) - np.searchsorted(days, start) > 0
        out[hit] *= factor
    return out


def _blocks(rng: np.random.Generator, weeks: int, *, per_year: float, length: int) -> np.ndarray:
    """0/1 weekly flags: blocks of ``length`` weeks starting at random, ``per_year`` a year."""
    flags = np.zeros(weeks)
    starts = np.flatnonzero(rng.random(weeks) < per_year / 52.0)
    for s in starts:
        flags[s : s + length] = 1.0
    return flags


def _lag(values: np.ndarray, k: int) -> np.ndarray:
    return np.concatenate([np.zeros(k), values[:-k]]) if k < len(values) else np.zeros_like(values)


def true_activity(
    rep_calls: np.ndarray, samples: np.ndarray, promo: np.ndarray, usual_calls: float
) -> np.ndarray:
    """The log-multiplier of expected units from the field force's activity, per week."""
    extra = rep_calls - usual_calls
    return (
        CALL_EFFECT * extra
        + CALL_CARRYOVER * np.concatenate([[0.0], extra[:-1]])
        + SAMPLE_EFFECT * (_lag(samples, 1) + _lag(samples, 2)) / 10.0
        + PROMO_EFFECT * promo
        + PROMO_DIP * _lag(promo, 1) * (1.0 - promo)
    )


def expected_units(
    territory: str,
    product: str,
    weeks: np.ndarray,
    *,
    rep_calls: np.ndarray,
    samples: np.ndarray,
    promo: np.ndarray,
) -> np.ndarray:
    """The true mean of ``units`` for each week of one series (before noise)."""
    years = (weeks - weeks[0]).astype(float) / 365.25
    usual = USUAL_CALLS_PER_SIZE * TERRITORY_SIZE[territory]
    return (
        PRODUCTS[product].base_units
        * TERRITORY_SIZE[territory]
        * (1.0 + PRODUCTS[product].yearly_growth) ** years
        * seasonal_factor(product, weeks)
        * holiday_factor(weeks)
        * np.exp(true_activity(rep_calls, samples, promo, usual))
    )


def generate_sales(
    *,
    weeks: int = DEFAULT_WEEKS,
    seed: int = DEFAULT_SEED,
    start: str = START_WEEK,
    territories: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Weekly sales of every territory and product; the same seed gives the same frame.

    Returns one row per (territory, product, week), columns in the contract's order, sorted
    by territory, product and week. ``territories`` picks a subset of ``TERRITORY_SIZE``.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    chosen = dict(territories) if territories is not None else TERRITORY_SIZE
    unknown = sorted(set(chosen) - set(TERRITORY_SIZE))
    if unknown:
        raise ValueError(f"unknown territories {unknown}; known: {sorted(TERRITORY_SIZE)}")
    rng = np.random.default_rng(seed)
    week = week_starts(weeks, start)
    frames: list[pd.DataFrame] = []
    for territory in sorted(chosen):
        size = TERRITORY_SIZE[territory]
        usual = USUAL_CALLS_PER_SIZE * size
        campaign = _blocks(rng, weeks, per_year=CAMPAIGNS_PER_YEAR, length=CAMPAIGN_WEEKS)
        for product in sorted(PRODUCTS):
            calls = rng.poisson(usual * (1.0 + CAMPAIGN_LIFT * campaign)).astype(float)
            samples = rng.poisson(SAMPLES_PER_CALL * calls).astype(float)
            promo = _blocks(rng, weeks, per_year=PROMO_BLOCKS_PER_YEAR, length=PROMO_BLOCK_WEEKS)
            mean = expected_units(
                territory, product, week, rep_calls=calls, samples=samples, promo=promo
            )
            units = gamma_poisson(rng, mean, shape=NOISE_SHAPE, size=weeks)
            frames.append(
                pd.DataFrame(
                    {
                        "week": pd.to_datetime(week).strftime("%Y-%m-%d"),
                        "territory": territory,
                        "region": REGION[territory],
                        "product": product,
                        "product_line": PRODUCT_LINE[product],
                        "units": units.astype(np.int64),
                        "rep_calls": calls.astype(np.int64),
                        "samples_dropped": samples.astype(np.int64),
                        "promo": promo.astype(np.int64),
                    }
                )
            )
    frame = pd.concat(frames, ignore_index=True)
    return frame[list(COLUMNS)]


if __name__ == "__main__":  # python -m data_samples.generate_sales > data_samples/sales_weekly.csv
    import sys

    generate_sales().to_csv(sys.stdout, index=False)

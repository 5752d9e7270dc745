"""Deterministic generator of synthetic healthcare-professional (HCP) leads.

Every row is invented: names come from small lists of made-up names, e-mail addresses use the
reserved ``example.org`` domain and phone numbers use the ``555-01xx`` block that is reserved
for fiction. Nothing here describes a real person.

The outcome ``converted`` is drawn as ``Bernoulli(true_probability(frame))``, where the true
log-odds are ``INTERCEPT`` plus one additive term per driver (see ``true_logit_terms``). Because
the generating model is known, tests can check that a trained model's explanations recover the
true drivers:

* Strong, clearly ranked: ``webinars_attended_90d`` > ``samples_requested_90d`` >
  ``rep_visits_90d`` (each term's standard deviation at least 25% above the next one's).
* Medium: ``formulary_status``, ``prescribing_decile`` (sensitive, positive), ``specialty``,
  ``emails_opened_90d``, ``days_since_last_contact`` (more days lower the odds; a missing value
  means "never contacted" and adds a fixed negative term).
* Weak: ``region``, ``practice_setting``, ``practice_size``, ``years_in_practice``,
  ``website_visits_30d``, ``lead_source``.
* No direct effect: ``territory_type``, ``patient_volume_band``, ``gender``, ``age_band``, and
  the consent flags ``data_use_consent`` and ``do_not_contact`` (drawn independently of
  everything else), and the consents per purpose and channel with their expiries (drawn on a
  stream of their own, see ``_draw_consent``). ``age_band`` is correlated with
  ``years_in_practice`` and ``patient_volume_band`` with ``prescribing_decile``, so a model may
  still lean on them.

Known bias (what a fairness audit should find): rural territories historically received fewer
rep visits (``rep_visits_90d`` is Poisson with a much lower mean for rural leads), so fewer rural
leads converted. There is no direct ``territory_type`` term in the true log-odds: the whole gap
flows through rep visits, i.e. it reflects how the sales force allocated its effort, not how
receptive rural prescribers are.

The exact numbers are defined once as module constants; ``DRIVERS`` and the table appended to
this docstring below are rendered from them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from candor.data_samples.sampling import gamma_poisson
from candor.models.contract import HCP_LEADS, Kind

# --- Column layout -------------------------------------------------------------------------

# The layout comes from the data contract, never from a second list of names.
ID_COLUMN = HCP_LEADS.id_field.name
TARGET_COLUMN = HCP_LEADS.target_field.name
COLUMNS: tuple[str, ...] = tuple(HCP_LEADS.names)

# --- Population (how features are drawn) ---------------------------------------------------

FIRST_NAMES: tuple[str, ...] = (
    "Avelin", "Brisa", "Corvan", "Dalira", "Elsworth", "Fenna", "Garrow", "Halden",
    "Isolde", "Jorvik", "Kestra", "Lumen", "Marisol", "Nerit", "Orlan", "Pella",
    "Quillon", "Rosamel", "Sabeth", "Tamsin", "Ulric", "Vesna", "Wrenna", "Yarrow",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Ashcombe", "Brightwater", "Caldermoor", "Dunstrey", "Elderholm", "Fallowmere",
    "Greywick", "Hollowell", "Ironvale", "Kettleby", "Larkspur", "Mossgrove", "Northam",
    "Oakenshaw", "Pennick", "Quarrington", "Ravenhill", "Stonebury", "Thornfield",
    "Underhay", "Westmarch", "Yelverton",
)  # fmt: skip

SPECIALTY_SHARES: dict[str, float] = {
    "Primary care": 0.30,
    "Cardiology": 0.14,
    "Endocrinology": 0.12,
    "Oncology": 0.10,
    "Pulmonology": 0.09,
    "Neurology": 0.09,
    "Psychiatry": 0.09,
    "Dermatology": 0.07,
}
REGION_SHARES: dict[str, float] = {
    "Northeast": 0.22,
    "Southeast": 0.24,
    "Midwest": 0.21,
    "Southwest": 0.13,
    "West": 0.20,
}
TERRITORY_SHARES: dict[str, float] = {"urban": 0.45, "suburban": 0.35, "rural": 0.20}
PRACTICE_SETTING_SHARES: dict[str, float] = {
    "Hospital": 0.25,
    "Group practice": 0.35,
    "Solo practice": 0.15,
    "Clinic": 0.25,
}
# Median number of prescribers per setting; sizes are log-normal around it (right-skewed).
PRACTICE_SIZE_MEDIAN: dict[str, float] = {
    "Hospital": 40.0,
    "Group practice": 8.0,
    "Solo practice": 1.0,
    "Clinic": 12.0,
}
PRACTICE_SIZE_LOG_SD = 0.8
PRACTICE_SIZE_RANGE = (1, 200)
YEARS_IN_PRACTICE_RANGE = (1, 45)
# Age at first licence is roughly 27-32, which ties age_band to years_in_practice.
LICENCE_AGE_RANGE = (27, 32)
AGE_BANDS: tuple[tuple[str, int], ...] = (
    ("<35", 35),
    ("35-44", 45),
    ("45-54", 55),
    ("55-64", 65),
    ("65+", 10_000),
)  # (label, first age of the next band)
GENDER_SHARES: dict[str, float] = {"Female": 0.48, "Male": 0.49, "Non-binary": 0.03}
LEAD_SOURCE_SHARES: dict[str, float] = {
    "Conference": 0.15,
    "Website": 0.22,
    "Referral": 0.12,
    "Rep visit": 0.20,
    "Email campaign": 0.18,
    "Webinar": 0.13,
}
EMAILS_OPENED_MEAN = 4.0
WEBINARS_MEAN = 1.0
# Leads that came in through a webinar keep attending them.
WEBINARS_MEAN_WEBINAR_SOURCE = 2.0
WEBINARS_MAX = 8
# Gamma-Poisson mixing (shape parameter) makes engagement counts over-dispersed, as in CRM data.
ENGAGEMENT_GAMMA_SHAPE = 2.0
REP_VISIT_MEAN_BY_TERRITORY: dict[str, float] = {"urban": 3.0, "suburban": 2.6, "rural": 1.0}
SAMPLES_MEAN = 1.5
WEBSITE_VISITS_MEAN = 3.0
DAYS_SINCE_CONTACT_MEAN = 40.0
DAYS_SINCE_CONTACT_MAX = 365.0
NEVER_CONTACTED_SHARE = 0.12
FORMULARY_SHARES: dict[str, float] = {"Preferred": 0.30, "Covered": 0.45, "Not covered": 0.25}
# P(patient_volume_band | prescribing decile 1-3, 4-7, 8-10): high prescribers see more patients.
VOLUME_BAND_SHARES_BY_DECILE_GROUP: tuple[tuple[int, dict[str, float]], ...] = (
    (3, {"Low": 0.65, "Medium": 0.30, "High": 0.05}),
    (7, {"Low": 0.20, "Medium": 0.60, "High": 0.20}),
    (10, {"Low": 0.05, "Medium": 0.30, "High": 0.65}),
)  # (highest decile of the group, shares)
DATA_USE_CONSENT_SHARE = 0.75
DO_NOT_CONTACT_SHARE = 0.04
# Consent per purpose and channel, drawn on a stream of their own (CONSENT_STREAM): the columns
# above, and so the outcome and every trained model, are those of the sample without them.
CALL_PLANNING_CONSENT_SHARE = 0.8  # of data use for call planning too (beside data_use_consent)
CHANNEL_CONSENT_SHARES: dict[str, float] = {"email": 0.65, "phone": 0.55, "visit": 0.8, "text": 0.2}
# e-mail and text consents lapse (double opt-in renewed every few years): a day drawn uniformly
# from this range, so some have lapsed and some have not, whatever the date today
EXPIRY_RANGE: tuple[str, str] = ("2024-01-01", "2031-12-31")
# of the opted-out leads, the share that also withdrew every channel consent
WITHDREW_ALL_SHARE = 0.5

# --- True effects (log-odds) ---------------------------------------------------------------

INTERCEPT = -4.3
WEBINAR_LOGODDS = 0.90
WEBINAR_CAP = 4
SAMPLE_LOGODDS = 0.55
SAMPLE_CAP = 5
REP_VISIT_LOGODDS = 0.32
REP_VISIT_CAP = 8
FORMULARY_LOGODDS: dict[str, float] = {"Preferred": 0.45, "Covered": 0.0, "Not covered": -0.45}
PRESCRIBING_DECILE_LOGODDS = 0.11
SPECIALTY_LOGODDS: dict[str, float] = {
    "Primary care": 0.0,
    "Cardiology": 0.35,
    "Endocrinology": 0.55,
    "Oncology": -0.20,
    "Pulmonology": 0.10,
    "Neurology": -0.10,
    "Psychiatry": -0.25,
    "Dermatology": -0.30,
}
EMAIL_LOGODDS = 0.08
EMAIL_CAP = 12
DAYS_SINCE_CONTACT_LOGODDS = -0.009
DAYS_SINCE_CONTACT_CAP = 120.0
NEVER_CONTACTED_LOGODDS = -0.80
REGION_LOGODDS: dict[str, float] = {
    "Northeast": 0.05,
    "Southeast": 0.0,
    "Midwest": 0.0,
    "Southwest": -0.05,
    "West": 0.05,
}
PRACTICE_SETTING_LOGODDS: dict[str, float] = {
    "Hospital": -0.10,
    "Group practice": 0.05,
    "Solo practice": 0.0,
    "Clinic": 0.05,
}
PRACTICE_SIZE_LOGODDS_PER_DOUBLING = 0.02
YEARS_IN_PRACTICE_LOGODDS = -0.004
WEBSITE_VISIT_LOGODDS = 0.03
WEBSITE_VISIT_CAP = 10
LEAD_SOURCE_LOGODDS: dict[str, float] = {
    "Conference": 0.05,
    "Website": 0.0,
    "Referral": 0.15,
    "Rep visit": 0.05,
    "Email campaign": -0.05,
    "Webinar": 0.0,
}
NO_DIRECT_EFFECT: tuple[str, ...] = (
    "territory_type",
    "patient_volume_band",
    "gender",
    "age_band",
)


def _signed(value: float) -> str:
    return f"{value:+.3g}" if value else "0"


def _describe_levels(logodds: Mapping[str, float]) -> str:
    return ", ".join(f"{level} {_signed(value)}" for level, value in logodds.items())


_NO_EFFECT_TEXT = "no direct effect (0 log-odds)"

DRIVERS: dict[str, str] = {
    "webinars_attended_90d": (
        f"{_signed(WEBINAR_LOGODDS)} log-odds per webinar attended in the last 90 days, "
        f"capped at {WEBINAR_CAP}"
    ),
    "samples_requested_90d": (
        f"{_signed(SAMPLE_LOGODDS)} log-odds per sample requested in the last 90 days, "
        f"capped at {SAMPLE_CAP}"
    ),
    "rep_visits_90d": (
        f"{_signed(REP_VISIT_LOGODDS)} log-odds per rep visit in the last 90 days, "
        f"capped at {REP_VISIT_CAP}"
    ),
    "formulary_status": f"log-odds by formulary status: {_describe_levels(FORMULARY_LOGODDS)}",
    "prescribing_decile": (
        f"{_signed(PRESCRIBING_DECILE_LOGODDS)} log-odds per prescribing decile (1-10)"
    ),
    "specialty": f"log-odds by specialty: {_describe_levels(SPECIALTY_LOGODDS)}",
    "emails_opened_90d": (
        f"{_signed(EMAIL_LOGODDS)} log-odds per email opened in the last 90 days, "
        f"capped at {EMAIL_CAP}"
    ),
    "days_since_last_contact": (
        f"{_signed(DAYS_SINCE_CONTACT_LOGODDS)} log-odds per day since the last contact, "
        f"capped at {DAYS_SINCE_CONTACT_CAP:g} days; never contacted (missing) "
        f"{_signed(NEVER_CONTACTED_LOGODDS)}"
    ),
    "region": f"log-odds by region: {_describe_levels(REGION_LOGODDS)}",
    "practice_setting": (
        f"log-odds by practice setting: {_describe_levels(PRACTICE_SETTING_LOGODDS)}"
    ),
    "practice_size": (
        f"{_signed(PRACTICE_SIZE_LOGODDS_PER_DOUBLING)} log-odds per doubling of the number "
        "of prescribers"
    ),
    "years_in_practice": f"{_signed(YEARS_IN_PRACTICE_LOGODDS)} log-odds per year in practice",
    "website_visits_30d": (
        f"{_signed(WEBSITE_VISIT_LOGODDS)} log-odds per website visit in the last 30 days, "
        f"capped at {WEBSITE_VISIT_CAP}"
    ),
    "lead_source": f"log-odds by lead source: {_describe_levels(LEAD_SOURCE_LOGODDS)}",
    "territory_type": (
        f"{_NO_EFFECT_TEXT}; rural leads get fewer rep visits (Poisson means "
        + ", ".join(f"{k} {v:g}" for k, v in REP_VISIT_MEAN_BY_TERRITORY.items())
        + "), so they convert less through rep_visits_90d only"
    ),
    "patient_volume_band": f"{_NO_EFFECT_TEXT}; correlated with prescribing_decile",
    "gender": f"{_NO_EFFECT_TEXT}; protected attribute, drawn independently",
    "age_band": f"{_NO_EFFECT_TEXT}; protected attribute, correlated with years_in_practice",
}


# --- True model ----------------------------------------------------------------------------


def _numeric(frame: pd.DataFrame, column: str, *, allow_missing: bool = False) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="raise").to_numpy(dtype=float)
    if not allow_missing and np.isnan(values).any():
        raise ValueError(f"column {column!r} has missing values; expected numbers")
    return values


def _levels(frame: pd.DataFrame, column: str, logodds: Mapping[str, float]) -> np.ndarray:
    mapped = frame[column].map(dict(logodds))
    unknown = mapped.isna()
    if unknown.any():
        bad = sorted({str(value) for value in frame.loc[unknown, column]})
        raise ValueError(f"column {column!r} has unknown values {bad}; expected {list(logodds)}")
    return mapped.to_numpy(dtype=float)


def _capped_count(frame: pd.DataFrame, column: str, per_unit: float, cap: float) -> np.ndarray:
    return per_unit * np.minimum(_numeric(frame, column), cap)


def _days_term(frame: pd.DataFrame) -> np.ndarray:
    days = _numeric(frame, "days_since_last_contact", allow_missing=True)
    contacted = DAYS_SINCE_CONTACT_LOGODDS * np.minimum(days, DAYS_SINCE_CONTACT_CAP)
    return np.where(np.isnan(days), NEVER_CONTACTED_LOGODDS, contacted)


def _zero(frame: pd.DataFrame) -> np.ndarray:
    # No-effect drivers need not be present (e.g. protected columns dropped before scoring).
    return np.zeros(len(frame))


_TERMS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "webinars_attended_90d": lambda f: _capped_count(
        f, "webinars_attended_90d", WEBINAR_LOGODDS, WEBINAR_CAP
    ),
    "samples_requested_90d": lambda f: _capped_count(
        f, "samples_requested_90d", SAMPLE_LOGODDS, SAMPLE_CAP
    ),
    "rep_visits_90d": lambda f: _capped_count(
        f, "rep_visits_90d", REP_VISIT_LOGODDS, REP_VISIT_CAP
    ),
    "formulary_status": lambda f: _levels(f, "formulary_status", FORMULARY_LOGODDS),
    "prescribing_decile": lambda f: PRESCRIBING_DECILE_LOGODDS * _numeric(f, "prescribing_decile"),
    "specialty": lambda f: _levels(f, "specialty", SPECIALTY_LOGODDS),
    "emails_opened_90d": lambda f: _capped_count(f, "emails_opened_90d", EMAIL_LOGODDS, EMAIL_CAP),
    "days_since_last_contact": _days_term,
    "region": lambda f: _levels(f, "region", REGION_LOGODDS),
    "practice_setting": lambda f: _levels(f, "practice_setting", PRACTICE_SETTING_LOGODDS),
    "practice_size": lambda f: (
        PRACTICE_SIZE_LOGODDS_PER_DOUBLING * np.log2(_numeric(f, "practice_size"))
    ),
    "years_in_practice": lambda f: YEARS_IN_PRACTICE_LOGODDS * _numeric(f, "years_in_practice"),
    "website_visits_30d": lambda f: _capped_count(
        f, "website_visits_30d", WEBSITE_VISIT_LOGODDS, WEBSITE_VISIT_CAP
    ),
    "lead_source": lambda f: _levels(f, "lead_source", LEAD_SOURCE_LOGODDS),
    **{name: _zero for name in NO_DIRECT_EFFECT},
}


def true_logit_terms(frame: pd.DataFrame) -> pd.DataFrame:
    """Each driver's additive contribution to the true log-odds of conversion.

    Args:
        frame: Leads with the generator's feature columns (extra columns are ignored; the
            columns of drivers without a direct effect may be absent).

    Returns:
        One float column per key of ``DRIVERS`` (same order), indexed like ``frame``. The true
        log-odds are ``INTERCEPT`` plus the row sum.

    Raises:
        KeyError: A driver's column is missing.
        ValueError: A column holds an unknown category or a missing number.
    """
    return pd.DataFrame(
        {name: _TERMS[name](frame) for name in DRIVERS}, index=frame.index, dtype=float
    )


def true_probability(frame: pd.DataFrame) -> np.ndarray:
    """The generator's true probability that each lead converts.

    Args:
        frame: Leads, as accepted by ``true_logit_terms``.

    Returns:
        ``sigmoid(INTERCEPT + sum of true_logit_terms)``, one float per row.
    """
    logit = INTERCEPT + true_logit_terms(frame).sum(axis=1).to_numpy()
    return 1.0 / (1.0 + np.exp(-logit))


def true_driver_ranking(frame: pd.DataFrame) -> list[str]:
    """Driver names ordered by the spread of their true log-odds term, strongest first.

    Args:
        frame: Leads, as accepted by ``true_logit_terms``.

    Returns:
        Keys of ``DRIVERS`` sorted by the standard deviation of their term on ``frame``,
        descending; ties (e.g. the no-effect drivers) keep the ``DRIVERS`` order.
    """
    spread = true_logit_terms(frame).std(ddof=0)
    return list(spread.sort_values(ascending=False, kind="stable").index)


# --- Sampling ------------------------------------------------------------------------------


def _choice(rng: np.random.Generator, shares: Mapping[str, float], n: int) -> np.ndarray:
    labels = np.asarray(list(shares), dtype=object)
    weights = np.fromiter(shares.values(), dtype=float)
    return labels[rng.choice(len(labels), size=n, p=weights / weights.sum())]


def _lead_ids(n: int) -> list[str]:
    return [f"L{i:06d}" for i in range(1, n + 1)]


def _pii(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], list[str]]:
    first = rng.choice(len(FIRST_NAMES), size=n)
    last = rng.choice(len(LAST_NAMES), size=n)
    line = rng.integers(0, 100, size=n)
    subscriber = rng.integers(0, 10_000, size=n)
    names = [f"{FIRST_NAMES[f]} {LAST_NAMES[s]}" for f, s in zip(first, last, strict=True)]
    # The running number keeps addresses unique however often a name repeats.
    emails = [
        f"{FIRST_NAMES[f].lower()}.{LAST_NAMES[s].lower()}{i}@example.org"
        for i, (f, s) in enumerate(zip(first, last, strict=True), start=1)
    ]
    phones = [f"+1-555-01{a:02d}-{b:04d}" for a, b in zip(line, subscriber, strict=True)]
    return names, emails, phones


def _practice_size(rng: np.random.Generator, setting: np.ndarray) -> np.ndarray:
    median = np.array([PRACTICE_SIZE_MEDIAN[s] for s in setting])
    size = np.rint(median * rng.lognormal(0.0, PRACTICE_SIZE_LOG_SD, size=len(setting)))
    low, high = PRACTICE_SIZE_RANGE
    return np.clip(size, low, high).astype(np.int64)


def _years_in_practice(rng: np.random.Generator, n: int) -> np.ndarray:
    low, high = YEARS_IN_PRACTICE_RANGE
    # Beta(1.6, 2.6) puts most prescribers mid-career, with a thinner tail of veterans.
    years = low + rng.beta(1.6, 2.6, size=n) * (high - low)
    return np.rint(years).astype(np.int64)


def _age_band(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    low, high = LICENCE_AGE_RANGE
    age = years + rng.integers(low, high + 1, size=len(years))
    bounds = np.array([upper for _, upper in AGE_BANDS])
    labels = np.array([label for label, _ in AGE_BANDS], dtype=object)
    return labels[np.searchsorted(bounds, age, side="right")]


def _webinars(rng: np.random.Generator, source: np.ndarray) -> np.ndarray:
    mean = np.where(source == "Webinar", WEBINARS_MEAN_WEBINAR_SOURCE, WEBINARS_MEAN)
    return np.minimum(
        gamma_poisson(rng, mean, shape=ENGAGEMENT_GAMMA_SHAPE, size=len(source)), WEBINARS_MAX
    )


def _rep_visits(rng: np.random.Generator, territory: np.ndarray) -> np.ndarray:
    # The historical bias: reps visited rural prescribers far less often.
    mean = np.array([REP_VISIT_MEAN_BY_TERRITORY[t] for t in territory])
    return rng.poisson(mean)


def _days_since_last_contact(rng: np.random.Generator, n: int) -> np.ndarray:
    days = np.minimum(rng.exponential(DAYS_SINCE_CONTACT_MEAN, size=n), DAYS_SINCE_CONTACT_MAX)
    days = np.round(days, 1)
    return np.where(rng.random(n) < NEVER_CONTACTED_SHARE, np.nan, days)


def _volume_band(rng: np.random.Generator, decile: np.ndarray) -> np.ndarray:
    band = np.empty(len(decile), dtype=object)
    lower = 0
    for upper, shares in VOLUME_BAND_SHARES_BY_DECILE_GROUP:
        group = (decile > lower) & (decile <= upper)
        band[group] = _choice(rng, shares, int(group.sum()))
        lower = upper
    return band


def _draw_features(rng: np.random.Generator, n: int) -> dict[str, np.ndarray | Sequence[str]]:
    # Draw order is part of the output: changing it changes every seed's sample.
    names, emails, phones = _pii(rng, n)
    specialty = _choice(rng, SPECIALTY_SHARES, n)
    region = _choice(rng, REGION_SHARES, n)
    territory = _choice(rng, TERRITORY_SHARES, n)
    setting = _choice(rng, PRACTICE_SETTING_SHARES, n)
    size = _practice_size(rng, setting)
    years = _years_in_practice(rng, n)
    age_band = _age_band(rng, years)
    gender = _choice(rng, GENDER_SHARES, n)
    source = _choice(rng, LEAD_SOURCE_SHARES, n)
    emails_opened = gamma_poisson(rng, EMAILS_OPENED_MEAN, shape=ENGAGEMENT_GAMMA_SHAPE, size=n)
    webinars = _webinars(rng, source)
    rep_visits = _rep_visits(rng, territory)
    samples = gamma_poisson(rng, SAMPLES_MEAN, shape=ENGAGEMENT_GAMMA_SHAPE, size=n)
    website = gamma_poisson(rng, WEBSITE_VISITS_MEAN, shape=ENGAGEMENT_GAMMA_SHAPE, size=n)
    days = _days_since_last_contact(rng, n)
    formulary = _choice(rng, FORMULARY_SHARES, n)
    decile = rng.integers(1, 11, size=n)
    volume = _volume_band(rng, decile)
    consent = rng.random(n) < DATA_USE_CONSENT_SHARE
    do_not_contact = rng.random(n) < DO_NOT_CONTACT_SHARE
    return {
        ID_COLUMN: _lead_ids(n),
        "full_name": names,
        "email": emails,
        "phone": phones,
        "specialty": specialty,
        "region": region,
        "territory_type": territory,
        "practice_setting": setting,
        "practice_size": size,
        "years_in_practice": years,
        "lead_source": source,
        "emails_opened_90d": emails_opened,
        "webinars_attended_90d": webinars,
        "rep_visits_90d": rep_visits,
        "samples_requested_90d": samples,
        "website_visits_30d": website,
        "days_since_last_contact": days,
        "formulary_status": formulary,
        "prescribing_decile": decile,
        "patient_volume_band": volume,
        "data_use_consent": consent,
        "do_not_contact": do_not_contact,
        "gender": gender,
        "age_band": age_band,
    }


CONSENT_STREAM = 2  # the consent columns' random stream beside the sample's own seed


def _draw_consent(rng: np.random.Generator, do_not_contact: np.ndarray) -> dict[str, np.ndarray]:
    """Consent per purpose and channel, each channel consent named by the contract's channel.

    Every lead not opted out keeps a consent that does not lapse (phone or visit; visit is
    recorded where neither was), so the sample's suppressed leads are exactly its opted-out
    ones at any date; which other channels reach a lead varies, and lapses with time. Half the
    opted-out leads withdrew every channel consent as well.
    """
    n = len(do_not_contact)
    out: dict[str, np.ndarray] = {
        "data_use_consent_call_planning": rng.random(n) < CALL_PLANNING_CONSENT_SHARE
    }
    granted = {channel: rng.random(n) < share for channel, share in CHANNEL_CONSENT_SHARES.items()}
    granted["visit"] |= ~do_not_contact & ~granted["phone"] & ~granted["visit"]
    withdrew = do_not_contact & (rng.random(n) < WITHDREW_ALL_SHARE)
    first, last = (np.datetime64(day, "D") for day in EXPIRY_RANGE)
    days = int((last - first).astype(np.int64)) + 1
    expiries = {
        name: (first + rng.integers(0, days, size=n)).astype(str).astype(object)
        for name in ("email", "text")
    }
    for f in HCP_LEADS.channel_consents:
        out[f.name] = granted[str(f.channel)] & ~withdrew
        if f.expires:
            out[f.expires] = expiries[str(f.channel)]
    return out


def generate_leads(
    *, rows: int, seed: int, shift: Mapping[str, float | str] | None = None
) -> pd.DataFrame:
    """Generate synthetic HCP leads with a known true conversion model.

    Args:
        rows: Number of leads, at least 1.
        seed: Seed for ``numpy.random.default_rng``; the same ``rows`` and ``seed`` always give
            the same frame.
        shift: Inputs to shift away from the population above, to test drift monitoring (see
            :func:`shift_columns`): ``{"rep_visits_90d": 3.0}`` multiplies a numeric column,
            ``{"specialty": "Oncology:0.5"}`` moves half the rows to a category. The outcome is
            drawn after the shift, by the same true model: the leads changed, not what makes
            them convert. Without it the frame is the unshifted one of the same seed.

    Returns:
        A frame with exactly the columns in ``COLUMNS`` (in that order). Text columns hold
        strings, counts are ``int64``, ``days_since_last_contact`` is ``float64`` with NaN for
        never-contacted leads, the consent flags are ``bool``, the consent expiries ISO dates
        (text, ``2027-03-14``) and ``converted`` is 0/1
        ``int64`` drawn as ``Bernoulli(true_probability(frame))``.

    Raises:
        ValueError: ``rows`` is not a positive integer; a shift names a column that cannot be
            shifted or a value that does not fit it.
    """
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows < 1:
        raise ValueError(f"rows must be a positive integer, got {rows!r}")
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(_draw_features(rng, int(rows)))
    if shift:
        # a generator of its own: the unshifted columns and the outcome's draws stay those of
        # the unshifted sample of the same seed
        frame = shift_columns(frame, shift, rng=np.random.default_rng([seed, SHIFT_STREAM]))
    frame[TARGET_COLUMN] = (rng.random(len(frame)) < true_probability(frame)).astype(np.int64)
    consent = _draw_consent(
        np.random.default_rng([seed, CONSENT_STREAM]), frame["do_not_contact"].to_numpy(dtype=bool)
    )
    frame = frame.assign(**consent)
    return frame.loc[:, list(COLUMNS)]


# --- Shifted samples (drift tests) -----------------------------------------------------------

SHIFT_STREAM = 1  # the shift's random stream beside the sample's own seed
DEFAULT_SHIFT_SHARE = 0.5
# the categories each categorical column can be shifted to (the generator's own levels)
LEVELS: dict[str, tuple[str, ...]] = {
    "specialty": tuple(SPECIALTY_SHARES),
    "region": tuple(REGION_SHARES),
    "territory_type": tuple(TERRITORY_SHARES),
    "practice_setting": tuple(PRACTICE_SETTING_SHARES),
    "lead_source": tuple(LEAD_SOURCE_SHARES),
    "formulary_status": tuple(FORMULARY_SHARES),
    "patient_volume_band": tuple(VOLUME_BAND_SHARES_BY_DECILE_GROUP[0][1]),
    "gender": tuple(GENDER_SHARES),
    "age_band": tuple(label for label, _ in AGE_BANDS),
}
# the contract's numeric model inputs (the one field list: models/contract)
NUMERIC_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in HCP_LEADS.model_inputs if f.kind is Kind.NUMERIC
)


def shift_columns(
    frame: pd.DataFrame, shift: Mapping[str, float | str], *, rng: np.random.Generator
) -> pd.DataFrame:
    """A copy of ``frame`` with some columns shifted; each column alone (a column drawn from
    another, such as rep visits from the territory, is not drawn again).

    * A numeric column (``NUMERIC_COLUMNS``) is multiplied by its value, a number (or its text:
      ``"3"``); a whole-number column is rounded back to whole numbers, a missing value stays
      missing, and nothing is clipped to the usual range.
    * A categorical column (``LEVELS``) takes ``CATEGORY`` or ``CATEGORY:SHARE``: that share
      of the rows (default 0.5), drawn at random, is set to ``CATEGORY``, one of the
      generator's own categories of the column.

    Raises:
        ValueError: a column that cannot be shifted, or a value that does not fit it.
    """
    out = frame.copy()
    for column, value in shift.items():
        if column in NUMERIC_COLUMNS:
            factor = _shift_number(column, value)
            shifted = out[column].to_numpy(dtype=float) * factor
            whole = out[column].dtype.kind in "iu"
            out[column] = np.rint(shifted).astype(np.int64) if whole else shifted
        elif column in LEVELS:
            category, share = _shift_category(column, value)
            moved = rng.random(len(out)) < share
            out.loc[moved, column] = category
        else:
            raise ValueError(
                f"shift: column {column!r} cannot be shifted; numeric columns (multiplied): "
                f"{list(NUMERIC_COLUMNS)}; categorical columns (CATEGORY or CATEGORY:SHARE): "
                f"{list(LEVELS)}"
            )
    return out


def _shift_number(column: str, value: float | str) -> float:
    try:
        factor = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"shift: {column!r} is numeric; expected a factor to multiply it by, got {value!r}"
        ) from None
    if not np.isfinite(factor) or factor < 0:
        raise ValueError(f"shift: {column!r}: the factor must be a number >= 0, got {value!r}")
    return factor


def _shift_category(column: str, value: float | str) -> tuple[str, float]:
    text = str(value)
    category, _, share_text = text.partition(":")
    levels = LEVELS[column]
    if category not in levels:
        raise ValueError(
            f"shift: {column!r} is categorical; expected one of {list(levels)} (optionally "
            f"':SHARE'), got {text!r}"
        )
    try:
        share = float(share_text) if share_text else DEFAULT_SHIFT_SHARE
    except ValueError:
        share = -1.0
    if not 0.0 < share <= 1.0:
        raise ValueError(f"shift: {column!r}: the share after ':' must be in (0, 1], got {text!r}")
    return category, share


def _driver_table() -> str:
    lines = [f"- ``{name}``: {text}" for name, text in DRIVERS.items()]
    return "\n\nTrue effects (intercept {:+.3g} log-odds):\n\n{}\n".format(
        INTERCEPT, "\n".join(lines)
    )


# The docstring quotes the constants rather than copies of them, so the two cannot drift.
__doc__ = (__doc__ or "") + _driver_table()

"""Consent at the time of a request: per contact channel, per purpose of data use, with expiry.

What the contract declares (:mod:`candor.models.contract.fields`), read from a batch's columns:

* A lead may be contacted on a channel of the contract (:attr:`Contract.channels`) when no
  opt-out covering it is true (``do_not_contact`` covers every channel; an opt-out with a
  ``channel`` only its own) and, where the contract declares a consent of that channel, that
  consent is given and live. A contract without per-channel consents knows every channel, and
  its opt-outs alone decide, as before.
* Sensitive fields serve a purpose (scoring, call planning) where every data-use consent
  governing it (its own, and the one of every purpose) is given and live.
* A consent is given when its flag is true; a missing or unreadable flag counts as not given,
  an opt-out's missing flag as not opted out. It is live when its expiry field is missing or
  holds a moment after ``now``: a date alone (``2026-11-01``) means midnight UTC at its start,
  a date-time without an offset is UTC.

Columns arrive as JSON values (lists) or typed by a file reader
(:mod:`candor.serving.scoring.rows`): flags as 1.0 / 0.0 / NaN floats, expiries as POSIX
seconds (NaN missing). Pure: ``now`` is an argument.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pyarrow as pa

from candor.models.contract import Channel, Contract, Field, Purpose
from candor.models.leads.features import is_missing, parse_bool

EXPIRY_FORMAT = "an ISO 8601 date (2026-11-01) or date-time (2026-11-01T09:30:00Z)"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# RFC 3339 (T or a space; seconds, a fraction and the offset optional: UTC without one)
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?", re.ASCII
)


def parse_moment(value: Any) -> float | None:
    """POSIX seconds of a moment (ISO 8601 text, a date or a datetime); None when missing.

    Raises:
        ValueError: text that is not a date or date-time, or a value of another type.
    """
    if is_missing(value):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if _DATE.fullmatch(text):
                moment = datetime.combine(date.fromisoformat(text), time.min)
            elif _DATE_TIME.fullmatch(text):
                moment = datetime.fromisoformat(text.upper())  # RFC 3339 allows t and z
            else:
                raise ValueError(text)
        except ValueError:
            raise ValueError(f"expected {EXPIRY_FORMAT}") from None
    else:
        raise ValueError(f"expected {EXPIRY_FORMAT}, got a {type(value).__name__}")
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    try:
        return moment.timestamp()
    except (OverflowError, ValueError):  # 9999-12-31T23:59-23:59 is past the calendar in UTC
        return math.inf if moment.year > 1 else -math.inf


def _values(raw: Any) -> Sequence[Any]:
    return raw.to_pylist() if isinstance(raw, pa.Array | pa.ChunkedArray) else raw


def expiry_seconds(raw: Any, n_rows: int) -> np.ndarray:
    """An expiry column as POSIX seconds (NaN: none); an unreadable value counts as expired
    (the edge refuses it first: only a frame read without its checks holds one)."""
    if raw is None:
        return np.full(n_rows, np.nan)
    if isinstance(raw, np.ndarray) and raw.dtype.kind == "f":  # typed by a file reader
        return np.asarray(raw, dtype=np.float64)
    out = np.full(n_rows, np.nan)
    cache: dict[Any, float] = {}
    for i, value in enumerate(_values(raw)):
        if value is None:
            continue
        key = value if isinstance(value, str) else None
        if key is not None and key in cache:
            out[i] = cache[key]
            continue
        try:
            seconds = parse_moment(value)
        except ValueError:
            seconds = -np.inf
        out[i] = np.nan if seconds is None else seconds
        if key is not None:
            cache[key] = out[i]
    return out


def flag_true(raw: Any, n_rows: int, *, strict: bool) -> np.ndarray:
    """True where a consent flag is true. ``strict``: an unreadable value raises (opt-outs,
    which the edge has checked); otherwise it counts as false (not given)."""
    if raw is None:
        return np.zeros(n_rows, dtype=bool)
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "fb":  # typed by a file reader
        return np.asarray(raw, dtype=np.float64) == 1.0

    def true(value: Any) -> bool:
        try:
            return parse_bool(value) is True
        except ValueError:
            if strict:
                raise
            return False

    # JSON booleans and nulls without a call: the usual request
    flags = [v is True or (v is not False and v is not None and true(v)) for v in _values(raw)]
    return np.array(flags, dtype=bool) if flags else np.zeros(n_rows, dtype=bool)


def given(columns: Mapping[str, Any], field: Field, *, n_rows: int, now: datetime) -> np.ndarray:
    """True where the granted consent ``field`` is true and not expired at ``now``."""
    out = flag_true(columns.get(field.name), n_rows, strict=False)
    if field.expires:
        expiry = expiry_seconds(columns.get(field.expires), n_rows)
        with np.errstate(invalid="ignore"):
            out &= np.isnan(expiry) | (expiry > now.timestamp())
    return out


@dataclass(frozen=True)
class ConsentState:
    """A batch's consent at one moment.

    Attributes:
        channels: the contract's channels, in its order.
        reachable: (n_leads, len(channels)): True where the lead may be contacted on the channel.
    """

    channels: tuple[Channel, ...]
    reachable: np.ndarray

    @property
    def opted_out(self) -> np.ndarray:
        """True where a lead may be contacted on no channel at all (it is not scored)."""
        return ~np.asarray(self.reachable.any(axis=1), dtype=bool)

    def channels_of(self, rows: Sequence[int] | np.ndarray) -> list[tuple[str, ...]]:
        """The channels of each lead at ``rows``, in the contract's order."""
        names = [str(c) for c in self.channels]
        distinct: dict[bytes, tuple[str, ...]] = {}
        out = []
        for row in np.asarray(rows, dtype=np.int64).tolist():
            bits = self.reachable[row]
            key = bits.tobytes()
            found = distinct.get(key)
            if found is None:
                found = distinct[key] = tuple(n for n, ok in zip(names, bits, strict=True) if ok)
            out.append(found)
        return out


def contact_consent(
    columns: Mapping[str, Any], contract: Contract, *, n_rows: int, now: datetime
) -> ConsentState:
    """Where each lead of ``columns`` may be contacted at ``now`` (see the module docstring)."""
    channels = contract.channels
    reachable = np.ones((n_rows, len(channels)), dtype=bool)
    by_channel = {f.channel: f for f in contract.channel_consents}
    for j, channel in enumerate(channels):
        consent = by_channel.get(channel)
        if consent is not None:
            reachable[:, j] = given(columns, consent, n_rows=n_rows, now=now)
    for opt_out in contract.contact_opt_outs:
        refused = flag_true(columns.get(opt_out.name), n_rows, strict=True)
        if opt_out.channel is None:
            reachable &= ~refused[:, None]
        elif opt_out.channel in channels:
            j = channels.index(opt_out.channel)
            reachable[:, j] &= ~refused
    return ConsentState(channels, reachable)


def data_use_consent(
    columns: Mapping[str, Any], contract: Contract, *, n_rows: int, now: datetime
) -> dict[Purpose, np.ndarray]:
    """Per purpose, True where sensitive fields may serve it at ``now``: every data-use consent
    governing it is given and live (none declared: no lead). Each consent is read once."""
    read: dict[str, np.ndarray] = {}
    out = {}
    for purpose in Purpose:
        governing = contract.data_use_consents(purpose)
        allowed = np.full(n_rows, bool(governing))
        for consent in governing:
            if consent.name not in read:
                read[consent.name] = given(columns, consent, n_rows=n_rows, now=now)
            allowed &= read[consent.name]
        out[purpose] = allowed
    return out

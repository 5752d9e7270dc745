"""Plain-language reasons for one contribution, in the words of the data contract."""

from __future__ import annotations

from typing import Any

from candor.models.contract import Field, Kind, Sentinel

STRONG_LOG_ODDS = 0.5  # a contribution this large moves a 50% lead past 62%
SLIGHT_LOG_ODDS = 0.1


def direction(contribution: float) -> str:
    """How a contribution (log-odds) moves the score, in words."""
    size = abs(contribution)
    if size < 1e-9:
        return "does not change the score"
    verb = "raises" if contribution > 0 else "lowers"
    if size >= STRONG_LOG_ODDS:
        return f"strongly {verb} the score"
    if size < SLIGHT_LOG_ODDS:
        return f"slightly {verb} the score"
    return f"{verb} the score"


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _sentinel(field: Field, value: Any) -> Sentinel | None:
    if not field.sentinels or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return field.sentinel(float(value))


def describe(
    field: Field,
    *,
    value: Any,
    contribution: float,
    withheld: bool = False,
    unseen: bool = False,
) -> str:
    """One sentence: what the lead's value is and how it moved the score.

    A withheld (unconsented) value is never shown; an unseen category is named as such because
    the model treated it as missing.
    """
    label = field.label
    if withheld:
        head = f"{label} withheld (no consent to use health-derived data)"
    elif unseen:
        # the value is shown by its label (unseen:<keyed hash>), never as sent
        head = f"{label} holds a value not seen in training ({_format_value(value)})"
    elif value is None:
        head = f"{label} is not recorded"
    elif (sentinel := _sentinel(field, value)) is not None:
        head = sentinel.reason_text  # 999 days since the last contact: "never contacted"
    elif field.phrase:
        head = field.phrase.format(value=_format_value(value))
    elif field.kind is Kind.BOOLEAN:
        head = f"{label}: {_format_value(value)}"
    else:
        unit = f" {field.unit}" if field.unit else ""
        head = f"{label} is {_format_value(value)}{unit}"
    return f"{head} — {direction(contribution)}"

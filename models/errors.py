"""Domain errors with stable codes.

Every error that a user can cause carries a stable ``code`` (for programs), a message that
names the field, the value received and what was expected (for people), and optional
``details`` (one entry per offending field). Only ``serving`` maps these to HTTP, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorDetail:
    """One offending field: where it is, and what was wrong with it."""

    field: str
    message: str
    lead_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.lead_index is not None:
            out["lead_index"] = self.lead_index
        return out


class CandorError(Exception):
    """Base class: a user-facing failure with a stable code (a subclass's ``code``, or given)."""

    code: str = "candor_error"

    def __init__(
        self, message: str, details: Sequence[ErrorDetail] = (), *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


def summarise(details: Sequence[ErrorDetail], *, noun: str = "field") -> str:
    """The first offending field in words, with how many more: the message of a 4xx.

    ``lead 3, field 'specialty': ... (and 2 more)``; ``noun`` names what the field is (a body
    field, a query parameter).
    """
    if not details:
        return f"{noun} 'body': invalid"
    first = details[0]
    where = f"lead {first.lead_index}, " if first.lead_index is not None else ""
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{where}{noun} {first.field!r}: {first.message}{more}"


def raise_if_invalid(problems: Sequence[ErrorDetail], *, noun: str = "field") -> None:
    """Raise one :class:`InputValidationError` naming every problem, if there are any."""
    if problems:
        raise InputValidationError(summarise(problems, noun=noun), problems)


class ContractError(CandorError):
    """The data contract itself is invalid (for example a PII field declared a feature)."""

    code = "contract_invalid"


class DataValidationError(CandorError):
    """Training data does not fit the contract (missing target, unknown column, too few rows)."""

    code = "data_invalid"


class InputValidationError(CandorError):
    """A request's leads do not fit the contract (unknown field, wrong type, bad size)."""

    code = "input_invalid"


class ModelNotAvailableError(CandorError):
    """No champion model could be loaded."""

    code = "model_unavailable"


class NotFoundError(CandorError):
    """A score, key or lead that does not exist."""

    code = "not_found"


class ConflictError(CandorError):
    """The request contradicts stored state (for example a key name already taken)."""

    code = "conflict"


class AuditUnavailableError(CandorError):
    """The audit store cannot be written: no unaudited score may leave the service."""

    code = "audit_unavailable"


class AuthenticationError(CandorError):
    """Missing, unknown or revoked API key."""

    code = "unauthenticated"


class PermissionDeniedError(CandorError):
    """A valid key whose role does not allow this action."""

    code = "forbidden"


class ModelIncompatibleError(CandorError):
    """A model cannot be evaluated on data described by another contract."""

    code = "model_incompatible"


class SettingsError(CandorError):
    """A setting names what does not exist (for example an unknown audit segment to gate)."""

    code = "settings_invalid"


class OptionError(CandorError):
    """A command's options are impossible (for example a mitigation by a column not audited)."""

    code = "option_invalid"

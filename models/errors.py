"""Domain errors with stable codes.

Every error that a user can cause carries a stable ``code`` (for programs), a message that
names the field, the value received and what was expected (for people), and optional
``details`` (one entry per offending field). Only ``serving`` maps these to HTTP, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class CandorError(Exception):
    """Base class: a user-facing failure with a stable code."""

    message: str
    details: list[ErrorDetail] = field(default_factory=list)
    code: str = "candor_error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass
class ContractError(CandorError):
    """The data contract itself is invalid (for example a PII field declared a feature)."""

    code: str = "contract_invalid"


@dataclass
class DataValidationError(CandorError):
    """Training data does not fit the contract (missing target, unknown column, too few rows)."""

    code: str = "data_invalid"


@dataclass
class InputValidationError(CandorError):
    """A request's leads do not fit the contract (unknown field, wrong type, bad size)."""

    code: str = "input_invalid"


@dataclass
class ModelNotAvailableError(CandorError):
    """No champion model could be loaded."""

    code: str = "model_unavailable"


@dataclass
class NotFoundError(CandorError):
    """A score, key or lead that does not exist."""

    code: str = "not_found"


@dataclass
class ConflictError(CandorError):
    """The request contradicts stored state (for example a key name already taken)."""

    code: str = "conflict"


@dataclass
class AuditUnavailableError(CandorError):
    """The audit store cannot be written: no unaudited score may leave the service."""

    code: str = "audit_unavailable"


@dataclass
class AuthenticationError(CandorError):
    """Missing, unknown or revoked API key."""

    code: str = "unauthenticated"


@dataclass
class PermissionDeniedError(CandorError):
    """A valid key whose role does not allow this action."""

    code: str = "forbidden"


@dataclass
class ModelIncompatibleError(CandorError):
    """A model cannot be evaluated on data described by another contract."""

    code: str = "model_incompatible"

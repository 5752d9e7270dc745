"""The request model of one lead, derived from the model's data contract at load time, and the
validator that applies it."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from candor.models.contract import Contract, Kind, Role
from candor.models.contract import Field as ContractField
from candor.models.errors import ErrorDetail, InputValidationError, summarise
from candor.models.leads.consent import EXPIRY_FORMAT, parse_moment
from candor.models.leads.input_limits import InputLimits
from candor.serving.errors import validation_details


def lead_id_type(limits: InputLimits) -> Any:
    """A lead id: a string or an integer, checked by :meth:`InputLimits.lead_id_problem`."""

    def check(value: Any) -> Any:
        # checked before the union, so that an error names the field, not a branch of it
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("expected the lead id as a string or an integer")
        problem = limits.lead_id_problem(str(value))
        if problem is not None:
            raise ValueError(problem)
        return value

    return Annotated[str | int, BeforeValidator(check)]


def protected_value_type(limits: InputLimits) -> Any:
    """A protected attribute's value, kept for audits only, as the training file held it: a
    number (age in years, banded by the audit) or a label (bounded like a category)."""

    def check(value: Any) -> Any:
        # checked before the union, so that an error names the field, not a branch of it
        if value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("expected a string or a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("expected a finite number")
        if isinstance(value, str) and len(value) > limits.max_category_length:
            raise ValueError(f"longer than {limits.max_category_length} characters")
        return value

    return Annotated[str | int | float | None, BeforeValidator(check)]


def _check_expiry(value: Any) -> Any:
    # checked before the type, so that an error names the field and says what is expected
    if value is None:
        return value
    if not isinstance(value, str) or len(value) > 64 or value != value.strip() or not value:
        raise ValueError(f"expected {EXPIRY_FORMAT} as text, or null")
    parse_moment(value)  # its ValueError says what was expected, never repeating the value
    return value


EXPIRY_TYPE = Annotated[
    str | None,
    BeforeValidator(_check_expiry),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
                {"type": "null"},
            ]
        }
    ),
]


def _token_as_null(tokens: tuple[str, ...]) -> Any:
    def check(value: Any) -> Any:
        return None if isinstance(value, str) and value.strip() in tokens else value

    return check


def _python_type(f: ContractField, limits: InputLimits) -> Any:
    if f.role is Role.ID:
        return lead_id_type(limits)
    if f.role is Role.CONSENT_EXPIRY:
        return EXPIRY_TYPE
    if f.role is Role.CONSENT or f.kind is Kind.BOOLEAN:
        if f.missing_tokens:  # "unknown", declared missing, reads as null as in a file
            return Annotated[bool | None, BeforeValidator(_token_as_null(f.missing_tokens))]
        return bool | None
    if f.kind is Kind.NUMERIC:
        return float | None
    if f.role is Role.PII:  # read for nothing and never stored: no category to bound
        return str | None
    if f.role is Role.PROTECTED:
        return protected_value_type(limits)
    return Annotated[str | None, Field(max_length=limits.max_category_length)]


def lead_model_for(contract: Contract, limits: InputLimits) -> type[BaseModel]:
    """A strict pydantic model: unknown fields and wrong JSON types are refused by name."""
    fields: dict[str, Any] = {}
    for f in contract.request_fields:
        default = ... if f.role is Role.ID else None
        description = f"{f.role}: {f.description}".strip(": ")
        fields[f.name] = (
            _python_type(f, limits),
            Field(default, description=description),
        )
    model = create_model(  # type: ignore[call-overload]
        "LeadIn",
        __config__=ConfigDict(extra="forbid", strict=True, allow_inf_nan=False),
        **fields,
    )
    return model  # type: ignore[no-any-return]


class LeadRequestValidator:
    """Checks a request's leads against the loaded model's contract, once, at the edge."""

    def __init__(self, contract: Contract, limits: InputLimits) -> None:
        self.model = lead_model_for(
            contract, limits
        )  # also published as LeadIn in the OpenAPI spec
        self._adapter = TypeAdapter(list[self.model])  # type: ignore[name-defined]

    def validate(self, leads: list[dict[str, Any]], *, limit: int) -> list[dict[str, Any]]:
        """The leads as plain dicts; errors name the lead's index and the field."""
        if not 1 <= len(leads) <= limit:
            raise InputValidationError(
                f"field 'leads' must hold 1 to {limit} leads, got {len(leads)}",
                [ErrorDetail("leads", f"expected 1 to {limit} leads, got {len(leads)}")],
            )
        try:
            parsed = self._adapter.validate_python(leads)
        except ValidationError as exc:
            errors = [{**e, "loc": ("leads", *e["loc"])} for e in exc.errors()]
            details = validation_details(errors)
            raise InputValidationError(summarise(details), details) from exc
        return [lead.model_dump() for lead in parsed]

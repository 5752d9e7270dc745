"""The request model of one lead, derived from the model's data contract at load time, and the
validator that applies it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from candor.models.contract import Contract, Kind, Role
from candor.models.errors import ErrorDetail, InputValidationError, summarise
from candor.serving.errors import validation_details


def _python_type(contract: Contract, name: str) -> Any:
    f = contract[name]
    if f.role is Role.ID:
        return str | int
    if f.role is Role.CONSENT or f.kind is Kind.BOOLEAN:
        return bool | None
    if f.kind is Kind.NUMERIC:
        return float | None
    return str | None


def lead_model_for(contract: Contract) -> type[BaseModel]:
    """A strict pydantic model: unknown fields and wrong JSON types are refused by name."""
    fields: dict[str, Any] = {}
    for f in contract.request_fields:
        default = ... if f.role is Role.ID else None
        description = f"{f.role}: {f.description}".strip(": ")
        fields[f.name] = (_python_type(contract, f.name), Field(default, description=description))
    model = create_model(  # type: ignore[call-overload]
        "LeadIn",
        __config__=ConfigDict(extra="forbid", strict=True, allow_inf_nan=False),
        **fields,
    )
    return model  # type: ignore[no-any-return]


class LeadRequestValidator:
    """Checks a request's leads against the loaded model's contract, once, at the edge."""

    def __init__(self, contract: Contract) -> None:
        self.model = lead_model_for(contract)  # also published as LeadIn in the OpenAPI spec
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

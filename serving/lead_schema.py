"""The request model of one lead, derived from the model's data contract at load time."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from candor.models.contract import Contract, Kind, Role


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

"""What the lead and the sales contract share: lookup by name and role, the dictionary form of
a field, the content fingerprint and the version tag that every stored result carries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from enum import StrEnum
from functools import cached_property
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from candor.models.errors import ContractError


class NamedField(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def role(self) -> StrEnum: ...


FieldT = TypeVar("FieldT", bound=NamedField)
RoleT = TypeVar("RoleT", bound=StrEnum)


class FieldSet(Generic[FieldT, RoleT]):
    """Mixin for a frozen dataclass with ``name``, ``version``, ``fields`` and ``description``;
    validated on construction."""

    name: str
    version: str
    fields: tuple[FieldT, ...]
    description: str

    TITLE: ClassVar[str]  # how an error names the contract ("contract", "sales contract")
    SINGLE_ROLES: ClassVar[tuple[StrEnum, ...]]  # roles that need exactly one field
    TARGET_ROLE: ClassVar[StrEnum]  # the outcome's role, one of SINGLE_ROLES

    def __post_init__(self) -> None:
        problems: list[str] = []
        seen: set[str] = set()
        for f in self.fields:
            if f.name in seen:
                problems.append(f"field {f.name!r} is declared twice")
            seen.add(f.name)
            problems += self._field_problems(f)
        problems += exactly_one(self, self.SINGLE_ROLES)
        problems += self._set_problems()
        if problems:
            raise ContractError(f"{self.TITLE} {self.name!r} is invalid: " + "; ".join(problems))

    def _field_problems(self, f: FieldT) -> list[str]:
        """What is wrong with one field on its own."""
        raise NotImplementedError

    def _set_problems(self) -> list[str]:
        """What is wrong with the fields together (after the single roles are checked)."""
        raise NotImplementedError

    @cached_property
    def _by_name(self) -> dict[str, FieldT]:
        # a cached property, not a dataclass field: it stays out of eq, hash, repr and to_dict
        return {f.name: f for f in self.fields}

    def __getitem__(self, name: str) -> FieldT:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def unknown(self, columns: Iterable[str]) -> list[str]:
        """The columns that are not fields of this contract, in their order."""
        return [c for c in columns if c not in self._by_name]

    def with_role(self, *roles: RoleT) -> list[FieldT]:
        return [f for f in self.fields if f.role in roles]

    @property
    def target_field(self) -> FieldT:
        return next(f for f in self.fields if f.role is self.TARGET_ROLE)

    def to_dict(self) -> dict[str, Any]:
        """The dictionary form, as written in YAML (keys in this order)."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            **self._settings_dict(),
            "fields": [field_to_dict(f) for f in self.fields],
        }

    def _settings_dict(self) -> dict[str, Any]:
        """The contract's own settings, between its description and its fields."""
        raise NotImplementedError

    @property
    def fingerprint(self) -> str:
        """A short content hash: two contracts with the same fields have the same fingerprint."""
        payload = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:12]

    @property
    def version_tag(self) -> str:
        """What every stored score or forecast carries: name, declared version and content
        fingerprint."""
        return f"{self.name}@{self.version}+{self.fingerprint}"


def field_to_dict(f: Any) -> dict[str, Any]:
    """A field's dictionary form (as written in YAML): defaults left out, enums as text."""
    out: dict[str, Any] = {}
    for key, value in asdict(f).items():
        if value in ("", (), False, None):
            continue
        if isinstance(value, StrEnum):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def exactly_one(contract: FieldSet[Any, Any], roles: Sequence[StrEnum]) -> list[str]:
    """Problems for each role that needs exactly one field."""
    problems = []
    for role in roles:
        count = len(contract.with_role(role))
        if count != 1:
            problems.append(f"contract needs exactly one field with role {role}, found {count}")
    return problems

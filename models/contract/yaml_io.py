"""Contracts as YAML: what a sales-ops user writes to describe their own CRM or sales export.

Errors name the file (``source``) and the field, so that a typo is found without reading code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import yaml

from candor.models.contract.fields import Channel, ConsentScope, Field, Kind, Purpose, Sentinel
from candor.models.contract.leads import Contract
from candor.models.contract.sales import (
    MAX_SEASON_LENGTH,
    GapPolicy,
    HolidayCalendar,
    SalesContract,
    SalesField,
    WeekLabel,
    WideLayout,
)
from candor.models.errors import ContractError

FieldT = TypeVar("FieldT", Field, SalesField)


def contract_from_dict(raw: Mapping[str, Any], *, source: str = "contract") -> Contract:
    """Build a contract from its dictionary form (as written in YAML)."""
    fields = _fields(raw, source, Field, _lead_field_kwargs)
    return Contract(
        name=str(raw.get("name", "custom")),
        version=str(raw.get("version", "1")),
        fields=tuple(fields),
        description=str(raw.get("description", "")),
        positive_label=str(raw.get("positive_label", "converted")),
    )


def sales_contract_from_dict(raw: Mapping[str, Any], *, source: str = "contract") -> SalesContract:
    """Build a sales contract from its dictionary form (as written in YAML)."""
    fields = _fields(raw, source, SalesField, _sales_field_kwargs)
    layout = raw.get("layout") or {}
    if not isinstance(layout, Mapping):
        raise ContractError(f"{source}: 'layout' must be a mapping")
    known_layout = {"format", "date_format", "week_label", "key", "value_columns", "constants"}
    unknown_layout = sorted(set(layout) - known_layout)
    if unknown_layout:
        raise ContractError(
            f"{source}: unknown layout keys {unknown_layout}; allowed: {sorted(known_layout)}"
        )
    fmt = str(layout.get("format", "long"))
    if fmt not in ("long", "wide"):
        raise ContractError(f"{source}: layout.format must be 'long' or 'wide', got {fmt!r}")
    wide = None
    if fmt == "wide":
        if "key" not in layout or "value_columns" not in layout:
            raise ContractError(f"{source}: a wide layout needs 'key' and 'value_columns'")
        wide = WideLayout(tuple(str(c) for c in layout["value_columns"]), str(layout["key"]))
    constants = layout.get("constants") or {}
    if not isinstance(constants, Mapping):
        raise ContractError(f"{source}: layout.constants must be a mapping of field to value")

    try:
        return SalesContract(
            name=str(raw.get("name", "custom-sales")),
            version=str(raw.get("version", "1")),
            fields=tuple(fields),
            description=str(raw.get("description", "")),
            date_format=str(layout["date_format"]) if layout.get("date_format") else None,
            week_label=WeekLabel(str(layout.get("week_label", "start"))),
            wide=wide,
            constants=tuple((str(k), str(v)) for k, v in constants.items()),
            gaps=GapPolicy(str(raw.get("gaps", "error"))),
            holidays=HolidayCalendar.from_raw(raw.get("holidays")),
            season_length=int(raw.get("season_length", MAX_SEASON_LENGTH)),
        )
    except ValueError as exc:  # an unknown gap policy or week label, a malformed calendar
        raise ContractError(f"{source}: {exc}") from exc


def load_contract(path: str | Path) -> Contract:
    """Read a YAML contract file; errors name the file and the field."""
    return contract_from_dict(_read(Path(path)), source=str(path))


def load_sales_contract(path: str | Path) -> SalesContract:
    """Read a YAML sales contract; errors name the file and the field. A group's
    ``mapping_file`` is read relative to the contract's folder and kept inline."""
    path = Path(path)
    raw = _read(path)
    if isinstance(raw, Mapping) and isinstance(raw.get("fields"), Mapping):
        raw = {**raw, "fields": [{"name": k, **(v or {})} for k, v in raw["fields"].items()]}
    if isinstance(raw, Mapping) and isinstance(raw.get("fields"), list):
        fields = []
        for i, spec in enumerate(raw["fields"]):
            if isinstance(spec, Mapping) and "mapping_file" in spec:
                spec = dict(spec)
                target = path.parent / str(spec.pop("mapping_file"))
                try:
                    spec["mapping"] = _mapping_file(target, spec)
                except ValueError as exc:
                    raise ContractError(
                        f"{path}: fields[{i}] ({spec.get('name')!r}): {exc}"
                    ) from exc
            fields.append(spec)
        raw = {**raw, "fields": fields}
    return sales_contract_from_dict(raw, source=str(path))


def dump_contract(contract: Contract) -> str:
    return _dump(contract)


def dump_sales_contract(contract: SalesContract) -> str:
    return _dump(contract)


def _dump(contract: Contract | SalesContract) -> str:
    return yaml.safe_dump(contract.to_dict(), sort_keys=False, allow_unicode=True)


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ContractError(f"contract file {str(path)!r} does not exist") from exc
    except yaml.YAMLError as exc:
        raise ContractError(f"contract file {str(path)!r} is not valid YAML: {exc}") from exc


def _lead_field_kwargs(spec: Mapping[str, Any], kwargs: dict[str, Any]) -> None:
    if spec.get("scope") is not None:
        kwargs["scope"] = ConsentScope(spec["scope"])
    if spec.get("channel") is not None:
        kwargs["channel"] = _choice(Channel, "channel", spec["channel"])
    if spec.get("purpose") is not None:
        kwargs["purpose"] = _choice(Purpose, "purpose", spec["purpose"])
    if spec.get("expires") is not None:
        if not isinstance(spec["expires"], str) or not spec["expires"].strip():
            raise ValueError("expires must name the field holding the consent's expiry")
        kwargs["expires"] = spec["expires"]
    tokens = spec.get("missing_tokens", ())
    if isinstance(tokens, str | int | float):  # `missing_tokens: Select`
        tokens = [tokens]
    kwargs["missing_tokens"] = tuple(str(t) for t in tokens)
    bins = spec.get("bins") or ()
    if not isinstance(bins, list | tuple) or not all(_is_number(b) for b in bins):
        raise ValueError("bins must be a list of numbers, e.g. [30, 40, 50, 60]")
    kwargs["bins"] = tuple(float(b) for b in bins)
    quantiles = spec.get("quantiles")
    if quantiles is not None and (not isinstance(quantiles, int) or isinstance(quantiles, bool)):
        raise ValueError("quantiles must be a whole number of bands, e.g. 5")
    kwargs["sentinels"] = tuple(_sentinels(spec.get("sentinels") or ()))


def _choice(kind: type[Channel] | type[Purpose], key: str, value: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"{key} {value!r} is not one of {[str(c) for c in kind]}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _sentinels(raw: Any) -> Iterator[Sentinel]:
    """``sentinels: [{value: 999, meaning: never contacted, phrase: ...}]``, or the shorthand
    ``sentinels: {999: never contacted}``."""
    if isinstance(raw, Mapping):
        raw = [{"value": k, "meaning": v} for k, v in raw.items()]
    if not isinstance(raw, list | tuple):
        raise ValueError("sentinels must be a list of {value, meaning, phrase}")
    for item in raw:
        if not isinstance(item, Mapping) or "value" not in item or "meaning" not in item:
            raise ValueError(
                "each sentinel needs a 'value' and a 'meaning' (a 'phrase' is optional)"
            )
        unknown = sorted(set(item) - {"value", "meaning", "phrase"})
        if unknown:
            raise ValueError(f"unknown sentinel keys {unknown}; allowed: meaning, phrase, value")
        value = item["value"]
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"sentinel value must be a number, got {value!r}") from None
        if not _is_number(value):
            raise ValueError("sentinel value must be a number")
        yield Sentinel(float(value), str(item["meaning"]), str(item.get("phrase") or ""))


def _sales_field_kwargs(spec: Mapping[str, Any], kwargs: dict[str, Any]) -> None:
    kwargs["known_in_future"] = bool(spec.get("known_in_future", False))
    if spec.get("groups") is not None:
        kwargs["groups"] = str(spec["groups"])
    raw = spec.get("mapping")
    if raw is None:
        kwargs.pop("mapping", None)
        return
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, list | tuple) and all(
        isinstance(p, list | tuple) and len(p) == 2 for p in raw
    ):
        pairs = [tuple(p) for p in raw]
    else:
        raise ValueError(
            "mapping must map each value below to its group, e.g. {M01AB: M01, R03: R}"
        )
    typed = [v for pair in pairs for v in pair if not isinstance(v, str)]
    if typed:  # YAML reads 0101 as 65 and NO as false: a code must stay the text it is
        raise ValueError(
            f"mapping values must be text; {typed[:3]} were read as numbers or booleans: "
            "quote codes such as '0101' or 'NO'"
        )
    kwargs["mapping"] = tuple((a, b) for a, b in pairs)


def _mapping_file(path: Path, spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``mapping_file: lines.csv`` (beside the contract): the pairs of a two-column CSV whose
    header names the field below and the group (``product,product_line``)."""
    import csv

    name, below = str(spec.get("name", "")), str(spec.get("groups", ""))
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise ValueError(f"mapping_file {str(path)!r} does not exist") from None
    header = set(rows[0]) if rows else set()
    if not {name, below} <= header:
        raise ValueError(
            f"mapping_file {str(path)!r} needs columns {below!r} and {name!r}, has {sorted(header)}"
        )
    return [(str(r[below]).strip(), str(r[name]).strip()) for r in rows]


def _fields(
    raw: Mapping[str, Any],
    source: str,
    make: type[FieldT],
    own_kwargs: Callable[[Mapping[str, Any], dict[str, Any]], None],
) -> list[FieldT]:
    """The fields of a contract's dictionary form. Name, role (the enum ``make`` declares) and
    kind are typed here, ``own_kwargs`` types the keys only one field class has; a ValueError
    names the bad value."""
    role = get_type_hints(make)["role"]
    out = []
    for where, spec in _field_specs(raw, source, set(make.__dataclass_fields__)):
        kwargs = dict(spec)
        try:
            kwargs["name"] = str(spec["name"])
            kwargs["role"] = role(spec["role"])
            if spec.get("kind") is not None:
                kwargs["kind"] = Kind(spec["kind"])
            own_kwargs(spec, kwargs)
        except ValueError as exc:
            raise ContractError(f"{where} ({spec['name']!r}): {exc}") from exc
        out.append(make(**kwargs))
    return out


def _field_specs(
    raw: Mapping[str, Any], source: str, allowed: set[str]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each field spec with where it is (``source: fields[i]``), checked for name, role and
    unknown keys; ``fields: {name: {role: ...}}`` is shorthand for a list."""
    if not isinstance(raw, Mapping) or "fields" not in raw:
        raise ContractError(f"{source}: expected a mapping with 'name', 'version' and 'fields'")
    raw_fields = raw["fields"]
    if isinstance(raw_fields, Mapping):
        raw_fields = [{"name": k, **(v or {})} for k, v in raw_fields.items()]
    for i, spec in enumerate(raw_fields):
        where = f"{source}: fields[{i}]"
        if not isinstance(spec, Mapping) or "name" not in spec or "role" not in spec:
            raise ContractError(f"{where}: each field needs 'name' and 'role'")
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ContractError(
                f"{where} ({spec['name']!r}): unknown keys {unknown}; allowed: {sorted(allowed)}"
            )
        yield where, spec

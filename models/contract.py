"""The data contract: every field of a lead, once, with its role.

Training, serving and explain all derive what they need from a :class:`Contract`: the model's
inputs, the PII that must never be a feature nor stored raw, the protected attributes kept
apart for fairness audits, the consent flags, the target, and the plain-language names used in
explanations. A sales-ops user describes their own CRM export in the same terms with a small
YAML file (:func:`load_contract`); the built-in :data:`HCP_LEADS` describes the generated
sample in ``data_samples/``.

Roles:
    id: the lead's identifier (pseudonymised before it is stored).
    feature: a model input (kind numeric, categorical or boolean).
    pii: personal data; never a feature, never stored raw.
    sensitive: health-derived model input, used only where the data-use consent allows.
    protected: never a feature; kept for fairness audits.
    consent: a consent flag; ``scope`` says whether it governs data use or contact.
    target: the binary outcome (1 = converted).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from models.errors import ContractError


class Role(StrEnum):
    ID = "id"
    FEATURE = "feature"
    PII = "pii"
    SENSITIVE = "sensitive"
    PROTECTED = "protected"
    CONSENT = "consent"
    TARGET = "target"


class Kind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


class ConsentScope(StrEnum):
    DATA_USE = "data_use"  # governs use of sensitive (health-derived) fields
    CONTACT = "contact"  # true means the lead opted out of contact


MODEL_INPUT_ROLES = frozenset({Role.FEATURE, Role.SENSITIVE})

# Name tokens that mark a column as personal data or a protected attribute. A contract that
# makes such a column a model input is refused: it is how PII and bias slip into a model.
_PII_TOKENS = frozenset(
    {
        "email",
        "mail",
        "phone",
        "mobile",
        "telephone",
        "fullname",
        "firstname",
        "lastname",
        "surname",
        "name",
        "address",
        "birth",
        "dateofbirth",
        "street",
        "ssn",
        "dob",
        "birthdate",
        "birthday",
        "passport",
    }
)
_PROTECTED_TOKENS = frozenset(
    {
        "gender",
        "sex",
        "race",
        "ethnicity",
        "ethnic",
        "religion",
        "age",
        "ageband",
        "disability",
        "nationality",
        "marital",
        "pregnancy",
        "orientation",
    }
)
# Words in a column name that suggest it was filled in after the outcome was known.
AFTER_THE_FACT_TOKENS = frozenset(
    {
        "tags",
        "tag",
        "quality",
        "outcome",
        "stage",
        "disposition",
        "result",
        "notable",
        "closed",
        "won",
        "lost",
    }
)


def name_tokens(name: str) -> set[str]:
    """Lower-case word tokens of a column name, plus the joined name ("Full Name" -> fullname)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)  # CamelCase: MobilePhone -> Mobile Phone
    words = [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]
    return set(words) | {"".join(words)}


@dataclass(frozen=True)
class Field:
    """One column of a lead and everything the service needs to know about it.

    Attributes:
        name: the column name, as in the CRM export and in API requests.
        role: see the module docstring.
        kind: for model inputs: numeric, categorical or boolean.
        description: what the column holds, with its unit.
        display: a short plain-language name used in explanations.
        phrase: optional template for a reason, with ``{value}`` (for example
            "Attended {value} webinars in the last 90 days").
        unit: unit of a numeric value (for people and for model cards).
        missing_tokens: values that mean "not recorded" (for example "Select").
        after_the_fact: declared as filled in after the outcome; excluded from training.
        audit_segment: a fairness-audit segment (for example region).
        scope: for consent fields, what the flag governs.
    """

    name: str
    role: Role
    kind: Kind | None = None
    description: str = ""
    display: str = ""
    phrase: str = ""
    unit: str = ""
    missing_tokens: tuple[str, ...] = ()
    after_the_fact: bool = False
    audit_segment: bool = False
    scope: ConsentScope | None = None

    @property
    def label(self) -> str:
        return self.display or self.name.replace("_", " ").capitalize()

    @property
    def is_model_input(self) -> bool:
        return self.role in MODEL_INPUT_ROLES


@dataclass(frozen=True)
class Contract:
    """A named, versioned set of fields; validated on construction."""

    name: str
    version: str
    fields: tuple[Field, ...]
    description: str = ""
    positive_label: str = "converted"
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})
        _validate(self)

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def with_role(self, *roles: Role) -> list[Field]:
        return [f for f in self.fields if f.role in roles]

    @property
    def id_field(self) -> Field:
        return self.with_role(Role.ID)[0]

    @property
    def target_field(self) -> Field:
        return self.with_role(Role.TARGET)[0]

    @property
    def model_inputs(self) -> list[Field]:
        """Features and sensitive fields in declared order, minus declared after-the-fact ones."""
        return [f for f in self.fields if f.is_model_input and not f.after_the_fact]

    @property
    def after_the_fact_fields(self) -> list[Field]:
        return [f for f in self.fields if f.is_model_input and f.after_the_fact]

    @property
    def pii_fields(self) -> list[Field]:
        return self.with_role(Role.PII)

    @property
    def protected_fields(self) -> list[Field]:
        return self.with_role(Role.PROTECTED)

    @property
    def sensitive_fields(self) -> list[Field]:
        return [f for f in self.model_inputs if f.role is Role.SENSITIVE]

    @property
    def data_use_consent(self) -> Field | None:
        found = [f for f in self.with_role(Role.CONSENT) if f.scope is ConsentScope.DATA_USE]
        return found[0] if found else None

    @property
    def contact_opt_outs(self) -> list[Field]:
        return [f for f in self.with_role(Role.CONSENT) if f.scope is ConsentScope.CONTACT]

    @property
    def audit_segments(self) -> list[Field]:
        return [f for f in self.fields if f.audit_segment or f.role is Role.PROTECTED]

    @property
    def request_fields(self) -> list[Field]:
        """Fields a scoring request may carry: everything but the target."""
        return [f for f in self.fields if f.role is not Role.TARGET]

    def without(self, names: Iterable[str]) -> Contract:
        """A copy whose named model inputs are demoted to after-the-fact (dropped from training)."""
        drop = set(names)
        unknown = sorted(drop - set(self.names))
        if unknown:
            raise ContractError(
                f"cannot exclude {unknown}: not in contract {self.name!r}; known: {self.names}"
            )
        fields = tuple(
            Field(**{**_field_kwargs(f), "after_the_fact": True})
            if f.name in drop and f.is_model_input
            else f
            for f in self.fields
        )
        return Contract(self.name, self.version, fields, self.description, self.positive_label)

    def with_every_input(self) -> Contract:
        """A copy in which declared after-the-fact inputs count as inputs (for the leak scan)."""
        fields = tuple(Field(**{**_field_kwargs(f), "after_the_fact": False}) for f in self.fields)
        return Contract(self.name, self.version, fields, self.description, self.positive_label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "positive_label": self.positive_label,
            "fields": [_field_to_dict(f) for f in self.fields],
        }

    @property
    def fingerprint(self) -> str:
        """A short content hash: two contracts with the same fields have the same fingerprint."""
        payload = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:12]

    @property
    def version_tag(self) -> str:
        """What every stored score carries: name, declared version and content fingerprint."""
        return f"{self.name}@{self.version}+{self.fingerprint}"


def _field_kwargs(f: Field) -> dict[str, Any]:
    return {k: getattr(f, k) for k in Field.__dataclass_fields__}


def _field_to_dict(f: Field) -> dict[str, Any]:
    out = {k: v for k, v in asdict(f).items() if v not in ("", (), False, None)}
    out["role"] = str(f.role)
    if f.kind is not None:
        out["kind"] = str(f.kind)
    if f.scope is not None:
        out["scope"] = str(f.scope)
    if f.missing_tokens:
        out["missing_tokens"] = list(f.missing_tokens)
    return out


def _validate(contract: Contract) -> None:
    problems: list[str] = []
    seen: set[str] = set()
    for f in contract.fields:
        if f.name in seen:
            problems.append(f"field {f.name!r} is declared twice")
        seen.add(f.name)
        if f.is_model_input and f.kind is None:
            problems.append(
                f"field {f.name!r} has role {f.role} but no kind "
                f"(expected one of {[str(k) for k in Kind]})"
            )
        if f.role is Role.CONSENT and f.scope is None:
            problems.append(
                f"consent field {f.name!r} needs a scope "
                f"(expected one of {[str(s) for s in ConsentScope]})"
            )
        if f.is_model_input:
            tokens = name_tokens(f.name)
            if tokens & _PII_TOKENS:
                problems.append(
                    f"field {f.name!r} looks like PII and cannot be a model input "
                    f"(role {f.role}); declare it with role: pii"
                )
            if tokens & _PROTECTED_TOKENS:
                problems.append(
                    f"field {f.name!r} looks like a protected attribute and cannot be a model "
                    f"input (role {f.role}); declare it with role: protected"
                )
    for role in (Role.ID, Role.TARGET):
        count = len(contract.with_role(role))
        if count != 1:
            problems.append(f"contract needs exactly one field with role {role}, found {count}")
    if len([f for f in contract.with_role(Role.CONSENT) if f.scope is ConsentScope.DATA_USE]) > 1:
        problems.append("contract may have at most one consent field with scope data_use")
    if contract.sensitive_fields and contract.data_use_consent is None:
        problems.append(
            "sensitive fields "
            f"{[f.name for f in contract.sensitive_fields]} need a consent field with scope "
            "data_use"
        )
    if not contract.model_inputs:
        problems.append("contract declares no model inputs (role feature or sensitive)")
    if problems:
        raise ContractError(f"contract {contract.name!r} is invalid: " + "; ".join(problems))


def contract_from_dict(raw: Mapping[str, Any], *, source: str = "contract") -> Contract:
    """Build a contract from its dictionary form (as written in YAML)."""
    if not isinstance(raw, Mapping) or "fields" not in raw:
        raise ContractError(f"{source}: expected a mapping with 'name', 'version' and 'fields'")
    fields: list[Field] = []
    allowed = set(Field.__dataclass_fields__)
    raw_fields = raw["fields"]
    if isinstance(raw_fields, Mapping):  # `fields: {name: {role: ...}}` shorthand
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
        try:
            kwargs = dict(spec)
            kwargs["name"] = str(spec["name"])
            kwargs["role"] = Role(spec["role"])
            if spec.get("kind") is not None:
                kwargs["kind"] = Kind(spec["kind"])
            if spec.get("scope") is not None:
                kwargs["scope"] = ConsentScope(spec["scope"])
            tokens = spec.get("missing_tokens", ())
            if isinstance(tokens, str | int | float):  # `missing_tokens: Select`
                tokens = [tokens]
            kwargs["missing_tokens"] = tuple(str(t) for t in tokens)
        except ValueError as exc:
            raise ContractError(f"{where} ({spec['name']!r}): {exc}") from exc
        fields.append(Field(**kwargs))
    return Contract(
        name=str(raw.get("name", "custom")),
        version=str(raw.get("version", "1")),
        fields=tuple(fields),
        description=str(raw.get("description", "")),
        positive_label=str(raw.get("positive_label", "converted")),
    )


def load_contract(path: str | Path) -> Contract:
    """Read a YAML contract file; errors name the file and the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ContractError(f"contract file {str(path)!r} does not exist") from exc
    except yaml.YAMLError as exc:
        raise ContractError(f"contract file {str(path)!r} is not valid YAML: {exc}") from exc
    return contract_from_dict(raw, source=str(path))


def dump_contract(contract: Contract) -> str:
    return yaml.safe_dump(contract.to_dict(), sort_keys=False, allow_unicode=True)


_N, _C, _B = Kind.NUMERIC, Kind.CATEGORICAL, Kind.BOOLEAN

HCP_LEADS = Contract(
    name="hcp-leads",
    version="1",
    description="Healthcare-professional leads from a pharma CRM (the generated sample).",
    fields=(
        Field("lead_id", Role.ID, description="CRM lead identifier"),
        Field("full_name", Role.PII, description="the professional's name"),
        Field("email", Role.PII, description="work e-mail address"),
        Field("phone", Role.PII, description="work telephone number"),
        Field("specialty", Role.FEATURE, _C, "clinical specialty", "Specialty", audit_segment=True),
        Field("region", Role.FEATURE, _C, "sales region", "Region", audit_segment=True),
        Field(
            "territory_type",
            Role.FEATURE,
            _C,
            "urban, suburban or rural territory",
            "Territory type",
            audit_segment=True,
        ),
        Field(
            "practice_setting",
            Role.FEATURE,
            _C,
            "hospital, group, solo practice or clinic",
            "Practice setting",
            audit_segment=True,
        ),
        Field(
            "practice_size",
            Role.FEATURE,
            _N,
            "prescribers in the practice",
            "Practice size",
            "Works in a practice of {value} prescribers",
            "prescribers",
        ),
        Field(
            "years_in_practice",
            Role.FEATURE,
            _N,
            "years since first licence",
            "Years in practice",
            "{value} years in practice",
            "years",
        ),
        Field("lead_source", Role.FEATURE, _C, "how the lead reached the CRM", "Lead source"),
        Field(
            "emails_opened_90d",
            Role.FEATURE,
            _N,
            "marketing e-mails opened, last 90 days",
            "E-mails opened (90 days)",
            "Opened {value} e-mails in the last 90 days",
            "e-mails",
        ),
        Field(
            "webinars_attended_90d",
            Role.FEATURE,
            _N,
            "webinars attended, last 90 days",
            "Webinars attended (90 days)",
            "Attended {value} webinars in the last 90 days",
            "webinars",
        ),
        Field(
            "rep_visits_90d",
            Role.FEATURE,
            _N,
            "sales-rep visits, last 90 days",
            "Rep visits (90 days)",
            "Had {value} rep visits in the last 90 days",
            "visits",
        ),
        Field(
            "samples_requested_90d",
            Role.FEATURE,
            _N,
            "product samples requested, last 90 days",
            "Samples requested (90 days)",
            "Requested {value} samples in the last 90 days",
            "samples",
        ),
        Field(
            "website_visits_30d",
            Role.FEATURE,
            _N,
            "visits to the HCP website, last 30 days",
            "Website visits (30 days)",
            "Visited the website {value} times in the last 30 days",
            "visits",
        ),
        Field(
            "days_since_last_contact",
            Role.FEATURE,
            _N,
            "days since the last contact; missing if never contacted",
            "Days since last contact",
            "Last contacted {value} days ago",
            "days",
        ),
        Field(
            "formulary_status",
            Role.FEATURE,
            _C,
            "the product's status on the local formulary",
            "Formulary status",
            "Formulary status is {value}",
        ),
        Field(
            "prescribing_decile",
            Role.SENSITIVE,
            _N,
            "prescribing volume decile (1-10), health-derived",
            "Prescribing decile",
            "In prescribing decile {value}",
            "decile",
        ),
        Field(
            "patient_volume_band",
            Role.SENSITIVE,
            _C,
            "patient volume band, health-derived",
            "Patient volume",
            "Patient volume is {value}",
        ),
        Field(
            "data_use_consent",
            Role.CONSENT,
            description="consent to use health-derived data",
            scope=ConsentScope.DATA_USE,
        ),
        Field(
            "do_not_contact",
            Role.CONSENT,
            description="opted out of all contact",
            scope=ConsentScope.CONTACT,
        ),
        Field("gender", Role.PROTECTED, description="self-reported gender"),
        Field("age_band", Role.PROTECTED, description="age band"),
        Field("converted", Role.TARGET, description="1 if the lead converted"),
    ),
)

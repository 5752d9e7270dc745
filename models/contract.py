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

from candor.models.errors import ContractError


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


# --- Sales: weekly units per series ---------------------------------------------------------
#
# The sales contract describes a weekly sales table in the same terms as the lead contract:
# each column once, with its role. Training, backtests and serving derive the series keys, the
# target and the covariates (and which of them are known for future weeks) from it. A wide
# export (one column per product) is described by a layout, so that a new file trains from a
# YAML contract without code changes (``data_samples/contracts/pharmacy_sales_weekly.yaml``).


class SalesRole(StrEnum):
    DATE = "date"  # the week; one field
    SERIES = "series"  # a key of the series (territory, product); at least one
    TARGET = "target"  # units sold in the week; one field
    COVARIATE = "covariate"  # a weekly driver of sales (rep calls, samples, promotions)


class GapPolicy(StrEnum):
    """What a missing week inside a series means."""

    ERROR = "error"  # refuse the file, naming the series and the missing weeks
    ZERO = "zero"  # nothing was sold: the week is added with 0 units and 0 for each covariate


class WeekLabel(StrEnum):
    """Which day of its week the date column gives (calendar features use the whole week)."""

    START = "start"
    END = "end"


# Holiday calendars the forecaster knows (see ``models.forecaster.holiday_dates``).
HOLIDAY_NAMES = frozenset(
    {
        "new_year",
        "good_friday",
        "easter_monday",
        "labour_day",
        "thanksgiving_us",
        "christmas",
        "boxing_day",
        "orthodox_christmas",
        "orthodox_easter",
    }
)

MAX_SEASON_LENGTH = 52


@dataclass(frozen=True)
class SalesField:
    """One column of a weekly sales table.

    Attributes:
        name: the column name after reshaping (for a wide file: the long-format name).
        role: see :class:`SalesRole`.
        kind: covariates only: numeric or boolean (a promotion flag).
        known_in_future: covariates only: the value for a future week is known when the
            forecast is made (a planned promotion, a call plan); otherwise only its history
            is used, never its value in the forecast week.
        description: what the column holds, with its unit.
        display: a short plain-language name used in explanations.
        unit: unit of the values (units sold, calls, samples).
    """

    name: str
    role: SalesRole
    kind: Kind | None = None
    known_in_future: bool = False
    description: str = ""
    display: str = ""
    unit: str = ""

    @property
    def label(self) -> str:
        return self.display or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class WideLayout:
    """A wide file: one date column and one value column per series.

    Attributes:
        value_columns: the columns that hold the target, one per series.
        key: the series field whose value is the column name (for example ``product``).
    """

    value_columns: tuple[str, ...]
    key: str


@dataclass(frozen=True)
class SalesContract:
    """A named, versioned description of a weekly sales table; validated on construction.

    Attributes:
        date_format: ``strptime`` format of the date column (``%m/%d/%Y``); ``None``: ISO dates.
        week_label: whether a date is the first or the last day of its week.
        wide: set for wide files; ``None`` for long files (one row per series and week).
        constants: series fields the file does not hold, with their single value (a file of
            one pharmacy: ``{"territory": "pharmacy"}``).
        gaps: what a missing week inside a series means (:class:`GapPolicy`).
        holidays: holiday names (from :data:`HOLIDAY_NAMES`) flagged as calendar features.
        season_length: weeks in a season (52: yearly seasonality of weekly data).
    """

    name: str
    version: str
    fields: tuple[SalesField, ...]
    description: str = ""
    date_format: str | None = None
    week_label: WeekLabel = WeekLabel.START
    wide: WideLayout | None = None
    constants: tuple[tuple[str, str], ...] = ()
    gaps: GapPolicy = GapPolicy.ERROR
    holidays: tuple[str, ...] = ()
    season_length: int = MAX_SEASON_LENGTH
    _by_name: dict[str, SalesField] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})
        _validate_sales(self)

    def __getitem__(self, name: str) -> SalesField:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def with_role(self, *roles: SalesRole) -> list[SalesField]:
        return [f for f in self.fields if f.role in roles]

    @property
    def date_field(self) -> SalesField:
        return self.with_role(SalesRole.DATE)[0]

    @property
    def target_field(self) -> SalesField:
        return self.with_role(SalesRole.TARGET)[0]

    @property
    def series_fields(self) -> list[SalesField]:
        return self.with_role(SalesRole.SERIES)

    @property
    def series_names(self) -> list[str]:
        return [f.name for f in self.series_fields]

    @property
    def covariates(self) -> list[SalesField]:
        return self.with_role(SalesRole.COVARIATE)

    @property
    def future_covariates(self) -> list[SalesField]:
        """Covariates whose value in a forecast week is known when the forecast is made."""
        return [f for f in self.covariates if f.known_in_future]

    @property
    def past_covariates(self) -> list[SalesField]:
        """Covariates used only through their history."""
        return [f for f in self.covariates if not f.known_in_future]

    @property
    def constant_values(self) -> dict[str, str]:
        return dict(self.constants)

    @property
    def file_columns(self) -> list[str]:
        """The columns the file itself must have (after the layout is taken into account)."""
        if self.wide is not None:
            return [self.date_field.name, *self.wide.value_columns]
        constants = self.constant_values
        return [f.name for f in self.fields if f.name not in constants]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "description": self.description,
        }
        layout: dict[str, Any] = {"format": "wide" if self.wide else "long"}
        if self.date_format:
            layout["date_format"] = self.date_format
        layout["week_label"] = str(self.week_label)
        if self.wide is not None:
            layout["key"] = self.wide.key
            layout["value_columns"] = list(self.wide.value_columns)
        if self.constants:
            layout["constants"] = self.constant_values
        out["layout"] = layout
        out["gaps"] = str(self.gaps)
        out["holidays"] = list(self.holidays)
        out["season_length"] = self.season_length
        out["fields"] = [_sales_field_to_dict(f) for f in self.fields]
        return out

    @property
    def fingerprint(self) -> str:
        payload = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:12]

    @property
    def version_tag(self) -> str:
        """What every stored forecast carries: name, declared version and content fingerprint."""
        return f"{self.name}@{self.version}+{self.fingerprint}"


def _sales_field_to_dict(f: SalesField) -> dict[str, Any]:
    out = {k: v for k, v in asdict(f).items() if v not in ("", False, None)}
    out["role"] = str(f.role)
    if f.kind is not None:
        out["kind"] = str(f.kind)
    return out


def _validate_sales(contract: SalesContract) -> None:
    problems: list[str] = []
    seen: set[str] = set()
    for f in contract.fields:
        if f.name in seen:
            problems.append(f"field {f.name!r} is declared twice")
        seen.add(f.name)
        if f.role is SalesRole.COVARIATE:
            if f.kind not in (Kind.NUMERIC, Kind.BOOLEAN):
                problems.append(f"covariate {f.name!r} needs kind numeric or boolean, got {f.kind}")
            tokens = name_tokens(f.name)
            if tokens & (_PII_TOKENS | _PROTECTED_TOKENS):
                problems.append(
                    f"covariate {f.name!r} looks like personal data or a protected attribute "
                    "and cannot drive a forecast"
                )
        elif f.kind is not None or f.known_in_future:
            problems.append(f"field {f.name!r} (role {f.role}) takes no kind or known_in_future")
    for role in (SalesRole.DATE, SalesRole.TARGET):
        count = len(contract.with_role(role))
        if count != 1:
            problems.append(f"contract needs exactly one field with role {role}, found {count}")
    if not contract.series_fields:
        problems.append("contract needs at least one field with role series (e.g. product)")
    series = set(contract.series_names)
    for name, value in contract.constants:
        if name not in series:
            problems.append(f"constant {name!r} is not a series field; series: {sorted(series)}")
        if not str(value):
            problems.append(f"constant {name!r} needs a non-empty value")
    if contract.wide is not None:
        wide = contract.wide
        if wide.key not in series:
            problems.append(
                f"layout key {wide.key!r} must be a series field; series: {sorted(series)}"
            )
        if wide.key in contract.constant_values:
            problems.append(f"layout key {wide.key!r} cannot also be a constant")
        if not wide.value_columns:
            problems.append("a wide layout needs at least one value column")
        if len(set(wide.value_columns)) != len(wide.value_columns):
            problems.append(f"value columns are listed twice: {list(wide.value_columns)}")
        clash = sorted(set(wide.value_columns) & set(contract.names))
        if clash:
            problems.append(f"value columns {clash} clash with field names")
        missing_keys = sorted(series - {wide.key} - set(contract.constant_values))
        if missing_keys:
            problems.append(
                f"a wide file holds no column for series field(s) {missing_keys}: give them a "
                "value under layout.constants"
            )
        if contract.covariates:
            problems.append(
                "a wide file holds one value per series and week: covariates "
                f"{[f.name for f in contract.covariates]} need a long file"
            )
    unknown_holidays = sorted(set(contract.holidays) - HOLIDAY_NAMES)
    if unknown_holidays:
        problems.append(f"unknown holiday(s) {unknown_holidays}; known: {sorted(HOLIDAY_NAMES)}")
    if not 2 <= contract.season_length <= MAX_SEASON_LENGTH:
        problems.append(
            f"season_length must be between 2 and {MAX_SEASON_LENGTH} weeks, "
            f"got {contract.season_length}"
        )
    if problems:
        raise ContractError(f"sales contract {contract.name!r} is invalid: " + "; ".join(problems))


def sales_contract_from_dict(raw: Mapping[str, Any], *, source: str = "contract") -> SalesContract:
    """Build a sales contract from its dictionary form (as written in YAML)."""
    if not isinstance(raw, Mapping) or "fields" not in raw:
        raise ContractError(f"{source}: expected a mapping with 'name', 'version' and 'fields'")
    allowed = set(SalesField.__dataclass_fields__)
    raw_fields = raw["fields"]
    if isinstance(raw_fields, Mapping):
        raw_fields = [{"name": k, **(v or {})} for k, v in raw_fields.items()]
    fields: list[SalesField] = []
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
            kwargs["role"] = SalesRole(spec["role"])
            if spec.get("kind") is not None:
                kwargs["kind"] = Kind(spec["kind"])
            kwargs["known_in_future"] = bool(spec.get("known_in_future", False))
        except ValueError as exc:
            raise ContractError(f"{where} ({spec['name']!r}): {exc}") from exc
        fields.append(SalesField(**kwargs))
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
    holidays = raw.get("holidays") or ()
    if isinstance(holidays, str):
        holidays = [holidays]
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
            holidays=tuple(str(h) for h in holidays),
            season_length=int(raw.get("season_length", MAX_SEASON_LENGTH)),
        )
    except ValueError as exc:  # an unknown gap policy or week label
        raise ContractError(f"{source}: {exc}") from exc


def load_sales_contract(path: str | Path) -> SalesContract:
    """Read a YAML sales contract; errors name the file and the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ContractError(f"contract file {str(path)!r} does not exist") from exc
    except yaml.YAMLError as exc:
        raise ContractError(f"contract file {str(path)!r} is not valid YAML: {exc}") from exc
    return sales_contract_from_dict(raw, source=str(path))


def dump_sales_contract(contract: SalesContract) -> str:
    return yaml.safe_dump(contract.to_dict(), sort_keys=False, allow_unicode=True)


SALES_WEEKLY = SalesContract(
    name="sales-weekly",
    version="1",
    description=(
        "Weekly units sold per territory and product, with the field force's activity "
        "(the generated sample, data_samples/sales_weekly.csv)."
    ),
    holidays=("new_year", "good_friday", "easter_monday", "thanksgiving_us", "christmas"),
    fields=(
        SalesField("week", SalesRole.DATE, description="first day (Monday) of the week"),
        SalesField(
            "territory", SalesRole.SERIES, description="sales territory", display="Territory"
        ),
        SalesField("product", SalesRole.SERIES, description="product", display="Product"),
        SalesField("units", SalesRole.TARGET, description="units sold in the week", unit="units"),
        SalesField(
            "rep_calls",
            SalesRole.COVARIATE,
            _N,
            known_in_future=True,
            description="rep calls on prescribers in the week (from the call plan)",
            display="Rep calls",
            unit="calls",
        ),
        SalesField(
            "samples_dropped",
            SalesRole.COVARIATE,
            _N,
            description="product samples left with prescribers in the week",
            display="Samples dropped",
            unit="samples",
        ),
        SalesField(
            "promo",
            SalesRole.COVARIATE,
            _B,
            known_in_future=True,
            description="1 if a planned promotion ran in the week",
            display="Promotion",
        ),
    ),
)

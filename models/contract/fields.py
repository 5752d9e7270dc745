"""The fields of a lead contract: each column once, with its role, kind and plain-language name.

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

from dataclasses import dataclass
from enum import StrEnum


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

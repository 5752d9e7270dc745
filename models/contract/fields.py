"""The fields of a lead contract: each column once, with its role, kind and plain-language name.

Roles:
    id: the lead's identifier (pseudonymised before it is stored).
    feature: a model input (kind numeric, categorical or boolean).
    pii: personal data; never a feature, never stored raw.
    sensitive: health-derived model input, used only where the data-use consent allows.
    protected: never a feature; kept for fairness audits.
    consent: a consent flag; ``scope`` says what it governs (see :class:`ConsentScope`).
    consent_expiry: when a consent lapses (an ISO 8601 date or date-time), named by the
        ``expires`` of the consent fields it bounds; never a model input.
    target: the binary outcome (1 = converted).

Consent, per channel and purpose: a ``data_use`` flag may name the ``purpose`` it covers
(``scoring`` or ``call_planning``; none: every purpose); a ``contact_channel`` flag is the
consent to be contacted on one ``channel`` (true = given); a ``contact`` flag is an opt-out
(true = opted out), of every channel, or of its ``channel`` alone. A granted flag whose
``expires`` field holds a moment at or before the time of the request counts as not given.
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
    CONSENT_EXPIRY = "consent_expiry"
    TARGET = "target"


class Kind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


class ConsentScope(StrEnum):
    DATA_USE = "data_use"  # true: sensitive (health-derived) fields may be used (for `purpose`)
    CONTACT = "contact"  # true means the lead opted out of contact (on `channel`, else on all)
    CONTACT_CHANNEL = "contact_channel"  # true: consent to be contacted on `channel`


class Channel(StrEnum):
    """The contact channels a consent can name (and a call plan can plan on)."""

    EMAIL = "email"
    PHONE = "phone"
    VISIT = "visit"
    TEXT = "text"


class Purpose(StrEnum):
    """What sensitive data may be used for, as a data-use consent names it."""

    SCORING = "scoring"
    CALL_PLANNING = "call_planning"


MODEL_INPUT_ROLES = frozenset({Role.FEATURE, Role.SENSITIVE})


@dataclass(frozen=True)
class Sentinel:
    """A value of a numeric input that stands for a state, not a quantity.

    Attributes:
        value: the number as the export writes it (999).
        meaning: what it stands for, for people and model cards ("never contacted").
        phrase: the reason text when a lead has it ("Has never been contacted"); by default
            the meaning, capitalised.
    """

    value: float
    meaning: str
    phrase: str = ""

    @property
    def reason_text(self) -> str:
        return self.phrase or self.meaning[:1].upper() + self.meaning[1:]


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
        channel: for contact consents, the one channel the flag is about (an opt-out without
            one covers every channel; a ``contact_channel`` consent needs one).
        purpose: for data-use consents, the one purpose the flag covers (none: every purpose).
        expires: for granted consents (``data_use``, ``contact_channel``), the name of the
            ``consent_expiry`` field that says when the consent lapses (a missing value: never).
        bins: for a numeric protected attribute or audit segment (age in years): the edges
            that band it for fairness audits (``[30, 40, 50, 60]``: under 30, 30-39, ...,
            60 and over); serving still takes the number.
        quantiles: the same with ``quantiles`` bands of equal share, edges from the training
            data (``bins`` or ``quantiles``, not both).
        sentinels: values of a numeric input that are not quantities but states (999 days
            since the last contact = never contacted), each with its meaning and its phrase.
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
    channel: Channel | None = None
    purpose: Purpose | None = None
    expires: str = ""
    bins: tuple[float, ...] = ()
    quantiles: int | None = None
    sentinels: tuple[Sentinel, ...] = ()

    @property
    def is_banded(self) -> bool:
        return bool(self.bins) or self.quantiles is not None

    def sentinel(self, value: float) -> Sentinel | None:
        """The sentinel ``value`` stands for, if any."""
        for s in self.sentinels:
            if s.value == value:
                return s
        return None

    @property
    def label(self) -> str:
        return self.display or self.name.replace("_", " ").capitalize()

    @property
    def is_model_input(self) -> bool:
        return self.role in MODEL_INPUT_ROLES

"""The lead contract: every field of a lead, once, with its role.

Training, serving and explain all derive what they need from a :class:`Contract`: the model's
inputs, the PII that must never be a feature nor stored raw, the protected attributes kept
apart for fairness audits, the consent flags, the target, and the plain-language names used in
explanations (roles: :mod:`candor.models.contract.fields`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from candor.models.contract.field_set import FieldSet
from candor.models.contract.fields import Channel, ConsentScope, Field, Kind, Purpose, Role
from candor.models.contract.vocabulary import PII_TOKENS, PROTECTED_TOKENS, name_tokens
from candor.models.errors import ContractError


@dataclass(frozen=True)
class Contract(FieldSet[Field, Role]):
    """A named, versioned set of fields; validated on construction."""

    name: str
    version: str
    fields: tuple[Field, ...]
    description: str = ""
    positive_label: str = "converted"

    TITLE = "contract"
    SINGLE_ROLES = (Role.TARGET,)  # and at most one id (``_set_problems``)
    TARGET_ROLE = Role.TARGET

    @property
    def declares_id(self) -> bool:
        """Whether the export has an id column. Training needs none; serving always does."""
        return bool(self.with_role(Role.ID))

    @property
    def id_field(self) -> Field:
        """The lead id: the declared one, else ``lead_id``, which requests and files to score
        must carry though the training export had none."""
        declared = self.with_role(Role.ID)
        return declared[0] if declared else DEFAULT_ID_FIELD

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
        """The data-use consent of every purpose, else the one of scoring (what training and
        the fitted schema name); :meth:`data_use_consents` gives all that govern a purpose."""
        found = self.data_use_consents(Purpose.SCORING)
        return found[0] if found else None

    def data_use_consents(self, purpose: Purpose) -> list[Field]:
        """The data-use consents that govern ``purpose``: its own and the one of every purpose
        (that one first). Sensitive fields serve ``purpose`` only where all of them are given."""
        found = self._with_scope(ConsentScope.DATA_USE)
        return sorted(
            (f for f in found if f.purpose in (None, purpose)), key=lambda f: f.purpose is not None
        )

    @property
    def contact_opt_outs(self) -> list[Field]:
        """Opt-outs (true = opted out): of every channel, or of their ``channel``."""
        return self._with_scope(ConsentScope.CONTACT)

    @property
    def channel_consents(self) -> list[Field]:
        """Per-channel contact consents (true = given), in declared order."""
        return self._with_scope(ConsentScope.CONTACT_CHANNEL)

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels a lead of this contract may be contacted on, where its consent allows:
        those of its per-channel consents, or, when it declares none, every channel (the
        opt-outs alone then decide, as ``do_not_contact`` always did)."""
        declared = [f.channel for f in self.channel_consents if f.channel is not None]
        return tuple(declared) if declared else tuple(Channel)

    @property
    def consent_expiries(self) -> list[Field]:
        return self.with_role(Role.CONSENT_EXPIRY)

    def _with_scope(self, scope: ConsentScope) -> list[Field]:
        return [f for f in self.with_role(Role.CONSENT) if f.scope is scope]

    @property
    def audit_segments(self) -> list[Field]:
        return [f for f in self.fields if f.audit_segment or f.role is Role.PROTECTED]

    @property
    def request_fields(self) -> list[Field]:
        """Fields a scoring request may carry: everything but the target (and the lead id,
        declared or not)."""
        fields = [f for f in self.fields if f.role is not Role.TARGET]
        return fields if self.declares_id else [DEFAULT_ID_FIELD, *fields]

    def unknown(self, columns: Iterable[str]) -> list[str]:
        """The columns that are not fields of this contract (the lead id always is one)."""
        return [c for c in super().unknown(columns) if c != self.id_field.name]

    def without(self, names: Iterable[str]) -> Contract:
        """A copy whose named model inputs are demoted to after-the-fact (dropped from training)."""
        drop = set(names)
        unknown = sorted(drop - set(self.names))
        if unknown:
            raise ContractError(
                f"cannot exclude {unknown}: not in contract {self.name!r}; known: {self.names}"
            )
        return self._with_fields(
            replace(f, after_the_fact=True) if f.name in drop and f.is_model_input else f
            for f in self.fields
        )

    def with_every_input(self) -> Contract:
        """A copy in which declared after-the-fact inputs count as inputs (for the leak scan)."""
        return self._with_fields(replace(f, after_the_fact=False) for f in self.fields)

    def _with_fields(self, new: Iterable[Field]) -> Contract:
        return Contract(self.name, self.version, tuple(new), self.description, self.positive_label)

    def _settings_dict(self) -> dict[str, Any]:
        return {"positive_label": self.positive_label}

    def _field_problems(self, f: Field) -> list[str]:
        problems = _band_problems(f) + _sentinel_problems(f)
        if f.is_model_input and f.kind is None:
            problems.append(
                f"field {f.name!r} has role {f.role} but no kind "
                f"(expected one of {[str(k) for k in Kind]})"
            )
        problems += _consent_problems(f)
        if f.is_model_input:
            tokens = name_tokens(f.name)
            if tokens & PII_TOKENS:
                problems.append(
                    f"field {f.name!r} looks like PII and cannot be a model input "
                    f"(role {f.role}); declare it with role: pii"
                )
            if tokens & PROTECTED_TOKENS:
                problems.append(
                    f"field {f.name!r} looks like a protected attribute and cannot be a model "
                    f"input (role {f.role}); declare it with role: protected"
                )
        return problems

    def _set_problems(self) -> list[str]:
        problems = []
        ids = self.with_role(Role.ID)
        if len(ids) > 1:
            problems.append(
                f"contract may have at most one field with role id, found {[f.name for f in ids]}"
            )
        if not ids and DEFAULT_ID_FIELD.name in self:
            problems.append(
                f"field {DEFAULT_ID_FIELD.name!r} is the lead id requests carry: declare it "
                "with role id, or rename it"
            )
        problems += self._consent_set_problems()
        if self.sensitive_fields and self.data_use_consent is None:
            problems.append(
                "sensitive fields "
                f"{[f.name for f in self.sensitive_fields]} need a consent field with scope "
                "data_use (of every purpose, or of purpose scoring)"
            )
        if not self.model_inputs:
            problems.append("contract declares no model inputs (role feature or sensitive)")
        return problems

    def _consent_set_problems(self) -> list[str]:
        problems = []
        data_use = self._with_scope(ConsentScope.DATA_USE)
        for purpose in (None, *Purpose):
            named = [f.name for f in data_use if f.purpose == purpose]
            if len(named) > 1:
                which = f"of purpose {purpose}" if purpose else "of every purpose"
                problems.append(
                    "contract may have at most one consent field with scope data_use "
                    f"{which}, found {named}"
                )
        for channel in Channel:
            named = [f.name for f in self.channel_consents if f.channel is channel]
            if len(named) > 1:
                problems.append(
                    f"channel {channel} has more than one consent field with scope "
                    f"contact_channel: {named}"
                )
        expiries = {f.name for f in self.consent_expiries}
        for f in self.with_role(Role.CONSENT):
            if f.expires and f.expires not in expiries:
                why = (
                    f"is a field with role {self[f.expires].role}"
                    if f.expires in self
                    else "is not a field of the contract"
                )
                problems.append(
                    f"consent field {f.name!r}: expires names {f.expires!r}, which {why}; "
                    "expected a field with role consent_expiry"
                )
        named_expiries = {f.expires for f in self.with_role(Role.CONSENT)}
        for name in sorted(expiries - named_expiries):
            problems.append(
                f"field {name!r} has role consent_expiry but no consent field names it in 'expires'"
            )
        return problems


# the lead id of a contract whose export has none: scoring requests still carry one
DEFAULT_ID_FIELD = Field(
    "lead_id",
    Role.ID,
    description="the lead's identifier (the training export had none; requests carry one)",
)


def _consent_problems(f: Field) -> list[str]:
    """A consent field's scope, channel, purpose and expiry, each named with the field."""
    where = f"consent field {f.name!r}"
    if f.role is not Role.CONSENT:
        attributes = [
            key
            for key, value in (
                ("channel", f.channel),
                ("purpose", f.purpose),
                ("expires", f.expires),
            )
            if value
        ]
        if f.role is Role.CONSENT_EXPIRY and f.kind is not None:
            return [f"field {f.name!r}: a consent expiry is a date and takes no kind"]
        if attributes:
            return [f"field {f.name!r}: {', '.join(attributes)} belong to consent fields only"]
        return []
    if f.scope is None:
        return [f"{where} needs a scope (expected one of {[str(s) for s in ConsentScope]})"]
    problems = []
    if f.scope is ConsentScope.CONTACT_CHANNEL and f.channel is None:
        problems.append(
            f"{where} has scope contact_channel but no channel "
            f"(expected one of {[str(c) for c in Channel]})"
        )
    if f.channel is not None and f.scope is ConsentScope.DATA_USE:
        problems.append(f"{where}: a data_use consent takes a purpose, not a channel")
    if f.purpose is not None and f.scope is not ConsentScope.DATA_USE:
        problems.append(f"{where}: purpose belongs to a data_use consent, not scope {f.scope}")
    if f.expires and f.scope is ConsentScope.CONTACT:
        problems.append(
            f"{where}: an opt-out (scope contact) does not expire; expires belongs to a "
            "granted consent (scope data_use or contact_channel)"
        )
    return problems


def _band_problems(f: Field) -> list[str]:
    """``bins`` or ``quantiles`` band a numeric protected attribute or audit segment."""
    if not f.is_banded:
        return []
    where = f"field {f.name!r}"
    if f.role is not Role.PROTECTED and not f.audit_segment:
        return [f"{where}: bins and quantiles band a protected attribute or audit segment only"]
    if f.bins and f.quantiles is not None:
        return [f"{where}: give bins or quantiles, not both"]
    if f.kind not in (None, Kind.NUMERIC):
        return [f"{where}: bins and quantiles band a numeric field, not a {f.kind} one"]
    if f.bins and list(f.bins) != sorted(set(f.bins)):
        return [f"{where}: bins must be strictly ascending, got {list(f.bins)}"]
    if f.quantiles is not None and not 2 <= f.quantiles <= 20:
        return [f"{where}: quantiles must be 2 to 20 bands, got {f.quantiles}"]
    return []


def _sentinel_problems(f: Field) -> list[str]:
    if not f.sentinels:
        return []
    if not (f.is_model_input and f.kind is Kind.NUMERIC):
        return [f"field {f.name!r}: sentinels belong to a numeric model input"]
    values = [s.value for s in f.sentinels]
    if len(set(values)) < len(values):
        return [f"field {f.name!r}: a sentinel value is given twice"]
    clash = [t for t in f.missing_tokens if _number(t) in values]
    if clash:
        return [f"field {f.name!r}: {clash} is both a missing token and a sentinel"]
    return []


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None

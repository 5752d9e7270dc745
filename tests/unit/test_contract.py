"""The data contract: roles keep PII and protected attributes out of the model, YAML is faithful."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from candor.models.contract import (
    HCP_LEADS,
    Channel,
    ConsentScope,
    Contract,
    Field,
    Kind,
    Purpose,
    Role,
    contract_from_dict,
    dump_contract,
    load_contract,
)
from candor.models.errors import ContractError


def hcp_dict() -> dict[str, Any]:
    return copy.deepcopy(HCP_LEADS.to_dict())


def spec_of(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in raw["fields"] if f["name"] == name)


def write_yaml(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def input_names(contract: Contract) -> set[str]:
    return {f.name for f in contract.model_inputs}


# --- HCP_LEADS roles -------------------------------------------------------------------------


def test_pii_fields_are_never_model_inputs() -> None:
    pii = {f.name for f in HCP_LEADS.pii_fields}
    assert pii == {"full_name", "email", "phone"}
    assert not pii & input_names(HCP_LEADS)


def test_protected_fields_are_not_model_inputs_but_are_audit_segments() -> None:
    protected = {f.name for f in HCP_LEADS.protected_fields}
    assert protected == {"gender", "age_band"}
    assert not protected & input_names(HCP_LEADS)
    assert protected <= {f.name for f in HCP_LEADS.audit_segments}


def test_sensitive_fields_are_model_inputs_governed_by_data_use_consent() -> None:
    sensitive = {f.name for f in HCP_LEADS.sensitive_fields}
    assert sensitive == {"prescribing_decile", "patient_volume_band"}
    assert sensitive <= input_names(HCP_LEADS)
    consent = HCP_LEADS.data_use_consent
    assert consent is not None
    assert consent.name == "data_use_consent"
    assert consent.scope is ConsentScope.DATA_USE


def test_consent_scopes_and_special_roles() -> None:
    assert [f.name for f in HCP_LEADS.contact_opt_outs] == ["do_not_contact"]
    consent_names = {f.name for f in HCP_LEADS.with_role(Role.CONSENT)}
    assert not consent_names & input_names(HCP_LEADS)
    assert HCP_LEADS.id_field.name == "lead_id"
    assert HCP_LEADS.target_field.name == "converted"
    assert "lead_id" not in input_names(HCP_LEADS)
    assert "converted" not in input_names(HCP_LEADS)
    assert "converted" not in {f.name for f in HCP_LEADS.request_fields}


def test_every_model_input_has_a_kind() -> None:
    assert all(f.kind is not None for f in HCP_LEADS.model_inputs)


# --- YAML --------------------------------------------------------------------------------------


def test_yaml_round_trip_keeps_the_contract_and_its_fingerprint(tmp_path: Path) -> None:
    text = dump_contract(HCP_LEADS)
    from_dict = contract_from_dict(yaml.safe_load(text))
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    from_file = load_contract(path)
    for loaded in (from_dict, from_file):
        assert loaded.fingerprint == HCP_LEADS.fingerprint
        assert loaded == HCP_LEADS
        assert loaded.version_tag == HCP_LEADS.version_tag


def test_yaml_round_trip_keeps_missing_tokens_and_after_the_fact() -> None:
    raw = hcp_dict()
    spec_of(raw, "lead_source").update(missing_tokens=["Select", "n/a"])
    spec_of(raw, "rep_visits_90d")["after_the_fact"] = True
    contract = contract_from_dict(raw)
    again = contract_from_dict(yaml.safe_load(dump_contract(contract)))
    assert again["lead_source"].missing_tokens == ("Select", "n/a")
    assert again["rep_visits_90d"].after_the_fact
    assert again.fingerprint == contract.fingerprint


def test_shorthand_mapping_of_fields_is_read() -> None:
    raw = {
        "name": "mini",
        "version": 2,
        "fields": {
            "id": {"role": "id"},
            "visits": {"role": "feature", "kind": "numeric"},
            "won": {"role": "target"},
        },
    }
    contract = contract_from_dict(raw)
    assert contract.version == "2"
    assert [f.name for f in contract.model_inputs] == ["visits"]
    assert contract["visits"].kind is Kind.NUMERIC


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("email", "feature"),
        ("phone", "feature"),
        ("full_name", "feature"),
        ("gender", "feature"),
        ("age_band", "feature"),
        ("email", "sensitive"),
        ("gender", "sensitive"),
    ],
)
def test_yaml_contract_making_pii_or_protected_an_input_is_refused(
    tmp_path: Path, name: str, role: str
) -> None:
    raw = hcp_dict()
    spec_of(raw, name).update(role=role, kind="categorical")
    path = write_yaml(tmp_path / "bad.yaml", raw)
    with pytest.raises(ContractError) as info:
        load_contract(path)
    assert repr(name) in str(info.value)
    assert info.value.code == "contract_invalid"


def refuse_as_feature(name: str) -> ContractError:
    raw = hcp_dict()
    raw["fields"].insert(1, {"name": name, "role": "feature", "kind": "categorical"})
    with pytest.raises(ContractError) as info:
        contract_from_dict(raw)
    return info.value


@pytest.mark.parametrize(
    "name", ["Email Address", "home-phone", "PATIENT_AGE", "e_mail", "birth_date", "Ethnic Group"]
)
def test_pii_or_protected_looking_custom_column_cannot_be_a_feature(name: str) -> None:
    assert repr(name) in str(refuse_as_feature(name))


@pytest.mark.parametrize("name", ["EmailAddress", "MobilePhone", "PatientAge", "date_of_birth"])
def test_camel_case_or_spelled_out_pii_column_cannot_be_a_feature(name: str) -> None:
    """CRM exports name columns in many styles (Salesforce uses CamelCase: MobilePhone)."""
    assert repr(name) in str(refuse_as_feature(name))


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [("role", "featur", "featur"), ("kind", "text", "text"), ("scope", "marketing", "marketing")],
)
def test_unknown_role_kind_or_scope_is_refused_naming_the_field(
    key: str, value: str, shown: str
) -> None:
    raw = hcp_dict()
    name = "do_not_contact" if key == "scope" else "region"
    spec_of(raw, name)[key] = value
    with pytest.raises(ContractError) as info:
        contract_from_dict(raw, source="my.yaml")
    message = str(info.value)
    assert repr(name) in message
    assert shown in message
    assert "my.yaml" in message


def test_unknown_key_is_refused_naming_the_field_and_the_key() -> None:
    raw = hcp_dict()
    spec_of(raw, "region")["tpye"] = "categorical"
    with pytest.raises(ContractError) as info:
        contract_from_dict(raw)
    assert "'region'" in str(info.value)
    assert "tpye" in str(info.value)


def test_field_without_name_or_role_is_refused() -> None:
    raw = hcp_dict()
    del spec_of(raw, "region")["role"]
    with pytest.raises(ContractError, match="needs 'name' and 'role'"):
        contract_from_dict(raw)


def test_duplicate_field_is_refused() -> None:
    raw = hcp_dict()
    raw["fields"].append(copy.deepcopy(spec_of(raw, "region")))
    with pytest.raises(ContractError) as info:
        contract_from_dict(raw)
    assert "'region' is declared twice" in str(info.value)


def test_missing_file_and_bad_yaml_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="does not exist"):
        load_contract(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("fields: [unclosed\n")
    with pytest.raises(ContractError) as info:
        load_contract(broken)
    assert "broken.yaml" in str(info.value)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda raw: spec_of(raw, "region").pop("kind"), "'region'"),
        (lambda raw: spec_of(raw, "do_not_contact").pop("scope"), "'do_not_contact'"),
        (lambda raw: spec_of(raw, "data_use_consent").pop("scope"), "'data_use_consent'"),
        (lambda raw: spec_of(raw, "converted").update(role="feature", kind="numeric"), "target"),
    ],
)
def test_incomplete_contracts_are_refused(edit, needle: str) -> None:
    raw = hcp_dict()
    edit(raw)
    with pytest.raises(ContractError) as info:
        contract_from_dict(raw)
    assert needle in str(info.value)


def test_scalar_missing_tokens_is_not_split_into_letters() -> None:
    """`missing_tokens: Select` in YAML must mean the token "Select", not S, e, l, e, c, t."""
    raw = hcp_dict()
    spec_of(raw, "lead_source")["missing_tokens"] = "Select"
    try:
        contract = contract_from_dict(raw)
    except ContractError as exc:  # refusing it, naming the field, is also acceptable
        assert "'lead_source'" in str(exc)
        return
    assert contract["lead_source"].missing_tokens == ("Select",)


# --- without() and fingerprint -----------------------------------------------------------------


def test_without_drops_inputs_and_keeps_them_as_after_the_fact() -> None:
    dropped = HCP_LEADS.without(["rep_visits_90d", "prescribing_decile"])
    names = input_names(dropped)
    assert "rep_visits_90d" not in names
    assert "prescribing_decile" not in names
    assert {f.name for f in dropped.after_the_fact_fields} == {
        "rep_visits_90d",
        "prescribing_decile",
    }
    assert len(dropped.model_inputs) == len(HCP_LEADS.model_inputs) - 2
    assert dropped.names == HCP_LEADS.names  # the column is still known, just not an input
    assert dropped.fingerprint != HCP_LEADS.fingerprint
    assert input_names(dropped.with_every_input()) == input_names(HCP_LEADS)


def test_without_refuses_unknown_names_naming_them() -> None:
    with pytest.raises(ContractError) as info:
        HCP_LEADS.without(["rep_visits_90d", "no_such_column"])
    assert "no_such_column" in str(info.value)


def test_without_every_input_is_refused() -> None:
    with pytest.raises(ContractError, match="no model inputs"):
        HCP_LEADS.without([f.name for f in HCP_LEADS.model_inputs])


@pytest.mark.parametrize(
    "edit",
    [
        lambda raw: spec_of(raw, "region").update(kind="numeric"),
        lambda raw: spec_of(raw, "practice_size").update(role="sensitive"),
        lambda raw: spec_of(raw, "lead_source").update(missing_tokens=["Select"]),
        lambda raw: spec_of(raw, "webinars_attended_90d").update(display="Webinars"),
        lambda raw: raw["fields"].pop(4),
    ],
)
def test_fingerprint_changes_when_a_field_changes(edit) -> None:
    raw = hcp_dict()
    edit(raw)
    assert contract_from_dict(raw).fingerprint != HCP_LEADS.fingerprint


def test_fingerprint_is_stable_for_equal_contracts() -> None:
    rebuilt = Contract(
        HCP_LEADS.name,
        HCP_LEADS.version,
        tuple(Field(**f.__dict__) for f in HCP_LEADS.fields),
        HCP_LEADS.description,
    )
    assert rebuilt.fingerprint == HCP_LEADS.fingerprint


# --- consent per channel, per purpose, with expiry ---------------------------------------------


def test_the_builtin_contract_declares_consent_per_channel_and_purpose() -> None:
    assert HCP_LEADS.channels == (Channel.EMAIL, Channel.PHONE, Channel.VISIT, Channel.TEXT)
    expires = {f.name: f.expires for f in HCP_LEADS.channel_consents}
    assert expires == {
        "consent_email": "consent_email_expires_at",
        "consent_phone": "",
        "consent_visit": "",
        "consent_text": "consent_text_expires_at",
    }
    planning = HCP_LEADS.data_use_consents(Purpose.CALL_PLANNING)
    assert [f.name for f in planning] == ["data_use_consent", "data_use_consent_call_planning"]
    assert [f.name for f in HCP_LEADS.data_use_consents(Purpose.SCORING)] == ["data_use_consent"]
    consent = HCP_LEADS.with_role(Role.CONSENT, Role.CONSENT_EXPIRY)
    assert not {f.name for f in consent} & input_names(HCP_LEADS)  # never model inputs


def test_a_contract_without_channel_consents_knows_every_channel() -> None:
    raw = hcp_dict()
    raw["fields"] = [
        f for f in raw["fields"] if "channel" not in f and f.get("role") != "consent_expiry"
    ]
    contract = contract_from_dict(raw)
    assert contract.channels == tuple(Channel)
    assert contract.channel_consents == []
    assert [f.name for f in contract.contact_opt_outs] == ["do_not_contact"]


def test_a_channel_opt_out_is_read_from_yaml(tmp_path: Path) -> None:
    raw = hcp_dict()
    raw["fields"].append(
        {"name": "do_not_email", "role": "consent", "scope": "contact", "channel": "email"}
    )
    contract = load_contract(write_yaml(tmp_path / "c.yaml", raw))
    assert contract["do_not_email"].channel is Channel.EMAIL
    assert contract.channels == HCP_LEADS.channels  # an opt-out adds no channel
    again = contract_from_dict(yaml.safe_load(dump_contract(contract)))
    assert again.fingerprint == contract.fingerprint


def consent_spec(**spec: Any) -> dict[str, Any]:
    return {"name": "consent_fax", "role": "consent", **spec}


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (
            lambda raw: raw["fields"].append(consent_spec(scope="contact_channel", channel="fax")),
            ["'consent_fax'", "fax", "email"],
        ),
        (
            lambda raw: raw["fields"].append(consent_spec(scope="contact_channel")),
            ["'consent_fax'", "no channel"],
        ),
        (
            lambda raw: raw["fields"].append(
                consent_spec(scope="contact_channel", channel="visit")
            ),
            ["visit", "'consent_visit'", "'consent_fax'"],
        ),
        (
            lambda raw: spec_of(raw, "consent_phone").update(expires="phone_until"),
            ["'consent_phone'", "'phone_until'", "not a field"],
        ),
        (
            lambda raw: spec_of(raw, "consent_phone").update(expires="region"),
            ["'consent_phone'", "'region'", "role feature"],
        ),
        (
            lambda raw: spec_of(raw, "consent_text").pop("expires"),
            ["'consent_text_expires_at'", "no consent field names it"],
        ),
        (
            lambda raw: spec_of(raw, "do_not_contact").update(expires="consent_text_expires_at"),
            ["'do_not_contact'", "does not expire"],
        ),
        (
            lambda raw: spec_of(raw, "consent_email").update(purpose="scoring"),
            ["'consent_email'", "purpose"],
        ),
        (
            lambda raw: spec_of(raw, "data_use_consent").update(channel="email"),
            ["'data_use_consent'", "channel"],
        ),
        (
            lambda raw: spec_of(raw, "data_use_consent_call_planning").update(purpose="marketing"),
            ["'data_use_consent_call_planning'", "marketing", "call_planning"],
        ),
        (
            lambda raw: spec_of(raw, "data_use_consent_call_planning").pop("purpose"),
            ["data_use", "every purpose", "'data_use_consent_call_planning'"],
        ),
        (
            lambda raw: spec_of(raw, "region").update(channel="visit"),
            ["'region'", "channel", "consent fields only"],
        ),
        (
            lambda raw: spec_of(raw, "consent_text_expires_at").update(kind="numeric"),
            ["'consent_text_expires_at'", "takes no kind"],
        ),
    ],
    ids=[
        "unknown_channel",
        "channel_consent_without_channel",
        "channel_given_twice",
        "expires_names_nothing",
        "expires_names_a_feature",
        "expiry_named_by_none",
        "opt_out_with_expiry",
        "purpose_on_contact_consent",
        "channel_on_data_use",
        "unknown_purpose",
        "two_data_use_consents_of_every_purpose",
        "channel_on_a_feature",
        "expiry_with_a_kind",
    ],
)
def test_bad_consent_declarations_are_refused_naming_the_field(edit, needles: list[str]) -> None:
    raw = hcp_dict()
    edit(raw)
    with pytest.raises(ContractError) as info:
        contract_from_dict(raw, source="my.yaml")
    message = str(info.value)
    for needle in needles:
        assert needle in message, message

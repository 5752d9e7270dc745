"""Sales contracts: the built-in one, the pharmacy YAML, and refusals that name the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from candor.models.contract import (
    SALES_WEEKLY,
    GapPolicy,
    HolidayCalendar,
    Kind,
    SalesRole,
    WeekLabel,
    dump_sales_contract,
    load_sales_contract,
    sales_contract_from_dict,
)
from candor.models.errors import ContractError

REPO = Path(__file__).resolve().parents[2]
PHARMACY = REPO / "data_samples" / "contracts" / "pharmacy_sales_weekly.yaml"


def long_contract(**changes: Any) -> dict[str, Any]:
    raw = yaml.safe_load(dump_sales_contract(SALES_WEEKLY))
    raw.update(changes)
    return raw


def field_spec(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in raw["fields"] if f["name"] == name)


def test_built_in_contract_roles() -> None:
    assert SALES_WEEKLY.date_field.name == "week"
    assert SALES_WEEKLY.target_field.name == "units"
    assert SALES_WEEKLY.series_names == ["territory", "product"]
    assert [f.name for f in SALES_WEEKLY.future_covariates] == ["rep_calls", "promo"]
    assert [f.name for f in SALES_WEEKLY.past_covariates] == ["samples_dropped"]
    assert SALES_WEEKLY["promo"].kind is Kind.BOOLEAN


def test_yaml_round_trip_keeps_the_fingerprint() -> None:
    again = sales_contract_from_dict(yaml.safe_load(dump_sales_contract(SALES_WEEKLY)))
    assert again == SALES_WEEKLY
    assert again.fingerprint == SALES_WEEKLY.fingerprint


def test_pharmacy_contract_describes_the_wide_export() -> None:
    contract = load_sales_contract(PHARMACY)
    assert contract.wide is not None
    assert contract.wide.key == "product"
    assert contract.wide.value_columns == (
        "M01AB", "M01AE", "N02BA", "N02BE", "N05B", "N05C", "R03", "R06",
    )  # fmt: skip
    assert contract.file_columns[0] == "datum"
    assert contract.constant_values == {"territory": "pharmacy"}
    assert contract.week_label is WeekLabel.END
    assert contract.date_format == "%m/%d/%Y"
    assert contract.gaps is GapPolicy.ERROR
    assert not contract.covariates


def test_covariate_needs_a_numeric_or_boolean_kind() -> None:
    raw = long_contract()
    field_spec(raw, "rep_calls").pop("kind")
    with pytest.raises(ContractError, match="covariate 'rep_calls' needs kind numeric or boolean"):
        sales_contract_from_dict(raw)


def test_covariate_that_looks_like_personal_data_is_refused() -> None:
    raw = long_contract()
    raw["fields"].append({"name": "rep_email", "role": "covariate", "kind": "numeric"})
    with pytest.raises(ContractError, match="covariate 'rep_email' looks like personal data"):
        sales_contract_from_dict(raw)


def test_unknown_field_key_names_the_field_and_the_key() -> None:
    raw = long_contract()
    field_spec(raw, "units")["colour"] = "blue"
    with pytest.raises(ContractError, match=r"fields\[5\] \('units'\): unknown keys \['colour'\]"):
        sales_contract_from_dict(raw)


def test_unknown_role_names_the_field() -> None:
    raw = long_contract()
    field_spec(raw, "promo")["role"] = "feature"
    with pytest.raises(ContractError, match=r"\('promo'\): 'feature' is not a valid SalesRole"):
        sales_contract_from_dict(raw)


def test_exactly_one_target_and_date() -> None:
    raw = long_contract()
    field_spec(raw, "rep_calls").update(role="target", kind=None, known_in_future=False)
    with pytest.raises(ContractError, match="exactly one field with role target, found 2"):
        sales_contract_from_dict(raw)


def test_wide_layout_cannot_carry_covariates() -> None:
    raw = long_contract(
        layout={"format": "wide", "key": "product", "value_columns": ["A", "B"],
                "constants": {"territory": "t"}}
    )  # fmt: skip
    with pytest.raises(ContractError, match=r"covariates .*need a long file"):
        sales_contract_from_dict(raw)


def test_wide_layout_needs_a_value_for_every_other_series_field() -> None:
    raw = yaml.safe_load(PHARMACY.read_text())
    raw["layout"].pop("constants")
    with pytest.raises(ContractError, match=r"series field\(s\) \['territory'\]"):
        sales_contract_from_dict(raw)


def test_holiday_calendar_is_a_country_and_subdivision() -> None:
    assert SALES_WEEKLY.holidays == HolidayCalendar("US")
    california = sales_contract_from_dict(long_contract(holidays={"country": "US", "subdiv": "CA"}))
    assert california.holidays == HolidayCalendar("US", "CA")
    assert sales_contract_from_dict(long_contract(holidays="GB")).holidays == HolidayCalendar("GB")
    assert sales_contract_from_dict(long_contract(holidays=None)).holidays is None
    again = yaml.safe_load(dump_sales_contract(california))
    assert again["holidays"] == {"country": "US", "subdiv": "CA"}
    assert sales_contract_from_dict(again) == california
    assert load_sales_contract(PHARMACY).holidays == HolidayCalendar("RS")


def test_unknown_holiday_calendar_and_bad_season_are_named() -> None:
    with pytest.raises(ContractError, match=r"holidays\.country 'XX' is not a country"):
        sales_contract_from_dict(long_contract(holidays={"country": "XX"}))
    with pytest.raises(ContractError, match=r"holidays\.subdiv 'ZZ' is not a subdivision of US"):
        sales_contract_from_dict(long_contract(holidays={"country": "US", "subdiv": "ZZ"}))
    with pytest.raises(ContractError, match="a list of holiday names is no longer read"):
        sales_contract_from_dict(long_contract(holidays=["christmas", "labour_day"]))
    with pytest.raises(ContractError, match=r"takes 'country' \(required\) and 'subdiv'"):
        sales_contract_from_dict(long_contract(holidays={"region": "CA"}))
    with pytest.raises(ContractError, match="season_length must be between 2 and 52 weeks, got 53"):
        sales_contract_from_dict(long_contract(season_length=53))


def test_unknown_layout_key_and_gap_policy() -> None:
    with pytest.raises(ContractError, match=r"unknown layout keys \['sheet'\]"):
        sales_contract_from_dict(long_contract(layout={"sheet": 1}))
    with pytest.raises(ContractError, match="'interpolate' is not a valid GapPolicy"):
        sales_contract_from_dict(long_contract(gaps="interpolate"))


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="does not exist"):
        load_sales_contract(tmp_path / "nope.yaml")


def test_roles_are_the_documented_strings() -> None:
    assert {r.value for r in SalesRole} == {"date", "series", "target", "covariate", "group"}

"""Series keys of a forecast request in the types the training file had: a JSON number names
the key its digits spell; other types are refused naming the field, never echoing the value."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from candor.models.contract import SALES_WEEKLY, dump_sales_contract, sales_contract_from_dict
from candor.models.errors import InputValidationError
from candor.models.forecast import FeatureLayout, SalesForecaster, SeriesHistory
from candor.models.policy import ForecastPolicy
from candor.serving.requests.forecasts import ForecastRequestValidator

KEYS = [("1", "A"), ("2", "A"), ("2.5", "A"), ("7.0", "B")]  # as the training file held them


def validator() -> ForecastRequestValidator:
    raw = yaml.safe_load(dump_sales_contract(SALES_WEEKLY))
    contract = sales_contract_from_dict(raw)
    history = {
        k: SeriesHistory(
            k,
            np.datetime64("2024-01-01"),
            np.ones(60),
            {f.name: np.zeros(60) for f in contract.covariates},
        )
        for k in KEYS
    }
    # the validator reads the contract, the histories and the horizon, never the boosters
    forecaster = SalesForecaster(
        [], FeatureLayout.from_contract(contract), {}, {}, contract, history
    )
    return ForecastRequestValidator(forecaster, ForecastPolicy())


def key_of(territory: Any, product: Any = "A") -> tuple[str, ...]:
    [checked] = validator().check_series([{"territory": territory, "product": product}], 2, None)
    return checked.key


def test_numbers_name_the_keys_their_digits_spell() -> None:
    assert key_of(1) == key_of("1") == ("1", "A")
    assert key_of(1.0) == ("1", "A")  # "1" is known, "1.0" is not
    assert key_of(2.5) == ("2.5", "A")
    assert key_of(7.0, "B") == ("7.0", "B")  # the file's own text wins


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (True, "must be a string or a number, got a boolean"),
        ({"x": "s3cr3t"}, "must be a string or a number, got an object"),
        (["s3cr3t"], "must be a string or a number, got an array of 1 items"),
        (float("inf"), "must be a finite number"),
        (None, "required: a non-empty string or a number"),
        ("", "required: a non-empty string or a number"),
    ],
)
def test_other_types_are_refused_naming_the_field_without_echoing_the_value(
    value: Any, says: str
) -> None:
    with pytest.raises(InputValidationError) as caught:
        key_of(value)
    [detail] = caught.value.details
    assert (detail.field, detail.message) == ("series[0].territory", says)
    assert "s3cr3t" not in caught.value.message and "True" not in caught.value.message


def test_an_unknown_number_is_an_unknown_series() -> None:
    with pytest.raises(InputValidationError, match="territory '3' is unknown"):
        key_of(3)

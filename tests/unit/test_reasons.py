"""Plain-language reasons: the words a sales rep reads next to a score."""

from __future__ import annotations

import pytest

from candor.explain.lead_reasons import describe, direction
from candor.models.contract import HCP_LEADS, Field, Kind, Role

WEBINARS = HCP_LEADS["webinars_attended_90d"]
DECILE = HCP_LEADS["prescribing_decile"]
VOLUME = HCP_LEADS["patient_volume_band"]
SPECIALTY = HCP_LEADS["specialty"]


@pytest.mark.parametrize(
    ("contribution", "words"),
    [
        (0.8, "strongly raises the score"),
        (0.5, "strongly raises the score"),
        (0.3, "raises the score"),
        (0.1, "raises the score"),
        (0.05, "slightly raises the score"),
        (-0.05, "slightly lowers the score"),
        (-0.3, "lowers the score"),
        (-0.5, "strongly lowers the score"),
        (-2.0, "strongly lowers the score"),
        (0.0, "does not change the score"),
        (1e-12, "does not change the score"),
    ],
)
def test_direction_words_follow_sign_and_size(contribution: float, words: str) -> None:
    assert direction(contribution) == words


def test_phrase_is_filled_with_the_value() -> None:
    text = describe(WEBINARS, value=3, contribution=0.7)
    assert text == "Attended 3 webinars in the last 90 days — strongly raises the score"


def test_float_values_are_printed_compactly() -> None:
    text = describe(HCP_LEADS["days_since_last_contact"], value=74.2, contribution=-0.2)
    assert text.startswith("Last contacted 74.2 days ago")
    assert text.endswith("lowers the score")


def test_missing_value_says_not_recorded() -> None:
    text = describe(HCP_LEADS["days_since_last_contact"], value=None, contribution=-0.6)
    assert text == "Days since last contact is not recorded — strongly lowers the score"


@pytest.mark.parametrize("field", [DECILE, VOLUME])
@pytest.mark.parametrize("value", [9, "High", None])
def test_withheld_value_is_never_shown(field: Field, value: object) -> None:
    text = describe(field, value=value, contribution=0.0, withheld=True, unseen=True)
    assert "withheld" in text
    assert field.label in text
    if value is not None:
        assert str(value) not in text


def test_unseen_category_names_its_label() -> None:
    # the scoring core passes the value's keyed label, never the text sent
    text = describe(SPECIALTY, value="unseen:3fa2c1d4e5f60718", contribution=-0.05, unseen=True)
    assert "(unseen:3fa2c1d4e5f60718)" in text
    assert "not seen in training" in text
    assert text.startswith("Specialty")
    assert text.endswith("slightly lowers the score")


def test_field_without_phrase_uses_label_value_and_unit() -> None:
    plain = Field("visits", Role.FEATURE, Kind.NUMERIC, display="Office visits", unit="visits")
    assert describe(plain, value=4, contribution=0.2) == (
        "Office visits is 4 visits — raises the score"
    )
    assert describe(SPECIALTY, value="Oncology", contribution=0.2).startswith(
        "Specialty is Oncology"
    )


def test_boolean_values_read_yes_or_no() -> None:
    flag = Field("key_opinion_leader", Role.FEATURE, Kind.BOOLEAN)
    assert describe(flag, value=True, contribution=0.2).startswith("Key opinion leader: yes")
    assert describe(flag, value=False, contribution=-0.2).startswith("Key opinion leader: no")

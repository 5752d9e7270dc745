"""Consent read at one moment: per channel, per purpose, with expiry, as JSON values and as the
typed columns of a file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from candor.models.contract import HCP_LEADS, Purpose, contract_from_dict
from candor.models.leads.consent import contact_consent, data_use_consent, parse_moment
from candor.serving.scoring.rows import check_rows

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def leads(**columns: list[Any]) -> dict[str, list[Any]]:
    """Columns of leads, every channel consent refused unless given."""
    n = len(next(iter(columns.values())))
    base: dict[str, list[Any]] = {f.name: [False] * n for f in HCP_LEADS.channel_consents}
    return {**base, "do_not_contact": [False] * n, **columns}


def channels(columns: dict[str, list[Any]], *, now: datetime = NOW) -> list[tuple[str, ...]]:
    n = len(columns["do_not_contact"])
    state = contact_consent(columns, HCP_LEADS, n_rows=n, now=now)
    return state.channels_of(range(n))


def test_each_lead_may_be_contacted_where_its_consent_is_live() -> None:
    columns = leads(
        consent_email=[True, True, True, None, "yes"],
        consent_email_expires_at=[None, "2026-06-01T12:00:01Z", "2026-06-01T12:00:00Z", None, ""],
        consent_visit=[False, False, False, False, True],
    )

    assert channels(columns) == [("email",), ("email",), (), (), ("email", "visit")]


def test_a_date_alone_lapses_at_midnight_utc_at_its_start() -> None:
    columns = leads(consent_text=[True], consent_text_expires_at=["2026-06-02"])

    assert channels(columns, now=datetime(2026, 6, 1, 23, 59, tzinfo=UTC)) == [("text",)]
    assert channels(columns, now=datetime(2026, 6, 2, 0, 0, tzinfo=UTC)) == [()]


def test_a_channel_opt_out_closes_its_channel_only() -> None:
    raw = HCP_LEADS.to_dict()
    raw["fields"].append(
        {"name": "do_not_email", "role": "consent", "scope": "contact", "channel": "email"}
    )
    contract = contract_from_dict(raw)
    columns = {**leads(consent_email=[True], consent_phone=[True]), "do_not_email": [True]}

    state = contact_consent(columns, contract, n_rows=1, now=NOW)

    assert state.channels_of([0]) == [("phone",)]


def test_without_channel_consents_the_opt_outs_alone_decide() -> None:
    raw = HCP_LEADS.to_dict()
    raw["fields"] = [f for f in raw["fields"] if "channel" not in f and "expires" not in f]
    raw["fields"] = [f for f in raw["fields"] if f["role"] != "consent_expiry"]
    old = contract_from_dict(raw)

    state = contact_consent({"do_not_contact": [False, True, None]}, old, n_rows=3, now=NOW)

    every = ("email", "phone", "visit", "text")
    assert state.channels_of([0, 1, 2]) == [every, (), every]
    assert state.opted_out.tolist() == [False, True, False]


def test_data_use_needs_every_consent_governing_the_purpose() -> None:
    columns = {
        "data_use_consent": [True, True, False, None],
        "data_use_consent_call_planning": [True, False, True, True],
    }

    allowed = data_use_consent(columns, HCP_LEADS, n_rows=4, now=NOW)

    assert allowed[Purpose.SCORING].tolist() == [True, True, False, False]
    assert allowed[Purpose.CALL_PLANNING].tolist() == [True, False, False, False]


def test_a_file_reads_the_same_consent_as_json() -> None:
    columns = leads(
        lead_id=["a", "b", "c"],
        consent_email=[True, True, True],
        consent_email_expires_at=["2027-01-01", "2025-12-31T23:00:00+00:00", None],
    )
    table = pa.table(
        {k: pa.array([None if v is None else str(v) for v in c]) for k, c in columns.items()}
    )
    typed = pa.table(
        {
            **{k: table.column(k) for k in table.column_names if k != "consent_email_expires_at"},
            "consent_email_expires_at": pa.array(
                [datetime(2027, 1, 1), datetime(2025, 12, 31, 23), None], pa.timestamp("us")
            ),
        }
    )

    for file in (table, typed):
        checked = check_rows(file, HCP_LEADS)
        assert checked.rejects == []
        assert isinstance(checked.columns["consent_email_expires_at"], np.ndarray)
        state = contact_consent(checked.columns, HCP_LEADS, n_rows=3, now=NOW)
        assert state.channels_of(range(3)) == channels(columns)


def test_an_unreadable_expiry_sets_its_row_aside_in_a_file() -> None:
    columns = leads(lead_id=["a", "b"], consent_email=[True, True])
    table = pa.table(
        {
            **{k: pa.array([str(v) for v in c]) for k, c in columns.items()},
            "consent_email_expires_at": pa.array(["2027-01-01", "next spring"]),
        }
    )

    checked = check_rows(table, HCP_LEADS)

    assert [(r.index, r.field) for r in checked.rejects] == [(1, "consent_email_expires_at")]
    assert "next spring" not in checked.rejects[0].message


@pytest.mark.parametrize("text", ["soon", "2026-13-01", "01/06/2026"])
def test_parse_moment_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_moment(text)

"""Consent and suppression over HTTP: opted-out leads are not scored, unconsented data unused;
consent per channel, per purpose and with expiry, on every path that scores (HTTP, the batch
file, the MLflow model), and a contract without it keeping its meaning."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pyarrow.parquet as pq
import pytest
import settings_support as support
import yaml
from api_support import SCORE, demo_lead, error_of, serve
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from candor.cli.main import main as candor_main
from candor.models.contract import HCP_LEADS, Role
from candor.models.settings import Settings, get_settings
from candor.training.pipeline import train_leads

SENSITIVE = ("prescribing_decile", "patient_volume_band")


def score_all(api: TestClient, leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = api.post(SCORE, json={"leads": leads, "explain": "all"})
    assert response.status_code == 200, response.text
    return response.json()["results"]  # type: ignore[no-any-return]


def test_do_not_contact_lead_is_suppressed_not_scored(api: TestClient) -> None:
    results = score_all(api, [demo_lead(lead_id="a"), demo_lead(lead_id="b", do_not_contact=True)])

    scored, opted_out = results
    assert scored["suppressed"] is None and scored["score"] is not None
    assert opted_out["lead_id"] == "b"
    assert opted_out["suppressed"] == "opted_out"
    assert opted_out.get("score") is None
    assert opted_out.get("grade") is None
    assert opted_out["reasons"] == []


def test_batch_of_only_opted_out_leads_is_answered(api: TestClient) -> None:
    [result] = score_all(api, [demo_lead(do_not_contact=True)])

    assert result["suppressed"] == "opted_out"
    assert result.get("score") is None


@pytest.mark.parametrize("consent", [False, None], ids=["refused", "not_recorded"])
def test_health_derived_fields_are_withheld_without_consent(
    api: TestClient, consent: bool | None
) -> None:
    lead = demo_lead(data_use_consent=consent, prescribing_decile=9, patient_volume_band="High")

    [result] = score_all(api, [lead])

    assert result["score"] is not None
    assert sorted(result["withheld"]) == sorted(SENSITIVE)
    for reason in result["reasons"]:
        if reason["feature"] in SENSITIVE:
            assert reason["value"] is None
            assert "withheld" in reason["text"]
            assert "9" not in reason["text"] and "High" not in reason["text"]


def test_only_the_given_sensitive_field_is_listed_as_withheld(api: TestClient) -> None:
    [result] = score_all(
        api, [demo_lead(data_use_consent=False, prescribing_decile=4, patient_volume_band=None)]
    )

    assert result["withheld"] == ["prescribing_decile"]


def test_consenting_lead_uses_its_sensitive_fields(api: TestClient) -> None:
    [result] = score_all(api, [demo_lead(data_use_consent=True, prescribing_decile=9)])

    assert result["withheld"] == []
    [decile] = [r for r in result["reasons"] if r["feature"] == "prescribing_decile"]
    assert decile["value"] == 9


def test_withheld_values_do_not_move_the_score(api: TestClient) -> None:
    leads = [
        demo_lead(data_use_consent=False, prescribing_decile=decile, patient_volume_band=band)
        for decile, band in [(1, "Low"), (10, "High"), (None, None)]
    ]

    scores = [r["score"] for r in score_all(api, leads)]

    assert scores[0] == scores[1] == scores[2]


def test_protected_attributes_do_not_move_the_score(api: TestClient) -> None:
    leads = [
        demo_lead(gender="Female", age_band="25-34"),
        demo_lead(gender="Male", age_band="65+"),
        demo_lead(gender=None, age_band=None),
    ]

    results = score_all(api, leads)

    assert results[0]["score"] == results[1]["score"] == results[2]["score"]
    for result in results:
        assert {r["feature"] for r in result["reasons"]}.isdisjoint({"gender", "age_band"})


# --- consent per channel, per purpose and with expiry ------------------------------------------

CONSENT_OF = {str(f.channel): f for f in HCP_LEADS.channel_consents}  # channel -> its field


def reachable_by(*channels: str, **changes: Any) -> dict[str, Any]:
    """The demo lead with contact consent given on ``channels`` only (none lapsed)."""
    lead = demo_lead(**{f.name: f.channel in channels for f in CONSENT_OF.values()})
    for f in CONSENT_OF.values():
        if f.expires:
            lead[f.expires] = None
    return {**lead, **changes}


def test_a_lead_with_consent_by_email_only_is_scored_with_channels_email(api: TestClient) -> None:
    [result] = score_all(api, [reachable_by("email")])

    assert result["suppressed"] is None and result["score"] is not None
    assert result["channels"] == ["email"]


def test_channels_are_listed_in_the_contracts_order(api: TestClient) -> None:
    [demo, two] = score_all(api, [demo_lead(), reachable_by("text", "phone")])

    assert demo["channels"] == ["email", "phone", "visit"]  # the demo lead refused texts
    assert two["channels"] == ["phone", "text"]


def test_a_lead_with_no_contact_consent_on_any_channel_is_suppressed(api: TestClient) -> None:
    [result] = score_all(api, [reachable_by(do_not_contact=False)])

    assert result["suppressed"] == "opted_out"
    assert result.get("score") is None and result["reasons"] == []
    assert result["channels"] == []


def test_the_blanket_opt_out_still_covers_every_channel(api: TestClient) -> None:
    [result] = score_all(api, [reachable_by(*CONSENT_OF, do_not_contact=True)])

    assert result["suppressed"] == "opted_out"
    assert result["channels"] == []


@pytest.mark.parametrize(
    "expires",
    [
        str(date.today() - timedelta(days=1)),  # a date alone: midnight UTC at its start
        (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        (datetime.now(UTC) - timedelta(hours=3))
        .astimezone(timezone(timedelta(hours=-5)))
        .isoformat(),
    ],
    ids=["yesterday", "a_minute_ago", "earlier_with_an_offset"],
)
def test_a_consent_whose_expiry_has_passed_counts_as_not_given(
    api: TestClient, expires: str
) -> None:
    lapsed = reachable_by("email", consent_email_expires_at=expires)
    still_visits = reachable_by("email", "visit", consent_email_expires_at=expires)

    [none_left, visits] = score_all(api, [lapsed, still_visits])

    assert none_left["suppressed"] == "opted_out" and none_left["channels"] == []
    assert visits["suppressed"] is None and visits["channels"] == ["visit"]


def test_a_consent_expiring_later_is_live(api: TestClient) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    leads = [
        reachable_by("email", consent_email_expires_at=soon),
        reachable_by("text", consent_text_expires_at=str(date.today() + timedelta(days=2))),
    ]

    email, text = score_all(api, leads)

    assert email["channels"] == ["email"] and text["channels"] == ["text"]


def test_an_unreadable_expiry_is_422_naming_the_lead_and_the_field(api: TestClient) -> None:
    leads = [demo_lead(lead_id="ok"), demo_lead(lead_id="bad", consent_email_expires_at="soon")]

    response = api.post(SCORE, json={"leads": leads})

    assert response.status_code == 422
    error = error_of(response)
    detail = error["details"][0]
    assert (detail["lead_index"], detail["field"]) == (1, "consent_email_expires_at")
    assert "ISO 8601" in detail["message"]
    assert "soon" not in response.text


def test_data_use_consent_is_listed_per_purpose(api: TestClient) -> None:
    lead = demo_lead(
        data_use_consent=True, data_use_consent_call_planning=False, prescribing_decile=8
    )

    [result] = score_all(api, [lead])

    assert result["withheld"] == []  # scoring may use them ...
    assert sorted(result["call_planning_withheld"]) == sorted(SENSITIVE)  # ... call plans not
    [decile] = [r for r in result["reasons"] if r["feature"] == "prescribing_decile"]
    assert decile["value"] == 8


def test_without_data_use_consent_no_purpose_may_use_sensitive_fields(api: TestClient) -> None:
    [result] = score_all(api, [demo_lead(data_use_consent=False)])

    assert sorted(result["withheld"]) == sorted(result["call_planning_withheld"])
    assert sorted(result["withheld"]) == sorted(SENSITIVE)


# --- the batch file and the MLflow model list the channels too ---------------------------------


def consent_frame() -> pd.DataFrame:
    """Three sample rows: reachable by e-mail only, on no channel, and by e-mail (lapsed) and
    visit."""
    rows = pd.read_csv(support.SAMPLE_LEADS).head(3).drop(columns=["converted"])
    rows["do_not_contact"] = False
    for f in CONSENT_OF.values():
        rows[f.name] = False
    rows["consent_email"] = [True, False, True]
    rows["consent_visit"] = [False, False, True]
    rows["consent_email_expires_at"] = ["2099-01-01", "2099-01-01", "2020-01-01"]
    return rows


EXPECTED_CHANNELS = [["email"], [], ["visit"]]


@pytest.fixture()
def cli_env(
    trained_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    settings = trained_settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'audit.db'}"}
    )
    support.no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(settings.home))
    monkeypatch.setenv("CANDOR_DATABASE_URL", str(settings.database_url))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_the_batch_file_lists_each_leads_channels(
    cli_env: Settings, tmp_path: Path, suffix: str
) -> None:
    source, out = tmp_path / "leads.csv", tmp_path / f"scores{suffix}"
    consent_frame().to_csv(source, index=False)

    code = candor_main(["score", "batch", "--input", str(source), "--output", str(out)])

    assert code == 0
    if suffix == ".parquet":
        result = pq.read_table(out).to_pandas()
        channels = [list(c) for c in result["channels"]]
    else:
        result = pd.read_csv(out)
        channels = [json.loads(c) for c in result["channels"]]
    assert channels == EXPECTED_CHANNELS
    assert result["suppressed"].tolist()[1] == "opted_out"
    assert result["score"].isna().tolist() == [False, True, False]


def test_the_mlflow_model_lists_each_leads_channels(
    trained_settings: Settings, tmp_path: Path
) -> None:
    client = MlflowClient(tracking_uri=trained_settings.tracking_uri)
    name = trained_settings.lead_model_name
    version = client.get_model_version_by_alias(name, trained_settings.model_alias)
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=client.get_model_version_download_uri(name, version.version),
        dst_path=str(tmp_path),
        tracking_uri=trained_settings.tracking_uri,
    )
    model = mlflow.pyfunc.load_model(local)
    frame = consent_frame()
    # a typed date column, as pandas reads one: the same moments as the text
    frame["consent_email_expires_at"] = pd.to_datetime(frame["consent_email_expires_at"])

    out = model.predict(frame)

    assert [list(c) for c in out["channels"]] == EXPECTED_CHANNELS
    assert out["score"].isna().tolist() == [False, True, False]


# --- a contract without per-channel consent keeps its meaning -----------------------------------

# the fields consent per channel and purpose added to the built-in contract
NEW_FIELDS = [
    f.name for f in HCP_LEADS.fields if f.channel or f.purpose or f.role is Role.CONSENT_EXPIRY
]


@pytest.fixture(scope="module")
def old_contract_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A champion trained on the sample under the contract as it was before consent per
    channel: ``do_not_contact`` and ``data_use_consent`` alone."""
    home = tmp_path_factory.mktemp("old_contract")
    raw = HCP_LEADS.to_dict()
    raw["fields"] = [f for f in raw["fields"] if f["name"] not in NEW_FIELDS]
    contract = home / "contract.yaml"
    contract.write_text(yaml.safe_dump(raw, sort_keys=False))
    data = home / "leads.csv"
    pd.read_csv(support.SAMPLE_LEADS).drop(columns=NEW_FIELDS).to_csv(data, index=False)
    settings = support.make_settings(home)
    assert train_leads(data=data, settings=settings, contract_path=contract).gate.promoted
    with serve(settings) as client:
        yield client


def old_lead(**changes: Any) -> dict[str, Any]:
    lead = {k: v for k, v in demo_lead().items() if k not in NEW_FIELDS}
    return {**lead, **changes}


def test_an_old_contract_lists_every_channel_and_suppresses_its_opt_outs(
    old_contract_api: TestClient,
) -> None:
    results = score_all(
        old_contract_api, [old_lead(lead_id="a"), old_lead(lead_id="b", do_not_contact=True)]
    )

    contactable, opted_out = results
    assert contactable["suppressed"] is None and contactable["score"] is not None
    assert contactable["channels"] == ["email", "phone", "visit", "text"]
    assert opted_out["suppressed"] == "opted_out" and opted_out["channels"] == []


def test_an_old_contract_refuses_the_new_fields_by_name(old_contract_api: TestClient) -> None:
    response = old_contract_api.post(SCORE, json={"leads": [old_lead(consent_email=True)]})

    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == "consent_email"


def test_an_old_contract_plans_on_any_channel_its_opt_outs_allow(
    old_contract_api: TestClient,
) -> None:
    leads = [old_lead(lead_id=f"O{i}", do_not_contact=i % 4 == 0) for i in range(12)]

    response = old_contract_api.post(
        "/v1/call-plans", json={"leads": leads, "capacity": {"visit": 3, "email": 20}}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert [e["channel"] for e in body["plan"]] == ["visit"] * 3 + ["email"] * 6
    assert body["summary"]["removed_by_consent"] == {"visit": 3, "email": 3}
    # the same data-use consent for every purpose
    assert all(e["withheld"] == [] for e in body["plan"])

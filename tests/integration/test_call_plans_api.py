"""POST /v1/call-plans over HTTP, on 600 generated leads: capacity, minimum shares, opt-outs,
the contact cap across plans and from supplied history, the cost of fairness, and bad input.

One audit database for the module; each test tags its lead ids, so that the touches one test's
plans record never reach another test's leads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import demo_lead, error_of, serve
from audit_support import fresh_store
from fastapi.testclient import TestClient

from candor.data_samples.generate_leads import generate_leads
from candor.models.contract import HCP_LEADS
from candor.models.settings import Settings
from candor.serving.audit.factory import open_store
from candor.serving.audit.store import AuditStore

PLANS = "/v1/call-plans"
TERRITORY = "territory_type"


@pytest.fixture(scope="module")
def settings(trained_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder: Path = tmp_path_factory.mktemp("call_plans")
    return trained_settings.model_copy(update={"database_url": f"sqlite:///{folder}/audit.db"})


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    with serve(settings) as client:
        yield client


@pytest.fixture(scope="module")
def store(settings: Settings) -> Iterator[AuditStore]:
    opened = open_store(settings)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def generated() -> list[dict[str, Any]]:
    frame = generate_leads(rows=600, seed=5).drop(columns=[HCP_LEADS.target_field.name])
    return json.loads(frame.to_json(orient="records"))  # type: ignore[no-any-return]


def tagged(leads: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """The leads with ids unique to one test."""
    return [{**lead, "lead_id": f"{tag}-{lead['lead_id']}"} for lead in leads]


def plan(api: TestClient, leads: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    response = api.post(PLANS, json={"leads": leads, **options})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def planned_ids(body: dict[str, Any]) -> list[str]:
    return [entry["lead_id"] for entry in body["plan"]]


def test_plan_fills_capacity_with_each_territory_at_its_minimum_share(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated, "shares")

    body = plan(api, leads, capacity=100)

    entries, summary = body["plan"], body["summary"]
    assert len(entries) == summary["planned"] == summary["capacity"] == 100
    assert [e["rank"] for e in entries] == list(range(1, 101))
    assert [e["score"] for e in entries] == sorted((e["score"] for e in entries), reverse=True)
    territory_of = {lead["lead_id"]: lead[TERRITORY] for lead in leads}
    counts = {t: 0 for t in ("urban", "suburban", "rural")}
    for entry in entries:
        assert entry["segment"][TERRITORY] == territory_of[entry["lead_id"]]
        counts[entry["segment"][TERRITORY]] += 1
    # the default minimum: a fifth of the calls for every territory type
    assert all(n >= 20 for n in counts.values()), counts
    assert summary["share_by_segment"][TERRITORY] == {t: n / 100 for t, n in counts.items()}
    # the historical bias this corrects: a plain top-100 calls fewer rural leads
    assert summary["top_n_share_by_segment"][TERRITORY]["rural"] < 0.2
    assert summary["exploration_slots"] == 5  # 0.05 x 100
    for entry in entries:
        assert entry["why"]
        if entry["basis"] == "exploration":
            assert entry["grade"] in ("C", "D")
        if entry["basis"] == "guaranteed_share":
            assert entry["why"].startswith("Guaranteed share for territory_type=")


def test_opted_out_leads_are_never_planned(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated, "optout")
    opted_out = {lead["lead_id"] for lead in leads if lead["do_not_contact"]}
    assert opted_out

    body = plan(api, leads, capacity=1000)  # room for every eligible lead

    assert not opted_out & set(planned_ids(body))
    assert {e["lead_id"] for e in body["excluded"] if e["reason"] == "opted_out"} == opted_out
    assert body["summary"]["planned"] == body["summary"]["eligible"] == 600 - len(opted_out)


def test_fair_plan_reports_what_fairness_costs_against_top_n(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated, "cost")
    score_of: dict[str, float] = {}

    body = plan(api, leads, capacity=100, min_share={TERRITORY: 0.3}, exploration_share=0.1)

    summary = body["summary"]
    for entry in body["plan"]:
        score_of[entry["lead_id"]] = entry["score"]
    assert summary["expected_conversions"] == pytest.approx(sum(score_of.values()))
    assert summary["expected_conversions"] <= summary["top_n_expected_conversions"]
    assert summary["cost_of_fairness"] == pytest.approx(
        summary["top_n_expected_conversions"] - summary["expected_conversions"]
    )
    assert summary["cost_of_fairness"] > 0
    # exploration costs something, and the minimum shares the rest
    assert 0 < summary["cost_of_exploration"] < summary["cost_of_fairness"]
    rural = next(g for g in summary["guarantees"] if g["value"] == "rural")
    assert rural["required"] == 30 and rural["planned"] >= 30


def test_every_planned_score_is_audited_and_every_entry_recorded_as_a_touch(
    api: TestClient, generated: list[dict[str, Any]], store: AuditStore
) -> None:
    leads = tagged(generated[:80], "audit")

    body = plan(api, leads, capacity=20)

    assert {e["score_id"] for e in body["plan"]} <= store.score_ids()
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    touches = store.touches_since([lead["lead_id"] for lead in leads], since)
    assert {i for i, n in touches.items() if n} == set(planned_ids(body))
    assert all(n == 1 for i, n in touches.items() if n)
    assert store.verify().ok


def test_second_plan_excludes_leads_the_first_planned_at_a_cap_of_one(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated[:200], "cap")

    first = plan(api, leads, capacity=30)
    second = plan(api, leads, capacity=30, max_touches_30d=1)

    first_ids = set(planned_ids(first))
    assert not first_ids & set(planned_ids(second))
    capped = {e["lead_id"] for e in second["excluded"] if e["reason"] == "contact_cap"}
    assert capped == first_ids
    assert len(second["plan"]) == 30


def test_plans_made_at_the_same_moment_never_take_a_lead_past_its_cap(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated[:40], "race")
    body = {"leads": leads, "capacity": 40, "max_touches_30d": 1, "min_share": {}}

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: api.post(PLANS, json=body), range(4)))

    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    planned = [lead for a in answers for lead in planned_ids(a.json())]
    assert len(planned) == len(set(planned))  # no lead planned twice at a cap of one
    assert set(planned) <= {lead["lead_id"] for lead in leads}


def test_supplied_contact_history_excludes_a_lead(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated[:40], "history")
    best = plan(api, leads, capacity=1, max_touches_30d=100)["plan"][0]["lead_id"]
    today = date.today()
    recent = [str(today - timedelta(days=3)), f"{today - timedelta(days=10)}T09:30:00Z"]
    old = [str(today - timedelta(days=45))]

    body = plan(api, leads, capacity=5, max_touches_30d=3, contact_history={best: recent + old})

    # one earlier plan + two recent contacts = 3 touches; the old one is outside the window
    assert best not in planned_ids(body)
    [excluded] = [e for e in body["excluded"] if e["lead_id"] == best]
    assert excluded["reason"] == "contact_cap"
    assert "3 times" in excluded["why"]


def test_same_request_gives_the_same_plan(api: TestClient, generated: list[dict[str, Any]]) -> None:
    leads = tagged(generated[:300], "repeat")
    options = {"capacity": 40, "max_touches_30d": 100, "exploration_share": 0.2}

    first, second = plan(api, leads, **options), plan(api, list(reversed(leads)), **options)

    assert planned_ids(first) == planned_ids(second)
    assert first["summary"]["seed"] == second["summary"]["seed"]
    assert first["plan_id"] != second["plan_id"]


def test_a_reviewer_key_cannot_make_a_plan(
    settings: Settings, generated: list[dict[str, Any]]
) -> None:
    with serve(settings, role="reviewer") as reviewer:
        response = reviewer.post(PLANS, json={"leads": generated[:2], "capacity": 1})

    assert response.status_code == 403


def _today(days: int = 0) -> str:
    return str(date.today() + timedelta(days=days))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"capacity": None}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 1001}, "capacity"),
        ({"capacity": "10"}, "capacity"),
        ({"capacity": 2.5}, "capacity"),
        ({"min_share": {TERRITORY: 1.5}}, "min_share"),
        ({"min_share": {TERRITORY: -0.1}}, "min_share"),
        ({"min_share": {TERRITORY: "0.2"}}, "min_share"),
        ({"min_share": {TERRITORY: 0.4}}, "min_share"),  # 3 territory types x 0.4 = 1.2
        ({"min_share": {"gender": 0.2}}, "min_share"),  # protected: never decides who is called
        ({"min_share": {"favourite_colour": 0.2}}, "min_share"),
        ({"min_share": [0.2]}, "min_share"),
        ({"max_touches_30d": 0}, "max_touches_30d"),
        ({"max_touches_30d": "2"}, "max_touches_30d"),
        ({"exploration_share": 0.6}, "exploration_share"),
        ({"exploration_share": -0.01}, "exploration_share"),
        ({"contact_history": {"nobody": [_today(-1)]}}, "contact_history"),
        ({"contact_history": {"bad-L000001": ["last tuesday"]}}, "contact_history"),
        ({"contact_history": {"bad-L000001": [20261101]}}, "contact_history"),
        ({"contact_history": {"bad-L000001": _today(-1)}}, "contact_history"),
        ({"contact_history": {"bad-L000001": [_today(5)]}}, "contact_history"),
        ({"surprise": 1}, "surprise"),
        ({"channel": "fax"}, "channel"),
        ({"channel": 3}, "channel"),
        ({"capacity": {"fax": 10}}, "capacity"),
        ({"capacity": {"visit": 10, "Email": 5}}, "capacity"),
        ({"capacity": {}}, "capacity"),
        ({"capacity": {"visit": 0}}, "capacity"),
        ({"capacity": {"visit": "10"}}, "capacity"),
        ({"channel": "visit", "capacity": {"visit": 10}}, "channel"),
        ({"max_touches_30d": {"visit": 2}}, "max_touches_30d"),  # a plan on no channel
        ({"channel": "visit", "max_touches_30d": {"fax": 2}}, "max_touches_30d"),
        ({"channel": "visit", "max_touches_30d": {"visit": 0}}, "max_touches_30d"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    api: TestClient,
    store: AuditStore,
    generated: list[dict[str, Any]],
    options: dict[str, Any],
    field: str,
) -> None:
    leads = tagged(generated[:30], "bad")
    body = {"leads": leads, "capacity": 10, **options}
    if body["capacity"] is None:
        del body["capacity"]
    records_before = store.count()

    response = api.post(PLANS, json=body)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "input_invalid"
    assert error["details"][0]["field"].startswith(field), error
    assert field in error["message"]
    assert store.count() == records_before
    assert not any(store.touches_since([lead["lead_id"] for lead in leads], "2000-01-01").values())


def test_a_protected_attribute_cannot_be_a_plan_segment(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated[:5], "protected")

    response = api.post(PLANS, json={"leads": leads, "capacity": 2, "min_share": {"gender": 0.2}})

    assert response.status_code == 422
    error = error_of(response)
    assert error["details"][0]["field"] == "min_share.gender"
    assert "protected attribute" in error["message"]


def test_duplicate_lead_ids_are_422_naming_leads(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    lead = tagged(generated[:1], "dup")[0]

    response = api.post(PLANS, json={"leads": [lead, lead], "capacity": 1})

    assert response.status_code == 422
    error = error_of(response)
    assert error["details"][0]["field"] == "leads"
    assert lead["lead_id"] in error["message"]


def test_a_bad_lead_is_422_naming_its_index_and_field(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated[:3], "badlead")
    leads[2] = {**leads[2], "practice_size": "large"}

    response = api.post(PLANS, json={"leads": leads, "capacity": 2})

    assert response.status_code == 422
    detail = error_of(response)["details"][0]
    assert (detail["lead_index"], detail["field"]) == (2, "practice_size")


# --- the touches table itself, on SQLite and on a real PostgreSQL -----------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    with fresh_store(url, tmp_path) as store:
        yield store


def test_touches_are_counted_per_lead_within_the_window(bare_store: AuditStore) -> None:
    bare_store.record_touches(["A", "B", "A"], plan_id="p1", requested_by="crm")
    bare_store.record_touches(["A"], plan_id="p2", requested_by="crm")
    bare_store.record_touches([], plan_id="p3", requested_by="crm")  # nothing to record

    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert bare_store.touches_since(["A", "B", "C"], an_hour_ago) == {"A": 3, "B": 1, "C": 0}
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert bare_store.touches_since(["A", "B"], in_an_hour) == {"A": 0, "B": 0}


def test_touches_store_the_keyed_hash_never_the_lead_id(bare_store: AuditStore) -> None:
    from sqlalchemy import select

    from candor.serving.audit.log import EVENTS
    from candor.serving.audit.store import TOUCHES

    bare_store.record_touches(["L-secret"], plan_id="p1", requested_by="crm")

    with bare_store.engine.connect() as conn:
        [row] = conn.execute(select(TOUCHES)).mappings().all()
        [event] = conn.execute(select(EVENTS).where(EVENTS.c.kind == "touches")).mappings().all()
    assert row["lead_key"] == bare_store.lead_key("L-secret")
    assert "L-secret" not in str(dict(row)) and "L-secret" not in str(dict(event))
    assert (row["plan_id"], row["score_id"]) == ("p1", None)
    assert (event["actor"], event["subject"]) == ("crm", "p1")  # who planned it is in the log


def test_call_plan_carries_the_disclosure(api: TestClient) -> None:
    body = {"leads": [demo_lead(lead_id=f"D{i}") for i in range(12)], "capacity": 5}
    response = api.post("/v1/call-plans", json=body)
    assert response.status_code == 201
    assert "advisory" in response.json()["disclosure"]["text"]
    assert response.json()["disclosure"]["model_card"].endswith("/card")


# --- channels: consent per channel, capacity lines and caps per channel ------------------------

CONSENT_OF = {str(f.channel): f for f in HCP_LEADS.channel_consents}  # channel -> its field


def live_on(lead: dict[str, Any], channel: str, *, today: date) -> bool:
    """Whether the lead's contact consent on ``channel`` is given and not lapsed today."""
    consent = CONSENT_OF[channel]
    if lead["do_not_contact"] or not lead[consent.name]:
        return False
    expires = lead.get(consent.expires) if consent.expires else None
    return expires is None or date.fromisoformat(expires) > today


def test_a_plan_per_channel_never_plans_a_lead_without_live_consent_on_its_channel(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated[:300], "lines")
    today = datetime.now(UTC).date()
    by_id = {lead["lead_id"]: lead for lead in leads}
    without = {
        c: {i for i, lead in by_id.items() if not live_on(lead, c, today=today)} for c in CONSENT_OF
    }
    assert without["email"] and without["visit"]  # the sample has leads each line must skip

    body = plan(api, leads, capacity={"visit": 40, "email": 60}, max_touches_30d=100)

    entries, summary = body["plan"], body["summary"]
    assert [e["channel"] for e in entries] == ["visit"] * 40 + ["email"] * 60  # lines in order
    for entry in entries:
        assert live_on(by_id[entry["lead_id"]], entry["channel"], today=today), entry
    assert len(planned_ids(body)) == len(set(planned_ids(body)))  # one channel a lead
    for channel in ("visit", "email"):
        ranks = [e["rank"] for e in entries if e["channel"] == channel]
        assert ranks == list(range(1, len(ranks) + 1))
        assert summary["removed_by_consent"][channel] == len(without[channel])
        assert summary["by_channel"][channel]["removed_by_consent"] == len(without[channel])
        assert summary["by_channel"][channel]["planned"] == len(ranks)
    assert summary["capacity"] == 100 and summary["planned"] == 100
    assert set(summary["by_channel"]) == {"visit", "email"}
    excluded = {(e["lead_id"], e["channel"]) for e in body["excluded"]}
    planned = set(planned_ids(body))
    for e in body["excluded"]:
        assert e["lead_id"] not in planned
        if e["reason"] == "no_channel_consent":
            assert e["lead_id"] in without[e["channel"]]
    assert excluded


def test_a_plan_on_one_channel_plans_every_lead_with_live_consent_on_it(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    leads = tagged(generated[:200], "text")
    today = datetime.now(UTC).date()
    reachable = {lead["lead_id"] for lead in leads if live_on(lead, "text", today=today)}

    body = plan(api, leads, channel="text", capacity=1000, max_touches_30d=100)

    assert set(planned_ids(body)) == reachable
    assert {e["channel"] for e in body["plan"]} == {"text"}
    assert body["summary"]["removed_by_consent"] == {"text": len(leads) - len(reachable)}


def test_a_plan_on_no_channel_names_none(api: TestClient, generated: list[dict[str, Any]]) -> None:
    body = plan(api, tagged(generated[:30], "nochannel"), capacity=10)

    assert {e["channel"] for e in body["plan"]} == {None}
    assert body["summary"]["removed_by_consent"] == {} and body["summary"]["by_channel"] == {}


def test_per_channel_caps_count_the_touches_of_earlier_plans_on_that_channel(
    api: TestClient, generated: list[dict[str, Any]], store: AuditStore
) -> None:
    today = datetime.now(UTC).date()
    # leads reachable by e-mail and visit, so that either line could take any of them
    leads = [
        lead
        for lead in tagged(generated, "chancap")
        if live_on(lead, "email", today=today) and live_on(lead, "visit", today=today)
    ][:60]

    first = plan(api, leads, channel="email", capacity=20, max_touches_30d=100)
    emailed = set(planned_ids(first))
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    touches = store.touches_by_channel_since(list(emailed), since)
    assert all(touches[i] == {"email": 1} for i in emailed)

    again = plan(
        api, leads, capacity={"email": 60, "visit": 60}, max_touches_30d={"email": 1, "visit": 1}
    )

    by_channel = {
        c: {e["lead_id"] for e in again["plan"] if e["channel"] == c} for c in ("email", "visit")
    }
    assert not emailed & by_channel["email"]  # at the e-mail cap ...
    assert emailed <= by_channel["visit"]  # ... but never visited: the visit line takes them
    assert by_channel["email"] | by_channel["visit"] == {lead["lead_id"] for lead in leads}
    assert again["summary"]["by_channel"]["email"]["contact_capped"] == len(emailed)
    assert again["summary"]["by_channel"]["email"]["max_touches_30d"] == 1
    assert store.verify().ok


def test_touches_without_a_channel_count_against_every_channels_cap(
    api: TestClient, generated: list[dict[str, Any]]
) -> None:
    today = datetime.now(UTC).date()
    leads = [lead for lead in tagged(generated, "anycap") if live_on(lead, "visit", today=today)][
        :30
    ]
    first = set(planned_ids(plan(api, leads, capacity=10, max_touches_30d=100)))

    body = plan(api, leads, channel="visit", capacity=30, max_touches_30d={"visit": 1})

    assert not first & set(planned_ids(body))
    capped = {e["lead_id"] for e in body["excluded"] if e["reason"] == "contact_cap"}
    assert capped == first
    assert {e["channel"] for e in body["excluded"] if e["reason"] == "contact_cap"} == {"visit"}


def test_a_plan_scores_without_sensitive_fields_call_planning_may_not_use(
    api: TestClient,
) -> None:
    leads = [
        demo_lead(lead_id="cp-yes", data_use_consent_call_planning=True),
        demo_lead(lead_id="cp-no", data_use_consent_call_planning=False),
    ]

    body = plan(api, leads, capacity=2, min_share={})

    withheld = {e["lead_id"]: e["withheld"] for e in body["plan"]}
    assert withheld["cp-yes"] == []
    assert sorted(withheld["cp-no"]) == ["patient_volume_band", "prescribing_decile"]


def test_touch_events_keep_their_old_form_without_a_channel(bare_store: AuditStore) -> None:
    from sqlalchemy import select

    from candor.serving.audit.log import EVENTS
    from candor.serving.audit.store import TOUCHES

    bare_store.record_touches(["A", "B"], plan_id="old", requested_by="crm", score_ids=["s1", None])
    bare_store.record_touches(
        ["A", "C"], plan_id="new", requested_by="crm", channels=["visit", None]
    )

    with bare_store.engine.connect() as conn:
        events = conn.execute(select(EVENTS).where(EVENTS.c.kind == "touches")).mappings().all()
        rows = conn.execute(select(TOUCHES).order_by(TOUCHES.c.seq, TOUCHES.c.position)).all()
    key = bare_store.lead_key
    bodies = {e["subject"]: json.loads(e["body"])["touches"] for e in events}
    assert bodies["old"] == [[key("A"), "s1"], [key("B"), None]]  # as before channels
    assert bodies["new"] == [[key("A"), None, "visit"], [key("C"), None]]
    assert [r.channel for r in rows] == [None, None, "visit", None]
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert bare_store.touches_by_channel_since(["A", "C"], an_hour_ago) == {
        "A": {None: 1, "visit": 1},
        "C": {None: 1},
    }
    assert bare_store.touches_since(["A", "B", "C"], an_hour_ago) == {"A": 2, "B": 1, "C": 1}
    assert bare_store.verify().ok

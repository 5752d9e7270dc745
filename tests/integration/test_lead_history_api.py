"""A lead's score history and what changed between two of its scores, over HTTP.

Two model versions live in this module's own CANDOR_HOME (the session's champion is left
alone): the lead is scored by version 1, its inputs change, it is scored again, version 2 is
made champion, and it is scored a third time. The change between any two of its scores adds
up exactly (to 1e-9) on the log-odds margin; across versions the model's part is the new
model on the old inputs against the old model on them, checked here against the registered
models themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import settings_support as support
from api_support import SCORE, demo_lead, error_of, serve
from auth_support import bearer
from fastapi.testclient import TestClient

from candor.models.leads.features import build_features, columns_from_records
from candor.models.settings import Settings
from candor.registry import LEADS, load_model, versions
from candor.training.pipeline import train_leads

LEAD = "L-HISTORY-1"
OTHER = "L-HISTORY-2"
ADDITIVE = 1e-9


def lead(**changes: Any) -> dict[str, Any]:
    return demo_lead(lead_id=LEAD, **changes)


def scored(client: TestClient, body_lead: dict[str, Any]) -> dict[str, Any]:
    response = client.post(SCORE, json={"leads": [body_lead], "explain": "all"})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Scores of LEAD: two by version 1 (rep visits 1 then 6), one by version 2 (6 visits)."""
    home = tmp_path_factory.mktemp("history_home")
    settings = support.make_settings(home)
    assert train_leads(data=support.SAMPLE_LEADS, settings=settings, seed=1).gate.promoted
    first_lead, second_lead = lead(rep_visits_90d=1), lead(rep_visits_90d=6, emails_opened_90d=0)
    with serve(settings) as client:
        first = scored(client, first_lead)
        second = scored(client, second_lead)
        scored(client, demo_lead(lead_id=OTHER))
    train_leads(data=support.SAMPLE_LEADS, settings=settings, seed=7)
    versions.promote(settings, "2", justification="test: a second version", by="test")
    with serve(settings) as client:
        third = scored(client, second_lead)
    yield {
        "settings": settings,
        "scores": [first, second, third],
        "leads": [first_lead, second_lead, second_lead],
    }


@pytest.fixture(scope="module")
def reviewer(history: dict[str, Any]) -> Iterator[TestClient]:
    with serve(history["settings"], role="reviewer") as client:
        yield client


def margin_of(settings: Settings, version: str, body_lead: dict[str, Any]) -> float:
    """The registered version's raw output on a lead as sent (independent of the log)."""
    scorer = load_model(settings, kind=LEADS, ref=version).model
    matrix = build_features(columns_from_records([body_lead]), schema=scorer.schema_, n_rows=1)
    return float(scorer.margins(matrix.values)[0])


def test_history_lists_every_score_newest_first_with_versions(
    history: dict[str, Any], reviewer: TestClient
) -> None:
    response = reviewer.get(f"/v1/leads/{LEAD}/scores")
    assert response.status_code == 200, response.text
    body = response.json()
    ids = [s["score_id"] for s in body["scores"]]
    assert ids == [s["score_id"] for s in reversed(history["scores"])]
    assert [s["model"]["version"] for s in body["scores"]] == ["2", "1", "1"]
    assert body["total"] == 3
    for item, result in zip(body["scores"], reversed(history["scores"]), strict=True):
        assert item["grade"] == result["grade"]
        assert item["score"] == pytest.approx(result["score"])
        assert item["final_grade"] == result["grade"]
        lower, upper = item["interval"]
        assert lower <= item["score"] <= upper
    assert LEAD not in response.text  # the raw id is never stored, nor echoed
    assert body["trend"]["direction"] in {"improving", "steady", "declining"}
    assert body["trend"]["scores_used"] == 3
    assert "least-squares" in body["trend"]["rule"]


def test_history_pages_with_a_cursor(reviewer: TestClient) -> None:
    first = reviewer.get(f"/v1/leads/{LEAD}/scores", params={"limit": 2}).json()
    assert len(first["scores"]) == 2 and first["next_cursor"]
    rest = reviewer.get(
        f"/v1/leads/{LEAD}/scores", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert len(rest["scores"]) == 1 and rest["next_cursor"] is None
    assert rest["trend"] == first["trend"]  # the trend is the lead's, whatever the page


def test_history_shows_decisions_and_outcomes(
    history: dict[str, Any], reviewer: TestClient
) -> None:
    oldest = history["scores"][0]["score_id"]
    decided = reviewer.post(
        f"/v1/reviews/{oldest}",
        json={"decision": "override", "grade": "A", "comment": "known prescriber"},
    )
    assert decided.status_code == 201, decided.text
    outcome = reviewer.post(
        "/v1/outcomes", json={"lead_id": OTHER, "converted": True, "observed_at": "2026-11-02"}
    )
    assert outcome.status_code == 201, outcome.text
    mine = reviewer.get(f"/v1/leads/{LEAD}/scores").json()
    item = next(s for s in mine["scores"] if s["score_id"] == oldest)
    assert item["final_grade"] == "A" and item["decisions"][-1]["comment"] == "known prescriber"
    assert mine["outcomes"] == []  # another lead's outcome is not this lead's
    theirs = reviewer.get(f"/v1/leads/{OTHER}/scores").json()
    assert [o["converted"] for o in theirs["outcomes"]] == [True]


def test_reading_a_history_is_logged_as_an_access(
    history: dict[str, Any], reviewer: TestClient
) -> None:
    reviewer.get(f"/v1/leads/{LEAD}/scores")
    admin = bearer(history["settings"], "admin")
    newest = history["scores"][-1]["score_id"]
    reads = reviewer.get("/v1/audit/access", params={"score_id": newest}, headers=admin)
    assert reads.status_code == 200, reads.text
    assert any(r["read_by"].startswith("test-reviewer-") for r in reads.json()["reads"])


def test_change_within_one_version_adds_up_and_names_the_input(
    history: dict[str, Any], reviewer: TestClient
) -> None:
    first, second, _ = history["scores"]
    response = reviewer.get(
        f"/v1/leads/{LEAD}/changes", params={"from": first["score_id"], "to": second["score_id"]}
    )
    assert response.status_code == 200, response.text
    change = response.json()
    assert change["model_part"] is None
    assert change["from"]["margin"] + change["total_change"] == pytest.approx(
        change["to"]["margin"], abs=ADDITIVE
    )
    assert abs(change["residual"]) < ADDITIVE
    assert change["from"]["margin"] + sum(p["change"] for p in change["parts"]) == pytest.approx(
        change["to"]["margin"], abs=ADDITIVE
    )
    visits = next(p for p in change["parts"] if p["input"] == "rep_visits_90d")
    assert (visits["from_value"], visits["to_value"]) == (1, 6)
    assert "went from 1 to 6" in visits["text"]
    assert f"{visits['change']:+.2f}" in visits["text"]
    # every contribution's change is accounted for: the parts are the differences of the
    # contributions the two answers gave
    before = {c["feature"]: c["contribution"] for c in first["reasons"]}
    after = {c["feature"]: c["contribution"] for c in second["reasons"]}
    for part in change["parts"]:
        assert part["change"] == pytest.approx(after[part["input"]] - before[part["input"]])
    assert change["from"]["grade"] == first["grade"] and change["to"]["grade"] == second["grade"]


def test_change_across_versions_separates_the_model(
    history: dict[str, Any], reviewer: TestClient
) -> None:
    """Default: the last two scores (version 1 then version 2, same inputs)."""
    response = reviewer.get(f"/v1/leads/{LEAD}/changes")
    assert response.status_code == 200, response.text
    change = response.json()
    _, second, third = history["scores"]
    assert (change["from"]["score_id"], change["to"]["score_id"]) == (
        second["score_id"],
        third["score_id"],
    )
    model = change["model_part"]
    assert (model["from_version"], model["to_version"]) == ("1", "2")
    settings, same_lead = history["settings"], history["leads"][1]
    expected = margin_of(settings, "2", same_lead) - margin_of(settings, "1", same_lead)
    assert model["change"] == pytest.approx(expected, abs=1e-6)
    # the inputs did not change: the new model's score of the old inputs is the new score
    assert model["score_on_old_inputs"] == pytest.approx(third["score"], abs=1e-9)
    assert change["from"]["margin"] + change["total_change"] == pytest.approx(
        change["to"]["margin"], abs=ADDITIVE
    )
    assert abs(change["residual"]) < ADDITIVE
    # the inputs did not change: what is left beside the model's part is rounding
    assert all(abs(p["change"]) < 1e-6 for p in change["parts"])


def test_change_across_versions_and_inputs_adds_up(
    history: dict[str, Any], reviewer: TestClient
) -> None:
    first, _, third = history["scores"]
    change = reviewer.get(
        f"/v1/leads/{LEAD}/changes", params={"from": first["score_id"], "to": third["score_id"]}
    ).json()
    settings = history["settings"]
    old_lead = history["leads"][0]
    expected_model = margin_of(settings, "2", old_lead) - margin_of(settings, "1", old_lead)
    assert change["model_part"]["change"] == pytest.approx(expected_model, abs=1e-6)
    total = change["model_part"]["change"] + sum(p["change"] for p in change["parts"])
    assert change["from"]["margin"] + total == pytest.approx(change["to"]["margin"], abs=ADDITIVE)
    assert {"rep_visits_90d", "emails_opened_90d"} <= {p["input"] for p in change["parts"]}


def test_change_refuses_what_it_cannot_compare(
    history: dict[str, Any], reviewer: TestClient
) -> None:
    first = history["scores"][0]["score_id"]
    same = reviewer.get(f"/v1/leads/{LEAD}/changes", params={"from": first, "to": first})
    assert same.status_code == 422 and error_of(same)["details"][0]["field"] == "to"
    theirs = reviewer.get(f"/v1/leads/{OTHER}/changes", params={"from": first})
    assert theirs.status_code == 404 and error_of(theirs)["details"][0]["field"] == "from"
    lonely = reviewer.get(f"/v1/leads/{OTHER}/changes")
    assert lonely.status_code == 422 and error_of(lonely)["details"][0]["field"] == "lead_id"
    bad = reviewer.get(f"/v1/leads/{LEAD}/changes", params={"from": "nope"})
    assert bad.status_code == 422 and error_of(bad)["details"][0]["field"] == "from"
    typo = reviewer.get(f"/v1/leads/{LEAD}/changes", params={"form": first})
    assert typo.status_code == 422 and error_of(typo)["details"][0]["field"] == "form"


def test_unknown_lead_and_roles(history: dict[str, Any], reviewer: TestClient) -> None:
    missing = reviewer.get("/v1/leads/L-NEVER-SCORED/scores")
    assert missing.status_code == 404
    assert error_of(missing)["details"][0]["field"] == "lead_id"
    assert "L-NEVER-SCORED" not in missing.text
    scorer = bearer(history["settings"], "scorer")
    assert reviewer.get(f"/v1/leads/{LEAD}/scores", headers=scorer).status_code == 403
    assert reviewer.get(f"/v1/leads/{LEAD}/changes", headers=scorer).status_code == 403
    long_id = "x" * 5000
    too_long = reviewer.get(f"/v1/leads/{long_id}/scores")
    assert too_long.status_code == 422 and long_id not in too_long.text


def test_the_log_still_verifies(history: dict[str, Any], reviewer: TestClient) -> None:
    from candor.serving.audit.factory import open_store

    store = open_store(history["settings"])
    try:
        assert store.verify().ok
    finally:
        store.close()


def test_a_nightly_batch_score_is_in_the_history_beside_api_scores(
    history: dict[str, Any], reviewer: TestClient, tmp_path: Path
) -> None:
    """The CRM's nightly rescoring and a rep's API call land in one history."""
    import pandas as pd

    from candor.serving.audit.factory import open_store
    from candor.serving.scoring.batch_run import BatchOptions, run_batch

    settings = history["settings"]
    sample = pd.read_csv(support.SAMPLE_LEADS).drop(columns=["converted"])
    row = sample[~sample["do_not_contact"]].head(1).copy()
    row["lead_id"] = "L-NIGHTLY-1"
    source = tmp_path / "universe.csv"
    row.to_csv(source, index=False)
    store = open_store(settings, authenticates=False)
    try:
        run_batch(
            BatchOptions(input=source, output=tmp_path / "scores.parquet"),
            loaded=load_model(settings, kind=LEADS),
            policy=settings.policy,
            store=store,
        )
    finally:
        store.close()
    sent = json.loads(row.to_json(orient="records"))[0]
    sent["rep_visits_90d"] = int(sent["rep_visits_90d"]) + 5
    with serve(settings) as client:
        scored(client, sent)
    body = reviewer.get("/v1/leads/L-NIGHTLY-1/scores").json()
    assert [s["requested_by"] for s in body["scores"]][1] == "batch"
    assert len(body["scores"]) == 2
    response = reviewer.get("/v1/leads/L-NIGHTLY-1/changes")
    assert response.status_code == 200, response.text
    change = response.json()
    assert change["from"]["margin"] + change["total_change"] == pytest.approx(
        change["to"]["margin"], abs=ADDITIVE
    )
    assert "rep_visits_90d" in {p["input"] for p in change["parts"]}


def test_a_lead_id_with_a_slash_is_found(history: dict[str, Any], reviewer: TestClient) -> None:
    with serve(history["settings"]) as client:
        result = scored(client, demo_lead(lead_id="crm/east/77"))
    for path in ("/v1/leads/crm%2Feast%2F77/scores", "/v1/leads/crm/east/77/scores"):
        found = reviewer.get(path)
        assert found.status_code == 200, found.text
        assert [s["score_id"] for s in found.json()["scores"]] == [result["score_id"]]

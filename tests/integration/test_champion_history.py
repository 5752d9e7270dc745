"""Champion history and rollback: every move of the alias is audited, listed and answerable
("which version was champion then"), a rollback moves it back, and a running server serves the
new champion after POST /v1/models/reload or its periodic check, without a restart.

Two lead scorer versions live in this module's own CANDOR_HOME (the session's is left alone),
both promoted by the training gate (the same data and seed: the second is as good).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_support import SCORE, demo_body, error_of, serve, with_overrides
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient
from settings_support import make_settings, no_tracking_server

from candor.cli.main import main as candor
from candor.data_samples.generate_leads import generate_leads
from candor.models.settings import Settings, get_settings
from candor.registry import versions
from candor.registry.champion_moves import rollback
from candor.serving.audit.factory import open_store
from candor.training.pipeline import TrainingSummary, train_leads

WHY = "version 2 under-grades rural leads in the pilot; back to version 1 until it is fixed"
HISTORY = "/v1/models/{}/history"
RELOAD = "/v1/models/reload"


@dataclass(frozen=True)
class Cli:
    code: int
    out: str
    err: str


def cli(settings: Settings, *argv: str) -> Cli:
    """`candor ARGV` with CANDOR_HOME set to ``settings.home``: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CANDOR_HOME", str(settings.home))
        no_tracking_server(mp)
        get_settings.cache_clear()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = candor(list(argv))
        finally:
            get_settings.cache_clear()
    return Cli(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Trained:
    settings: Settings
    first: TrainingSummary
    second: TrainingSummary


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    home = tmp_path_factory.mktemp("champion_home")
    data = home / "leads.csv"
    generate_leads(rows=1500, seed=31).to_csv(data, index=False)
    settings = make_settings(home)
    first = train_leads(data=data, settings=settings)
    second = train_leads(data=data, settings=settings)
    assert first.gate.promoted and second.gate.promoted, (first.gate, second.gate)
    return Trained(settings, first, second)


def champion(settings: Settings) -> str | None:
    return versions.champion_version(settings, settings.lead_model_name)


def scored(client: TestClient) -> dict[str, Any]:
    """One demo lead scored: its score id and the model version that scored it."""
    response = client.post(SCORE, json=demo_body())
    assert response.status_code == 200, response.text
    body = response.json()
    return {"score_id": body["results"][0]["score_id"], "version": body["model"]["version"]}


@pytest.fixture(scope="module")
def admin(trained: Trained) -> Iterator[TestClient]:
    """A server started while version 2 is champion (before the rollback)."""
    with serve(trained.settings, role="admin") as client:
        yield client


@dataclass(frozen=True)
class RolledBack:
    cli: Cli
    before: dict[str, Any]  # a score made before the rollback
    card_before: dict[str, Any]  # the public model card then (cached per served version)
    after_unreloaded: dict[str, Any]  # a score after it, before the server reloaded


def card(client: TestClient, settings: Settings) -> Any:
    response = client.get(f"/v1/models/{settings.lead_model_name}/card")
    assert response.status_code == 200, response.text
    return response


@pytest.fixture(scope="module")
def rolled_back(trained: Trained, admin: TestClient) -> RolledBack:
    before = scored(admin)
    card_before = card(admin, trained.settings).json()
    done = cli(
        trained.settings, "models", "rollback", "--to", "1", "--justify", WHY, "--by", "dr.ops"
    )
    return RolledBack(done, before, card_before, scored(admin))


@pytest.fixture(scope="module")
def reviewer(trained: Trained) -> Iterator[TestClient]:
    with serve(trained.settings, role="reviewer") as client:
        yield client


def history(client: TestClient, settings: Settings, **params: str) -> dict[str, Any]:
    response = client.get(HISTORY.format(settings.lead_model_name), params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def created_at(client: TestClient, score_id: str) -> str:
    response = client.get(f"/v1/scores/{score_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["created_at"])


# --- the training gate's moves ----------------------------------------------------------------


def test_the_gate_records_each_promotion_with_from_to_by_and_why(
    trained: Trained, reviewer: TestClient
) -> None:
    answer = history(reviewer, trained.settings)
    gate = [m for m in answer["moves"] if m["how"] == "gate"]
    assert [(m["from"], m["to"]) for m in gate] == [("1", "2"), (None, "1")]  # newest first
    for move, summary in zip(gate, (trained.second, trained.first), strict=True):
        assert move["by"] == "training gate"
        assert move["why"] == summary.gate.reason
        assert move["run_id"] == summary.run_id
        assert move["model"] == trained.settings.lead_model_name
        assert move["alias"] == trained.settings.model_alias
    assert gate[0]["seq"] > gate[1]["seq"]
    assert gate[0]["at"] >= gate[1]["at"]
    assert answer["kind"] == "leads"


def test_the_cli_lists_the_same_moves(trained: Trained, reviewer: TestClient) -> None:
    done = cli(trained.settings, "models", "history", "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["moves"] == history(reviewer, trained.settings)["moves"]
    text = cli(trained.settings, "models", "history")
    assert text.code == 0, text.err
    assert "1 -> 2  gate" in text.out and "none -> 1  gate" in text.out


# --- rollback -------------------------------------------------------------------------------


def test_a_rollback_moves_the_alias_and_is_in_the_history(
    trained: Trained, rolled_back: RolledBack, reviewer: TestClient
) -> None:
    assert rolled_back.cli.code == 0, rolled_back.cli.err
    assert "rolled candor-lead-scorer back to version 1" in rolled_back.cli.out
    assert champion(trained.settings) == "1"
    answer = history(reviewer, trained.settings)
    assert answer["champion"] == "1" and answer["warning"] is None
    [move] = [m for m in answer["moves"] if m["how"] == "rollback" and m["why"] == WHY]
    assert (move["from"], move["to"], move["by"]) == ("2", "1", "dr.ops")
    assert move["run_id"] == trained.first.run_id
    cli_moves = json.loads(cli(trained.settings, "models", "history", "--json").out)["moves"]
    assert move in cli_moves
    # tagged on the version as a promotion is (the model card shows it)
    client = MlflowClient(tracking_uri=trained.settings.tracking_uri)
    tags = client.get_model_version(trained.settings.lead_model_name, "1").tags
    assert tags["promotion.how"] == "rollback"
    assert tags["promotion.justification"] == WHY
    assert tags["promotion.previous_champion"] == "2"


def test_a_rollback_without_a_justification_fails_with_its_code(
    trained: Trained, rolled_back: RolledBack
) -> None:
    before = champion(trained.settings)
    done = cli(trained.settings, "models", "rollback", "--to", "1")
    assert done.code == 2
    assert "error [justification_required]" in done.err
    blank = cli(trained.settings, "models", "rollback", "--to", "1", "--justify", "  ")
    assert "error [justification_required]" in blank.err
    assert champion(trained.settings) == before


def test_a_rollback_to_an_unknown_version_or_model_is_not_found(
    trained: Trained, rolled_back: RolledBack
) -> None:
    before = champion(trained.settings)
    unknown = cli(trained.settings, "models", "rollback", "--to", "99", "--justify", WHY)
    assert unknown.code == 2
    assert "error [not_found]" in unknown.err and "known versions: [1, 2]" in unknown.err
    model = cli(
        trained.settings, "models", "rollback", "--to", "1", "--justify", WHY, "--model", "nope"
    )
    assert model.code == 2 and "error [not_found]" in model.err
    assert champion(trained.settings) == before


def test_a_rollback_refuses_the_current_champion_and_a_newer_version(
    trained: Trained, rolled_back: RolledBack
) -> None:
    same = cli(trained.settings, "models", "rollback", "--to", "1", "--justify", WHY)
    assert same.code == 2 and "error [already_champion]" in same.err
    newer = cli(trained.settings, "models", "rollback", "--to", "2", "--justify", WHY)
    assert newer.code == 2 and "error [not_a_rollback]" in newer.err
    assert "candor models promote 2" in newer.err
    assert champion(trained.settings) == "1"


# --- the running server ---------------------------------------------------------------------


def test_after_a_reload_the_server_scores_with_the_old_version(
    trained: Trained, rolled_back: RolledBack, admin: TestClient
) -> None:
    assert rolled_back.before["version"] == "2"
    assert rolled_back.after_unreloaded["version"] == "2"  # not reloaded yet
    reload = admin.post(RELOAD)
    assert reload.status_code == 200, reload.text
    answer = reload.json()
    assert answer["changed"] is True
    leads, forecast = answer["models"]
    assert (leads["kind"], leads["from"], leads["to"], leads["changed"]) == (
        "leads",
        "2",
        "1",
        True,
    )
    assert leads["champion"] == "1" and leads["error"] is None
    # no forecaster here: it stays unserved and says why, the lead scorer is unaffected
    assert forecast["to"] is None and forecast["changed"] is False and forecast["error"]
    assert scored(admin)["version"] == "1"
    assert admin.get("/healthz").json()["model"]["version"] == "1"
    assert admin.get("/v1/models/current").json()["version"] == "1"
    # the card is cached per served version: the new champion's is built, not the old one kept
    assert rolled_back.card_before["version"] == "2"
    after = card(admin, trained.settings)
    assert after.headers["X-Cache"] == "miss" and after.json()["version"] == "1"
    assert after.json()["status"] == "champion"
    again = admin.post(RELOAD).json()
    assert again["changed"] is False and again["models"][0]["to"] == "1"


def test_a_reload_that_fails_keeps_serving_the_model_it_had(
    trained: Trained, rolled_back: RolledBack, admin: TestClient
) -> None:
    settings = trained.settings
    name, alias = settings.lead_model_name, settings.model_alias
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    served = admin.get("/healthz").json()["model"]["version"]
    was = champion(settings)
    client.delete_registered_model_alias(name, alias)  # the champion cannot be loaded now
    try:
        answer = admin.post(RELOAD).json()
    finally:
        client.set_registered_model_alias(name, alias, str(was))
    leads = answer["models"][0]
    assert answer["changed"] is False
    assert (leads["from"], leads["to"], leads["champion"]) == (served, served, None)
    assert leads["error"].endswith(f"still serving version {served}")
    assert scored(admin)["version"] == served


def test_a_reload_needs_an_admin_key(reviewer: TestClient, trained: Trained) -> None:
    refused = reviewer.post(RELOAD)
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"
    with serve(trained.settings, role="scorer") as scorer:
        assert scorer.get(HISTORY.format(trained.settings.lead_model_name)).status_code == 403


# --- which version was champion then --------------------------------------------------------


def test_at_answers_the_version_that_scored_then(
    trained: Trained, rolled_back: RolledBack, admin: TestClient, reviewer: TestClient
) -> None:
    if admin.get("/healthz").json()["model"]["version"] != "1":
        assert admin.post(RELOAD).status_code == 200
    by_one = scored(admin)
    assert by_one["version"] == "1"
    for score in (rolled_back.before, by_one):
        when = created_at(reviewer, score["score_id"])
        done = cli(trained.settings, "models", "history", "--at", when, "--json")
        assert done.code == 0, done.err
        answer = json.loads(done.out)["in_force"]
        assert answer["version"] == score["version"], (when, answer)
        counted = {r["version"]: r["count"] for r in answer["results_that_day"]}
        assert counted.get(score["version"], 0) >= 1
        assert answer["day"] == when[:10]
        over_http = history(reviewer, trained.settings, at=when)["in_force"]
        assert over_http == answer
    text = cli(trained.settings, "models", "history", "--at", when)
    assert f"version {by_one['version']} was champion" in text.out
    # a date: the end of that day (UTC); before any recorded move: none
    day = history(reviewer, trained.settings, at=when[:10])["in_force"]
    assert day["version"] == champion(trained.settings)
    assert day["at"].startswith(f"{when[:10]}T23:59:59.999999")
    everything = history(reviewer, trained.settings)["moves"]
    that_day = [m for m in reversed(everything) if m["at"].startswith(when[:10])]
    assert day["moves_that_day"] == that_day and that_day  # the rollback, at least
    early = history(reviewer, trained.settings, at="2000-01-01")["in_force"]
    assert early["version"] is None and early["since"] is None


def test_history_refuses_an_unknown_model_and_a_bad_moment(
    trained: Trained, reviewer: TestClient
) -> None:
    unknown = reviewer.get(HISTORY.format("no-such-model"))
    assert unknown.status_code == 404
    assert error_of(unknown)["details"][0]["field"] == "name"
    bad = reviewer.get(HISTORY.format(trained.settings.lead_model_name), params={"at": "3 Nov"})
    assert bad.status_code == 422
    assert error_of(bad)["details"][0]["field"] == "at"
    cli_bad = cli(trained.settings, "models", "history", "--model", "no-such-model")
    assert cli_bad.code == 2 and "error [not_found]" in cli_bad.err


def test_promotion_events_of_an_older_log_are_read_too(tmp_path: Path) -> None:
    """Logs written before moves were recorded this way hold the command line's bodies."""
    settings = make_settings(tmp_path)
    name = settings.lead_model_name
    store = open_store(settings)
    try:  # as `candor train leads` and `candor models promote` wrote them
        gate = {"model": name, "version": "1", "run_id": "r1", "alias": "champion"}
        store.record_promotion(
            {**gate, "justification": "training gate: first model"}, by="training gate"
        )
        store.record_promotion(
            {
                "model": name,
                "version": "2",
                "alias": "champion",
                "justification": "pilot",
                "by": "ops",
                "at": "2025-11-03T10:00:00+00:00",
                "previous_champion": "1",
                "gate_promoted": "False",
            },
            by="ops",
        )
    finally:
        store.close()
    done = cli(settings, "models", "history", "--json")
    assert done.code == 0, done.err
    moves = json.loads(done.out)["moves"]
    assert [(m["how"], m["from"], m["to"], m["by"], m["why"]) for m in moves] == [
        ("promote", "1", "2", "ops", "pilot"),
        ("gate", None, "1", "training gate", "first model"),
    ]


# --- the periodic check (last: it moves the alias twice more) -------------------------------


def test_the_periodic_check_picks_up_a_rollback_behind_the_servers_back(
    trained: Trained, rolled_back: RolledBack
) -> None:
    settings = trained.settings
    versions.promote(settings, "2", justification="test: 2 again", by="test")
    watched = with_overrides(settings, model_reload_seconds=0.2)
    with serve(watched, role="admin") as client:
        assert client.get("/healthz").json()["model"]["version"] == "2"
        rollback(settings, "1", justification="test: behind the server's back", by="test")
        deadline = time.monotonic() + 120  # a bound against hanging, not a timing under test
        served = "2"
        while served != "1" and time.monotonic() < deadline:
            time.sleep(0.1)
            served = client.get("/healthz").json()["model"]["version"]
        assert served == "1"
        assert scored(client)["version"] == "1"


def test_the_audit_log_still_verifies_after_every_move(trained: Trained) -> None:
    """Moves written by training and the command line beside a running server's own writes."""
    done = cli(trained.settings, "audit", "verify")
    assert done.code == 0, done.err
    assert "audit log intact" in done.out

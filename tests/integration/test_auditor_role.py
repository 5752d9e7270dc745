"""The auditor role: that records exist, their integrity and who read them; never their inputs.

Reviewers see a record's inputs; an auditor sees its kind, time, model version, state and
inclusion proof, the access log and the verification of the whole log, and is refused (403)
every route that shows inputs or changes anything.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import pytest
import settings_support as support
from api_support import HCP_MODEL, SCORE, demo_lead, error_of, serve
from auth_support import bearer
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from candor.cli.main import main as cli
from candor.models.settings import Settings, get_settings
from candor.serving import routers
from candor.serving.dependencies import AdminDep, ReviewerDep

AUDIT_READS = ("/v1/audit/verify", "/v1/audit/records/{score_id}", "/v1/audit/access")
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")  # a path parameter, {name} or {name:path}
# distinctive input values of the demo lead: none may reach an auditor
DEMO_INPUTS = ("Pulmonology", "Midwest", "Webinar", "Group practice", "Covered")


@pytest.fixture(scope="module")
def api(trained_settings: Settings) -> Iterator[TestClient]:
    with serve(trained_settings, role="admin") as client:
        yield client


@pytest.fixture(scope="module")
def score_id(api: TestClient) -> str:
    response = api.post(SCORE, json={"leads": [demo_lead(lead_id="L-AUDITOR-1")]})
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["score_id"])


def admitting(dependency: Any) -> list[APIRoute]:
    """The app's routes whose caller is checked by ``dependency`` (a role alias): every
    router of candor.serving.routers, read from the routers themselves."""
    check = dependency.__metadata__[0].dependency
    modules = [
        importlib.import_module(f"{routers.__name__}.{m.name}")
        for m in pkgutil.iter_modules(routers.__path__)
    ]
    return [
        route
        for module in modules
        for route in getattr(module, "router", APIRouter()).routes
        if isinstance(route, APIRoute)
        and any(d.call is check for d in route.dependant.dependencies)
    ]


def audit_get(api: TestClient, path: str, score_id: str, headers: dict[str, str]) -> Any:
    return api.get(
        path.format(score_id=score_id),
        params={"score_id": score_id} if path.endswith("/access") else None,
        headers=headers,
    )


def test_every_route_that_shows_inputs_refuses_an_auditor(
    api: TestClient, trained_settings: Settings, score_id: str
) -> None:
    routes = admitting(ReviewerDep)
    paths = {route.path for route in routes}
    # the routes that show a record's inputs are among them (a regression would drop one)
    assert {"/v1/scores/{score_id}", "/v1/reviews", "/v1/leads/{lead_id:path}/scores"} <= paths
    auditor = bearer(trained_settings, "auditor")
    filled = {"score_id": score_id, "lead_id": "L-AUDITOR-1", "name": HCP_MODEL}
    for route in routes:
        path = PARAM.sub(lambda m: filled.get(m[1], "x"), route.path)
        for method in sorted(route.methods):
            response = api.request(method, path, headers=auditor, json={})
            assert response.status_code == 403, (method, route.path, response.text)
            assert "auditor" in error_of(response)["message"]


def test_admin_routes_refuse_an_auditor(api: TestClient, trained_settings: Settings) -> None:
    auditor = bearer(trained_settings, "auditor")
    routes = admitting(AdminDep)
    assert "/v1/privacy/erasures" in {route.path for route in routes}
    for route in routes:
        for method in sorted(route.methods):
            response = api.request(method, route.path, headers=auditor, json={})
            assert response.status_code == 403, (method, route.path, response.text)


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_read_the_audit_routes(
    api: TestClient, trained_settings: Settings, score_id: str, role: str
) -> None:
    for path in AUDIT_READS:
        response = audit_get(api, path, score_id, bearer(trained_settings, role))
        assert response.status_code == 200, (path, response.text)


@pytest.mark.parametrize("role", ["scorer", "reviewer"])
def test_scorers_and_reviewers_are_refused_the_audit_routes(
    api: TestClient, trained_settings: Settings, score_id: str, role: str
) -> None:
    for path in AUDIT_READS:
        response = audit_get(api, path, score_id, bearer(trained_settings, role))
        assert response.status_code == 403, (path, response.text)


def test_an_auditor_sees_that_a_record_exists_and_its_proof_never_its_inputs(
    api: TestClient, trained_settings: Settings, score_id: str
) -> None:
    response = api.get(f"/v1/audit/records/{score_id}", headers=bearer(trained_settings, "auditor"))
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["score_id"] == score_id and record["kind"] == "score"
    assert record["state"] == "sealed" and record["removed_at"] is None
    assert record["model"].startswith("hcp_lead_scorer@") or "@" in record["model"]
    assert record["proof"]["leaf_index"] == record["seq"] - 1
    leaf_body = json.loads(record["proof"]["leaf"].split("\n")[1])
    assert set(leaf_body) <= {"model", "review"}  # no input, score or grade
    for value in (*DEMO_INPUTS, "L-AUDITOR-1"):
        assert value not in response.text, value


def test_a_suppression_is_a_record_in_the_clear(
    api: TestClient, trained_settings: Settings
) -> None:
    response = api.post(
        SCORE, json={"leads": [demo_lead(lead_id="L-AUDITOR-2", do_not_contact=True)]}
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["suppressed"] == "opted_out"
    record = api.get(
        f"/v1/audit/records/{result['score_id']}", headers=bearer(trained_settings, "auditor")
    )
    assert record.status_code == 200, record.text
    assert record.json()["kind"] == "suppression" and record.json()["state"] == "clear"


def test_an_unknown_record_is_named(api: TestClient, trained_settings: Settings) -> None:
    response = api.get(
        "/v1/audit/records/no-such-score", headers=bearer(trained_settings, "auditor")
    )
    assert response.status_code == 404
    assert [d["field"] for d in error_of(response)["details"]] == ["score_id"]


def test_an_auditor_sees_who_read_a_record(
    api: TestClient, trained_settings: Settings, score_id: str
) -> None:
    auditor = bearer(trained_settings, "auditor")
    before = audit_get(api, "/v1/audit/access", score_id, auditor).json()["reads"]
    assert api.get(f"/v1/scores/{score_id}").status_code == 200  # the admin reads the inputs
    after = audit_get(api, "/v1/audit/access", score_id, auditor).json()["reads"]
    assert len(after) == len(before) + 1 and after[-1]["read_by"].startswith("test-admin-")


def test_an_auditor_verifies_the_whole_log(
    api: TestClient, trained_settings: Settings, score_id: str
) -> None:
    response = api.get("/v1/audit/verify", headers=bearer(trained_settings, "auditor"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"] is True and report["problems"] == [] and report["more"] == 0
    assert report["events"] >= 1 and report["heads"] >= 1


def test_the_cli_creates_an_auditor_key_that_reads_the_audit_and_not_inputs(
    api: TestClient,
    trained_settings: Settings,
    score_id: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    support.no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(trained_settings.home))
    monkeypatch.delenv("CANDOR_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)
    assert cli(["keys", "create", "--name", "audit-firm", "--role", "auditor"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1].strip()
    key = {"Authorization": f"Bearer {secret}"}
    assert api.get("/v1/audit/verify", headers=key).status_code == 200
    assert api.get(f"/v1/scores/{score_id}", headers=key).status_code == 403
    assert cli(["keys", "list"]) == 0
    listed = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["audit-firm", "auditor"] in [line[:2] for line in listed]
    assert cli(["keys", "demo"]) == 0
    demo = capsys.readouterr().out
    assert any(line.split()[:1] == ["auditor"] for line in demo.splitlines())
    assert "/v1/audit/verify" in demo

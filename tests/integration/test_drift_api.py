"""GET /v1/monitoring/drift and its plot: audited scores against the champion's training data.

Each scenario scores a generated batch through POST /v1/leads/score into an audit database of
its own (so that no other test's scores fall into its window), then asks for the drift of
today's window as a reviewer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_support import SCORE, error_of, leads_from_frame, serve, with_overrides
from auth_support import bearer
from fastapi.testclient import TestClient
from settings_support import no_tracking_server

from candor.cli.main import main
from candor.cli.monitoring import ALERT_EXIT
from candor.data_samples.generate_leads import generate_leads
from candor.models.contract import HCP_LEADS
from candor.models.settings import LEAD_MODEL_NAME, Settings, get_settings
from candor.serving.state import serving_state

DRIFT = "/v1/monitoring/drift"
PLOT = "/v1/monitoring/drift/plot.png"
CARD = f"/v1/models/{LEAD_MODEL_NAME}/card"
SHIFTED = "rep_visits_90d"
LEADS = 1000  # the most one request may carry (max_leads_per_request)
INPUTS = [f.name for f in HCP_LEADS.model_inputs]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Scenario:
    settings: Settings
    client: TestClient  # sends the scorer's key; reads pass the reviewer's
    report: dict[str, Any]  # today's drift, as a reviewer read it


def isolated(trained_settings: Settings, folder: Path, **overrides: Any) -> Settings:
    """The session's champion with an audit database of its own; the card never cached."""
    return with_overrides(
        trained_settings,
        database_url=f"sqlite:///{folder / 'audit.db'}",
        model_card_cache_seconds=0,
        **overrides,
    )


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def reviewer(settings: Settings) -> dict[str, str]:
    return bearer(settings, "reviewer")


def scenario(settings: Settings, shift: dict[str, float | str] | None) -> Iterator[Scenario]:
    """Score one generated batch (``shift`` applied), then read today's drift."""
    frame = generate_leads(rows=LEADS, seed=909, shift=shift)
    with serve(settings) as client:
        scored = client.post(SCORE, json={"leads": leads_from_frame(frame, LEADS)})
        assert scored.status_code == 200, scored.text
        answer = client.get(DRIFT, params={"since": today()}, headers=reviewer(settings))
        assert answer.status_code == 200, answer.text
        yield Scenario(settings, client, answer.json())


@pytest.fixture(scope="module")
def shifted(
    trained_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    settings = isolated(trained_settings, tmp_path_factory.mktemp("drift_shifted"))
    yield from scenario(settings, {SHIFTED: 3.0})


@pytest.fixture(scope="module")
def unshifted(
    trained_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    settings = isolated(trained_settings, tmp_path_factory.mktemp("drift_unshifted"))
    yield from scenario(settings, None)


def the_version(report: dict[str, Any]) -> dict[str, Any]:
    [version] = report["versions"]  # one model scored the window
    return version  # type: ignore[no-any-return]


def by_name(version: dict[str, Any]) -> dict[str, dict[str, Any]]:
    overall = version["overall"]
    return {d["name"]: d for d in [*overall["inputs"], overall["score"]]}


# --- the report -------------------------------------------------------------------------------


def test_a_shifted_input_is_alert_and_the_others_are_not(shifted: Scenario) -> None:
    report = shifted.report
    assert report["status"] == "alert"
    assert report["window"] == {"since": today(), "until": today()}
    version = the_version(report)
    assert version["model"].startswith(f"{LEAD_MODEL_NAME}@")
    assert version["scores"] == report["scores"] > 0.9 * LEADS  # opted-out leads are not scored
    drifts = by_name(version)
    assert set(drifts) == {*INPUTS, "score"}
    assert drifts[SHIFTED]["status"] == "alert"
    assert drifts[SHIFTED]["psi"] >= report["thresholds"]["alert_psi"]
    assert report["worst_input"] == SHIFTED and version["overall"]["worst_input"] == SHIFTED
    assert report["worst_psi"] == drifts[SHIFTED]["psi"]
    calm = [d for name, d in drifts.items() if name not in (SHIFTED, "score")]
    assert [d["name"] for d in calm if d["status"] == "alert"] == []
    # tripled visits lie outside the range the model was trained on
    assert drifts[SHIFTED]["out_of_range_share"] > drifts[SHIFTED]["reference_out_of_range_share"]
    shares = drifts[SHIFTED]
    assert (
        len(shares["labels"]) == len(shares["reference_shares"]) == len(shares["observed_shares"])
    )
    assert sum(shares["observed_shares"]) == pytest.approx(1.0)


def test_an_unshifted_batch_is_ok_everywhere(unshifted: Scenario) -> None:
    report = unshifted.report
    version = the_version(report)
    drifts = by_name(version)
    assert {name: d["status"] for name, d in drifts.items()} == dict.fromkeys(drifts, "ok")
    assert report["status"] == version["status"] == "ok"
    assert all(d["psi"] < report["thresholds"]["warn_psi"] for d in drifts.values())
    # no category outside training: the unseen share is zero wherever it applies
    assert all(d["unseen_share"] in (None, 0.0) for d in drifts.values())


def test_review_code_rates_stand_beside_the_holdout_rates(unshifted: Scenario) -> None:
    rates = {r["code"]: r for r in the_version(unshifted.report)["overall"]["review_rates"]}
    assert set(rates) == {
        "low_confidence",
        "out_of_distribution",
        "near_grade_boundary",
        "random_audit",
    }
    for code in ("low_confidence", "out_of_distribution", "near_grade_boundary"):
        assert rates[code]["reference"] is not None, code
        assert 0.0 <= rates[code]["observed"] <= 1.0
    audit = rates["random_audit"]
    assert audit["reference"] is None and "random_audit_share" in audit["note"]


def test_segments_that_are_inputs_are_grouped_and_the_others_said_unavailable(
    unshifted: Scenario,
) -> None:
    version = the_version(unshifted.report)
    groups = {(s["segment"], s["group"]): s for s in version["segments"]}
    segments = {segment for segment, _ in groups}
    assert segments == {"specialty", "region", "territory_type", "practice_setting"}
    assert ("territory_type", "rural") in groups  # the category's name, not its code
    assert (
        sum(s["scores"] for s in version["segments"] if s["segment"] == "region")
        == (version["scores"])
    )
    least = unshifted.report["thresholds"]["min_scores"]
    for group in version["segments"]:
        small = group["scores"] < least or group["reference_rows"] < least
        assert (group["status"] == "too_small") is small, group
        assert (group["worst_psi"] is None) is small, group
    assert any(group["status"] != "too_small" for group in version["segments"])
    assert {"gender", "age_band"} <= set(version["segments_not_available"])


def test_a_window_with_too_few_scores_is_too_small_and_not_scored(
    shifted: Scenario,
) -> None:
    strict = with_overrides(shifted.settings, drift_min_scores=LEADS + 1)
    with serve(strict, role="reviewer") as client:
        report = client.get(DRIFT, params={"since": today(), "until": today()}).json()
        empty = client.get(DRIFT, params={"since": "2020-01-01", "until": "2020-01-31"}).json()
    version = the_version(report)
    assert report["status"] == version["status"] == "too_small"
    assert report["worst_input"] is None and report["worst_psi"] is None
    assert all(d["psi"] is None and d["status"] == "too_small" for d in by_name(version).values())
    assert (empty["status"], empty["scores"], empty["versions"]) == ("too_small", 0, [])


# --- the plot -------------------------------------------------------------------------------


def test_the_plot_of_an_input_is_a_png(shifted: Scenario) -> None:
    headers = reviewer(shifted.settings)
    for name in (SHIFTED, "specialty", "score"):
        answer = shifted.client.get(PLOT, params={"input": name, "since": today()}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/png"
        assert answer.content.startswith(PNG_SIGNATURE)
    unknown = shifted.client.get(PLOT, params={"input": "shoe_size"}, headers=headers)
    assert unknown.status_code == 404
    assert error_of(unknown)["details"][0]["field"] == "input"


# --- access and bad input -------------------------------------------------------------------


def test_a_reviewer_reads_the_drift_and_a_scorer_is_refused(shifted: Scenario) -> None:
    client, settings = shifted.client, shifted.settings
    for path, params in ((DRIFT, {}), (PLOT, {"input": SHIFTED})):
        refused = client.get(path, params=params)  # the client's own key: the scorer's
        assert refused.status_code == 403, path
        assert error_of(refused)["code"] == "forbidden"
        for role in ("reviewer", "admin"):
            assert client.get(path, params=params, headers=bearer(settings, role)).status_code == (
                200
            ), (path, role)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2024-02-30"}, "until"),
        ({"since": "2024-03-02", "until": "2024-03-01"}, "until"),
        ({"sinse": "2024-03-01"}, "sinse"),
    ],
)
def test_bad_dates_are_a_422_naming_the_field(
    shifted: Scenario, params: dict[str, str], field: str
) -> None:
    answer = shifted.client.get(DRIFT, params=params, headers=reviewer(shifted.settings))
    assert answer.status_code == 422
    error = error_of(answer)
    assert error["details"][0]["field"] == field
    assert field in error["message"]


# --- the latest status: /healthz and the model card ----------------------------------------


def test_healthz_shows_the_latest_check_now_and_after_a_restart(shifted: Scenario) -> None:
    client, settings = shifted.client, shifted.settings
    answer = client.get(DRIFT, params={"since": today()}, headers=reviewer(settings)).json()
    drift = client.get("/healthz").json()["drift"]
    assert drift["status"] == answer["status"] == "alert"
    assert drift["checked_at"] == answer["checked_at"]
    assert drift["window"] == {"since": today(), "until": today()}
    assert drift["worst_input"] == SHIFTED
    with serve(settings) as restarted:  # a new process reads the last check from the log
        assert restarted.get("/healthz").json()["drift"] == drift


def test_a_look_at_an_old_window_leaves_the_status_alone(shifted: Scenario) -> None:
    """Looking at last year's quiet window must not turn today's alert into too_small."""
    client, settings = shifted.client, shifted.settings
    current = client.get(DRIFT, params={"since": today()}, headers=reviewer(settings)).json()
    assert current["recorded"] is True
    old = client.get(
        DRIFT, params={"since": "2020-01-01", "until": "2020-01-31"}, headers=reviewer(settings)
    )
    assert old.status_code == 200, old.text
    assert old.json()["recorded"] is False and old.json()["status"] == "too_small"
    drift = client.get("/healthz").json()["drift"]
    assert drift["status"] == "alert" and drift["checked_at"] == current["checked_at"]


def test_a_check_run_elsewhere_reaches_healthz_on_a_reload(shifted: Scenario) -> None:
    """A scheduled `candor monitor drift` writes to the log; a running server shows it after
    its next champion check (POST /v1/models/reload, or every CANDOR_MODEL_RELOAD_SECONDS)."""
    client, settings = shifted.client, shifted.settings
    store = serving_state(client.app).audit
    assert store is not None
    from candor.serving.monitoring.drift import drift_report, parse_window, record_check

    report = drift_report(store, settings, parse_window(today(), None), champion=None)
    elsewhere = record_check(store, report, actor="cli:nightly", settings=settings)
    assert client.get("/healthz").json()["drift"]["checked_at"] != elsewhere.checked_at
    reloaded = client.post("/v1/models/reload", headers=bearer(settings, "admin"))
    assert reloaded.status_code == 200, reloaded.text
    assert client.get("/healthz").json()["drift"]["checked_at"] == elsewhere.checked_at


def test_healthz_says_never_checked_before_any_check(
    trained_settings: Settings, tmp_path: Path
) -> None:
    with serve(isolated(trained_settings, tmp_path)) as client:
        assert client.get("/healthz").json()["drift"] == {"status": "never_checked"}


def test_the_model_card_shows_the_champions_latest_check(shifted: Scenario) -> None:
    client, settings = shifted.client, shifted.settings
    answer = client.get(DRIFT, params={"since": today()}, headers=reviewer(settings)).json()
    card = client.get(CARD).json()
    assert card["version"] == the_version(answer)["version"]
    assert card["drift"]["status"] == "alert"
    assert card["drift"]["checked_at"] == answer["checked_at"]
    assert card["drift"]["worst_input"] == SHIFTED
    html = client.get(CARD, params={"format": "html"}).text
    assert "<h2>Drift</h2>" in html and SHIFTED in html


def test_each_check_is_kept_in_the_log_which_still_verifies(shifted: Scenario) -> None:
    store = serving_state(shifted.client.app).audit
    assert store is not None
    report = store.verify()
    assert report.ok, report.problems


# --- the command line -------------------------------------------------------------------------


def test_the_command_reports_alert_with_its_exit_code_and_writes_plots(
    shifted: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    settings = shifted.settings
    no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(settings.home))
    monkeypatch.setenv("CANDOR_DATABASE_URL", str(settings.database_url))
    get_settings.cache_clear()
    try:
        as_json = main(["monitor", "drift", "--since", today(), "--json"])
        report = json.loads(capsys.readouterr().out)
        as_table = main(["monitor", "drift", "--since", today(), "--plots", str(tmp_path)])
        table = capsys.readouterr().out
        bad = main(["monitor", "drift", "--since", "soon"])
        refused = capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    assert (as_json, as_table) == (ALERT_EXIT, ALERT_EXIT) == (3, 3)
    assert report["status"] == "alert" and report["worst_input"] == SHIFTED
    assert f"{the_version(report)['model']}: {report['scores']} scores, alert" in table
    [row] = [line.split() for line in table.splitlines() if line.split()[:1] == [SHIFTED]]
    assert row[2] == "alert" and float(row[1]) >= settings.drift_alert_psi
    plots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(plots) == len(INPUTS) + 1
    assert all((tmp_path / name).read_bytes().startswith(PNG_SIGNATURE) for name in plots)
    assert bad == 2 and "option 'since'" in refused
    # the command's check is the latest one a restarted service shows
    with serve(settings) as restarted:
        assert restarted.get("/healthz").json()["drift"]["status"] == "alert"


def test_the_command_exits_0_when_nothing_drifted(
    unshifted: Scenario, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(unshifted.settings.home))
    monkeypatch.setenv("CANDOR_DATABASE_URL", str(unshifted.settings.database_url))
    get_settings.cache_clear()
    try:
        code = main(["monitor", "drift", "--since", today(), "--until", today()])
    finally:
        get_settings.cache_clear()
    assert code == 0
    assert capsys.readouterr().out.startswith(
        f"drift of the audited scores from {today()} to {today()} (UTC): OK"
    )


def test_a_window_larger_than_the_cap_is_read_as_a_stated_random_sample(
    shifted: Scenario,
) -> None:
    """A month of nightly rescoring holds millions of scores: a check reads a uniform random
    sample of about drift_max_scores of them (by score id), says so, and still finds the
    shifted input."""
    assert shifted.report["sampled_share"] == 1.0  # under the cap: every score read
    capped = with_overrides(shifted.settings, drift_max_scores=500)
    with serve(capped, role="reviewer") as client:
        first = client.get(DRIFT, params={"since": today()})
        again = client.get(DRIFT, params={"since": today()})
    assert first.status_code == 200, first.text
    report = first.json()
    every = shifted.report["scores"]
    assert report["sampled_share"] == pytest.approx(500 / every)
    assert 0.6 * 500 < report["scores"] < 1.4 * 500
    assert by_name(the_version(report))[SHIFTED]["status"] == "alert"
    assert again.json()["scores"] == report["scores"]  # the same sample on every read

"""GET /v1/monitoring/performance on real scores and the sample's true outcomes.

Sample leads are scored over HTTP into this module's own audit database (half of all scores
drawn by the random audit) and their true outcomes (the sample's ``converted``) recorded over
HTTP after the scores. Older months are made by importing copies of some of those score records
with an earlier time (``NewEvent.at``, as an import of older records does), under new lead ids
whose outcomes are then recorded over HTTP. Every figure the endpoint gives is recomputed here
from the returned scores and the outcomes sent: point estimates with scikit-learn, DeLong's
variance from its pairwise definition (not the midrank algorithm the service uses), the Brier
interval and Wilson's interval from their formulas.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from api_support import SCORE, error_of, leads_from_frame, serve, with_overrides, with_policy
from auth_support import bearer
from fastapi.testclient import TestClient
from sklearn.metrics import brier_score_loss, roc_auc_score
from sqlalchemy import select

from candor.models.leads.scorer import LeadScorer
from candor.models.settings import Settings
from candor.serving.audit import events as ev
from candor.serving.audit.events import NewEvent, body_text
from candor.serving.audit.log import EVENTS
from candor.serving.monitoring.performance import NOT_STORED, HoldoutLookup, ServedScorer
from candor.serving.state import serving_state

REPORT = "/v1/monitoring/performance"
PLOT = "/v1/monitoring/performance/plot.png"
N_LEADS = 150
MIN_OUTCOMES = 20
AUDIT_SHARE = 0.5
Z = 1.959963984540054
N_JANUARY, N_MARCH, N_APRIL, N_RESCORED = 40, 5, 3, 10
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def settings(trained_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    audit_db = tmp_path_factory.mktemp("performance") / "audit.db"
    isolated = with_overrides(
        trained_settings,
        database_url=f"sqlite:///{audit_db}",
        performance_min_outcomes=MIN_OUTCOMES,
    )
    return with_policy(isolated, random_audit_share=AUDIT_SHARE)


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    with serve(settings, role="reviewer") as client:
        yield client


@dataclasses.dataclass
class Counted:
    """A score the endpoint should count, with the outcome the test recorded for its lead."""

    lead_id: str
    month: str
    score: float
    grade: str
    review: list[str]
    converted: bool
    specialty: str


def _score(
    api: TestClient, settings: Settings, leads: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    response = api.post(SCORE, json={"leads": leads}, headers=bearer(settings, "scorer"))
    assert response.status_code == 200, response.text
    return [r for r in response.json()["results"] if r["suppressed"] is None]


def _outcome(api: TestClient, lead_id: str, converted: bool, observed_at: str) -> None:
    body = {"lead_id": lead_id, "converted": converted, "observed_at": observed_at}
    recorded = api.post("/v1/outcomes", json=body)
    assert recorded.status_code == 201, recorded.text


def _import_copies(
    api: TestClient, sources: Sequence[dict[str, Any]], *, prefix: str, at: str
) -> list[str]:
    """Copies of the score records of ``sources`` made at ``at``, under new lead ids."""
    store = serving_state(api.app).audit
    assert store is not None
    with store.reading("the test's copies") as conn:
        rows = conn.execute(
            select(EVENTS).where(
                EVENTS.c.kind == ev.SCORE,
                EVENTS.c.subject.in_([s["score_id"] for s in sources]),
            )
        ).all()
        # whole bodies (the sealed payload opened): the copy is sealed again under its lead
        bodies = {
            str(r.subject): body_text(b)
            for r, b in zip(rows, store.opened(conn, rows), strict=True)
        }
    ids = [f"{prefix}-{s['lead_id']}" for s in sources]
    store.log.append(
        [
            NewEvent(
                ev.SCORE,
                "test-import",
                uuid.uuid4().hex,
                bodies[s["score_id"]],
                store.lead_key(i),
                at,
            )
            for s, i in zip(sources, ids, strict=True)
        ]
    )
    return ids


@pytest.fixture(scope="module")
def history(
    api: TestClient, settings: Settings, sample_frame: pd.DataFrame
) -> dict[str, list[Counted]]:
    """Scores and outcomes in the log; what should count, by month ('overall': each lead once)."""
    leads = leads_from_frame(sample_frame, N_LEADS)
    results = _score(api, settings, leads)
    truth = dict(zip(sample_frame["lead_id"], sample_frame["converted"].astype(bool), strict=True))
    specialty = {lead["lead_id"]: lead["specialty"] or "missing" for lead in leads}
    observed = datetime.now(UTC).isoformat()  # after every score above
    for r in results:
        _outcome(api, r["lead_id"], bool(truth[r["lead_id"]]), observed)
    # scored again once the outcome was known, with other inputs: these scores must not count
    again = [
        {**lead, "rep_visits_90d": 30, "webinars_attended_90d": 6}
        for lead in leads
        if lead["lead_id"] in {r["lead_id"] for r in results[:N_RESCORED]}
    ]
    rescored = _score(api, settings, again)
    before = {r["lead_id"]: r["score"] for r in results}
    assert any(r["score"] != before[r["lead_id"]] for r in rescored)

    created = {}
    for r in results:
        record = api.get(f"/v1/scores/{r['score_id']}")
        assert record.status_code == 200, record.text
        created[r["lead_id"]] = record.json()["created_at"][:7]

    def counted(r: dict[str, Any], lead_id: str, month: str) -> Counted:
        return Counted(
            lead_id,
            month,
            r["score"],
            r["grade"],
            r["review"]["reasons"],
            bool(truth[r["lead_id"]]),
            specialty[r["lead_id"]],
        )

    live = [counted(r, r["lead_id"], created[r["lead_id"]]) for r in results]
    # January 2025: scored on the 15th, observed on 1 February
    january = results[:N_JANUARY]
    jan_ids = _import_copies(api, january, prefix="jan", at="2025-01-15T12:00:00.000000+00:00")
    for r, i in zip(january, jan_ids, strict=True):
        _outcome(api, i, bool(truth[r["lead_id"]]), "2025-02-01")
    # March 2025: too few to judge
    march = results[N_JANUARY : N_JANUARY + N_MARCH]
    mar_ids = _import_copies(api, march, prefix="mar", at="2025-03-10T09:00:00.000000+00:00")
    for r, i in zip(march, mar_ids, strict=True):
        _outcome(api, i, bool(truth[r["lead_id"]]), "2025-03-20T17:30:00Z")
    # April 2025: scored after the outcome was observed (31 March): never counted
    april = results[N_JANUARY + N_MARCH : N_JANUARY + N_MARCH + N_APRIL]
    apr_ids = _import_copies(api, april, prefix="apr", at="2025-04-10T09:00:00.000000+00:00")
    for r, i in zip(april, apr_ids, strict=True):
        _outcome(api, i, bool(truth[r["lead_id"]]), "2025-03-31")
    # one lead scored in January and in March, its outcome observed in April: in both months
    twice_jan, twice_mar = results[-2], results[-1]
    [twice] = _import_copies(
        api, [twice_jan], prefix="twice", at="2025-01-20T08:00:00.000000+00:00"
    )
    store = serving_state(api.app).audit
    assert store is not None
    with store.reading("the test's copy") as conn:
        row = conn.execute(
            select(EVENTS).where(
                EVENTS.c.kind == ev.SCORE, EVENTS.c.subject == twice_mar["score_id"]
            )
        ).one()
        body = body_text(store.opened(conn, [row])[0])
    store.log.append(
        [
            NewEvent(
                ev.SCORE,
                "test-import",
                uuid.uuid4().hex,
                body,
                store.lead_key(twice),
                "2025-03-12T08:00:00.000000+00:00",
            )
        ]
    )
    twice_converted = True
    _outcome(api, twice, twice_converted, "2025-04-01")

    def twin(r: dict[str, Any], month: str) -> Counted:
        return dataclasses.replace(
            counted(r, twice, month), converted=twice_converted, lead_id=twice
        )

    by_month = {
        "2025-01": [counted(r, i, "2025-01") for r, i in zip(january, jan_ids, strict=True)]
        + [twin(twice_jan, "2025-01")],
        "2025-03": [counted(r, i, "2025-03") for r, i in zip(march, mar_ids, strict=True)]
        + [twin(twice_mar, "2025-03")],
    }
    for c in live:
        by_month.setdefault(c.month, []).append(c)
    overall = [c for month, rows in by_month.items() for c in rows if c.lead_id != twice]
    overall.append(twin(twice_mar, "2025-03"))  # once: its latest score before the outcome
    return {"overall": overall, **dict(sorted(by_month.items()))}


def report(api: TestClient, **params: str) -> dict[str, Any]:
    response = api.get(REPORT, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def clipped(value: float, half: float) -> list[float]:
    return [max(0.0, value - half), min(1.0, value + half)]


def check_figures(got: dict[str, Any], rows: Sequence[Counted]) -> None:
    """The endpoint's figures of one group against those computed here from the rows."""
    s = np.array([r.score for r in rows])
    y = np.array([r.converted for r in rows])
    assert (got["count"], got["converted"]) == (len(rows), int(y.sum()))
    for grade, out in zip("ABCD", got["calibration"], strict=True):
        in_grade = np.array([r.grade == grade for r in rows], dtype=bool)
        n, k = int(in_grade.sum()), int(y[in_grade].sum())
        assert (out["grade"], out["count"], out["converted"]) == (grade, n, k)
        if n < MIN_OUTCOMES:
            assert out["status"] == "too_small" and out["observed_rate"] is None
            continue
        mean = float(s[in_grade].mean())
        low, high = wilson(k, n)
        assert out["status"] == "ok"
        assert out["mean_score"] == pytest.approx(mean, abs=1e-12)
        assert out["observed_rate"] == pytest.approx(k / n, abs=1e-12)
        assert out["observed_rate_ci"] == pytest.approx([low, high], abs=1e-12)
        assert out["alert"] is (not low <= mean <= high)
    if len(rows) < MIN_OUTCOMES:
        assert got["status"] == "too_small"
        assert got["roc_auc"] is None and got["brier"] is None
        return
    assert got["status"] == "ok"
    positives, negatives = s[y], s[~y]
    psi = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :]
    )
    variance = psi.mean(axis=1).var(ddof=1) / len(positives) + psi.mean(axis=0).var(ddof=1) / len(
        negatives
    )
    auc = float(roc_auc_score(y, s))
    assert got["roc_auc"]["value"] == pytest.approx(auc, abs=1e-12)
    assert got["roc_auc"]["standard_error"] == pytest.approx(math.sqrt(variance), rel=1e-9)
    assert got["roc_auc"]["ci"] == pytest.approx(clipped(auc, Z * math.sqrt(variance)), abs=1e-9)
    squared = (s - y) ** 2
    brier = float(brier_score_loss(y, s))
    se = float(squared.std(ddof=1)) / math.sqrt(len(rows))
    assert got["brier"]["value"] == pytest.approx(brier, abs=1e-12)
    assert got["brier"]["ci"] == pytest.approx(clipped(brier, Z * se), abs=1e-12)
    for metric in ("roc_auc", "brier"):
        for check in got[metric]["holdout"]:
            low, high = got[metric]["ci"]
            assert check["alert"] is (not low <= check["value"] <= high), (metric, check)


def test_whole_window_matches_figures_computed_from_the_scores_and_outcomes(
    api: TestClient, history: dict[str, list[Counted]]
) -> None:
    body = report(api)

    overall = body["overall"]
    assert overall["segment"] is None and overall["value"] == "all"
    check_figures(overall["all"], history["overall"])
    assert body["min_outcomes"] == MIN_OUTCOMES
    assert "at or before" in body["rule"] and "once per window" in body["rule"]


def test_random_audit_figures_are_over_the_drawn_scores_alone(
    api: TestClient, history: dict[str, list[Counted]]
) -> None:
    overall = report(api)["overall"]

    drawn = [c for c in history["overall"] if "random_audit" in c.review]
    assert MIN_OUTCOMES <= len(drawn) < len(history["overall"])
    check_figures(overall["random_audit"], drawn)
    assert overall["random_audit"]["roc_auc"] != overall["all"]["roc_auc"]


def test_each_month_is_a_window_of_its_own(
    api: TestClient, history: dict[str, list[Counted]]
) -> None:
    body = report(api, by="month")

    months = {k: v for k, v in history.items() if k != "overall"}
    assert [g["value"] for g in body["groups"]] == list(months)  # April: never counted
    for group in body["groups"]:
        assert group["segment"] is None
        check_figures(group["all"], months[group["value"]])
    march = next(g for g in body["groups"] if g["value"] == "2025-03")
    assert march["all"]["status"] == "too_small" and march["all"]["count"] == N_MARCH + 1
    # the lead scored in January and March counts in each month, once in the whole window
    assert sum(g["all"]["count"] for g in body["groups"]) == len(history["overall"]) + 1


def test_a_score_made_after_the_outcome_was_observed_is_not_counted(
    api: TestClient, history: dict[str, list[Counted]]
) -> None:
    april = report(api, since="2025-04-01", until="2025-04-30")

    assert april["overall"]["all"]["count"] == 0
    assert april["overall"]["all"]["status"] == "too_small"
    assert april["groups"] == []
    # the live leads scored again after their outcome count with their first score (the figures
    # of the whole window above were computed from the first scores)
    live_month = list(history)[-1]
    current = report(api, since=f"{live_month}-01")
    check_figures(current["overall"]["all"], history[live_month])


def test_until_is_inclusive_of_its_day_and_a_small_window_is_too_small(
    api: TestClient, history: dict[str, list[Counted]]
) -> None:
    day = report(api, since="2025-01-15", until="2025-01-15")
    assert day["since"] == day["until"] == "2025-01-15"
    assert day["overall"]["all"]["count"] == N_JANUARY  # the copies made at 12:00 that day
    check_figures(day["overall"]["all"], history["2025-01"][:N_JANUARY])

    march = report(api, since="2025-03-01", until="2025-03-31")
    assert march["overall"]["all"]["status"] == "too_small"
    assert march["overall"]["all"]["count"] == N_MARCH + 1
    assert march["overall"]["all"]["roc_auc"] is None
    assert march["overall"]["all"]["alert"] is None


def test_by_segment_groups_by_the_audit_segments_that_are_model_inputs(
    api: TestClient, history: dict[str, list[Counted]]
) -> None:
    body = report(api, by="segment")

    assert body["by"] == "segment"
    assert {"specialty", "region", "territory_type", "practice_setting"} <= set(body["segments"])
    not_in_log = {n["segment"] for n in body["segments_not_in_log"]}
    assert {"gender", "age_band"} <= not_in_log  # protected attributes: never model inputs
    specialties = {g["value"]: g for g in body["groups"] if g["segment"] == "specialty"}
    expected: dict[str, list[Counted]] = {}
    for c in history["overall"]:
        expected.setdefault(c.specialty, []).append(c)
    assert set(specialties) == set(expected)
    for value, group in specialties.items():
        check_figures(group["all"], expected[value])
    for segment in body["segments"]:
        total = sum(g["all"]["count"] for g in body["groups"] if g["segment"] == segment)
        assert total == len(history["overall"]), segment


def test_holdout_figures_stored_at_training_are_beside_the_window(
    api: TestClient, history: dict[str, list[Counted]]
) -> None:
    body = report(api)
    current = api.get("/v1/models/current").json()
    subject = f"{current['name']}@{current['version']}"
    card = api.get(f"/v1/models/{current['name']}/card").json()
    chosen = card["grades"]["chosen_at_training"]

    [holdout] = body["holdout"]
    assert holdout["model"] == subject and holdout["available"] is True
    figures = holdout["figures"]
    assert holdout["n"] == figures["count"] == sum(chosen["counts"])
    assert holdout["cutoffs"] == pytest.approx(chosen["cutoffs"])
    # training's own holdout metrics, by the same definitions
    assert figures["roc_auc"]["value"] == pytest.approx(current["metrics"]["roc_auc"], abs=1e-9)
    assert figures["brier"]["value"] == pytest.approx(current["metrics"]["brier"], abs=1e-9)
    low, high = figures["roc_auc"]["ci"]
    assert low < figures["roc_auc"]["value"] < high
    for grade, count, rate in zip(
        figures["calibration"], chosen["counts"], chosen["conversion"], strict=True
    ):
        assert grade["count"] == count
        if grade["status"] == "ok":
            assert grade["observed_rate"] == pytest.approx(rate, abs=1e-12)
    window = body["overall"]["all"]
    assert body["overall"]["models"] == [{"model": subject, "count": len(history["overall"])}]
    [auc_check] = window["roc_auc"]["holdout"]
    assert auc_check["model"] == subject
    assert auc_check["value"] == pytest.approx(figures["roc_auc"]["value"])
    assert window["roc_auc"]["alert"] is auc_check["alert"]
    beside = [g["holdout"] for g in window["calibration"]]
    assert [b[0]["count"] for b in beside] == chosen["counts"]


def test_a_version_without_stored_holdout_figures_says_so(
    settings: Settings, scorer: LeadScorer
) -> None:
    older = dataclasses.replace(
        scorer, meta_={k: v for k, v in scorer.meta_.items() if k != "holdout_performance"}
    )
    assert older.holdout_performance is None
    assert scorer.holdout_performance is not None
    lookup = HoldoutLookup(settings, ServedScorer("candor-lead-scorer@1", "run-1", older))

    entry = lookup.get("candor-lead-scorer@1", "run-1")
    assert entry.performance is None and entry.reason == NOT_STORED
    assert entry.to_dict()["available"] is False
    missing = HoldoutLookup(settings, None).get("candor-lead-scorer@999", "run-x")
    assert missing.performance is None
    assert missing.reason is not None and missing.reason.startswith("not available")


def test_bad_query_parameters_are_named(api: TestClient) -> None:
    cases = {
        "since": {"since": "2025-13-01"},
        "until": {"until": "yesterday"},
        "by": {"by": "week"},
        "sinse": {"sinse": "2025-01-01"},
    }
    for field, params in cases.items():
        response = api.get(REPORT, params=params)
        assert response.status_code == 422, (field, response.text)
        error = error_of(response)
        assert [d["field"] for d in error["details"]] == [field], error
    backwards = api.get(REPORT, params={"since": "2025-02-01", "until": "2025-01-31"})
    assert backwards.status_code == 422
    assert error_of(backwards)["details"][0]["field"] == "since"
    assert api.get(PLOT, params={"by": "month"}).status_code == 422  # the plot is by month


def test_a_scorer_key_is_refused(settings: Settings) -> None:
    with serve(settings, role="scorer") as client:
        for path in (REPORT, PLOT):
            response = client.get(path)
            assert response.status_code == 403, response.text
            assert error_of(response)["code"] == "forbidden"


def test_the_plot_is_a_png(api: TestClient, history: dict[str, list[Counted]]) -> None:
    for params in ({}, {"since": "2020-01-01", "until": "2020-12-31"}):  # months, and none
        response = api.get(PLOT, params=params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/png"
        assert response.content.startswith(PNG_MAGIC)

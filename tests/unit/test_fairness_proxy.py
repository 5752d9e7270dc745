"""Proxy alerts: a model input that tracks a protected attribute is reported with its value."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats.contingency import association, crosstab

from candor.models.contract import Contract, Field, Kind, Role
from candor.training.fairness import (
    GateSettings,
    audit_metrics,
    audit_record,
    audit_scores,
    cramers_v,
    fairness_warnings,
    judge,
)
from candor.training.fairness.audit import holdout_proxies
from candor.training.fairness.proxy import level_codes

CONTRACT = Contract(
    "proxies",
    "1",
    (
        Field("lead_id", Role.ID),
        Field("gender", Role.PROTECTED),
        Field("practice_code", Role.FEATURE, kind=Kind.CATEGORICAL),
        Field("webinars", Role.FEATURE, kind=Kind.NUMERIC),
        Field("territory", Role.FEATURE, kind=Kind.CATEGORICAL),
        Field("visits", Role.FEATURE, kind=Kind.NUMERIC),
        Field("converted", Role.TARGET),
    ),
)


def columns(n: int, seed: int = 0) -> dict[str, object]:
    """``practice_code`` copies gender (5% of leads relabelled at random); ``visits`` shifts
    with gender; ``webinars`` and ``territory`` (40 levels) are drawn independently of it."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(np.array(["F", "M", "X"], dtype=object), size=n, p=[0.48, 0.48, 0.04])
    code = np.where(gender == "F", "P-1", np.where(gender == "M", "P-2", "P-3")).astype(object)
    noise = rng.uniform(size=n) < 0.05
    code[noise] = rng.choice(np.array(["P-1", "P-2", "P-3"], dtype=object), size=noise.sum())
    code[rng.uniform(size=n) < 0.02] = None
    webinars = rng.poisson(2.0, n).astype(float)
    webinars[rng.uniform(size=n) < 0.1] = np.nan
    territory = pa.array([f"T{i:02d}" for i in rng.integers(0, 40, n)])
    visits = rng.normal(np.where(gender == "F", 1.5, 0.0), 1.0)
    return {
        "gender": gender,
        "practice_code": pa.array(code.tolist()),
        "webinars": webinars,
        "territory": territory,
        "visits": visits,
    }


def test_cramers_v_is_one_for_a_copy_near_zero_for_independent_columns_and_corrected() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 3, 20_000)
    assert cramers_v(a, a) == pytest.approx(1.0)
    assert cramers_v(a, rng.integers(0, 3, 20_000)) == pytest.approx(0.0, abs=0.02)
    # on a large sample the correction vanishes: the plain V of scipy's contingency module
    b = np.where(rng.uniform(size=20_000) < 0.7, a, rng.integers(0, 3, 20_000))
    plain = association(crosstab(a, b).count, method="cramer")
    assert cramers_v(a, b) == pytest.approx(plain, abs=0.005)
    # on a small sparse table the plain V of independent columns is far from 0; corrected not
    few, many = rng.integers(0, 2, 300), rng.integers(0, 60, 300)
    assert association(crosstab(few, many).count, method="cramer") > 0.3
    corrected = cramers_v(few, many)
    assert corrected is not None and corrected < 0.15
    assert cramers_v(a, np.zeros_like(a)) is None  # one level: nothing to measure


def test_numeric_inputs_are_cut_at_deciles_and_missing_is_a_level_of_its_own() -> None:
    values = np.r_[np.linspace(0, 1, 1000), np.full(50, np.nan)]
    codes = level_codes(values, Kind.NUMERIC)
    assert len(np.unique(codes)) == 11  # ten deciles and the missing level
    assert len(set(codes[-50:].tolist())) == 1 and codes[-1] not in codes[:1000]
    flags = level_codes(np.array([1.0, 0.0, np.nan, 1.0]), Kind.BOOLEAN)
    assert len(np.unique(flags)) == 3
    text = level_codes(pa.array(["a", None, "b", "a"]), Kind.CATEGORICAL)
    assert text[0] == text[3] and len(np.unique(text)) == 3


def test_the_alert_fires_on_an_input_copying_the_attribute_and_not_on_independent_ones() -> None:
    n = 8000
    data = columns(n)
    rng = np.random.default_rng(2)
    score = rng.uniform(0.05, 0.6, n)
    outcome = (rng.uniform(size=n) < score).astype(int)
    holdout = np.arange(0, n, 2)  # every other lead
    sensitive = {"gender": np.asarray(data["gender"])[holdout]}
    audit = audit_scores(
        outcome=outcome[holdout],
        score=score[holdout],
        lower=score[holdout] - 0.03,
        upper=score[holdout] + 0.03,
        sensitive=sensitive,
        protected={"gender"},
        threshold=0.4,
        resamples=50,
    )
    proxies = holdout_proxies(data, holdout, sensitive, CONTRACT, seed=0)
    values = {p.input: p.cramers_v for p in proxies}
    assert set(values) == {"practice_code", "webinars", "territory", "visits"}
    assert values["practice_code"] is not None and values["practice_code"] > 0.85
    assert values["visits"] is not None and values["visits"] > 0.3  # numeric, by deciles
    assert values["webinars"] is not None and values["webinars"] < 0.1
    assert values["territory"] is not None and values["territory"] < 0.1
    assert all(p.rows == len(holdout) for p in proxies)

    verdict = judge(replace(audit, proxies=proxies), CONTRACT, GateSettings())
    assert [p.input for p in verdict.proxy_alerts] == ["practice_code", "visits"]  # strongest first
    assert verdict.passed  # an alert warns, it does not gate
    lines = [line for line in fairness_warnings(verdict) if "proxy" in line]
    assert len(lines) == 2
    assert f"Cramer's V {values['practice_code']:.2f} >= 0.3" in lines[0]
    assert "'practice_code'" in lines[0] and "'gender'" in lines[0]
    record = audit_record(replace(audit, proxies=proxies), verdict)
    alerts = record["gate"]["proxy_alerts"]
    assert [a["input"] for a in alerts] == ["practice_code", "visits"]
    assert alerts[0]["cramers_v"] == pytest.approx(values["practice_code"])
    assert len(record["proxies"]["associations"]) == 4
    metrics = audit_metrics(replace(audit, proxies=proxies), verdict)
    assert metrics["fairness_proxy_cramers_v_practice_code__gender"] == values["practice_code"]
    assert metrics["fairness_proxy_alerts"] == 2.0
    assert "fairness_proxy_cramers_v_webinars__gender" not in metrics
    strict = judge(replace(audit, proxies=proxies), CONTRACT, GateSettings(proxy_threshold=0.99))
    assert strict.proxy_alerts == ()  # 5% relabelled and 2% missing: not a perfect copy


def test_a_large_holdout_is_sampled_with_the_seed() -> None:
    n = 4000
    data = columns(n, seed=5)
    holdout = np.arange(n)
    sensitive = {"gender": np.asarray(data["gender"])}
    first = holdout_proxies(data, holdout, sensitive, CONTRACT, seed=3, limit=1000)
    again = holdout_proxies(data, holdout, sensitive, CONTRACT, seed=3, limit=1000)
    other = holdout_proxies(data, holdout, sensitive, CONTRACT, seed=4, limit=1000)
    assert first == again and first != other
    assert {p.rows for p in first} == {1000}

"""Model cards rendered from the registry: its versions, their runs and run artifacts.

The card is built from what training logged, so it cannot drift from the model: metrics, data
fingerprint, contract, the last fairness audit, and every version's gate or promotion decision.
The service builds it once per champion version and keeps it a while (serving/card_cache.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from candor.models.errors import ErrorDetail, NotFoundError
from candor.models.settings import Settings
from candor.models.transparency import CARDS, disclosure
from candor.registry.tracking import run_json, run_record
from candor.registry.versions import champion_version, model_versions

# what the card says about the model, from the run's parameters (those a run has)
MODEL_PARAMS = {
    "shape": "chosen_shape",
    "trees": "trees",
    "calibration": "calibration",
    "strategy": "strategy",
    "max_horizon": "horizon",
    "intervals": "intervals",
    "features": "features",
    "explanations": "explanations",  # how SHAP contributions are computed (models.tree_shap)
    "hierarchy": "hierarchy",  # a sales contract's hierarchy, and how forecasts add up over it
    "reconciliation": "reconciliation",
}


# which ways of scoring write Candor's audit log, per model (the card says it plainly)
AUDIT_NOTES = {
    "candor-lead-scorer": (
        "Scores from the HTTP API and from `candor score batch` (local and Spark engine) are "
        "audited: each is in Candor's audit log; scores from the MLflow model loaded directly "
        "(mlflow.pyfunc.load_model, spark_udf, mlflow models serve) and from "
        "candor.serving.scoring.spark.score are not, and every such row says audited: false."
    ),
}


def _when(millis: int | None) -> str | None:
    if not millis:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat(timespec="seconds")


def build_card(settings: Settings, name: str, *, owner: str) -> dict[str, Any]:
    """The card of the model registered as ``name``: its champion and its version history."""
    text = CARDS.get(name)
    if text is None:
        raise NotFoundError(
            f"no model card for {name!r}; known: {sorted(CARDS)}",
            [ErrorDetail("name", "unknown model")],
        )
    versions = model_versions(settings, name)
    if not versions:
        raise NotFoundError(
            f"model {name!r} has no registered version yet", [ErrorDetail("name", "no versions")]
        )
    # search results do not always carry aliases: ask for the alias itself
    champion_at = champion_version(settings, name)
    champion = next((v for v in versions if v.version == champion_at), None)
    current = champion or versions[0]
    run_id = str(current.run_id)
    run = run_record(settings, run_id)
    metrics = {
        k.removeprefix(text.metric_prefix): v
        for k, v in run.metrics.items()
        if k.startswith(text.metric_prefix) and "uncalibrated" not in k
    }
    baselines = {
        prefix.rstrip("_"): {
            k.removeprefix(prefix): v for k, v in run.metrics.items() if k.startswith(prefix)
        }
        for prefix in text.baseline_prefixes
        if any(k.startswith(prefix) for k in run.metrics)
    }
    history = [
        {
            "version": v.version,
            "created_at": _when(v.created_ms),
            "aliases": [settings.model_alias] if v.version == champion_at else [],
            "promoted_by_gate": v.tags.get("gate.promoted"),
            "gate_reason": v.tags.get("gate.reason"),
            "fairness_passed": v.tags.get("fairness.passed"),
            "promotion": {
                k.removeprefix("promotion."): val
                for k, val in v.tags.items()
                if k.startswith("promotion.")
            }
            or None,
        }
        for v in versions
    ]
    return {
        "name": name,
        "title": text.title,
        "summary": text.summary,
        "audit": AUDIT_NOTES.get(name),
        "privacy": privacy_policy(settings) if name == settings.lead_model_name else None,
        "version": current.version,
        "status": "champion" if champion else "no champion (latest version shown)",
        "owner": owner,
        "trained_at": _when(run.started_ms),
        "intended_use": list(text.intended_use),
        "out_of_scope": list(text.out_of_scope),
        "limitations": list(text.limitations),
        "data": {
            "source": run.params.get("data_path"),
            "rows": run.params.get("data_rows"),
            "sha256": run.tags.get("data_sha256"),
            "contract": run.params.get("contract"),
            "excluded_inputs": run.params.get("excluded_inputs"),
            **{
                key: value
                for key, value in (
                    ("excluded_by_contract", run.params.get("excluded_by_contract")),
                    ("excluded_on_command_line", run.params.get("excluded_on_command_line")),
                    ("accepted_leakage_risk", run.tags.get("leakage_accepted")),
                )
                if value is not None
            },
            "splits": {
                k.removeprefix("split_"): run.params[k]
                for k in run.params
                if k.startswith("split_")
            },
        },
        "model": {
            **{
                key: run.params[param] for key, param in MODEL_PARAMS.items() if param in run.params
            },
            "run_id": current.run_id,
        },
        "metrics": metrics,
        "metric_source": text.metric_source,
        "baselines": baselines,
        "fairness": run_json(settings, run_id, "fairness/audit.json"),
        "fairness_note": text.fairness_note,
        "global_importance": run_json(settings, run_id, "global_importance.json"),
        "leakage": _leakage(run_json(settings, run_id, "leakage.json"), current.tags),
        "grades": _grades(settings, run_json(settings, run_id, "grades.json"))
        if name == settings.lead_model_name
        else None,
        "drift": _drift(current.tags) if name == settings.lead_model_name else None,
        "version_history": history,
        "disclosure": disclosure(name),
    }


def privacy_policy(settings: Settings) -> dict[str, Any]:
    """The retention and erasure policy in force for what the audit log keeps of a lead."""
    days = settings.retention_days
    retention = (
        f"Each score's inputs and explanation are kept {days} days, then removed by "
        "`candor privacy purge` (the record itself stays: score id, time, model version, review "
        "codes)."
        if days is not None
        else "Each score's inputs and explanation are kept until the lead is erased "
        "(CANDOR_RETENTION_DAYS is not set)."
    )
    return {
        "retention_days": days,
        "retention": retention,
        "erasure": "On a lead's request an admin erases its data (POST /v1/privacy/erasures "
        "or `candor privacy erase`): its per-lead data key is destroyed, so its stored inputs "
        "and explanations can no longer be read by anyone, while the signed audit log still "
        "verifies and the erasure is itself recorded.",
    }


def _grades(settings: Settings, chosen: Any) -> dict[str, Any]:
    """The grade cut-offs in force for the champion and where they come from."""
    policy = settings.policy
    if policy.overrides_grades:
        source = "settings (CANDOR_POLICY__GRADE_CUTOFFS), for every model"
        in_force = list(policy.cutoffs)
    elif chosen:
        source = f"the model: {chosen.get('rule')}"
        in_force = list(chosen["cutoffs"])
    else:
        source = (
            "fixed defaults (the model was trained before cut-offs were chosen from its holdout)"
        )
        in_force = list(policy.cutoffs)
    return {"in_force": in_force, "source": source, "chosen_at_training": chosen or None}


def _drift(version_tags: dict[str, str]) -> dict[str, Any]:
    """The version's latest drift check, from the tags each check sets on it
    (``candor.serving.monitoring.drift``), as /healthz shows the latest one."""
    status = version_tags.get("drift.status")
    if not status:
        return {"status": "never_checked"}
    since, _, until = version_tags.get("drift.window", "").partition("..")
    worst = version_tags.get("drift.worst_input", "none")
    psi = version_tags.get("drift.worst_psi", "none")
    return {
        "status": status,
        "checked_at": version_tags.get("drift.checked_at"),
        "window": {"since": since, "until": until},
        "worst_input": None if worst == "none" else worst,
        "worst_psi": None if psi == "none" else float(psi),
    }


def _drift_html(drift: Any) -> str:
    if not drift or drift.get("status") == "never_checked":
        return "<p>Drift has not been checked for this version yet (GET /v1/monitoring/drift).</p>"
    window = drift.get("window") or {}
    worst = drift.get("worst_input")
    text = (
        f"Latest check {drift.get('checked_at')}: {drift['status']} over "
        f"{window.get('since')} to {window.get('until')}"
        + (f"; worst input {worst} (PSI {_number(drift.get('worst_psi'))})" if worst else "")
        + ". Each input is compared with this version's holdout at training."
    )
    return f"<p>{escape(text)}</p>"


def _grades_html(grades: Any) -> str:
    if not grades:
        return ""
    cuts = grades["in_force"]
    lines = [
        f"A: score >= {cuts[0]:.4f}; B: >= {cuts[1]:.4f}; C: >= {cuts[2]:.4f}; D: below.",
        f"Source: {grades['source']}.",
    ]
    chosen = grades.get("chosen_at_training") or {}
    rows = []
    if chosen:
        for i, grade in enumerate("ABCD"):
            rate = chosen["conversion"][i]
            rows.append(
                [
                    grade,
                    f"{chosen['realised'][i]:.1%}",
                    chosen["counts"][i],
                    "" if rate is None else f"{rate:.1%}",
                ]
            )
    table = (
        "<p>At the cut-offs chosen at training:</p>"
        + _table(rows, ["grade", "share of holdout", "leads", "converted on the holdout"])
        if rows
        else ""
    )
    return "".join(f"<p>{escape(line)}</p>" for line in lines) + table


def _leakage(logged: Any, version_tags: dict[str, str]) -> Any:
    """The training scan, with the risks accepted later by a manual promotion marked."""
    if not logged:
        return logged
    later = version_tags.get("promotion.accepted_leakage_risk", "")
    accepted = {n for n in later.split(",") if n and n != "none"}
    if not accepted:
        return logged
    findings = [
        {**f, "accepted": True, "resolved": True}
        if f.get("feature") in accepted and not f.get("excluded")
        else f
        for f in logged.get("findings") or []
    ]
    return {
        **logged,
        "findings": findings,
        "accepted": sorted({*logged.get("accepted", []), *accepted}),
        "unresolved": [n for n in logged.get("unresolved", []) if n not in accepted],
    }


def _leakage_html(leakage: Any) -> str:
    if not leakage:
        return "<p>No leakage scan was logged for this version.</p>"
    findings = leakage.get("findings") or []
    if not findings:
        return "<p>The leakage guard found nothing suspicious.</p>"
    rows = []
    for f in findings:
        if f.get("excluded"):
            status = (
                "excluded by --exclude on the command line"
                if f.get("excluded_by") == "command line"
                else "excluded: declared after_the_fact in the contract"
            )
        elif f.get("accepted"):
            status = "KEPT: risk accepted (--accept-leakage-risk)"
        else:
            status = "KEPT, unresolved: blocks promotion"
        rows.append(
            [f["feature"], _number(f.get("single_feature_auc")), "; ".join(f["reasons"]), status]
        )
    return _table(rows, ["input", "ROC-AUC alone", "why", "resolution"])


def _privacy_html(privacy: Any) -> str:
    if not privacy:
        return ""
    return (
        f"<h2>Retention and erasure</h2><p>{escape(privacy['retention'])}</p>"
        f"<p>{escape(privacy['erasure'])}</p>"
    )


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def _table(rows: list[list[Any]], head: list[str]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _number(value: Any, digits: int = 3) -> str:
    return "" if value is None else f"{float(value):.{digits}f}"


def _disparity(d: Any) -> str:
    if not d:
        return "not compared"
    ci = d.get("ci")
    interval = f" (95% CI {_number(ci[0])} to {_number(ci[1])})" if ci else ""
    return f"{_number(d['value'])}{interval}: {d['disadvantaged']} vs {d['advantaged']}"


def _gate_html(fairness: Any, gate: Any) -> str:
    """The gate's verdict and its rule: what it gates on, what it only reports, thresholds."""
    verdict = "passed" if gate.get("passed") else "FAILED"
    where = (
        f"Selected means {fairness.get('selection')}, on {fairness.get('holdout_rows')} "
        "holdout leads."
    )
    gated = ", ".join(gate.get("gated", []))
    if not gate.get("statement"):  # an audit logged before the gate stated its metrics
        text = (
            f"Gate {verdict}: disparate-impact ratio floor {gate.get('floor')}, equal-opportunity "
            f"difference ceiling {gate.get('ceiling')}, rule {gate.get('rule')}; gated: {gated}. "
            + where
        )
        return f"<p>{escape(text)}</p>"
    limits = gate.get("thresholds") or {}
    words = {
        "disparate_impact": "disparate-impact ratio floor",
        "equal_opportunity": "equal-opportunity difference ceiling",
        "calibration": "calibration difference ceiling",
        "coverage": "lowest group coverage floor",
    }
    named = "; ".join(f"{words.get(k, k)} {v:g}" for k, v in limits.items())
    text = (
        f"Gate {verdict} ({gate['statement']}). Thresholds: {named}. Gated attributes: "
        f"{gated}. {where} Where the groups' own conversion rates differ, no useful model "
        "selects them at equal rates, so the selection-rate ratio is shown beside the "
        "outcome's own ratio and gated only when configured; calibration within groups and "
        "interval coverage are what any model can be held to."
    )
    return f"<p>{escape(text)}</p>"


def _fairness_html(fairness: Any, note: str | None = None) -> str:
    """The gate's verdict and rule, each attribute's disparities beside the outcome's own ratio,
    each group's rates, and the inputs that are proxies of a protected attribute, as tables."""
    if not fairness:
        return f"<p>{escape(note or 'No fairness audit was logged for this version.')}</p>"
    gate = fairness.get("gate") or {}
    head = _gate_html(fairness, gate)
    blocking = [f"{v['description']} (blocks promotion)" for v in gate.get("violations", [])]
    blocking += [
        f"protected attribute not audited: {u} (blocks promotion)"
        for u in gate.get("unaudited_protected", [])
    ]
    warned = [
        f"{w['description']} ({'warning' if w.get('metric_gated', True) else 'reported only'})"
        for w in gate.get("warnings", [])
    ]
    proxies = [f"{p['description']} (proxy warning)" for p in gate.get("proxy_alerts", [])]
    flagged = blocking + warned + proxies
    notes = _list(flagged)
    attributes = fairness.get("attributes") or {}
    summary = _table(
        [
            [
                name,
                a.get("role"),
                _disparity(a.get("disparate_impact_ratio")),
                _logged(a, "base_rate_ratio"),
                _disparity(a.get("equal_opportunity_difference")),
                _logged(a, "calibration_difference"),
                f"{_number(a.get('min_coverage'), 2)} to {_number(a.get('max_coverage'), 2)}",
                _bands(a.get("bands")),
            ]
            for name, a in attributes.items()
        ],
        [
            "attribute",
            "role",
            "disparate-impact ratio",
            "the outcome's own ratio",
            "equal-opportunity difference",
            "calibration difference",
            "interval coverage",
            "groups",
        ],
    )
    groups = _table(
        [
            [
                name,
                g["group"] + (" (too few to compare)" if g.get("small_group") else ""),
                g.get("count"),
                _number(g.get("base_rate")),
                _number(g.get("mean_score")),
                _number(g.get("selection_rate")),
                _number(g.get("true_positive_rate")),
                _number(g.get("false_positive_rate")),
                _number(g.get("calibration_error")),
                _number(g.get("coverage"), 2),
            ]
            for name, a in attributes.items()
            for g in a.get("groups", [])
        ],
        [
            "attribute",
            "group",
            "leads",
            "conversion",
            "mean score",
            "selected",
            "TPR",
            "FPR",
            "ECE",
            "coverage",
        ],
    )
    return head + (notes if flagged else "") + summary + groups + _proxies_html(fairness, gate)


def _logged(attribute: Any, key: str) -> str:
    """A disparity an older audit did not log yet reads empty, not "not compared"."""
    return _disparity(attribute.get(key)) if key in attribute else ""


def _bands(bands: Any) -> str:
    """How a numeric attribute was banded (its edges and where they came from), or its values."""
    if not bands:
        return "by value"
    edges = ", ".join(f"{e:g}" for e in bands.get("edges", []))
    return f"bands at {edges} ({bands.get('source')})"


def _proxies_html(fairness: Any, gate: Any) -> str:
    """Every input's strongest association with a protected attribute, alerts first."""
    found = (fairness.get("proxies") or {}).get("associations") or []
    if not found:
        return ""
    threshold = gate.get("proxy_threshold")
    strongest = sorted(
        (p for p in found if p.get("cramers_v") is not None),
        key=lambda p: -float(p["cramers_v"]),
    )[:10]
    rows = [
        [
            p["input"],
            p["attribute"],
            _number(p["cramers_v"], 2),
            "PROXY ALERT" if threshold is not None and p["cramers_v"] >= threshold else "",
        ]
        for p in strongest
    ]
    method = (fairness.get("proxies") or {}).get("method", "")
    text = f"Proxies (alert at {threshold}): {method}."
    head = ["model input", "protected attribute", "Cramer's V", ""]
    return f"<p>{escape(text)}</p>" + _table(rows, head)


def render_html(card: dict[str, Any]) -> str:
    """A plain, printable page; every value is escaped."""
    source = card.get("metric_source", "holdout")
    baselines = card.get("baselines") or {}
    names = list(baselines)
    metrics = _table(
        [
            [k, f"{v:.4f}", *(_number(baselines[b].get(k), 4) for b in names)]
            for k, v in sorted(card["metrics"].items())
        ],
        [f"metric ({source})", "this model", *names],
    )
    data = _table([[k, v] for k, v in card["data"].items() if k != "splits"], ["data", "value"])
    model = _table([[k, v] for k, v in card["model"].items()], ["model", "value"])
    history = _table(
        [
            [
                h["version"],
                h["created_at"],
                ", ".join(h["aliases"]),
                h["promoted_by_gate"],
                h["gate_reason"],
                h["fairness_passed"],
                json.dumps(h["promotion"]) if h["promotion"] else "",
            ]
            for h in card["version_history"]
        ],
        [
            "version",
            "created",
            "aliases",
            "promoted by gate",
            "gate reason",
            "fairness passed",
            "manual promotion",
        ],
    )
    importance = card.get("global_importance") or {}
    top = list((importance.get("mean_abs_shap_log_odds") or {}).items())[:10]
    drivers = _table([[k, f"{v:.3f}"] for k, v in top], ["input", "mean |SHAP| (log-odds)"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(card["title"])} — model card</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 960px; margin: 2rem auto; color: #1b2430;
       line-height: 1.45; padding: 0 1rem; }}
h1 {{ margin-bottom: .2rem; }} .meta {{ color: #556; }}
table {{ border-collapse: collapse; margin: .5rem 0 1.2rem; width: 100%; font-size: .92rem; }}
th, td {{ border-bottom: 1px solid #dde; padding: .35rem .5rem; text-align: left;
          vertical-align: top; }}
th {{ background: #f3f5f9; }} pre.json {{ background: #f6f7fa; padding: .8rem; overflow: auto;
  font-size: .8rem; max-height: 28rem; }}
.disclosure {{ background: #fff6e0; border-left: 4px solid #d9a400; padding: .6rem .8rem; }}
</style></head><body>
<h1>{escape(card["title"])}</h1>
<p class="meta">{escape(card["name"])} · version {escape(str(card["version"]))} ·
{escape(card["status"])} · trained {escape(str(card["trained_at"]))} · owner
{escape(card["owner"])}</p>
<p class="disclosure">{escape(card["disclosure"]["text"])}</p>
<p>{escape(card["summary"])}</p>
{f"<h2>Audit</h2><p>{escape(card['audit'])}</p>" if card.get("audit") else ""}
{_privacy_html(card.get("privacy"))}
<h2>Intended use</h2>{_list(card["intended_use"])}
<h2>Out of scope</h2>{_list(card["out_of_scope"])}
<h2>Data</h2>{data}
<h2>Model</h2>{model}
<h2>Metrics</h2>{metrics}
<h2>Strongest drivers</h2>{drivers}
{"<h2>Grades</h2>" + _grades_html(card["grades"]) if card.get("grades") else ""}
{"<h2>Drift</h2>" + _drift_html(card["drift"]) if card.get("drift") else ""}
<h2>Leakage guard</h2>{_leakage_html(card.get("leakage"))}
<h2>Fairness (last audit)</h2>{_fairness_html(card.get("fairness"), card.get("fairness_note"))}
<h2>Limitations</h2>{_list(card["limitations"])}
<h2>Version history</h2>{history}
</body></html>"""

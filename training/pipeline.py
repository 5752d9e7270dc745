"""`candor train leads`: read -> validate -> guard against leaks -> fit -> evaluate -> MLflow.

The champion gate: a new version takes the ``champion`` alias only when its holdout ROC-AUC is
at least the current champion's on the same holdout rows (a first model always becomes
champion) *and* it passes the fairness gate: no protected attribute (and no audit segment named
in ``fairness_gated``) shows a disparate-impact ratio below ``fairness_ratio_floor`` or an
equal-opportunity difference above ``fairness_difference_ceiling`` on the holdout, under
``fairness_gate_rule`` (``training.fairness``). A version that fails is registered, not
promoted, even as the first model; ``candor models promote`` is the recorded way past it. The
decision and its numbers are logged to the run and tagged on the version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
from sklearn.metrics import roc_auc_score

from candor.explain.lead_explanations import global_importance
from candor.explain.lead_plots import GroupBar, calibration_plot, fairness_plot, importance_plot
from candor.models.contract import HCP_LEADS, Contract, dump_contract, load_contract
from candor.models.errors import CandorError, ErrorDetail, ModelIncompatibleError
from candor.models.leads.features import build_features, fit_schema
from candor.models.settings import Settings
from candor.training import fairness, tracking
from candor.training.data import columns_of, read_table, validate_frame
from candor.training.fit import FitResult, fit_lead_scorer, split_indices
from candor.training.leakage import LeakageFinding, scan
from candor.training.metrics import reliability_curve

log = logging.getLogger("candor.training")

MITIGATIONS = ("reweight", "thresholds")


@dataclass
class GateDecision:
    promoted: bool
    reason: str
    new_roc_auc: float
    champion_version: str | None = None
    champion_roc_auc: float | None = None
    fairness_passed: bool | None = None  # None: no audit ran
    fairness_violations: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class TrainingSummary:
    run_id: str
    model_name: str
    version: str
    gate: GateDecision
    metrics: dict[str, float]
    shape: str
    leakage: list[LeakageFinding] = field(default_factory=list)
    fairness: fairness.FairnessAudit | None = None
    threshold_report: dict[str, Any] | None = None


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_contract(contract_path: str | Path | None, exclude: list[str]) -> Contract:
    contract = load_contract(contract_path) if contract_path else HCP_LEADS
    return contract.without(exclude) if exclude else contract


def leakage_findings(
    columns: dict[str, list[Any]], outcome: np.ndarray, contract: Contract, train_rows: np.ndarray
) -> list[LeakageFinding]:
    every = contract.with_every_input()
    train_columns = {k: [v[i] for i in train_rows] for k, v in columns.items()}
    schema = fit_schema(train_columns, every)
    matrix = build_features(columns, schema=schema, n_rows=len(outcome))
    excluded = frozenset(f.name for f in contract.after_the_fact_fields)
    return scan(matrix=matrix, outcome=outcome, contract=contract, excluded=excluded)


def report_leakage(findings: list[LeakageFinding]) -> None:
    """Loud, on stderr and in the log: a leak is the most common way a lead model lies."""
    for f in findings:
        action = "EXCLUDED" if f.excluded else "KEPT (use --exclude to drop it)"
        message = f"LEAKAGE WARNING: {f.feature!r}: {'; '.join(f.reasons)} -> {action}"
        log.debug(message)
        print(message, file=sys.stderr)  # once, whatever the logging set-up


def champion_gate(
    result: FitResult, columns: dict[str, list[Any]], settings: Settings
) -> GateDecision:
    new_auc = result.holdout_metrics["roc_auc"]
    current = tracking.champion_version(settings.lead_model_name, settings.model_alias)
    if current is None:
        return GateDecision(True, "first model: no champion yet", new_auc)
    champion = tracking.load_scorer(settings.lead_model_name, settings.model_alias)
    missing = [n for n in champion.feature_names if n not in columns]
    if missing:
        raise ModelIncompatibleError(
            f"champion version {current} reads input(s) {missing} that this data lacks; it cannot"
            " be compared on the same holdout"
        )
    rows = result.splits.holdout
    holdout_columns = {k: [v[i] for i in rows] for k, v in columns.items()}
    matrix = build_features(holdout_columns, schema=champion.schema_, n_rows=len(rows))
    champion_auc = float(
        roc_auc_score(result.holdout_outcome, champion.predict_proba(matrix.values))
    )
    promoted = new_auc >= champion_auc
    verdict = "at least as good as" if promoted else "worse than"
    reason = (
        f"holdout ROC-AUC {new_auc:.4f} is {verdict} champion v{current}'s "
        f"{champion_auc:.4f} on the same {len(rows)} rows"
    )
    return GateDecision(promoted, reason, new_auc, current, champion_auc)


def check_fairness_options(
    contract: Contract,
    columns: dict[str, list[Any]],
    settings: Settings,
    mitigate: str | None,
    mitigate_by: str | None,
) -> None:
    """Fail before training when a gated segment or a mitigation names no audited column."""
    roles = dict(fairness.audited_attributes(contract))
    audited = list(roles)
    segments = [name for name, role in roles.items() if role == fairness.SEGMENT]
    unknown = [name for name in settings.fairness_gated if name not in segments]
    if unknown:
        raise CandorError(
            f"fairness_gated names {unknown}, not audit segments of contract {contract.name!r}; "
            f"its audit segments: {segments} (protected attributes are always gated)",
            [ErrorDetail("fairness_gated", f"unknown audit segment {n!r}") for n in unknown],
            code="settings_invalid",
        )
    if mitigate is None and mitigate_by is None:
        return
    if mitigate not in MITIGATIONS:
        raise CandorError(
            f"--mitigate must be one of {list(MITIGATIONS)}, got {mitigate!r}",
            [ErrorDetail("mitigate", "unknown mitigation")],
            code="option_invalid",
        )
    if mitigate_by not in audited or mitigate_by not in columns:
        raise CandorError(
            f"--mitigate-by must name an audited column of the data (a protected attribute or "
            f"an audit segment of contract {contract.name!r}): got {mitigate_by!r}; audited "
            f"columns present: {[n for n in audited if n in columns]}",
            [ErrorDetail("mitigate_by", f"not an audited column: {mitigate_by!r}")],
            code="option_invalid",
        )


def reweighing(
    columns: dict[str, list[Any]], outcome: np.ndarray, train_rows: np.ndarray, by: str
) -> np.ndarray:
    """Kamiran-Calders weights on the training rows (1 elsewhere: those rows are not fitted)."""
    groups = fairness.group_labels(columns[by])
    weights = np.ones(len(outcome))
    weights[train_rows] = fairness.reweighing_weights(groups[train_rows], outcome[train_rows])
    return weights


def scores_of(result: FitResult, columns: dict[str, list[Any]], rows: np.ndarray) -> np.ndarray:
    """Calibrated probabilities of the new scorer for ``rows`` of the training frame."""
    subset = {k: [v[i] for i in rows] for k, v in columns.items()}
    matrix = build_features(subset, schema=result.scorer.schema_, n_rows=len(rows))
    return result.scorer.predict_proba(matrix.values)


def audit_fairness(
    result: FitResult,
    columns: dict[str, list[Any]],
    contract: Contract,
    settings: Settings,
    *,
    seed: int,
) -> fairness.FairnessAudit:
    """The fairness audit of a fitted scorer on its holdout (selected: grade A or B)."""
    calibrated = result.scorer.calibrate(result.scorer.margins(result.holdout_values))
    return fairness.audit_scores(
        outcome=result.holdout_outcome,
        score=calibrated.score,
        lower=calibrated.lower,
        upper=calibrated.upper,
        sensitive=fairness.sensitive_features(columns, result.splits.holdout, contract),
        protected={f.name for f in contract.protected_fields},
        threshold=settings.policy.grade_cutoffs[1],
        min_group_size=settings.fairness_min_group_size,
        resamples=settings.fairness_resamples,
        seed=seed,
    )


def unaudited_protected(audit: fairness.FairnessAudit, contract: Contract) -> list[str]:
    """Protected attributes of the contract the audit could not compare, with why.

    Absent from the data, or fewer than two groups large enough to compare: the gate then has
    no evidence of fairness for that attribute and must not pass on silence.
    """
    found = []
    for f in contract.protected_fields:
        if f.name not in audit.names:
            found.append(f"{f.name} (not in the data)")
        elif audit[f.name].disparate_impact is None and audit[f.name].equal_opportunity is None:
            found.append(f"{f.name} (fewer than two groups large enough to compare)")
    return found


def fairness_gate(
    gate: GateDecision, violations: list[fairness.Violation], unaudited: list[str] | None = None
) -> GateDecision:
    """The champion gate's decision, overruled when the fairness gate fails.

    It fails on a violation, and also when a protected attribute could not be audited: no
    evidence is not evidence of fairness (an admin can still promote with a justification).
    """
    unaudited = unaudited or []
    if not violations and not unaudited:
        return replace(gate, fairness_passed=True)
    problems = [v.describe() for v in violations]
    problems += [f"protected attribute not audited: {u}" for u in unaudited]
    reason = "fairness gate failed: " + "; ".join(problems) + f" (ROC-AUC gate: {gate.reason})"
    return replace(
        gate,
        promoted=False,
        reason=reason,
        fairness_passed=False,
        fairness_violations=[v.to_dict() for v in violations],
    )


def report_fairness(breaches: list[fairness.Violation]) -> None:
    """Loud, on stderr and in the log, like the leakage warnings: every threshold crossed."""
    for b in breaches:
        evidence = "clear" if b.conclusive else "inconclusive: the 95% CI reaches the threshold"
        if b.gated and b.conclusive:
            action = "BLOCKS PROMOTION"
        elif b.gated:
            action = f"not blocking ({evidence})"
        else:
            action = (
                f"not gated: audit segment ({evidence}); CANDOR_FAIRNESS_GATED would gate it, "
                "fair call plans can give its groups a minimum share"
            )
        message = f"FAIRNESS WARNING: {b.describe()} -> {action}"
        log.debug(message)
        print(message, file=sys.stderr)  # once, whatever the logging set-up


def train_leads(
    *,
    data: str | Path,
    settings: Settings,
    contract_path: str | Path | None = None,
    exclude: list[str] | None = None,
    seed: int = 42,
    mitigate: str | None = None,
    mitigate_by: str | None = None,
) -> TrainingSummary:
    """Train, audit, log and register a lead scorer; promote it if it passes both gates.

    ``mitigate="reweight"`` fits with Kamiran-Calders weights by the column ``mitigate_by``;
    ``mitigate="thresholds"`` fits as usual and logs a report of Fairlearn's per-group
    thresholds for ``mitigate_by`` (``fairness/threshold_optimizer.json``); serving is unchanged.
    """
    data = Path(data)
    contract = resolve_contract(contract_path, exclude or [])
    frame = read_table(data, contract)
    outcome = validate_frame(frame, contract)
    columns = columns_of(frame)
    check_fairness_options(contract, columns, settings, mitigate, mitigate_by)

    tracking.configure(settings)
    with (
        mlflow.start_run(run_name=f"leads-{data.stem}") as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workdir = Path(tmp)
        train_rows = split_indices(outcome, seed=seed).train  # the same split the fit uses
        findings = leakage_findings(columns, outcome, contract, train_rows)
        report_leakage(findings)  # before training, so a user can stop and --exclude
        weights = None
        if mitigate == "reweight" and mitigate_by is not None:
            weights = reweighing(columns, outcome, train_rows, mitigate_by)
        result = fit_lead_scorer(columns, outcome, contract, seed=seed, sample_weight=weights)
        _log_run(result, findings, contract, data, frame_rows=len(frame), workdir=workdir)
        mlflow.log_params(
            {
                "mitigation": mitigate or "none",
                "mitigation_by": mitigate_by or "none",
                "fairness_floor": settings.fairness_ratio_floor,
                "fairness_ceiling": settings.fairness_difference_ceiling,
                "fairness_gated": ",".join(settings.fairness_gated) or "protected only",
                "fairness_gate_rule": settings.fairness_gate_rule,
            }
        )
        audit = audit_fairness(result, columns, contract, settings, seed=seed)
        floor, ceiling = settings.fairness_ratio_floor, settings.fairness_difference_ceiling
        rule = settings.fairness_gate_rule
        breaches = audit.breaches(floor, ceiling, settings.fairness_gated, rule=rule)
        violations = [b for b in breaches if b.gated and b.conclusive]
        unaudited = unaudited_protected(audit, contract)
        report_fairness(breaches)
        for name in unaudited:
            message = (
                f"FAIRNESS WARNING: protected attribute not audited: {name} -> BLOCKS PROMOTION"
            )
            log.debug(message)
            print(message, file=sys.stderr)
        _log_fairness(audit, breaches, violations, settings, workdir=workdir, unaudited=unaudited)
        threshold_report = None
        if mitigate == "thresholds" and mitigate_by is not None:
            threshold_report = _threshold_report(result, columns, outcome, settings, mitigate_by)
            mlflow.log_dict(threshold_report, "fairness/threshold_optimizer.json")
        version = tracking.log_scorer(
            result.scorer, workdir=workdir, registered_name=settings.lead_model_name
        )
        try:
            gate = champion_gate(result, columns, settings)
        except ModelIncompatibleError as exc:
            gate = GateDecision(
                False,
                str(exc),
                result.holdout_metrics["roc_auc"],
                tracking.champion_version(settings.lead_model_name, settings.model_alias),
            )
        gate = fairness_gate(gate, violations, unaudited)
        if gate.promoted:
            tracking.set_alias(settings.lead_model_name, settings.model_alias, version)
        mlflow.log_dict(gate.to_dict(), "gate.json")
        mlflow.set_tags(
            {
                "gate.promoted": str(gate.promoted),
                "gate.reason": gate.reason,
                "model.version": version,
                "fairness.passed": str(gate.fairness_passed),
            }
        )
        if gate.champion_roc_auc is not None:
            mlflow.log_metric("gate_champion_roc_auc", gate.champion_roc_auc)
        tracking.tag_version(
            settings.lead_model_name,
            version,
            {
                "gate.promoted": str(gate.promoted),
                "gate.reason": gate.reason,
                "contract": contract.version_tag,
                "fairness.passed": str(gate.fairness_passed),
            },
        )
        return TrainingSummary(
            run.info.run_id,
            settings.lead_model_name,
            version,
            gate,
            result.holdout_metrics,
            result.chosen.shape.label,
            findings,
            audit,
            threshold_report,
        )


def _metric_key(name: str) -> str:
    """An MLflow-safe metric-name part for a column name from any contract."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", name)


def _log_fairness(
    audit: fairness.FairnessAudit,
    breaches: list[fairness.Violation],
    violations: list[fairness.Violation],
    settings: Settings,
    *,
    workdir: Path,
    unaudited: list[str] | None = None,
) -> None:
    """``fairness/audit.json`` (with the gate), ``audit.csv``, ``audit.png`` and metrics."""
    gated = [a.attribute for a in audit.attributes if a.role == fairness.PROTECTED]
    gated += [name for name in settings.fairness_gated if name not in gated]
    gate = {
        "passed": not violations and not unaudited,
        "unaudited_protected": unaudited or [],
        "floor": settings.fairness_ratio_floor,
        "ceiling": settings.fairness_difference_ceiling,
        "rule": settings.fairness_gate_rule,
        "gated": gated,
        "violations": [v.to_dict() for v in violations],
        "warnings": [b.to_dict() for b in breaches if b not in violations],
    }
    record = {"gate": gate, **audit.to_dict()}  # the gate first: the card shows the top
    mlflow.log_dict(record, "fairness/audit.json")
    mlflow.log_text(audit.to_csv(), "fairness/audit.csv")
    panels = {
        _panel_title(a): [
            GroupBar(
                g.group,
                g.selection_rate,
                g.selection_rate_ci[0] if g.selection_rate_ci else None,
                g.selection_rate_ci[1] if g.selection_rate_ci else None,
                g.small_group,
            )
            for g in a.groups
        ]
        for a in audit.attributes
    }
    if panels:
        plot = fairness_plot(
            panels,
            workdir / "audit.png",
            floor=settings.fairness_ratio_floor,
            title=f"Selection rate (score >= {audit.threshold:g}) by group, holdout, 95% CI",
        )
        mlflow.log_artifact(str(plot), artifact_path="fairness")
    metrics: dict[str, float] = {}
    for a in audit.attributes:
        key = _metric_key(a.attribute)
        if a.disparate_impact is not None:
            metrics[f"fairness_min_ratio_{key}"] = a.disparate_impact.value
            if a.disparate_impact.ci is not None:
                metrics[f"fairness_min_ratio_ci_high_{key}"] = a.disparate_impact.ci[1]
        if a.equal_opportunity is not None:
            metrics[f"fairness_eo_difference_{key}"] = a.equal_opportunity.value
            if a.equal_opportunity.ci is not None:
                metrics[f"fairness_eo_difference_ci_low_{key}"] = a.equal_opportunity.ci[0]
        if a.min_coverage is not None and a.max_coverage is not None:
            metrics[f"fairness_min_coverage_{key}"] = a.min_coverage
            metrics[f"fairness_max_coverage_{key}"] = a.max_coverage
    metrics["fairness_violations"] = float(len(violations))
    mlflow.log_metrics(metrics)


def _panel_title(a: fairness.AttributeAudit) -> str:
    title = f"{a.attribute} ({a.role.replace('_', ' ')})"
    d = a.disparate_impact
    if d is not None:
        title += f": ratio {d.value:.2f}"
        if d.ci is not None:
            title += f" [{d.ci[0]:.2f}, {d.ci[1]:.2f}]"
    return title


def _threshold_report(
    result: FitResult,
    columns: dict[str, list[Any]],
    outcome: np.ndarray,
    settings: Settings,
    by: str,
) -> dict[str, Any]:
    """Per-group thresholds fitted on the calibration split, evaluated on the holdout."""
    groups = fairness.group_labels(columns[by])
    splits = result.splits
    return fairness.threshold_optimizer_report(
        attribute=by,
        fit_score=scores_of(result, columns, splits.calibration),
        fit_outcome=outcome[splits.calibration],
        fit_groups=groups[splits.calibration],
        score=result.holdout_score,
        outcome=result.holdout_outcome,
        groups=groups[splits.holdout],
        threshold=settings.policy.grade_cutoffs[1],
        seed=int(result.scorer.meta_["seed"]),
        min_group_size=settings.fairness_min_group_size,
    )


def _log_run(
    result: FitResult,
    findings: list[LeakageFinding],
    contract: Contract,
    data: Path,
    *,
    frame_rows: int,
    workdir: Path,
) -> None:
    splits = result.splits
    mlflow.log_params(
        {
            "data_path": str(data),
            "data_rows": frame_rows,
            "contract": contract.version_tag,
            "chosen_shape": result.chosen.shape.label,
            "num_leaves": result.chosen.shape.num_leaves,
            "max_depth": result.chosen.shape.max_depth,
            "trees": result.chosen.best_iteration,
            "calibration": "inductive Venn-Abers",
            "split_train": len(splits.train),
            "split_valid": len(splits.valid),
            "split_calibration": len(splits.calibration),
            "split_holdout": len(splits.holdout),
            "seed": result.scorer.meta_["seed"],
            "excluded_inputs": ",".join(f.name for f in contract.after_the_fact_fields) or "none",
        }
    )
    mlflow.set_tags(
        {
            "data_sha256": file_fingerprint(data),
            "contract": contract.version_tag,
            "leakage_findings": str(len(findings)),
        }
    )
    mlflow.log_metrics({f"holdout_{k}": v for k, v in result.holdout_metrics.items()})
    mlflow.log_metrics(
        {f"holdout_uncalibrated_{k}": v for k, v in result.holdout_metrics_uncalibrated.items()}
    )
    candidates = [
        {
            "shape": c.shape.label,
            "valid_roc_auc": c.valid_auc,
            "trees": c.best_iteration,
            "explain_cost": c.explain_cost,
            "chosen": c is result.chosen,
        }
        for c in result.candidates
    ]
    for c in result.candidates:
        key = f"{c.shape.num_leaves}l"
        mlflow.log_metric(f"grid_valid_roc_auc_{key}", c.valid_auc)
        mlflow.log_metric(f"grid_explain_cost_{key}", c.explain_cost)
    mlflow.log_dict({"candidates": candidates}, "shape_grid.json")
    mlflow.log_dict({"findings": [f.to_dict() for f in findings]}, "leakage.json")
    mlflow.log_text(dump_contract(contract), "contract.yaml")
    mlflow.log_dict(result.scorer.schema_.to_dict(), "reference/feature_schema.json")

    contributions = result.scorer.contributions(result.holdout_values)
    importance = global_importance(contributions, result.scorer.feature_names)
    mlflow.log_dict({"mean_abs_shap_log_odds": dict(importance)}, "global_importance.json")
    mlflow.log_artifact(str(importance_plot(importance, workdir / "shap_importance.png")))
    curves = {
        "calibrated (Venn-Abers)": reliability_curve(result.holdout_outcome, result.holdout_score),
        "raw LightGBM": reliability_curve(result.holdout_outcome, result.holdout_raw_probability),
    }
    mlflow.log_artifact(
        str(
            calibration_plot(
                curves, workdir / "calibration_curve.png", title="Calibration on the holdout"
            )
        )
    )
    mlflow.log_text(json.dumps(result.holdout_metrics, indent=1), "holdout_metrics.json")

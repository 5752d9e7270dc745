"""`candor train leads`: read -> validate -> guard against leaks -> fit -> evaluate -> MLflow.

The champion gate: a new version takes the ``champion`` alias only when its holdout ROC-AUC is
at least the current champion's on the same holdout rows (a first model always becomes
champion), *and* it passes the fairness gate (``training.fairness``: on the metrics of
``fairness_gate_metrics``, by default calibration within groups and interval coverage per
group, for every protected attribute and each audit segment named in ``fairness_gated``, under
``fairness_gate_rule``), *and* no input it was trained on has an unresolved leakage finding
(``training.leakage``: excluded, or accepted by name with ``accept_leakage_risk``). A version
that fails is registered, not promoted, even as the first model; ``candor models promote`` is
the recorded way past it. The decision and its numbers are logged to the run and tagged on the
version. The grade cut-offs are chosen on the holdout and kept with the model
(``training.grading``).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from candor.explain.lead_explanations import global_importance
from candor.explain.lead_plots import calibration_plot, importance_plot
from candor.models.contract import HCP_LEADS, Contract, dump_contract, load_contract
from candor.models.errors import ErrorDetail, ModelIncompatibleError, OptionError
from candor.models.leads.features import build_features, fit_schema
from candor.models.monitoring.performance import holdout_performance
from candor.models.settings import Settings
from candor.registry import LEADS, load_model, versions
from candor.registry.tracking import TrainingRun, training_run_with_workdir
from candor.training import fairness
from candor.training.champion_move import move_by_gate
from candor.training.data import columns_of, read_table, target_statement, validate_frame
from candor.training.drift_gate import champion_drift, drift_gate
from candor.training.drift_reference import holdout_reference
from candor.training.fairness import FairnessAudit, ThresholdReport
from candor.training.fingerprint import file_fingerprint
from candor.training.fit import (
    FitResult,
    fit_lead_scorer,
    split_indices,
    stratified_subset,
    take_rows,
)
from candor.training.grading import choose_cutoffs
from candor.training.leakage import AUC_THRESHOLD, LeakageFinding, scan, unresolved
from candor.training.leakage_dominance import (
    QUICK_EVAL_ROWS,
    QUICK_FIT_ROWS,
    Dominance,
    dominance,
)
from candor.training.metrics import reliability_curve
from candor.training.run_summary import GateOutcome, RunSummary
from candor.training.stages import StageClock

log = logging.getLogger("candor.training")

Warn = Callable[[str], None]  # shows one warning line as it happens


@dataclass
class GateDecision(GateOutcome):
    """On holdout ROC AUC (higher is better), then on fairness."""

    new_roc_auc: float
    champion_version: str | None = None
    champion_roc_auc: float | None = None
    fairness_passed: bool | None = None  # None: no audit ran
    fairness_violations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TrainingSummary(RunSummary[GateDecision]):
    metrics: dict[str, float]
    shape: str
    leakage: list[LeakageFinding] = field(default_factory=list)
    fairness: FairnessAudit | None = None
    threshold_report: ThresholdReport | None = None  # the field above shadows the module


def resolve_contract(
    contract_path: str | Path | None, exclude: list[str]
) -> tuple[Contract, frozenset[str]]:
    """The contract to train with (``--exclude`` names demoted to after-the-fact), and the
    model inputs that ``--exclude`` itself left out (not those the contract already did)."""
    declared = load_contract(contract_path) if contract_path else HCP_LEADS
    contract = declared.without(exclude) if exclude else declared
    return contract, frozenset(exclude) & {f.name for f in declared.model_inputs}


# the leakage guard's single-input checks read at most this many rows (a stratified sample of
# the export): an input's ROC-AUC alone is known to +-0.002 long before a million rows
LEAKAGE_ROWS = 200_000
# the global SHAP summary (mean |contribution| per input) reads at most this many holdout rows
SHAP_SUMMARY_ROWS = 20_000


def leakage_findings(
    columns: dict[str, Any],
    outcome: np.ndarray,
    contract: Contract,
    train_rows: np.ndarray,
    *,
    seed: int = 0,
    on_command_line: frozenset[str] = frozenset(),
    accepted: frozenset[str] = frozenset(),
) -> tuple[list[LeakageFinding], Dominance | None]:
    """The guard's findings, and the kept inputs' standing against each other, on a stratified
    sample of at most ``LEAKAGE_ROWS`` rows (quick models fit on its training rows and are
    scored on the others)."""
    every = contract.with_every_input()
    rows = stratified_subset(np.arange(len(outcome)), outcome, LEAKAGE_ROWS, seed=seed)
    in_train = np.isin(rows, train_rows)
    schema = fit_schema(take_rows(columns, rows[in_train]), every)
    matrix = build_features(take_rows(columns, rows), schema=schema, n_rows=len(rows))
    excluded = frozenset(f.name for f in contract.after_the_fact_fields)
    kept = [j for j, spec in enumerate(schema.specs) if spec.name not in excluded]
    sample_outcome = outcome[rows]
    positions = np.arange(len(rows))
    fit_rows = stratified_subset(positions[in_train], sample_outcome, QUICK_FIT_ROWS, seed=seed)
    eval_rows = stratified_subset(positions[~in_train], sample_outcome, QUICK_EVAL_ROWS, seed=seed)
    categorical = set(schema.categorical_indices)
    standings = dominance(
        matrix.values[:, kept],
        sample_outcome,
        [schema.specs[j].name for j in kept],
        [i for i, j in enumerate(kept) if j in categorical],
        fit_rows=fit_rows,
        eval_rows=eval_rows,
        seed=seed,
    )
    findings = scan(
        matrix=matrix,
        outcome=sample_outcome,
        contract=contract,
        excluded=excluded,
        on_command_line=on_command_line,
        accepted=accepted,
        standings=standings,
    )
    return findings, standings


def shap_summary(result: FitResult, *, seed: int) -> list[tuple[str, float]]:
    """Mean |TreeSHAP contribution| per input over (a stratified sample of) the holdout."""
    rows = stratified_subset(
        np.arange(len(result.holdout_outcome)), result.holdout_outcome, SHAP_SUMMARY_ROWS, seed=seed
    )
    contributions = result.scorer.contributions(result.holdout_values[rows])
    return global_importance(contributions, result.scorer.feature_names)


def warn_on_stderr(message: str) -> None:
    """The default for library callers: each warning on stderr, once, whatever the logging
    set-up (the CLI passes its own)."""
    print(message, file=sys.stderr)


def _warn(messages: Iterable[str], warn: Warn) -> None:
    """Loud, to ``warn`` and in the log: leaks and unfair disparities must not pass unseen."""
    for message in messages:
        log.debug(message)
        warn(message)


def check_accepted(contract: Contract, names: Iterable[str]) -> frozenset[str]:
    """The inputs named by ``--accept-leakage-risk``; an OptionError for a name that is not a
    model input of the contract."""
    inputs = {f.name for f in contract.fields if f.is_model_input}
    unknown = sorted(set(names) - inputs)
    if unknown:
        raise OptionError(
            f"--accept-leakage-risk names {unknown}, not model inputs of contract "
            f"{contract.name!r}; its inputs: {sorted(inputs)}",
            [ErrorDetail("accept_leakage_risk", f"not a model input: {n!r}") for n in unknown],
        )
    return frozenset(names)


def _show_exclusions(contract: Contract, on_command_line: frozenset[str], show: Warn) -> None:
    """Say where each input left out of training was left out: the contract or --exclude."""
    for f in contract.after_the_fact_fields:
        where = (
            "by --exclude on the command line"
            if f.name in on_command_line
            else "declared after_the_fact in the contract"
        )
        show(f"excluded from training: {f.name!r} ({where})")


def leakage_gate(gate: GateDecision, findings: list[LeakageFinding]) -> GateDecision:
    """The gate's decision, overruled while a leakage finding on a trained input is unresolved."""
    open_findings = unresolved(findings)
    if not open_findings:
        return gate
    return replace(
        gate,
        promoted=False,
        reason=(
            f"leakage guard: unresolved finding(s) on {open_findings}; exclude the input "
            "(--exclude) or accept the risk by name (--accept-leakage-risk COLUMN) "
            f"({gate.reason})"
        ),
    )


def champion_gate(result: FitResult, columns: dict[str, Any], settings: Settings) -> GateDecision:
    new_auc = result.holdout_metrics["roc_auc"]
    current = versions.champion_version(settings, settings.lead_model_name)
    if current is None:
        return GateDecision(True, "first model: no champion yet", new_auc)
    champion = load_model(settings, kind=LEADS).model
    missing = [n for n in champion.feature_names if n not in columns]
    if missing:
        raise ModelIncompatibleError(
            f"champion version {current} reads input(s) {missing} that this data lacks; it cannot"
            " be compared on the same holdout"
        )
    rows = result.splits.holdout
    matrix = build_features(take_rows(columns, rows), schema=champion.schema_, n_rows=len(rows))
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


def fairness_gate(gate: GateDecision, verdict: fairness.FairnessVerdict) -> GateDecision:
    """The champion gate's decision, overruled when the fairness gate fails.

    It fails on a violation, and also when a protected attribute could not be audited
    (``training.fairness.gate``); an admin can still promote with a justification.
    """
    if verdict.passed:
        return replace(gate, fairness_passed=True)
    problems = "; ".join(verdict.problems())
    return replace(
        gate,
        promoted=False,
        reason=f"fairness gate failed: {problems} (ROC-AUC gate: {gate.reason})",
        fairness_passed=False,
        fairness_violations=[v.to_dict() for v in verdict.violations],
    )


def train_leads(
    *,
    data: str | Path,
    settings: Settings,
    contract_path: str | Path | None = None,
    exclude: list[str] | None = None,
    seed: int = 42,
    mitigate: str | None = None,
    mitigate_by: str | None = None,
    accept_leakage_risk: list[str] | None = None,
    warn: Warn = warn_on_stderr,
    show: Warn = warn_on_stderr,
) -> TrainingSummary:
    """Train, audit, log and register a lead scorer; promote it if it passes both gates.

    ``mitigate="reweight"`` fits with Kamiran-Calders weights by the column ``mitigate_by``;
    ``mitigate="thresholds"`` fits as usual and logs a report of Fairlearn's per-group
    thresholds for ``mitigate_by`` (``fairness/threshold_optimizer.json``); serving is unchanged.
    Leakage and fairness warnings go to ``warn`` as they are found, one line each; each stage's
    time and peak memory to ``show`` as it ends (and to MLflow). A leakage finding on an input
    that is trained on blocks promotion unless ``accept_leakage_risk`` names that input (the
    acceptance is kept with the version and shown on its card).

    Raises:
        SettingsError: ``fairness_gated`` names no audit segment of the contract.
        OptionError: an unknown mitigation, or ``mitigate_by`` names no audited column.
    """
    data = Path(data)
    clock = StageClock(show=show)
    contract, on_command_line = resolve_contract(contract_path, exclude or [])
    accepted = check_accepted(contract, accept_leakage_risk or [])
    _show_exclusions(contract, on_command_line, show)
    with clock.stage("read and validate") as detail:
        frame = read_table(data, contract)
        outcome = validate_frame(frame, contract)
        target_read = target_statement(frame, contract, outcome)
        columns = columns_of(frame, contract)
        n_rows = len(frame)
        del frame  # the columns hold the data from here on
        detail.append(f"{n_rows:,} rows")
    show(target_read)
    fairness.check_gated_segments(contract, settings.fairness_gated)
    fairness.band_edges(contract, columns)  # text in a banded column: refused before training
    fairness.check_mitigation(contract, columns, mitigate, mitigate_by)

    with training_run_with_workdir(
        settings, experiment=settings.experiment, run_name=f"leads-{data.stem}"
    ) as (run, workdir):
        train_rows = split_indices(outcome, seed=seed).train  # the same split the fit uses
        with clock.stage("leakage guard", f"on {min(n_rows, LEAKAGE_ROWS):,} rows"):
            findings, standings = leakage_findings(
                columns,
                outcome,
                contract,
                train_rows,
                seed=seed,
                on_command_line=on_command_line,
                accepted=accepted,
            )
        _warn([f.warning() for f in findings], warn)  # before training: a user can --exclude
        weights = None
        if mitigate == "reweight" and mitigate_by is not None:
            weights = fairness.training_weights(
                columns, outcome, train_rows, mitigate_by, contract=contract
            )
        result = fit_lead_scorer(
            columns, outcome, contract, seed=seed, sample_weight=weights, clock=clock
        )
        grades = choose_cutoffs(result.holdout_score, result.holdout_outcome, settings.grade_shares)
        result.scorer.meta_["grade_cutoffs"] = grades.to_dict()  # kept with the model
        result.scorer.meta_["drift_reference"] = reference = holdout_reference(
            result, columns, contract, settings.policy
        ).to_dict()  # what GET /v1/monitoring/drift and the drift gate compare with
        run.log_dict(reference, "drift_reference.json")
        result.scorer.meta_["holdout_performance"] = holdout_performance(
            score=result.holdout_score,
            outcome=result.holdout_outcome,
            cutoffs=grades.cutoffs,
            min_outcomes=settings.performance_min_outcomes,
        ).to_dict()  # beside the real-world figures of GET /v1/monitoring/performance
        for line in [f"grade cut-offs {grades.rule}:", *grades.lines()]:
            show(line)
        with clock.stage(
            "SHAP summary",
            f"on {min(len(result.splits.holdout), SHAP_SUMMARY_ROWS):,} holdout rows",
        ):
            importance = shap_summary(result, seed=seed)
        with clock.stage("logging"):
            _log_run(
                run,
                result,
                findings,
                contract,
                data,
                frame_rows=n_rows,
                workdir=workdir,
                importance=importance,
                excluded_on_command_line=on_command_line,
                standings=standings,
                accepted=accepted,
                target_read=target_read,
            )
        run.log_params(
            {
                "mitigation": mitigate or "none",
                "mitigation_by": mitigate_by or "none",
                "fairness_floor": settings.fairness_ratio_floor,
                "fairness_ceiling": settings.fairness_difference_ceiling,
                "fairness_gated": ",".join(settings.fairness_gated) or "protected only",
                "fairness_gate_rule": settings.fairness_gate_rule,
                "fairness_gate_metrics": ",".join(settings.fairness_gate_metrics),
                "fairness_calibration_ceiling": settings.fairness_calibration_ceiling,
                "fairness_coverage_floor": settings.fairness_coverage_floor,
                "fairness_proxy_threshold": settings.fairness_proxy_threshold,
            }
        )
        with clock.stage("fairness audit"):
            audit = fairness.audit_holdout(result, columns, contract, settings, seed=seed)
            verdict = fairness.judge(audit, contract, fairness.GateSettings.from_settings(settings))
        _warn(fairness.fairness_warnings(verdict), warn)
        _log_fairness(run, audit, verdict, workdir=workdir)
        threshold_report = None
        if mitigate == "thresholds" and mitigate_by is not None:
            threshold_report = fairness.holdout_threshold_report(
                result,
                columns,
                outcome,
                by=mitigate_by,
                threshold=settings.policy.for_model(result.scorer.grade_cutoffs).cutoffs[1],
                min_group_size=settings.fairness_min_group_size,
                contract=contract,
            )
            run.log_dict(threshold_report.to_dict(), "fairness/threshold_optimizer.json")
        with clock.stage("model logging"):
            version = run.log_model(
                LEADS, result.scorer, workdir=workdir, registered_name=settings.lead_model_name
            )
        try:
            with clock.stage("champion gate"):
                gate = champion_gate(result, columns, settings)
        except ModelIncompatibleError as exc:
            gate = GateDecision(
                False,
                str(exc),
                result.holdout_metrics["roc_auc"],
                versions.champion_version(settings, settings.lead_model_name),
            )
        gate = fairness_gate(gate, verdict)
        gate = leakage_gate(gate, findings)
        gate = drift_gate(
            gate,
            champion_drift(columns, train_rows, settings, seed=seed),
            run=run,
            settings=settings,
            version=version,
            warn=warn,
        )
        if gate.promoted:
            gate = move_by_gate(
                settings, gate, name=settings.lead_model_name, version=version, run_id=run.run_id
            )
        run.log_dict(gate.to_dict(), "gate.json")
        run.set_tags(
            {
                "gate.promoted": str(gate.promoted),
                "gate.reason": gate.reason,
                "model.version": version,
                "fairness.passed": str(gate.fairness_passed),
            }
        )
        if gate.champion_roc_auc is not None:
            run.log_metric("gate_champion_roc_auc", gate.champion_roc_auc)
        run.log_metrics(clock.metrics())
        run.log_dict(clock.to_dict(), "stages.json")
        show(f"training took {clock.total_seconds:.1f} s, peak {clock.peak_mib:,.0f} MiB")
        versions.tag_version(
            settings,
            settings.lead_model_name,
            version,
            {
                "gate.promoted": str(gate.promoted),
                "gate.reason": gate.reason,
                "contract": contract.version_tag,
                "fairness.passed": str(gate.fairness_passed),
                "leakage.unresolved": ",".join(unresolved(findings)),
                "leakage.accepted": ",".join(sorted(accepted)),
            },
        )
        return TrainingSummary(
            run.run_id,
            settings.lead_model_name,
            version,
            gate,
            result.holdout_metrics,
            result.chosen.shape.label,
            findings,
            audit,
            threshold_report,
        )


def _log_fairness(
    run: TrainingRun,
    audit: fairness.FairnessAudit,
    verdict: fairness.FairnessVerdict,
    *,
    workdir: Path,
) -> None:
    """``fairness/audit.json`` (with the gate), ``audit.csv``, ``audit.png`` and metrics."""
    record = fairness.audit_record(audit, verdict)
    run.log_dict(record, "fairness/audit.json")
    run.log_text(fairness.audit_csv(audit), "fairness/audit.csv")
    plot = fairness.audit_plot(audit, workdir / "audit.png", floor=verdict.settings.floor)
    if plot is not None:
        run.log_artifact(plot, "fairness")
    metrics = fairness.audit_metrics(audit, verdict)
    run.log_metrics(metrics)


def _log_run(
    run: TrainingRun,
    result: FitResult,
    findings: list[LeakageFinding],
    contract: Contract,
    data: Path,
    *,
    frame_rows: int,
    workdir: Path,
    importance: list[tuple[str, float]],
    excluded_on_command_line: frozenset[str] = frozenset(),
    standings: Dominance | None = None,
    accepted: frozenset[str] = frozenset(),
    target_read: str = "",
) -> None:
    splits = result.splits
    run.log_params(
        {
            "data_path": str(data),
            "data_rows": frame_rows,
            "contract": contract.version_tag,
            "chosen_shape": result.chosen.shape.label,
            "num_leaves": result.chosen.shape.num_leaves,
            "max_depth": result.chosen.shape.max_depth,
            "trees": result.chosen.best_iteration,
            "calibration": "inductive Venn-Abers",
            "explanations": result.scorer.explainer_.info.describe(),
            "split_train": len(splits.train),
            "split_valid": len(splits.valid),
            "split_calibration": len(splits.calibration),
            "split_holdout": len(splits.holdout),
            "seed": result.scorer.meta_["seed"],
            "excluded_inputs": ",".join(f.name for f in contract.after_the_fact_fields) or "none",
            "excluded_by_contract": ",".join(
                f.name
                for f in contract.after_the_fact_fields
                if f.name not in excluded_on_command_line
            )
            or "none",
            "excluded_on_command_line": ",".join(sorted(excluded_on_command_line)) or "none",
        }
    )
    run.set_tags(
        {
            "data_sha256": file_fingerprint(data),
            "contract": contract.version_tag,
            "leakage_findings": str(len(findings)),
            "leakage_unresolved": ",".join(unresolved(findings)) or "none",
            "leakage_accepted": ",".join(sorted(accepted)) or "none",
        }
    )
    run.log_metrics({f"holdout_{k}": v for k, v in result.holdout_metrics.items()})
    run.log_metrics(
        {f"holdout_uncalibrated_{k}": v for k, v in result.holdout_metrics_uncalibrated.items()}
    )
    candidates = [
        {
            "shape": c.shape.label,
            "valid_roc_auc": c.valid_auc,
            "trees": c.best_iteration,
            "explain_cost": c.explain_cost,
            "chosen": c.shape == result.chosen.shape,
        }
        for c in result.candidates
    ]
    for c in result.candidates:
        key = f"{c.shape.num_leaves}l"
        run.log_metric(f"grid_valid_roc_auc_{key}", c.valid_auc)
        run.log_metric(f"grid_explain_cost_{key}", c.explain_cost)
    grid = {"train_rows": result.grid_rows[0], "valid_rows": result.grid_rows[1]}
    run.log_dict({"candidates": candidates, "fitted_on": grid}, "shape_grid.json")
    run.log_params({"grid_train_rows": grid["train_rows"], "grid_valid_rows": grid["valid_rows"]})
    run.log_dict(
        {
            "findings": [f.to_dict() for f in findings],
            "unresolved": unresolved(findings),
            "accepted": sorted(accepted),
            "excluded_by_contract": [
                f.name
                for f in contract.after_the_fact_fields
                if f.name not in excluded_on_command_line
            ],
            "excluded_on_command_line": sorted(excluded_on_command_line),
            "single_input_auc_threshold": AUC_THRESHOLD,
            "dominance": standings.to_dict() if standings is not None else None,
        },
        "leakage.json",
    )
    if target_read:
        run.set_tags({"target_read": target_read})
    grades = result.scorer.meta_.get("grade_cutoffs")
    if grades:
        run.log_dict(grades, "grades.json")
        run.log_params({"grade_cutoffs": ",".join(f"{c:.4f}" for c in grades["cutoffs"])})
    run.log_text(dump_contract(contract), "contract.yaml")
    run.log_dict(result.scorer.schema_.to_dict(), "reference/feature_schema.json")

    summary_rows = min(len(splits.holdout), SHAP_SUMMARY_ROWS)
    run.log_dict(
        {"mean_abs_shap_log_odds": dict(importance), "holdout_rows": summary_rows},
        "global_importance.json",
    )
    run.log_artifact(importance_plot(importance, workdir / "shap_importance.png"))
    curves = {
        "calibrated (Venn-Abers)": reliability_curve(result.holdout_outcome, result.holdout_score),
        "raw LightGBM": reliability_curve(result.holdout_outcome, result.holdout_raw_probability),
    }
    run.log_artifact(
        calibration_plot(
            curves, workdir / "calibration_curve.png", title="Calibration on the holdout"
        )
    )
    run.log_text(json.dumps(result.holdout_metrics, indent=1), "holdout_metrics.json")

"""`candor`: generate sample data, train, serve. Errors print their code and exit non-zero."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from candor.cli import model_history, monitoring, privacy
from candor.cli import sales as sales_commands
from candor.cli.os_user import os_user
from candor.models.errors import CandorError
from candor.models.settings import get_settings
from candor.serving.audit.roles import ROLES

if TYPE_CHECKING:
    import pandas as pd


def _generate(args: argparse.Namespace) -> int:
    from candor.data_samples.generate_leads import generate_leads

    _at_least_one("--rows", args.rows)
    shift = dict(_shift_pair(text) for text in args.shift)
    try:
        frame = generate_leads(rows=args.rows, seed=args.seed, shift=shift)
    except ValueError as exc:
        raise SystemExit(f"--{exc}") from None  # the message starts "shift: ..."
    out = _write_sample(frame, args.out)
    shifted = f", shifted: {', '.join(args.shift)}" if shift else ""
    print(f"wrote {len(frame)} leads to {out}{shifted}")
    return 0


def _shift_pair(text: str) -> tuple[str, str]:
    column, sep, value = text.partition("=")
    if not sep or not column.strip() or not value.strip():
        raise SystemExit(f"--shift takes COL=VALUE (e.g. rep_visits_90d=3), got {text!r}")
    return column.strip(), value.strip()


def _generate_sales(args: argparse.Namespace) -> int:
    from candor.data_samples.generate_sales import generate_sales

    _at_least_one("--weeks", args.weeks)
    frame = generate_sales(weeks=args.weeks, seed=args.seed)
    out = _write_sample(frame, args.out)
    series = frame.groupby(["territory", "product"]).ngroups
    print(f"wrote {len(frame)} rows ({series} series x {args.weeks} weeks) to {out}")
    return 0


def _at_least_one(flag: str, value: int) -> None:
    if value < 1:
        raise SystemExit(f"{flag} must be at least 1, got {value}")


def _write_sample(frame: pd.DataFrame, path: str) -> Path:
    """Write a generated sample in the format its name says (.parquet or .pq: Parquet; else
    CSV), making its folder; the path as written."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    return out


def _train_forecast(args: argparse.Namespace) -> int:
    from candor.training.forecast.backtest import BacktestConfig
    from candor.training.forecast.pipeline import train_forecast

    backtest = BacktestConfig(
        eval_weeks=args.eval_weeks,
        horizon=args.backtest_horizon or min(4, args.horizon),
        step=args.step,
        calibration_weeks=args.calibration_weeks,
        refit_every=args.refit_every,
        baselines=not args.no_baselines,
        n_jobs=args.baseline_jobs,
    )
    summary = train_forecast(
        data=args.data,
        settings=get_settings(),
        contract_path=args.contract,
        horizon=args.horizon,
        backtest=backtest,
        say=lambda line: print(line, file=sys.stderr),  # stages and their seconds, as they end
    )
    b = summary.backtest.config
    print(
        f"run {summary.run_id}: {summary.model_name} version {summary.version} "
        f"({summary.series} series to {summary.last_week}, forecasts 1..{summary.horizon} weeks)"
    )
    print(
        f"rolling-origin backtest: forecasts of the last {b.eval_weeks} weeks, 1..{b.horizon} "
        f"weeks ahead, origins every {b.step} week(s), refit every {b.refit_every} weeks"
    )
    print(summary.windows.describe())
    print("time: " + ", ".join(f"{part} {s:.1f} s" for part, s in summary.seconds.items()))
    print(summary.table(per_series=args.per_series))
    _report_gate(summary)
    return 0


def _warn(message: str) -> None:
    """A training warning (a leak, a disparity), shown on stderr as it is found."""
    print(message, file=sys.stderr)


def _train_leads(args: argparse.Namespace) -> int:
    from candor.training.pipeline import train_leads

    summary = train_leads(
        data=args.data,
        settings=get_settings(),
        contract_path=args.contract,
        exclude=args.exclude,
        seed=args.seed,
        mitigate=args.mitigate,
        mitigate_by=args.mitigate_by,
        accept_leakage_risk=args.accept_leakage_risk,
        warn=_warn,
    )
    m = summary.metrics
    print(f"run {summary.run_id}: {summary.model_name} version {summary.version} ({summary.shape})")
    print(
        f"holdout ROC-AUC {m['roc_auc']:.4f}  PR-AUC {m['pr_auc']:.4f}  Brier {m['brier']:.4f}  "
        f"log-loss {m['log_loss']:.4f}  ECE {m['ece']:.4f}"
    )
    if summary.fairness is not None:
        for a in summary.fairness.attributes:
            parts = []
            for d in (
                a.base_rate_ratio,
                a.disparate_impact,
                a.equal_opportunity,
                a.calibration,
                a.coverage,
            ):
                if d is not None:
                    ci = f" [{d.ci[0]:.3f}, {d.ci[1]:.3f}]" if d.ci else ""
                    pair = f"{d.disadvantaged} vs {d.advantaged}"
                    parts.append(f"{d.metric} {d.value:.3f}{ci} ({pair})")
            print(f"fairness {a.attribute} ({a.role}): {'; '.join(parts) or 'not compared'}")
    if summary.threshold_report is not None:
        r = summary.threshold_report
        ways = (("single cut-off", r.single_cutoff), ("per-group", r.per_group_thresholds))
        for label, s in ways:
            ratio = s.disparate_impact_ratio  # None: fewer than two comparable groups
            print(
                f"thresholds by {r.attribute}, {label}: accuracy {s.accuracy:.4f}  "
                f"selection rate {s.selection_rate:.3f}  "
                f"disparate_impact_ratio {'n/a' if ratio is None else f'{ratio:.3f}'}"
            )
    _report_gate(summary)
    return 0


def _models_promote(args: argparse.Namespace) -> int:
    from candor.registry.versions import promote

    by = args.by or os_user()
    record = promote(
        get_settings(),
        args.version,
        justification=args.justify,
        by=by,
        accept_leakage_risk=args.accept_leakage_risk,
    )  # the move is in the audit log (`candor models history`), recorded before it was made
    was = record["previous_champion"]
    print(
        f"promoted {record['model']} version {record['version']} to {record['alias']} "
        f"(previously {'version ' + was if was else 'none'}) by {record['by']} at {record['at']}"
    )
    if record["gate_promoted"] == "False":
        print(f"note: this version had not passed the gate: {record['gate_reason']}")
    print(f"justification recorded: {record['justification']}")
    return 0


def _score_batch(args: argparse.Namespace) -> int:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import json
    import time

    from candor.registry import LEADS, load_model
    from candor.serving.scoring.batch_run import BatchOptions, run_batch

    options = BatchOptions(
        input=Path(args.input),
        output=Path(args.output),
        explain=args.explain,
        top_k=args.top_k,
        workers=args.workers,
        engine=args.engine,
        spark_master=args.spark_master,
        resume=args.resume,
        chunk_rows=args.chunk_rows,
        rejects=Path(args.rejects) if args.rejects else None,
        requested_by=args.by or f"batch:{os_user()}",
    )
    settings = get_settings()
    loaded = load_model(settings, kind=LEADS)
    from candor.serving.audit.factory import open_store

    store = open_store(settings, authenticates=False)
    started = time.perf_counter()

    def progress(rows: int, total: int | None) -> None:
        elapsed = max(time.perf_counter() - started, 1e-9)
        rate = rows / elapsed
        line = f"\r{rows:>12,} rows"
        if total:
            left = (total - rows) / rate if rate > 0 else 0.0
            line += f" / {total:,} ({rows / total:6.1%})  ETA {left:5.0f} s"
        print(f"{line}  {rate:,.0f} rows/s", end="", file=sys.stderr, flush=True)

    try:
        summary = run_batch(
            options,
            loaded=loaded,
            policy=settings.policy,
            store=store,
            progress=progress if sys.stderr.isatty() else None,
            limits=settings.input_limits,
        )
    finally:
        store.close()
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(summary.line())
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary.to_dict(), indent=1) + "\n")
    return 0


def _serve(args: argparse.Namespace) -> int:
    # LightGBM and the numba TreeSHAP kernel each bring an OpenMP runtime; left spinning after
    # their parallel regions they take the other core from the request being served. Set
    # before either library loads; an operator's own setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import uvicorn

    from candor.serving.app import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _store():  # type: ignore[no-untyped-def]
    from candor.serving.audit.factory import open_store

    return open_store(get_settings())


def _audit_store():  # type: ignore[no-untyped-def]
    """The store for the `audit` commands, which only read the log: a missing key fails
    (audit_key_missing), since a new one would make every event look altered and every head
    look forged."""
    from candor.serving.audit.factory import open_store

    return open_store(get_settings(), creates_keys=False)


def _keys_create(args: argparse.Namespace) -> int:
    secret = _store().create_key(name=args.name, role=args.role)
    print(f"created API key {args.name!r} with role {args.role}. Its secret, shown only once:")
    print(secret)
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    _store().revoke_key(args.name)
    print(f"revoked API key {args.name!r}")
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    for key in _store().list_keys():
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
        print(f"{key['name']:<32} {key['role']:<9} created {key['created_at']}  {state}")
    return 0


def _keys_demo(args: argparse.Namespace) -> int:
    """One key of each role for `make demo`, plus curls that use the scorer and auditor
    keys."""
    from datetime import UTC, datetime

    store = _store()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    secrets = {role: store.create_key(name=f"demo-{role}-{stamp}", role=role) for role in ROLES}
    print("API keys for this demo (secrets are shown only once; only their hashes are stored):")
    for role, secret in secrets.items():
        print(f"  {role:<9} {secret}")
    base = f"http://{args.host}:{args.port}"
    print(f"\nServing on {base} (API docs: {base}/docs; reviewer page: {base}/review). Try:")
    print(
        f"  curl -s -X POST {base}/v1/leads/score -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {secrets['scorer']}' -d @data_samples/demo_request.json"
    )
    print(
        f"  curl -s -X POST {base}/v1/forecasts -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {secrets['scorer']}' "
        "-d @data_samples/demo_forecast_request.json"
    )
    print(
        f"  curl -s -X POST {base}/v1/forecasts -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {secrets['scorer']}' "
        "-d @data_samples/demo_hierarchy_request.json"
        "   # a region's product line, the region, the national total: each sums its series"
    )
    print(
        f"  curl -s -o forecast.png -H 'Authorization: Bearer {secrets['scorer']}' "
        f"'{base}/v1/forecasts/plot.png?territory=Eastmoor&product=Flumistar&horizon=13'"
    )
    print(
        f"  curl -s -X POST {base}/v1/sales/actuals -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {secrets['reviewer']}' -d @data_samples/demo_actuals.json"
        "   # what sold, after the forecast"
    )
    print(
        f"  curl -s -H 'Authorization: Bearer {secrets['reviewer']}' "
        f"{base}/v1/forecasts/accuracy   # the forecasts against those actuals"
    )
    print(
        f"  curl -s -H 'Authorization: Bearer {secrets['auditor']}' {base}/v1/audit/verify"
        "   # the auditor: integrity, never inputs"
    )
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    """Signatures, roots, the checkpoint file and every projection; exit 1 at any problem."""
    settings = get_settings()
    report = _audit_store().verify()
    where = f"checkpoint file {settings.checkpoint_path}"
    if report.ok:
        print(
            f"audit log intact: {report.events} event(s) under {report.heads} signed tree "
            f"head(s); {report.checkpoints} checkpoint(s) in {where} agree; projections match"
        )
        return 0
    first = report.first
    assert first is not None
    print(
        f"AUDIT LOG FAILED VERIFICATION: first bad position {first.position} ({first.kind}): "
        f"{first.detail}",
        file=sys.stderr,
    )
    for problem in report.problems:
        if problem is not first:
            print(
                f"  also at {problem.position} ({problem.kind}): {problem.detail}", file=sys.stderr
            )
    if report.more:
        print(f"  ... and {report.more} more", file=sys.stderr)
    return 1


def _audit_prove(args: argparse.Namespace) -> int:
    """An inclusion proof that someone with the public key and a checkpoint can check."""
    import json

    print(json.dumps(_audit_store().prove(args.score_id).to_dict(), indent=2))
    return 0


def _audit_public_key(args: argparse.Namespace) -> int:
    print(_audit_store().public_key(), end="")
    return 0


def _report_gate(summary: Any) -> None:
    """The training gate's verdict on stdout (training itself recorded a promotion in the
    audit log before it moved the alias: `candor models history` lists it)."""
    state = "promoted to champion" if summary.gate.promoted else "NOT promoted"
    print(f"gate: {state}: {summary.gate.reason}")


EXPLAIN_CHECK_SEED = 7  # the generated leads are the same on every run
EXPLAIN_CHECK_TOLERANCE = 1e-9  # largest |kernel - pred_contrib| allowed, log-odds


def _explain_check(args: argparse.Namespace) -> int:
    """The champion's contributions by the TreeSHAP kernel beside LightGBM's pred_contrib."""
    import json
    import time
    from collections.abc import Callable

    import numpy as np

    from candor.data_samples.generate_leads import generate_leads
    from candor.models.leads.features import build_features
    from candor.models.tree_shap import TreeShap
    from candor.registry import LEADS, load_model

    _at_least_one("--rows", args.rows)
    loaded = load_model(get_settings(), kind=LEADS)
    scorer = loaded.model
    frame = generate_leads(rows=args.rows, seed=EXPLAIN_CHECK_SEED)
    columns = {c: frame[c].tolist() for c in frame.columns}
    values = build_features(columns, schema=scorer.schema_, n_rows=len(frame)).values
    explainer = TreeShap(scorer.booster_)
    booster = scorer.booster_

    def rate(explain: Callable[[np.ndarray], Any]) -> tuple[np.ndarray, float]:
        explain(values[:1000])  # warm-up: numba compiles (or loads its cache) on first use
        started = time.perf_counter()
        out = np.asarray(explain(values), dtype=np.float64)
        return out, len(values) / (time.perf_counter() - started)

    kernel, kernel_rate = rate(explainer.contributions)
    native, native_rate = rate(lambda x: booster.predict(x, pred_contrib=True))
    difference = float(np.max(np.abs(kernel - native)))
    info = explainer.info
    exact = difference <= EXPLAIN_CHECK_TOLERANCE  # False for NaN too
    if args.json:
        print(
            json.dumps(
                {
                    "rows": len(values),
                    "max_abs_difference": difference,
                    "kernel_rows_per_s": kernel_rate,
                    "pred_contrib_rows_per_s": native_rate,
                    "method": info.method,
                    "table_bytes": info.table_bytes,
                    "build_seconds": info.build_seconds,
                }
            )
        )
    else:
        given = sum(name in columns for name in scorer.schema_.names)
        print(
            f"{loaded.name} version {loaded.version}: {info.trees} trees, "
            f"{len(scorer.schema_.names)} inputs ({given} given by the sample generator)"
        )
        kernel_how = (
            f"tables of {info.table_bytes / 2**10:,.0f} KiB built in {info.build_seconds:.2f} s"
            if info.method == "tables"
            else f"fallback to pred_contrib: {info.reason}"
        )
        print(f"kernel: {kernel_how}")
        print(f"{len(values):,} generated leads (seed {EXPLAIN_CHECK_SEED})")
        print(f"  kernel        {kernel_rate:>12,.0f} rows/s")
        speedup = kernel_rate / native_rate
        print(f"  pred_contrib  {native_rate:>12,.0f} rows/s  (kernel {speedup:.1f}x)")
        print(f"largest |kernel - pred_contrib|: {difference:.3g} (log-odds)")
    if not exact:
        print(
            f"error: the kernel differs from pred_contrib by {difference:.3g}, more than "
            f"{EXPLAIN_CHECK_TOLERANCE:g}",
            file=sys.stderr,
        )
        return 1
    return 0


def _group(parent: Any, name: str, help: str, *, dest: str = "action") -> Any:
    """A command that only groups sub-commands (``candor keys create``...), one required."""
    return parent.add_parser(name, help=help).add_subparsers(dest=dest, required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="candor", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    data = _group(commands, "data", "sample data", dest="what")
    gen = _group(data, "generate", "generate synthetic data", dest="kind")
    leads = gen.add_parser("leads", help="healthcare-professional leads")
    leads.add_argument("--rows", type=int, default=5000)
    leads.add_argument("--seed", type=int, default=7)
    leads.add_argument("--out", required=True)
    leads.add_argument(
        "--shift",
        action="append",
        default=[],
        metavar="COL=VALUE",
        help="shift an input to test drift monitoring (repeatable): a numeric column is "
        "multiplied (rep_visits_90d=3); a categorical one has a share of its rows moved to a "
        "category (specialty=Oncology, or specialty=Oncology:0.3 for 30%%; default half). The "
        "outcome follows the same true model",
    )
    leads.set_defaults(func=_generate)
    sales = gen.add_parser("sales", help="weekly sales per territory and product")
    sales.add_argument("--weeks", type=int, default=209, help="weeks from 2021-01-04")
    sales.add_argument("--seed", type=int, default=11)
    sales.add_argument("--out", required=True)
    sales.set_defaults(func=_generate_sales)

    train = _group(commands, "train", "train a model", dest="kind")
    tl = train.add_parser("leads", help="train the lead scorer")
    tl.add_argument("--data", required=True, help="CRM export, CSV or Parquet")
    tl.add_argument("--contract", help="YAML data contract (default: the built-in HCP contract)")
    tl.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="COL",
        help="drop a model input (repeatable), e.g. a column that leaks the outcome",
    )
    tl.add_argument(
        "--accept-leakage-risk",
        action="append",
        default=[],
        metavar="COL",
        help="keep a model input with a leakage finding on purpose (repeatable); without it a "
        "version with a finding on an input it was trained on is not promoted. Kept with the "
        "version and shown on its model card",
    )
    tl.add_argument("--seed", type=int, default=42)
    tl.add_argument(
        "--mitigate",
        choices=["reweight", "thresholds"],
        help="reweight: Kamiran-Calders sample weights by --mitigate-by; thresholds: also report "
        "per-group thresholds (Fairlearn ThresholdOptimizer; not used for serving)",
    )
    tl.add_argument("--mitigate-by", metavar="COL", help="the audited column to mitigate for")
    tl.set_defaults(func=_train_leads)
    tf = train.add_parser(
        "forecast", help="train the sales forecaster (backtest, intervals, champion gate)"
    )
    tf.add_argument("--data", required=True, help="weekly sales, CSV or Parquet")
    tf.add_argument(
        "--contract", help="YAML sales contract (default: the built-in sales-weekly contract)"
    )
    tf.add_argument(
        "--horizon", type=int, default=26, help="weeks ahead the model forecasts (1..26)"
    )
    tf.add_argument(
        "--backtest-horizon", type=int, help="weeks ahead scored in the backtest (default 4)"
    )
    tf.add_argument(
        "--eval-weeks",
        type=int,
        help="last weeks scored (default 52, or fewer, in quarters down to 13, sized to the "
        "shortest series)",
    )
    tf.add_argument(
        "--calibration-weeks",
        type=int,
        help="unscored origins before them that start the interval calibration (default as "
        "--eval-weeks)",
    )
    tf.add_argument("--refit-every", type=int, default=13, help="weeks between backtest refits")
    tf.add_argument("--step", type=int, default=1, help="weeks between scored origins")
    tf.add_argument(
        "--no-baselines", action="store_true", help="skip seasonal naive and AutoETS (faster)"
    )
    tf.add_argument(
        "--baseline-jobs",
        type=int,
        default=-1,
        help="processes fitting the AutoETS baseline (-1: every core)",
    )
    tf.add_argument("--per-series", action="store_true", help="also print the per-series table")
    tf.set_defaults(func=_train_forecast)

    models = _group(commands, "models", "registered models")
    promote = models.add_parser(
        "promote",
        help="make VERSION the champion (admin), e.g. past a failed gate; the justification, who "
        "and when are recorded on the version and its run",
    )
    promote.add_argument("version", help="model version number")
    promote.add_argument("--justify", required=True, help="why this version should serve")
    promote.add_argument("--by", help="who promotes (default: the OS user)")
    promote.add_argument(
        "--accept-leakage-risk",
        action="append",
        default=[],
        metavar="COL",
        help="accept the leakage risk of an input the version was trained on (repeatable; "
        "needed for each input with an unresolved finding)",
    )
    promote.set_defaults(func=_models_promote)
    model_history.register(models)
    monitoring.register(commands)
    privacy.register(commands)
    sales_commands.register(commands)

    keys = _group(commands, "keys", "API keys")
    create = keys.add_parser("create", help="create a key; prints its secret once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=list(ROLES))
    create.set_defaults(func=_keys_create)
    revoke = keys.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    revoke.set_defaults(func=_keys_revoke)
    keys.add_parser("list", help="list keys (never their secrets)").set_defaults(func=_keys_list)
    demo = keys.add_parser("demo", help="one key per role and a curl to try (make demo)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=_keys_demo)

    audit = _group(commands, "audit", "the audit trail")
    audit.add_parser(
        "verify",
        help="check every event, signed tree head, checkpoint and projection; exit 1 on a problem",
    ).set_defaults(func=_audit_verify)
    prove = audit.add_parser("prove", help="the inclusion proof of one record (JSON)")
    prove.add_argument("score_id")
    prove.set_defaults(func=_audit_prove)
    audit.add_parser(
        "public-key", help="the Ed25519 public key that checks the signed tree heads (PEM)"
    ).set_defaults(func=_audit_public_key)

    explain = _group(commands, "explain", "explanations")
    check = explain.add_parser(
        "check",
        help="the champion's SHAP values by the TreeSHAP kernel against LightGBM's pred_contrib "
        "on generated leads: largest difference and both rates; exit 1 above 1e-9",
    )
    check.add_argument("--rows", type=int, default=100_000, help="generated leads to explain")
    check.add_argument("--json", action="store_true", help="one JSON object instead of text")
    check.set_defaults(func=_explain_check)

    score = _group(commands, "score", "score leads")
    batch = score.add_parser(
        "batch",
        help="score a whole CSV or Parquet file (or folder of parts) with the champion: every "
        "row checked, consented, explained and audited; resumable",
    )
    batch.add_argument("--input", required=True, help="CSV or Parquet file, or a folder of parts")
    batch.add_argument(
        "--output", required=True, help="the results: .parquet, or .csv (lists as JSON text)"
    )
    batch.add_argument("--explain", choices=["none", "top", "all"], default="top")
    batch.add_argument("--top-k", type=int, default=5, help="reasons per lead with --explain top")
    batch.add_argument(
        "--workers",
        type=int,
        default=1,
        help="chunks scored at once, each in a thread beside the audit writer (LightGBM and "
        "the TreeSHAP kernel release the interpreter lock)",
    )
    batch.add_argument("--engine", choices=["local", "spark"], default="local")
    batch.add_argument("--spark-master", help="Spark master URL (default local[*])")
    batch.add_argument(
        "--resume", action="store_true", help="finish an interrupted run into the same output"
    )
    batch.add_argument(
        "--chunk-rows", type=int, default=50_000, help="rows per chunk (the unit of resuming)"
    )
    batch.add_argument("--rejects", help="rejected rows (default: <output>.rejects.csv)")
    batch.add_argument("--summary", help="also write the run's summary as JSON here")
    batch.add_argument("--by", help="who runs it, for the audit log (default: batch:<OS user>)")
    batch.set_defaults(func=_score_batch)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    # everything a command creates (CANDOR_HOME's databases, keys, MLflow artifacts; a batch
    # run's outputs too) is its owner's alone; put back after, for a caller in the same process
    umask = os.umask(0o077)
    try:
        return int(args.func(args))
    except CandorError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    finally:
        os.umask(umask)


if __name__ == "__main__":
    sys.exit(main())

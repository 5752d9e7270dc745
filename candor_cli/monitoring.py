"""`candor monitor ...`: drift of the audited scores against the champion's training reference."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from candor.cli.os_user import os_user

if TYPE_CHECKING:
    from candor.serving.monitoring.drift import DriftReport

ALERT_EXIT = 3  # `candor monitor drift` found an input (or the score) at alert

DRIFT_HELP = (
    "drift of the audited scores in a window against each model version's training reference "
    "(its holdout): PSI per input and for the score, unseen and out-of-range shares, review-"
    "code rates, overall and by audit segment. The check is kept in the audit log (and shown "
    "by /healthz and the model card). Exit 0 when ok, warn or too small to judge; "
    f"{ALERT_EXIT} when anything is at alert; 2 on an error"
)


def register(commands: Any) -> None:
    """Add the `monitor` command group to the top-level subparsers ``commands``."""
    monitor = commands.add_parser("monitor", help="monitor the served models").add_subparsers(
        dest="what", required=True
    )
    drift = monitor.add_parser("drift", help=DRIFT_HELP, description=DRIFT_HELP)
    drift.add_argument(
        "--since",
        metavar="DATE",
        help="first day, UTC, YYYY-MM-DD (default: 30 days up to --until)",
    )
    drift.add_argument("--until", metavar="DATE", help="last day, UTC, included (default: today)")
    drift.add_argument("--json", action="store_true", help="the report as JSON (as the API's)")
    drift.add_argument(
        "--plots", metavar="DIR", help="also write one PNG per input (and the score) per version"
    )
    drift.add_argument("--by", help="who checks, for the audit log (default: cli:<OS user>)")
    drift.set_defaults(func=_drift)


def _drift(args: argparse.Namespace) -> int:
    from candor.models.errors import CandorError
    from candor.models.monitoring.drift import DriftStatus
    from candor.models.settings import get_settings
    from candor.registry import LEADS, load_model
    from candor.serving.audit.factory import open_store
    from candor.serving.monitoring.drift import (
        drift_report,
        parse_window,
        record_check,
        report_dict,
    )

    settings = get_settings()
    window = parse_window(args.since, args.until, noun="option")
    try:
        champion = load_model(settings, kind=LEADS)
    except CandorError:
        champion = None  # every version is then loaded from the registry by its number
    store = open_store(settings)
    try:
        report = drift_report(store, settings, window, champion=champion)
        if window.is_current():  # an older window's check is shown, not kept as the status
            record_check(store, report, actor=args.by or f"cli:{os_user()}", settings=settings)
    finally:
        store.close()
    if args.json:
        print(json.dumps(report_dict(report), indent=1))
    else:
        for line in report_lines(report):
            print(line)
    if args.plots:
        written = write_plots(report, Path(args.plots))
        if not args.json:
            print(f"wrote {len(written)} plots to {args.plots}")
    return ALERT_EXIT if report.status is DriftStatus.ALERT else 0


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _psi(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def report_lines(report: DriftReport) -> list[str]:
    """The report as a readable table, version by version."""
    t = report.thresholds
    w = report.window
    lines = [
        f"drift of the audited scores from {w.since} to {w.until} (UTC): "
        f"{str(report.status).upper()} ({report.scores} scores)",
        f"thresholds: warn at PSI >= {t.warn:g}, alert at >= {t.alert:g}; a group of fewer "
        f"than {t.min_scores} scores is too small to judge",
    ]
    if report.skipped:
        lines.append(f"{report.skipped} score records without encoded inputs were skipped")
    if not report.versions:
        lines.append("no audited scores in the window")
    for v in report.versions:
        lines.append("")
        if v.overall is None:
            lines.append(f"{v.model}: {v.scores} scores, no reference: {v.reference_note}")
            continue
        o = v.overall
        worst = f", worst {o.worst_input} (PSI {o.worst_psi:.4f})" if o.worst_input else ""
        lines.append(f"{v.model}: {v.scores} scores, {v.status}{worst}")
        lines.append(
            f"  {'input':<28} {'PSI':>8}  {'status':<9} {'unseen':>7} {'out of range':>12}"
        )
        for d in (*o.inputs, o.score):
            lines.append(
                f"  {d.name:<28} {_psi(d.psi):>8}  {d.status!s:<9} {_share(d.unseen_share):>7} "
                f"{_share(d.out_of_range_share):>12}"
            )
        lines.append(f"  {'review code':<28} {'observed':>8}  {'holdout':>9}")
        for r in o.review_rates:
            note = f"  ({r.note})" if r.reference is None and r.note else ""
            lines.append(f"  {r.code:<28} {_share(r.observed):>8}  {_share(r.reference):>9}{note}")
        for s in v.segments:
            top = (
                f", worst {s.drift.worst_input} (PSI {s.drift.worst_psi:.4f})"
                if (s.drift is not None and s.drift.worst_input)
                else ""
            )
            lines.append(f"  segment {s.segment}={s.group}: {s.scores} scores, {s.status}{top}")
        for name, why in (v.segments_not_available or {}).items():
            lines.append(f"  segment {name}: not available ({why})")
    return lines


def write_plots(report: DriftReport, folder: Path) -> list[Path]:
    """One PNG per input and for the score, per version with a reference."""
    from candor.explain.drift_plots import drift_plot

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for v in report.versions:
        if v.overall is None:
            continue
        title = f"{v.model}, {report.window.since} to {report.window.until} (UTC)"
        for d in (*v.overall.inputs, v.overall.score):
            path = folder / f"v{v.version}_{d.name}.png"
            written.append(drift_plot(d, path, scores=v.scores, title=title))
    return written

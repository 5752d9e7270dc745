"""`candor`: generate sample data, train, serve. Errors print their code and exit non-zero."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from models.errors import CandorError
from models.settings import get_settings


def _generate(args: argparse.Namespace) -> int:
    from data_samples.generate_leads import generate_leads

    if args.rows < 1:
        raise SystemExit(f"--rows must be at least 1, got {args.rows}")
    frame = generate_leads(rows=args.rows, seed=args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    print(f"wrote {len(frame)} leads to {out}")
    return 0


def _train_leads(args: argparse.Namespace) -> int:
    from training.pipeline import train_leads

    summary = train_leads(
        data=args.data,
        settings=get_settings(),
        contract_path=args.contract,
        exclude=args.exclude,
        seed=args.seed,
    )
    m = summary.metrics
    print(f"run {summary.run_id}: {summary.model_name} version {summary.version} ({summary.shape})")
    print(
        f"holdout ROC-AUC {m['roc_auc']:.4f}  PR-AUC {m['pr_auc']:.4f}  Brier {m['brier']:.4f}  "
        f"log-loss {m['log_loss']:.4f}  ECE {m['ece']:.4f}"
    )
    state = "promoted to champion" if summary.gate.promoted else "NOT promoted"
    print(f"gate: {state}: {summary.gate.reason}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from serving.app import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="candor", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="sample data").add_subparsers(
        dest="what", required=True
    )
    gen = data.add_parser("generate", help="generate synthetic data").add_subparsers(
        dest="kind", required=True
    )
    leads = gen.add_parser("leads", help="healthcare-professional leads")
    leads.add_argument("--rows", type=int, default=5000)
    leads.add_argument("--seed", type=int, default=7)
    leads.add_argument("--out", required=True)
    leads.set_defaults(func=_generate)

    train = commands.add_parser("train", help="train a model").add_subparsers(
        dest="kind", required=True
    )
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
    tl.add_argument("--seed", type=int, default=42)
    tl.set_defaults(func=_train_leads)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CandorError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

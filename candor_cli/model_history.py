"""`candor models history` and `candor models rollback`: the champion alias's moves."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from candor.cli.os_user import os_user
from candor.models.settings import get_settings


def register(models: Any) -> None:
    """Add `history` and `rollback` to the `models` subparsers ``models``."""
    history = models.add_parser(
        "history",
        help="every move of the champion alias (gate, promote, rollback), newest first; with "
        "--at, the version that was champion then",
    )
    history.add_argument("--model", help="registered model name (default: the lead scorer)")
    history.add_argument(
        "--at",
        metavar="DATE",
        help="a date (2025-11-03: the champion at the end of that day, UTC) or a date-time "
        "(2025-11-03T14:30:00Z: at that instant); also counts that day's audited results per "
        "version",
    )
    history.add_argument("--json", action="store_true", help="print the answer as JSON")
    history.set_defaults(func=_history)

    back = models.add_parser(
        "rollback",
        help="move the champion back to an earlier version (admin); recorded with who, when "
        "and why; the server picks it up on POST /v1/models/reload or its periodic check",
    )
    back.add_argument("--to", required=True, metavar="VERSION", help="the earlier version")
    back.add_argument("--justify", default="", help="why (required; recorded and shown)")
    back.add_argument("--model", help="registered model name (default: the lead scorer)")
    back.add_argument("--by", help="who rolls back (default: the OS user)")
    back.add_argument(
        "--accept-leakage-risk",
        action="append",
        default=[],
        metavar="COL",
        help="accept the leakage risk of an input the version was trained on (repeatable)",
    )
    back.set_defaults(func=_rollback)


def _history(args: argparse.Namespace) -> int:
    from candor.registry.champion_history import champion_history
    from candor.serving.audit.factory import open_store

    settings = get_settings()
    # a read: no API key is checked, and a missing key is an error, never made anew
    store = open_store(settings, authenticates=False, creates_keys=False)
    try:
        answer = champion_history(
            settings, store, args.model or settings.lead_model_name, at=args.at, field="model"
        )
    finally:
        store.close()
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2))
        return 0
    now = f"version {answer.champion}" if answer.champion else "unset"
    print(f"{answer.model}: {answer.alias} is {now}; {len(answer.moves)} recorded move(s)")
    for move in answer.moves:
        print(f"  {_move_line(move.to_dict())}")
    if answer.warning:
        print(f"warning: {answer.warning}", file=sys.stderr)
    if answer.in_force is not None:
        _print_in_force(answer.in_force.to_dict(), answer.alias)
    return 0


def _move_line(move: dict[str, Any]) -> str:
    was = move["from"] or "none"
    run = f" (run {move['run_id']})" if move["run_id"] else ""
    return (
        f"{move['at']}  {was} -> {move['to'] or 'none'}  {move['how']:<8} by {move['by']}{run}: "
        f"{move['why']}"
    )


def _print_in_force(answer: dict[str, Any], alias: str) -> None:
    since = answer["since"]
    if since is None:
        print(f"at {answer['at']}: no recorded {alias} yet")
    else:
        print(
            f"at {answer['at']}: version {answer['version']} was {alias} (since {since['at']}, "
            f"{since['how']} by {since['by']})"
        )
    print(f"rule: {answer['rule']}")
    for move in answer["moves_that_day"]:
        print(f"  moved on {answer['day']}: {_move_line(move)}")
    results = answer["results_that_day"]
    counts = ", ".join(f"version {r['version']}: {r['count']}" for r in results) or "none"
    print(f"audited results on {answer['day']} (UTC) by version: {counts}")


def _rollback(args: argparse.Namespace) -> int:
    from candor.registry.champion_moves import rollback

    by = args.by or os_user()
    done = rollback(
        get_settings(),
        args.to,
        justification=args.justify,
        by=by,
        name=args.model,
        accept_leakage_risk=args.accept_leakage_risk,
    )
    record = done.record
    print(
        f"rolled {record['model']} back to version {record['version']} as {record['alias']} "
        f"(was version {record['previous_champion']}) by {record['by']} at {record['at']}"
    )
    if done.warning:
        print(f"warning: {done.warning}", file=sys.stderr)
    print(f"justification recorded: {record['justification']}")
    print(
        "a running server serves it after POST /v1/models/reload, or at its next check when "
        "CANDOR_MODEL_RELOAD_SECONDS is set"
    )
    return 0

"""`candor privacy ...`: erase a lead's data (crypto-shredding) and purge payloads past the
retention limit, both kept in the audit log as events; the log still verifies after either."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from candor.cli.os_user import os_user

ERASE_HELP = (
    "erase one lead's stored inputs and explanations: its data key and sealed payloads are "
    "destroyed, its records stay (score id, time, model version) and `candor audit verify` "
    "still passes; the erasure is logged (who, when, why, the lead's keyed pseudonym, never "
    "the raw id). A later score of the same lead starts afresh under a new key"
)
PURGE_HELP = (
    "remove the sealed inputs and explanations of scores older than the retention limit "
    "(--retention-days, else CANDOR_RETENTION_DAYS); the records stay and verify, and the "
    "purge is logged"
)


def register(commands: Any) -> None:
    """Add the `privacy` command group to the top-level subparsers ``commands``."""
    privacy = commands.add_parser(
        "privacy", help="erasure on request and retention"
    ).add_subparsers(dest="what", required=True)
    erase = privacy.add_parser("erase", help=ERASE_HELP, description=ERASE_HELP)
    erase.add_argument("--lead-id", required=True, help="the lead id as the CRM sends it")
    erase.add_argument("--reason", required=True, help="why (kept in the log)")
    erase.add_argument("--by", help="who erases, for the audit log (default: cli:<OS user>)")
    erase.set_defaults(func=_erase)
    purge = privacy.add_parser("purge", help=PURGE_HELP, description=PURGE_HELP)
    purge.add_argument(
        "--retention-days",
        type=int,
        help="keep this many days (default: CANDOR_RETENTION_DAYS)",
    )
    purge.add_argument("--by", help="who purges, for the audit log (default: cli:<OS user>)")
    purge.set_defaults(func=_purge)


def _erase(args: argparse.Namespace) -> int:
    from candor.models.settings import get_settings
    from candor.serving.audit.factory import open_store

    store = open_store(get_settings(), authenticates=False)
    try:
        erasure = store.erase_lead(
            args.lead_id, reason=args.reason, by=args.by or f"cli:{os_user()}"
        )
    finally:
        store.close()
    print(json.dumps(erasure.to_dict(), indent=1))
    if erasure.unsealed_records:
        print(
            f"warning: {erasure.unsealed_records} older score record(s) of this lead were "
            "written before payloads were sealed: their inputs are part of the signed log and "
            "could not be erased",
            file=sys.stderr,
        )
    _warn_unscrubbed(erasure.scrubbed)
    return 0


def _warn_unscrubbed(scrubbed: bool) -> None:
    if not scrubbed:
        print(
            "warning: the audit database's files still hold the removed bytes (a reader kept "
            "its write-ahead log open); they go at its next checkpoint, which SQLite makes as "
            "the service writes; the data are unreadable already",
            file=sys.stderr,
        )


def _purge(args: argparse.Namespace) -> int:
    from candor.models.errors import SettingsError
    from candor.models.settings import get_settings
    from candor.serving.audit.factory import open_store

    settings = get_settings()
    days = args.retention_days if args.retention_days is not None else settings.retention_days
    if days is None:
        raise SettingsError(
            "no retention limit: pass --retention-days N or set CANDOR_RETENTION_DAYS; "
            "nothing was purged",
            code="retention_unset",
        )
    store = open_store(settings, authenticates=False)
    try:
        purge = store.purge(retention_days=days, by=args.by or f"cli:{os_user()}")
    finally:
        store.close()
    print(json.dumps(purge.to_dict(), indent=1))
    _warn_unscrubbed(purge.scrubbed)
    return 0

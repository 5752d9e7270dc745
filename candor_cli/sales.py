"""`candor sales actuals --data PATH`: record what each series really sold, from a file.

The same checks and the same audit events as ``POST /v1/sales/actuals``: the file holds the
champion forecaster's date, series and target columns (as its training file did); a week
already recorded with other units is a correction, kept as such.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from candor.cli.os_user import os_user

ACTUALS_HELP = (
    "record weekly actual units per series from a CSV or Parquet file (the forecaster's date, "
    "series and target columns); audited, and a week sent again with other units is recorded "
    "as a correction; forecast accuracy is measured against them"
)


def register(commands: Any) -> None:
    """Add the `sales` command group to the top-level subparsers ``commands``."""
    sales = commands.add_parser("sales", help="sales actuals").add_subparsers(
        dest="what", required=True
    )
    actuals = sales.add_parser("actuals", help=ACTUALS_HELP, description=ACTUALS_HELP)
    actuals.add_argument("--data", required=True, help="CSV or Parquet file of weekly actuals")
    actuals.add_argument("--by", help="who records, for the audit log (default: cli:<OS user>)")
    actuals.set_defaults(func=_actuals)


def _actuals(args: argparse.Namespace) -> int:
    from candor.models.settings import get_settings
    from candor.registry import FORECAST, load_model
    from candor.serving.audit.factory import open_store
    from candor.serving.audit.sales_actuals import record_actuals
    from candor.serving.requests.actuals import check_actuals
    from candor.serving.requests.forecasts import ForecastRequestValidator
    from candor.training.forecast.data import read_actuals

    settings = get_settings()
    loaded = load_model(settings, kind=FORECAST)
    validator = ForecastRequestValidator(loaded.model, settings.forecast_policy)
    records = read_actuals(args.data, loaded.model.contract_)
    actuals = check_actuals(
        validator, records, today=datetime.now(UTC).date(), where="row", number_from=1
    )
    store = open_store(settings, authenticates=False)
    try:
        receipt = record_actuals(
            store,
            actuals,
            recorded_by=args.by or f"cli:{os_user()}",
            where="row",
            number_from=1,
        )
    finally:
        store.close()
    print(json.dumps(receipt.to_dict(), indent=1))
    return 0

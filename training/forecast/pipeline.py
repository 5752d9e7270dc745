"""`candor train forecast`: read -> validate -> backtest -> calibrate -> fit -> MLflow -> gate.

1. Read the weekly table through its sales contract (built-in ``SALES_WEEKLY`` or a YAML file),
   refuse gaps and duplicates; size the backtest's windows to the shortest series
   (``training.forecast.windows``: 52 calibration origins and 52 scored weeks where they fit,
   fewer down to 13 each otherwise) and refuse series too short even for those.
2. Rolling-origin backtest (``training.forecast.backtest``): the direct LightGBM boosters,
   seasonal naive and statsforecast's AutoETS (in parallel processes) on the same origins;
   MASE, sMAPE, RMSE, 80%/95% coverage and Winkler scores per series and overall. The windows
   chosen and each part's seconds are said as they are known and logged to the run
   (``backtest_windows``, ``seconds_<part>``).
3. Conformal quantiles per horizon step from every backtest residual; boosters refitted on all
   weeks; the forecaster logged to MLflow experiment ``settings.forecast_experiment`` with the
   backtest table (CSV and JSON), a plot of history, forecast and bands, and the contract, and
   registered as ``settings.forecast_model_name`` from code (nothing pickled).
4. Champion gate on backtest MASE: the new version takes the ``champion`` alias when its
   overall MASE is at most the champion's on the same data and origins (a first model always
   becomes champion). When the champion was backtested on the same file with the same backtest
   settings, its stored MASE is used; otherwise the champion's booster settings are backtested
   here, on this data and these origins. A champion whose features this contract cannot build
   is not compared: the new version is registered, not promoted. The decision is logged to
   the run and tagged on the version, as for leads.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from candor.explain.forecast_drivers import week_drivers
from candor.explain.forecast_plots import ForecastPanel, forecast_plot, target_unit
from candor.models.contract import (
    SALES_WEEKLY,
    SalesContract,
    dump_sales_contract,
    load_sales_contract,
)
from candor.models.errors import ErrorDetail, OptionError
from candor.models.forecast import MAX_HORIZON, FeatureLayout, SalesForecaster, holiday_source
from candor.models.forecast.hierarchy import Hierarchy
from candor.models.settings import Settings
from candor.registry import FORECAST, load_model, versions
from candor.registry.kinds import BACKTEST_METRIC_PREFIX
from candor.registry.tracking import TrainingRun, training_run_with_workdir
from candor.training.champion_move import move_by_gate
from candor.training.fingerprint import file_fingerprint as data_fingerprint
from candor.training.forecast.backtest import (
    MODEL,
    BacktestConfig,
    BacktestResult,
    run_backtest,
    series_label,
)
from candor.training.forecast.data import Panel, check_lengths, read_hierarchy, read_panel
from candor.training.forecast.fit import BoosterParams, fit_forecaster
from candor.training.forecast.reconcile import (
    RECONCILED,
    ReconciliationResult,
    reconcile_backtest,
)
from candor.training.forecast.report import level_table, overall_table, series_table
from candor.training.forecast.windows import WindowChoice, choose_windows
from candor.training.run_summary import GateOutcome, RunSummary

log = logging.getLogger("candor.training.forecast")

DEFAULT_HORIZON = MAX_HORIZON  # weeks the registered model can forecast (serving asks 1..26)
FINAL_FIT = "final_fit"  # parts of training timed beside the backtest's (``seconds``)
LOGGING = "logging"
GATE = "gate"
PLOT_WEEKS = 104  # weeks of history drawn before the forecast


@dataclass
class ForecastGate(GateOutcome):
    """On backtest MASE (lower is better)."""

    new_mase: float
    champion_version: str | None = None
    champion_mase: float | None = None
    compared: str = "none"  # none | stored (same data and backtest) | rerun | incompatible


@dataclass
class ForecastTrainingSummary(RunSummary[ForecastGate]):
    backtest: BacktestResult
    horizon: int  # weeks the registered model forecasts
    contract: str  # version tag
    series: int
    weeks: int  # weeks in the longest series
    last_week: str
    windows: WindowChoice  # the backtest windows and how they were chosen
    seconds: dict[str, float]  # each part: the backtest's, final fit, logging, gate
    reconciliation: ReconciliationResult | None = None  # a contract with a hierarchy

    @property
    def metrics(self) -> dict[str, float]:
        """The served forecasts' overall backtest metrics (MASE, sMAPE, RMSE, coverage,
        Winkler): the model's, or with a hierarchy its MinTrace-reconciled forecasts'."""
        return self.backtest.overall()

    def table(self, *, per_series: bool = False) -> str:
        lines = overall_table(self.backtest)
        if self.reconciliation is not None:
            lines += ["", *level_table(self.reconciliation)]
        if per_series:
            lines += ["", *series_table(self.backtest)]
        return "\n".join(lines)


def resolve_sales_contract(contract_path: str | Path | None) -> SalesContract:
    return load_sales_contract(contract_path) if contract_path else SALES_WEEKLY


def check_options(horizon: int, config: BacktestConfig) -> None:
    """Refuse impossible options before any work, naming the option."""
    problems: list[ErrorDetail] = []
    if not 1 <= horizon <= MAX_HORIZON:
        problems.append(ErrorDetail("horizon", f"must be 1..{MAX_HORIZON} weeks, got {horizon}"))
    top, within = horizon, f"horizon {horizon}"
    if config.eval_weeks is not None:  # else the sized window holds the backtest horizon
        top, within = min(horizon, config.eval_weeks), f"{within}, eval weeks {config.eval_weeks}"
    if not 1 <= config.horizon <= top:
        problems.append(
            ErrorDetail("backtest_horizon", f"must be 1..min({within}), got {config.horizon}")
        )
    for name in ("eval_weeks", "step", "refit_every"):
        value = getattr(config, name)
        if value is not None and value < 1:
            problems.append(ErrorDetail(name, f"must be at least 1, got {value}"))
    if config.calibration_weeks is not None and config.calibration_weeks < 0:
        problems.append(
            ErrorDetail("calibration_weeks", f"must be at least 0, got {config.calibration_weeks}")
        )
    if config.n_jobs == 0 or config.n_jobs < -1:
        problems.append(
            ErrorDetail("n_jobs", f"must be -1 (every core) or at least 1, got {config.n_jobs}")
        )
    if problems:
        raise OptionError(
            "invalid forecast training options: "
            + "; ".join(f"{p.field} {p.message}" for p in problems),
            problems,
        )


def _scored_settings(config: BacktestConfig) -> dict[str, Any]:
    """The backtest settings that decide which forecasts are scored (not the baselines, nor
    the processes that fit AutoETS)."""
    out = config.to_dict()
    out.pop("baselines", None)
    out.pop("n_jobs", None)
    return out


def size_backtest(config: BacktestConfig, panel: Panel, contract: SalesContract) -> WindowChoice:
    """The backtest windows for this panel (``training.forecast.windows``); a series too short
    for them is refused, naming it, the weeks needed and the options that change them.

    Raises:
        DataValidationError: a series is shorter than the chosen windows need.
    """
    shortest = min(len(s) for s in panel.values())
    choice = choose_windows(config, shortest=shortest, season=contract.season_length)
    check_lengths(panel, contract, minimum=choice.minimum, why=choice.why)
    return choice


def forecast_gate(
    result: BacktestResult,
    *,
    panel: Panel,
    contract: SalesContract,
    data_sha256: str,
    settings: Settings,
    hierarchy: Hierarchy | None = None,
    say: Callable[[str], None] = log.info,
) -> ForecastGate:
    """Compare the new backtest MASE with the champion's on the same data and origins.

    ``panel`` holds the series; with a ``hierarchy`` a rerun backtests every node and
    reconciles them, as the new model's backtest did.
    """
    name = settings.forecast_model_name
    new_mase = result.overall()["mase"]
    current = versions.champion_version(settings, name)
    if current is None:
        return ForecastGate(True, "first model: no champion yet", new_mase)
    champion = load_model(settings, kind=FORECAST).model
    layout = FeatureLayout.from_contract(contract)
    if champion.layout_.names != layout.names or champion.contract_.series_names != (
        contract.series_names
    ):
        return ForecastGate(
            False,
            f"champion v{current} (contract {champion.contract_.version_tag}) reads features "
            f"this data's contract {contract.version_tag} does not build; it cannot be "
            "compared on the same data",
            new_mase,
            current,
            compared="incompatible",
        )
    meta = champion.meta_
    same = (
        meta.get("data_sha256") == data_sha256
        and meta.get("backtest") == _scored_settings(result.config)
        # measured the same way: the same forecasts scored (reconciled or not) over the same
        # contract (a hierarchy added in the contract alone leaves the file's hash unchanged)
        and meta.get("backtest_method", MODEL) == result.served
        and champion.contract_.fingerprint == contract.fingerprint
    )
    if same and "backtest_mase" in meta:
        champion_mase, how = float(meta["backtest_mase"]), "stored"
        where = f"its backtest on the same file and origins ({len(result.series_names)} series)"
    else:
        say(f"gate: backtesting champion v{current}'s settings on this data")
        known = BoosterParams.__dataclass_fields__
        params = BoosterParams(**{k: v for k, v in meta.get("params", {}).items() if k in known})
        rerun, _ = backtest_served(
            hierarchy.aggregate(panel) if hierarchy is not None else panel,
            hierarchy,
            contract=champion.contract_,
            config=replace(result.config, baselines=False),
            params=params,
            model_horizon=result.config.horizon,
        )
        champion_mase, how = rerun.overall()["mase"], "rerun"
        where = "its settings backtested on this data and origins"
    promoted = new_mase <= champion_mase
    verdict = "at most" if promoted else "worse than"
    reason = (
        f"backtest MASE {new_mase:.4f} is {verdict} champion v{current}'s {champion_mase:.4f} "
        f"({where})"
    )
    return ForecastGate(promoted, reason, new_mase, current, champion_mase, how)


def backtest_served(
    panel: Panel,
    hierarchy: Hierarchy | None,
    *,
    contract: SalesContract,
    config: BacktestConfig,
    params: BoosterParams,
    model_horizon: int,
    log: Callable[[str], None] | None = None,
) -> tuple[BacktestResult, ReconciliationResult | None]:
    """The backtest of the forecasts as served. With a hierarchy: every node backtested by
    the one model (``panel`` holds every node), then reconciled (MinTrace beside BottomUp);
    the reconciled forecasts are added as method ``lightgbm_direct_min_trace`` and served."""
    result = run_backtest(
        panel,
        contract=contract,
        config=config,
        params=params,
        model_horizon=model_horizon,
        log=log,
    )
    if hierarchy is None:
        return result, None
    reconciled = reconcile_backtest(result, hierarchy, list(panel))
    result.add(RECONCILED, reconciled.served, reconciled.seconds)
    result.served = RECONCILED
    if log is not None:
        log(
            f"backtest reconciliation: {reconciled.seconds:.1f} s (MinTrace and BottomUp over "
            f"{len(hierarchy.nodes)} nodes, {len(hierarchy.level_labels)} levels)"
        )
    return result, reconciled


def train_forecast(
    *,
    data: str | Path,
    settings: Settings,
    contract_path: str | Path | None = None,
    horizon: int = DEFAULT_HORIZON,
    backtest: BacktestConfig | None = None,
    params: BoosterParams | None = None,
    say: Callable[[str], None] = log.info,
) -> ForecastTrainingSummary:
    """Backtest, calibrate, fit, log and register a sales forecaster; promote it past the gate.

    Args:
        data: weekly sales, CSV or Parquet, described by the contract.
        contract_path: YAML sales contract (default: the built-in ``SALES_WEEKLY``).
        horizon: weeks ahead the registered model forecasts (1..26; one booster per week).
        backtest: rolling-origin settings (default: 4 weeks ahead, both baselines, and
            windows of 52 calibration origins and 52 scored weeks, or fewer sized to the
            shortest series: see :mod:`candor.training.forecast.windows`); its ``horizon`` is
            the scored horizon, at most ``horizon``. Windows set in it are honoured.
        params: LightGBM settings of every booster.
        say: one line per stage as it ends: the windows chosen, each part's seconds.

    Raises:
        ContractError: the YAML contract is invalid.
        DataValidationError: the data do not fit the contract or are too short.
        OptionError: (code ``option_invalid``) impossible horizon or backtest settings.
    """
    data = Path(data)
    asked = backtest or BacktestConfig(horizon=min(4, horizon))
    params = params or BoosterParams()
    check_options(horizon, asked)
    contract = resolve_sales_contract(contract_path)
    frame, panel = read_panel(data, contract)
    hierarchy = read_hierarchy(frame, contract, panel)
    windows = size_backtest(asked, panel, contract)
    config = windows.config
    check_options(horizon, config)
    if hierarchy is not None and config.calibration < 2:
        raise OptionError(
            "invalid forecast training options: calibration_weeks must be at least 2 with a "
            "hierarchy (MinTrace is fitted on the calibration weeks' errors, never the scored "
            f"ones), got {config.calibration}",
            [ErrorDetail("calibration_weeks", "at least 2 with a hierarchy")],
        )
    say(windows.describe())
    data_sha256 = data_fingerprint(data)

    with training_run_with_workdir(
        settings, experiment=settings.forecast_experiment, run_name=f"forecast-{data.stem}"
    ) as (run, workdir):
        last_week = str(max(s.last_week for s in panel.values()))
        nodes = hierarchy.aggregate(panel) if hierarchy is not None else panel
        where = f" and {len(nodes) - len(panel)} nodes above them" if hierarchy else ""
        say(f"backtest: {len(panel)} series{where}, {config.scored} scored weeks")
        result, reconciled = backtest_served(
            nodes,
            hierarchy,
            contract=contract,
            config=config,
            params=params,
            model_horizon=horizon,
            log=say,
        )
        seconds = dict(result.seconds)
        meta = {
            "strategy": "direct: one LightGBM booster per week ahead, target units / level",
            "params": params.to_dict(),
            "backtest": _scored_settings(config),
            "backtest_mase": result.overall()["mase"],
            "backtest_coverage80": result.overall()["coverage80"],
            "backtest_method": result.served,
            "data_sha256": data_sha256,
            "data_path": str(data),
            "last_week": last_week,
            "holidays": holiday_source(contract.holidays),
        }
        say(f"fitting {horizon} boosters on all weeks")
        clock = time.perf_counter()
        forecaster = fit_forecaster(
            nodes,
            contract=contract,
            horizon=horizon,
            params=params,
            quantiles=result.quantiles,
            meta=meta,
        )
        if hierarchy is not None and reconciled is not None:
            forecaster.history_ = {k: forecaster.history_[k] for k in hierarchy.bottom}
            forecaster.hierarchy_ = hierarchy
            forecaster.reconciliation_ = reconciled.matrix
            forecaster.level_quantiles_ = reconciled.quantiles
        seconds[FINAL_FIT] = time.perf_counter() - clock
        say(f"{FINAL_FIT}: {seconds[FINAL_FIT]:.1f} s ({horizon} boosters on all weeks)")
        clock = time.perf_counter()
        _log_run(
            run,
            result,
            forecaster,
            panel,
            contract,
            data=data,
            frame_rows=len(frame),
            data_sha256=data_sha256,
            workdir=workdir,
            windows=windows,
            reconciled=reconciled,
        )
        version = run.log_model(
            FORECAST, forecaster, workdir=workdir, registered_name=settings.forecast_model_name
        )
        seconds[LOGGING] = time.perf_counter() - clock
        say(f"{LOGGING}: {seconds[LOGGING]:.1f} s (tables, plot, drivers, model)")
        clock = time.perf_counter()
        gate = forecast_gate(
            result,
            panel=panel,
            contract=contract,
            data_sha256=data_sha256,
            settings=settings,
            hierarchy=hierarchy,
            say=say,
        )
        name = settings.forecast_model_name
        if gate.promoted:
            gate = move_by_gate(settings, gate, name=name, version=version, run_id=run.run_id)
        run.log_dict(gate.to_dict(), "gate.json")
        run.set_tags(
            {
                "gate.promoted": str(gate.promoted),
                "gate.reason": gate.reason,
                "model.version": version,
            }
        )
        if gate.champion_mase is not None:
            run.log_metric("gate_champion_mase", gate.champion_mase)
        seconds[GATE] = time.perf_counter() - clock
        say(f"{GATE}: {seconds[GATE]:.1f} s (champion compared: {gate.compared})")
        run.log_metrics({f"seconds_{part}": value for part, value in seconds.items()})
        versions.tag_version(
            settings,
            name,
            version,
            {
                "gate.promoted": str(gate.promoted),
                "gate.reason": gate.reason,
                "gate.metric": "backtest MASE (lower is better)",
                "contract": contract.version_tag,
                "data_sha256": data_sha256,
            },
        )
        lengths = [len(s) for s in panel.values()]
        return ForecastTrainingSummary(
            run.run_id,
            name,
            version,
            gate,
            result,
            horizon,
            contract.version_tag,
            len(panel),
            max(lengths),
            last_week,
            windows,
            seconds,
            reconciled,
        )


def _metric_key(name: str) -> str:
    """An MLflow-safe metric-name part for a series label from any contract."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", name)


def _log_run(
    run: TrainingRun,
    result: BacktestResult,
    forecaster: SalesForecaster,
    panel: Panel,
    contract: SalesContract,
    *,
    data: Path,
    frame_rows: int,
    data_sha256: str,
    workdir: Path,
    windows: WindowChoice,
    reconciled: ReconciliationResult | None = None,
) -> None:
    config = result.config
    run.log_params(
        {
            "data_path": str(data),
            "data_rows": frame_rows,
            "series": len(panel),
            "contract": contract.version_tag,
            "strategy": "direct",
            "horizon": forecaster.horizon,
            "features": len(forecaster.feature_names),
            "intervals": "split conformal on backtest residuals / noise scale, per step"
            if forecaster.hierarchy_ is None
            else "split conformal on the reconciled backtest residuals / noise scale, per "
            "level of the hierarchy and step",
            "explanations": forecaster.explainer(1).info.describe(),
            **{f"backtest_{k}": v for k, v in config.to_dict().items()},
            "backtest_windows": windows.describe(),
            "backtest_shortest_series_weeks": windows.shortest,
            "holidays": holiday_source(contract.holidays),
            **{f"lgb_{k}": v for k, v in forecaster.meta_["params"].items()},
        }
    )
    if forecaster.hierarchy_ is not None:
        run.log_params(
            {
                "hierarchy": "; ".join(
                    " > ".join(d.levels) for d in forecaster.hierarchy_.dimensions
                ),
                "reconciliation": "MinTrace (wls_var, hierarchicalforecast) over "
                f"{len(forecaster.hierarchy_.nodes)} nodes: forecasts add up exactly at every "
                "level; BottomUp and base forecasts beside it in the backtest",
            }
        )
    run.set_tags({"data_sha256": data_sha256, "contract": contract.version_tag})
    metrics: dict[str, float] = {}
    for method, table in result.tables.items():
        prefix = BACKTEST_METRIC_PREFIX if method == result.served else f"{method}_"
        metrics.update({f"{prefix}{k}": v for k, v in table["overall"].items() if k != "n"})
    for series, values in result.tables[result.served].items():
        if series != "overall":
            key = _metric_key(series)
            metrics[f"series_mase_{key}"] = values["mase"]
            metrics[f"series_coverage80_{key}"] = values["coverage80"]
    for h, values in result.by_step[result.served].items():
        metrics[f"{BACKTEST_METRIC_PREFIX}mase_h{h}"] = values["mase"]
    run.log_metrics(metrics)

    rows = pd.DataFrame(result.rows())
    table_csv = workdir / "backtest_table.csv"
    rows.to_csv(table_csv, index=False)
    run.log_artifact(table_csv, "backtest")
    run.log_dict(
        {
            "config": config.to_dict(),
            "mase_scale": "mean absolute week-to-week change before the scored weeks",
            "rows": result.rows(),
            "by_step": {m: {str(h): v for h, v in s.items()} for m, s in result.by_step.items()},
            "seconds": result.seconds,
        },
        "backtest/backtest_table.json",
    )
    run.log_dict(
        {
            "levels": {str(k): v.tolist() for k, v in result.quantiles.items()},
            "unit": "multiples of the series' noise scale (units), index = weeks ahead - 1",
            "residuals": len(result.residuals.scaled),
        },
        "conformal_quantiles.json",
    )
    if reconciled is not None:
        run.log_dict(
            {
                "method": f"MinTrace ({reconciled.method}) beside BottomUp and base forecasts",
                "intervals": "split conformal on the reconciled residuals, per level and step",
                "levels": reconciled.table,
                "quantiles": {
                    level: {str(k): v.tolist() for k, v in by.items()}
                    for level, by in reconciled.quantiles.items()
                },
            },
            "backtest/hierarchy_levels.json",
        )
        run.log_metrics(
            {
                f"level_{r['method']}_{_metric_key(r['level'])}_{k}": r[k]
                for r in reconciled.table
                for k in ("mase", "coverage80")
            }
        )
    run.log_text(dump_sales_contract(contract), "contract.yaml")
    forecasts = forecaster.forecast(keys=forecaster.series_keys, explain="none")
    names = {k: series_label(k, contract) for k in panel}
    panels = [
        ForecastPanel(panel[key], f, names[key])
        for key, f in zip(forecaster.series_keys, forecasts, strict=True)
    ]
    title = f"{contract.name}: last {PLOT_WEEKS} weeks, forecast with 80% and 95% intervals"
    plot = forecast_plot(
        panels,
        workdir / "forecast_plot.png",
        history_weeks=PLOT_WEEKS,
        title=title,
        unit=target_unit(contract),
    )
    run.log_artifact(plot)
    # the drivers of the first forecast week, per series, in units (for the model card)
    first_week = forecaster.forecast(keys=forecaster.series_keys, horizon=1)
    run.log_dict(
        {
            names[key]: week_drivers(f.weeks[0], forecaster.layout_)
            for key, f in zip(forecaster.series_keys, first_week, strict=True)
        },
        "drivers_next_week.json",
    )

"""The sales forecaster: direct multi-horizon LightGBM on a level-scaled target, with intervals.

Strategy: **direct**, one LightGBM booster per horizon step h = 1..H (H <= 26 weeks), all global
(one booster serves every territory and product). Direct rather than recursive because:

* every forecast week is explained by its own booster from *observed* data only. A recursive
  model explains week 4 partly by "last week's units", which is its own forecast for week 3;
  its TreeSHAP contributions would credit the model's guesses, not the data. With direct
  boosters, ``pred_contrib`` on one row gives exact, additive contributions for that week;
* errors do not compound through fed-back predictions, and each step's conformal residuals
  describe exactly the booster that produced them;
* the cost, H boosters instead of one, is small here: a few thousand rows per booster.

Target: the units of week ``t + h`` divided by the series' **level** at the origin ``t`` (mean
units of the 26 weeks up to and including ``t``, at least ``LEVEL_FLOOR`` units). One global
model then serves series whose sizes differ a hundredfold, and every history feature is scaled
by the same level. The forecast in units is ``level * ratio``. Because TreeSHAP is additive in
the booster's output (the ratio), multiplying every contribution and the base value by the
same level gives contributions **in units** that still add up exactly to the forecast:
``units = level * base + sum(level * phi_i)``. The forecaster returns these contributions;
:mod:`candor.explain.forecast_drivers` groups them into drivers (recent level, seasonality,
activity), as lead reasons are built from the scorer's contributions.

Intervals: split conformal on rolling-origin backtest residuals (``training/forecast``), one
quantile per horizon step and level. Residuals are scaled by the series' noise scale at the
origin (mean absolute week-to-week change over the last 52 weeks; see :func:`noise_scale`), so
one quantile serves small and large series alike: ``point +/- q[h] * scale``, lower bound
clipped at 0 units.

Everything here is framework-free NumPy and LightGBM: serving builds the same features
(:mod:`candor.models.forecast.features`) as training does, and a forecaster is saved as plain
files (:mod:`candor.models.forecast.persistence`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from candor.models.contract import SalesContract
from candor.models.forecast import arguments, persistence
from candor.models.forecast.features import (
    RECENT_WINDOW,
    FeatureLayout,
    assemble,
    origin_features,
    target_features,
)
from candor.models.forecast.hierarchy import Hierarchy
from candor.models.forecast.history import LEVEL_WINDOW, SeriesHistory, noise_scale
from candor.models.tree_shap import TreeShap

MAX_HORIZON = 26  # weeks
HISTORY_WEEKS = 2 * 52 + LEVEL_WINDOW + MAX_HORIZON + 4  # kept with a model for forecasting
MIN_ORIGIN = LEVEL_WINDOW - 1  # first origin (0-based week index) with a full level window
INTERVAL_LEVELS = (80, 95)  # percent

Key = tuple[str, ...]


@dataclass(frozen=True)
class WeekForecast:
    """One forecast week of one series. Units throughout (``contributions`` too)."""

    step: int  # weeks after the last observed week
    week: str  # ISO date of the week, as the data labels weeks
    point: float
    lower: dict[int, float]  # level (80, 95) -> lower bound
    upper: dict[int, float]
    # TreeSHAP in units (unless explain="none"): feature -> units, and level * base value;
    # baseline + sum(contributions) is the point before its clip at 0 units
    contributions: dict[str, float] | None = None
    baseline: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step,
            "week": self.week,
            "point": self.point,
            "intervals": {
                str(lv): {"lower": self.lower[lv], "upper": self.upper[lv]} for lv in self.lower
            },
        }
        if self.contributions is not None:
            out["baseline"] = self.baseline
            out["contributions"] = self.contributions
        return out


@dataclass(frozen=True)
class SeriesForecast:
    key: dict[str, str]
    last_observed_week: str
    level: float  # units: the 26-week level the model scaled by
    scale: float  # units: the noise scale the intervals are multiples of
    weeks: list[WeekForecast]
    assumed: list[str]  # covariates whose future values were assumed (their recent mean)
    # a model with a hierarchy: the series this forecast adds up (by field), and its level
    sums: list[dict[str, str]] | None = None
    hierarchy_level: str | None = None

    def to_dict(self) -> dict[str, Any]:
        as_they_are = ("key", "last_observed_week", "level", "scale")
        out = {
            **{name: getattr(self, name) for name in as_they_are},
            "assumed_covariates": self.assumed,
            "weeks": [w.to_dict() for w in self.weeks],
        }
        if self.sums is not None:
            out["hierarchy_level"] = self.hierarchy_level
            out["sums"] = self.sums
        return out


@dataclass
class SalesForecaster:
    """A fitted direct forecaster: one booster per step, conformal quantiles, recent history.

    Attributes:
        boosters_: ``boosters_[h - 1]`` predicts the ratio of week ``origin + h`` to the level.
        layout_: feature names, groups, categorical ones.
        categories_: per categorical series field, the values seen in training (code = index).
        quantiles_: level (80, 95) -> array of H scaled-residual quantiles (one per step).
        contract_: the sales contract of the training data.
        history_: the last ``HISTORY_WEEKS`` weeks of every training series (forecast input).
        meta_: parameters, data fingerprint, backtest summary.
    """

    boosters_: list[lgb.Booster]
    layout_: FeatureLayout
    categories_: dict[str, list[str]]
    quantiles_: dict[int, np.ndarray]
    contract_: SalesContract
    history_: dict[tuple[str, ...], SeriesHistory]
    meta_: dict[str, Any] = field(default_factory=dict)
    # a contract with a hierarchy (models/forecast/hierarchy.py): its nodes, MinTrace's ``P``
    # (series x nodes; served forecasts are ``S @ max(P @ base, 0)``) and, per level of the
    # hierarchy, the conformal quantiles of the reconciled forecasts (level -> percent -> steps)
    hierarchy_: Hierarchy | None = None
    reconciliation_: np.ndarray | None = None
    level_quantiles_: dict[str, dict[int, np.ndarray]] | None = None

    @property
    def horizon(self) -> int:
        return len(self.boosters_)

    @property
    def feature_names(self) -> list[str]:
        return list(self.layout_.names)

    @property
    def series_keys(self) -> list[tuple[str, ...]]:
        return list(self.history_)

    def codes_for(self, key: Sequence[str]) -> list[float]:
        """Categorical codes of a series key; NaN for a value not seen in training."""
        out: list[float] = []
        for name, value in zip(self.layout_.categorical, key, strict=True):
            cats = self.categories_[name]
            out.append(float(cats.index(value)) if value in cats else float("nan"))
        return out

    def _check(self, values: np.ndarray) -> None:
        expected = len(self.layout_.names)
        if values.ndim != 2 or values.shape[1] != expected:
            raise ValueError(
                f"X has {values.shape[-1]} features, but this SalesForecaster is expecting "
                f"{expected}"
            )

    def predict_ratio(self, values: np.ndarray, h: int) -> np.ndarray:
        """Booster h's output: forecast units divided by the level, shape (n,)."""
        self._check(values)
        return np.asarray(self.boosters_[h - 1].predict(values), dtype=float)

    def contributions(self, values: np.ndarray, h: int) -> np.ndarray:
        """TreeSHAP contributions in ratio units, shape (n, k + 1); the last is the base value.

        Multiply by the level for units (see the module docstring).
        """
        self._check(values)
        return self.explainer(h).contributions(values)

    def explainer(self, h: int) -> TreeShap:
        """Booster h's exact TreeSHAP tables (``models.tree_shap``), built on first use."""
        cache: dict[int, TreeShap] = self.__dict__.setdefault("_explainers", {})
        if h not in cache:
            cache[h] = TreeShap(self.boosters_[h - 1])
        return cache[h]

    def interval(
        self, point: np.ndarray, scale: np.ndarray, h: int, level: int
    ) -> tuple[np.ndarray, np.ndarray]:
        q = float(self.quantiles_[level][h - 1])
        return np.maximum(point - q * scale, 0.0), point + q * scale

    def forecast(
        self,
        *,
        keys: Sequence[Sequence[str]] | None = None,
        horizon: int | None = None,
        future_covariates: Mapping[tuple[str, ...], Mapping[str, Sequence[float]]] | None = None,
        history: Mapping[tuple[str, ...], SeriesHistory] | None = None,
        explain: str = "groups",
    ) -> list[SeriesForecast]:
        """Forecast ``horizon`` weeks after each series' last observed week, arguments checked.

        Args:
            keys: series keys, values in the order of the contract's series fields (default:
                every series the model was trained on).
            horizon: weeks ahead, 1 to ``self.horizon`` (default: all).
            future_covariates: per key, per known-in-future covariate, the planned values of
                the next ``horizon`` weeks. Missing ones are assumed to stay at their recent
                (4-week) mean and are listed in ``SeriesForecast.assumed``.
            history: newer histories to forecast from (default: the stored training history).
            explain: ``"none"``, or ``"groups"`` / ``"all"``: every feature's contribution in
                units (:func:`candor.explain.forecast_drivers.week_drivers` groups them into
                drivers that add up to the point forecast).

        Returns:
            One :class:`SeriesForecast` per key, in the order asked; its ``weeks`` hold the
            point forecast, the 80% and 95% bounds and (unless ``explain="none"``) the
            contributions, all in units sold.

        Raises:
            InputValidationError: (code ``input_invalid``; ``details[].field`` names the
                argument: ``horizon``, ``series``, ``explain`` or ``future_covariates.<name>``)
                for a horizon outside 1..``self.horizon``, an unknown series or a key with the
                wrong number of values, covariates for a series not asked for, a covariate that
                is not known in the future, or planned values that are not exactly ``horizon``
                finite numbers (0/1 for a flag). See :mod:`candor.models.forecast.arguments`.
        """
        horizon = arguments.checked_horizon(horizon, self.horizon)
        arguments.check_explain(explain)
        names = self.layout_.categorical
        source = dict(history) if history is not None else self.history_
        wanted = (
            [arguments.series_key(k, names) for k in keys] if keys is not None else list(source)
        )
        planned = {arguments.series_key(k, names): v for k, v in (future_covariates or {}).items()}
        known = self.node_histories(source) if self.hierarchy_ is not None else source
        arguments.check_series(wanted, planned, known, names)
        plans = [
            arguments.planned_covariates(
                planned.get(k, {}), self.contract_, horizon, self.describe(k)
            )
            for k in wanted
        ]
        if self.hierarchy_ is not None:
            return self._coherent_for(
                wanted, horizon, dict(zip(wanted, plans, strict=True)), source, explain != "none"
            )
        return self._forecast_many(
            [source[k] for k in wanted], horizon, plans, explain=explain != "none"
        )

    def forecast_checked(
        self,
        *,
        keys: Sequence[Key],
        horizon: int,
        planned: Mapping[Key, Mapping[str, Sequence[float]]],
        history: Mapping[Key, SeriesHistory] | None = None,
        explain: bool,
    ) -> list[SeriesForecast]:
        """:meth:`forecast` for a caller that validated its request at its own edge (serving).

        Only shapes are checked here. ``planned[key]`` holds, for some known-in-future
        covariates, exactly ``horizon`` values; the others are assumed (their recent mean).

        Raises:
            ValueError: a horizon outside 1..``self.horizon``, an unknown series, a covariate
                that is not known in the future or a plan of the wrong length.
        """
        if not 1 <= horizon <= self.horizon:
            raise ValueError(f"horizon {horizon} is outside 1..{self.horizon}")
        source = history if history is not None else self.history_
        known = self.node_histories(source) if self.hierarchy_ is not None else source
        future = {f.name for f in self.contract_.future_covariates}
        plans: list[dict[str, np.ndarray]] = []
        for key in keys:
            if key not in known:
                raise ValueError(f"series {key} has no history")
            plan = {name: np.asarray(v, dtype=float) for name, v in planned.get(key, {}).items()}
            for name, values in plan.items():
                if name not in future or values.shape != (horizon,):
                    raise ValueError(
                        f"planned {name!r} of series {key}: expected {horizon} values of a "
                        f"known-in-future covariate ({sorted(future)}), got shape {values.shape}"
                    )
            plans.append(plan)
        if self.hierarchy_ is not None:
            return self._coherent_for(
                list(keys), horizon, dict(zip(keys, plans, strict=True)), source, explain
            )
        return self._forecast_many([source[k] for k in keys], horizon, plans, explain=explain)

    # --- a hierarchy: coherent forecasts of every node ---------------------------------------

    def node_histories(
        self, history: Mapping[Key, SeriesHistory] | None = None
    ) -> dict[Key, SeriesHistory]:
        """Every node's history (a model with a hierarchy), summed from the series';
        the stored history's is kept."""
        if self.hierarchy_ is None:
            raise ValueError("this forecaster has no hierarchy")
        if history is None or history is self.history_:
            cached: dict[Key, SeriesHistory] | None = self.__dict__.get("_node_history")
            if cached is None:
                cached = self.hierarchy_.aggregate(self.history_)
                self.__dict__["_node_history"] = cached
            return cached
        missing = [k for k in self.hierarchy_.bottom if k not in history]
        if missing:
            raise ValueError(f"a hierarchy's forecast needs every series' history: {missing[:3]}")
        return self.hierarchy_.aggregate(history)

    def _coherent_for(
        self,
        keys: Sequence[Key],
        horizon: int,
        plans: Mapping[Key, Mapping[str, np.ndarray]],
        history: Mapping[Key, SeriesHistory],
        explain: bool,
    ) -> list[SeriesForecast]:
        """Coherent forecasts of the asked nodes. The nodes asked with the same plan (none, or
        the request's shared one) come from one forecast of every node, the plan holding for
        every series any of them sums (so they add up under one scenario); a node with a plan
        of its own gets its own. Every node over a planned series sees the mean of its
        series' plans (the others keep their recent mean)."""
        nodes = self.node_histories(history)
        stored = history is self.history_
        groups: dict[tuple[tuple[str, tuple[float, ...]], ...], list[Key]] = {}
        for key in keys:
            plan = plans.get(key) or {}
            signature = tuple(sorted((n, tuple(float(v) for v in vs)) for n, vs in plan.items()))
            groups.setdefault(signature, []).append(key)
        answers: dict[tuple[Key, tuple[tuple[str, tuple[float, ...]], ...]], SeriesForecast] = {}
        assert self.hierarchy_ is not None
        for signature, asked in groups.items():
            if not signature:
                run = (
                    self._stored_coherent(horizon, explain)
                    if stored
                    else self.coherent(nodes, horizon, {}, explain=explain)
                )
            else:
                members = {i for k in asked for i in self.hierarchy_.node(k).members}
                plan = {n: np.asarray(vs, dtype=float) for n, vs in signature}
                spread = self._spread_plan(members, plan, nodes, horizon)
                run = self.coherent(nodes, horizon, spread, explain=explain)
            for key in asked:
                answers[(key, signature)] = run[key]
        out = []
        for key in keys:
            plan = plans.get(key) or {}
            signature = tuple(sorted((n, tuple(float(v) for v in vs)) for n, vs in plan.items()))
            out.append(answers[(key, signature)])
        return out

    def _stored_coherent(self, horizon: int, explain: bool) -> dict[Key, SeriesForecast]:
        """Every node's forecast from the stored history without plans: the same for every
        request of a model load, so kept (one per horizon and explain; a few MB at most)."""
        cache: dict[tuple[int, bool], dict[Key, SeriesForecast]] = self.__dict__.setdefault(
            "_coherent_cache", {}
        )
        found = cache.get((horizon, explain))
        if found is None:
            found = self.coherent(self.node_histories(), horizon, {}, explain=explain)
            cache[(horizon, explain)] = found
        return found

    def _spread_plan(
        self,
        planned_members: set[int],
        plan: Mapping[str, np.ndarray],
        nodes: Mapping[Key, SeriesHistory],
        horizon: int,
    ) -> dict[Key, dict[str, np.ndarray]]:
        """A plan for some series as every node's: the plan for each of those series, the
        others' recent mean, averaged over each node that holds a planned series."""
        assert self.hierarchy_ is not None
        hierarchy = self.hierarchy_
        out: dict[Key, dict[str, np.ndarray]] = {}
        for name, values in plan.items():
            per_series = []
            for i, bottom in enumerate(hierarchy.bottom):
                if i in planned_members:
                    per_series.append(np.asarray(values, dtype=float))
                else:
                    recent = nodes[bottom].covariates[name][-RECENT_WINDOW:]
                    mean = float(recent.mean()) if len(recent) else 0.0
                    per_series.append(np.full(horizon, mean))
            stacked = np.vstack(per_series)
            for node in hierarchy.nodes:
                if planned_members & set(node.members):
                    out.setdefault(node.key, {})[name] = stacked[list(node.members)].mean(0)
        return out

    def coherent(
        self,
        nodes: Mapping[Key, SeriesHistory],
        horizon: int,
        plans: Mapping[Key, Mapping[str, np.ndarray]],
        *,
        explain: bool,
    ) -> dict[Key, SeriesForecast]:
        """Every node's reconciled forecast: base forecasts of all nodes by the one model,
        ``P`` to the series (floored at 0 units), summed to every node; contributions mapped
        the same way (linear), intervals per level of the hierarchy."""
        if self.hierarchy_ is None or self.reconciliation_ is None:
            raise ValueError("this forecaster has no hierarchy")
        hierarchy, p = self.hierarchy_, self.reconciliation_
        keys = hierarchy.keys
        base = self._forecast_many(
            [nodes[k] for k in keys], horizon, [plans.get(k, {}) for k in keys], explain=explain
        )
        s = hierarchy.summing_matrix()
        points = np.array([[w.point for w in f.weeks] for f in base])  # nodes x weeks
        coherent = s @ np.maximum(p @ points, 0.0)
        mapping = s @ p
        scale = np.array([f.scale for f in base])
        levels = [hierarchy.node(k).level_label for k in keys]
        quantiles = self.level_quantiles_ or {}
        weeks: list[list[WeekForecast]] = [[] for _ in keys]
        for h in range(horizon):
            contrib = baseline = None
            if explain:
                names = self.layout_.names
                phi = np.array(
                    [[f.weeks[h].contributions[n] for n in names] for f in base]  # type: ignore[index]
                )
                contrib = mapping @ phi
                baseline = mapping @ np.array([f.weeks[h].baseline for f in base])
            for i in range(len(keys)):
                point = float(coherent[i, h])
                lower, upper = {}, {}
                for lvl in sorted(self.quantiles_):
                    q = float(quantiles[levels[i]][lvl][h])
                    lower[lvl] = max(point - q * float(scale[i]), 0.0)
                    upper[lvl] = point + q * float(scale[i])
                weeks[i].append(
                    WeekForecast(
                        h + 1,
                        base[i].weeks[h].week,
                        point,
                        lower,
                        upper,
                        dict(zip(self.layout_.names, contrib[i].tolist(), strict=True))
                        if contrib is not None
                        else None,
                        float(baseline[i]) if baseline is not None else None,
                    )
                )
        return {
            key: SeriesForecast(
                hierarchy.node(key).fields,
                base[i].last_observed_week,
                base[i].level,
                base[i].scale,
                weeks[i],
                base[i].assumed,
                hierarchy.sums(key),
                levels[i],
            )
            for i, key in enumerate(keys)
        }

    def _forecast_many(
        self,
        histories: Sequence[SeriesHistory],
        horizon: int,
        plans: Sequence[Mapping[str, np.ndarray]],
        *,
        explain: bool,
    ) -> list[SeriesForecast]:
        """Every series at once: features per series, then one booster call per week ahead
        for all series together (LightGBM's per-call overhead dominates single rows)."""
        n = len(histories)
        if n == 0:
            return []
        extended, assumed, origins = [], [], []
        for series, plan in zip(histories, plans, strict=True):
            ext, assumed_names = self._extend(series, horizon, plan)
            extended.append(ext)
            assumed.append(assumed_names)
            origins.append(np.array([len(series) - 1]))
        codes = [self.codes_for(series.key) for series in histories]
        scale = np.array(
            [
                float(noise_scale(s.units.astype(float), o)[0])
                for s, o in zip(histories, origins, strict=True)
            ]
        )
        weeks: list[list[WeekForecast]] = [[] for _ in range(n)]
        level = np.zeros(n)
        fixed = []  # features of each series' origin, the same for every week ahead
        for i in range(n):
            cols, lv = origin_features(
                extended[i],
                origins[i],
                layout=self.layout_,
                contract=self.contract_,
                codes=codes[i],
            )
            fixed.append(cols)
            level[i] = float(lv[0])
        for h in range(1, horizon + 1):
            rows = []
            for i in range(n):
                ahead = target_features(
                    extended[i],
                    origins[i],
                    h,
                    level[i : i + 1],
                    contract=self.contract_,
                    layout=self.layout_,
                )
                rows.append(assemble({**fixed[i], **ahead}, self.layout_, 1)[0])
            matrix = np.vstack(rows)
            point = np.maximum(self.predict_ratio(matrix, h) * level, 0.0)
            bounds = {lvl: self.interval(point, scale, h, lvl) for lvl in sorted(self.quantiles_)}
            contrib = self.contributions(matrix, h) * level[:, None] if explain else None
            for i in range(n):
                contributions = baseline = None
                if contrib is not None:
                    contributions = dict(
                        zip(self.layout_.names, contrib[i, :-1].tolist(), strict=True)
                    )
                    baseline = float(contrib[i, -1])
                weeks[i].append(
                    WeekForecast(
                        h,
                        str(extended[i].week(len(histories[i]) - 1 + h)),
                        float(point[i]),
                        {lvl: float(lo[i]) for lvl, (lo, _) in bounds.items()},
                        {lvl: float(hi[i]) for lvl, (_, hi) in bounds.items()},
                        contributions,
                        baseline,
                    )
                )
        return [
            SeriesForecast(
                self.describe(series.key),
                str(series.last_week),
                float(level[i]),
                float(scale[i]),
                weeks[i],
                assumed[i],
            )
            for i, series in enumerate(histories)
        ]

    def describe(self, key: Sequence[str]) -> dict[str, str]:
        """A series key as ``{field: value}`` (for messages and responses); a node of the
        hierarchy by its own fields (``{region: Northeast}``)."""
        found = self.hierarchy_.get(tuple(key)) if self.hierarchy_ is not None else None
        if found is not None:
            return dict(found.fields)
        return arguments.describe(key, self.layout_.categorical)

    def _extend(
        self, series: SeriesHistory, horizon: int, planned: Mapping[str, np.ndarray]
    ) -> tuple[SeriesHistory, list[str]]:
        """The history with future values of known-in-future covariates appended: the planned
        ones, or else their recent mean (listed as assumed)."""
        n = len(series)
        covariates = {k: v[:n].astype(float) for k, v in series.covariates.items()}
        assumed: list[str] = []
        for name in sorted(f.name for f in self.contract_.future_covariates):
            if name in planned:
                future = planned[name]
            else:
                recent = covariates[name][-RECENT_WINDOW:]
                future = np.full(horizon, float(recent.mean()) if len(recent) else 0.0)
                assumed.append(name)
            covariates[name] = np.concatenate([covariates[name], future])
        return SeriesHistory(series.key, series.first_week, series.units, covariates), assumed

    # --- plain-file persistence (the files: models/forecast/persistence.py) -------------------

    def save(self, directory: str | Path) -> Path:
        meta: dict[str, Any] = {
            "horizon": self.horizon,
            "layout": self.layout_.to_dict(),
            "categories": self.categories_,
            "quantiles": {str(k): v.tolist() for k, v in self.quantiles_.items()},
            "meta": self.meta_,
        }
        if self.hierarchy_ is not None and self.reconciliation_ is not None:
            meta["hierarchy"] = {
                **self.hierarchy_.to_dict(),
                "reconciliation": self.reconciliation_.tolist(),
                "level_quantiles": {
                    level: {str(k): v.tolist() for k, v in by.items()}
                    for level, by in (self.level_quantiles_ or {}).items()
                },
            }
        return persistence.save_files(
            directory,
            boosters=self.boosters_,
            meta=meta,
            contract=self.contract_,
            history=self.history_,
        )

    @classmethod
    def load(cls, directory: str | Path) -> SalesForecaster:
        meta = persistence.load_meta(directory)
        boosters = persistence.load_boosters(directory, int(meta["horizon"]))
        contract = persistence.load_contract(directory)
        raw = meta.get("hierarchy")
        return cls(
            boosters,
            FeatureLayout.from_dict(meta["layout"]),
            {k: list(v) for k, v in meta["categories"].items()},
            {int(k): np.asarray(v, dtype=float) for k, v in meta["quantiles"].items()},
            contract,
            persistence.load_history(directory, contract),
            meta["meta"],
            Hierarchy.from_dict(raw, contract) if raw else None,
            np.asarray(raw["reconciliation"], dtype=float) if raw else None,
            {
                level: {int(k): np.asarray(v, dtype=float) for k, v in by.items()}
                for level, by in raw["level_quantiles"].items()
            }
            if raw
            else None,
        )

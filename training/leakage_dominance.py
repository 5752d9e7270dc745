"""Leaks a threshold on one input's ROC-AUC does not see: an input that dominates the others.

A column recorded during the contact itself (the call's length) can reach only 0.82 ROC-AUC on
its own, under any sensible single-input threshold, and still make a model that looks excellent
(0.94) and is useless before the call (0.78 without it). What gives it away is not its name,
which the next export will spell differently, but how it stands against the other inputs:

* ``alone_beats_rest``: alone it predicts at least as well as every other input together (a
  quick model without it).
* ``removal_dominates``: dropping it costs at least ``REMOVAL_MIN_COST`` ROC-AUC and at least
  ``REMOVAL_FACTOR`` times what dropping the next most important input costs.
* ``shap_dominates``: its mean |SHAP| in a quick model on every input is at least
  ``SHAP_FACTOR`` times the next input's.

An input is reported when it breaks at least ``RULES_NEEDED`` (two) of the three: each one
alone also describes an honest strong input, and was seen to on real and generated exports (the
generated sample's strongest driver beats its weaker rest alone; the X Education export's time
on the website costs 18x more than any other input to remove, because the others are redundant
with each other), while the leak of a call's length breaks all three. Whatever the count, every
kept input's standing is logged with the run (``leakage.json``). One input that outweighs all
the rest is what a leak looks like, and what a reviewer must look at before the model is
trusted. The checks fit
small LightGBM models (``QUICK_ROUNDS`` trees) on a bounded, stratified sample: a quick model
on all inputs, and one without each of the ``CHECKED_INPUTS`` most important.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from sklearn.metrics import roc_auc_score

from candor.models.tree_shap import TreeShap

ALONE_MIN_AUC = 0.60  # an input weaker than this alone is never said to beat the rest
REMOVAL_MIN_COST = 0.05  # ROC-AUC a dominant input's removal costs at least
REMOVAL_FACTOR = 3.0  # ... and at least this many times the next input's removal cost
REMOVAL_COST_FLOOR = 0.005  # the next input's cost is taken as at least this (noise)
SHAP_FACTOR = 3.0  # mean |SHAP| of the top input over the next one's
RULES_NEEDED = 2  # rules an input must break to be reported
CHECKED_INPUTS = 3  # the inputs with the largest mean |SHAP| are each dropped once
QUICK_ROUNDS = 150
QUICK_FIT_ROWS = 60_000  # rows each quick model fits on, at most
QUICK_EVAL_ROWS = 40_000  # rows each quick model is scored on, at most
SHAP_ROWS = 10_000  # of those, the rows the mean |SHAP| is taken over


@dataclass(frozen=True)
class InputStanding:
    """How one input stands against the others, in the quick models."""

    name: str
    mean_abs_shap: float
    auc_without: float | None  # quick model on every other input (None: not checked)
    removal_cost: float | None  # ROC-AUC lost without it (None: not checked)


@dataclass(frozen=True)
class Dominance:
    """The quick models' view of every kept input, and the rules each one breaks."""

    auc_all: float  # quick model on every kept input
    standings: tuple[InputStanding, ...]  # by mean |SHAP|, largest first
    fit_rows: int
    eval_rows: int

    def standing(self, name: str) -> InputStanding | None:
        return next((s for s in self.standings if s.name == name), None)

    def reasons(self, name: str, alone_auc: float) -> list[str]:
        """The rules ``name`` breaks, each with its numbers, when it breaks at least
        ``RULES_NEEDED`` of them; else []."""
        broken = self.broken_rules(name, alone_auc)
        return broken if len(broken) >= RULES_NEEDED else []

    def broken_rules(self, name: str, alone_auc: float) -> list[str]:
        """Every rule ``name`` breaks, each with its numbers."""
        me = self.standing(name)
        if me is None:
            return []
        others = [s for s in self.standings if s.name != name]
        found = []
        n_others = len(others)
        if (
            me.auc_without is not None
            and alone_auc >= ALONE_MIN_AUC
            and alone_auc >= me.auc_without
        ):
            found.append(
                f"alone it reaches ROC-AUC {alone_auc:.3f}, at least all {n_others} other "
                f"inputs together ({me.auc_without:.3f})"
            )
        costs = [s.removal_cost for s in others if s.removal_cost is not None]
        if me.removal_cost is not None and costs:
            next_cost = max(max(costs), REMOVAL_COST_FLOOR)
            cost = me.removal_cost
            if cost >= REMOVAL_MIN_COST and cost >= REMOVAL_FACTOR * next_cost:
                found.append(
                    f"removing it costs {me.removal_cost:.3f} ROC-AUC, "
                    f"{me.removal_cost / next_cost:.1f}x the next input's ({max(costs):.3f})"
                )
        if self.standings and self.standings[0].name == name and others:
            runner_up = max(others[0].mean_abs_shap, 1e-12)
            if me.mean_abs_shap >= SHAP_FACTOR * runner_up:
                factor = me.mean_abs_shap / runner_up
                found.append(
                    f"its mean |SHAP| {me.mean_abs_shap:.3f} is {factor:.1f}x the next input's"
                    f" ({others[0].name}: {others[0].mean_abs_shap:.3f})"
                )
        return found

    def to_dict(self) -> dict[str, object]:
        return {
            "auc_all": self.auc_all,
            "fit_rows": self.fit_rows,
            "eval_rows": self.eval_rows,
            "standings": [
                {
                    "input": s.name,
                    "mean_abs_shap": s.mean_abs_shap,
                    "auc_without": s.auc_without,
                    "removal_cost": s.removal_cost,
                }
                for s in self.standings
            ],
            "rules_needed": RULES_NEEDED,
            "rules": {
                "alone_beats_rest": f"single-input ROC-AUC >= {ALONE_MIN_AUC} and >= a quick "
                "model on every other input",
                "removal_dominates": f"removal costs >= {REMOVAL_MIN_COST} ROC-AUC and >= "
                f"{REMOVAL_FACTOR}x the next input's",
                "shap_dominates": f"mean |SHAP| >= {SHAP_FACTOR}x the next input's",
            },
        }


def _quick_params(seed: int) -> dict[str, object]:
    return {
        "objective": "binary",
        "learning_rate": 0.1,
        "num_leaves": 31,
        "min_data_in_leaf": 20,
        "cat_smooth": 10.0,
        "min_data_per_group": 20,
        "lambda_l2": 1.0,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 2,
        "verbose": -1,
    }


def _fit(
    values: np.ndarray, outcome: np.ndarray, categorical: Sequence[int], seed: int
) -> lgb.Booster:
    names = [f"f{j}" for j in range(values.shape[1])]
    data = lgb.Dataset(
        values, outcome, feature_name=names, categorical_feature=list(categorical) or "auto"
    )
    return lgb.train(_quick_params(seed), data, num_boost_round=QUICK_ROUNDS)


def _auc(outcome: np.ndarray, margin: np.ndarray) -> float:
    if len(np.unique(outcome)) < 2:
        return 0.5
    return float(roc_auc_score(outcome, margin))


def dominance(
    values: np.ndarray,
    outcome: np.ndarray,
    names: Sequence[str],
    categorical: Sequence[int],
    *,
    fit_rows: np.ndarray,
    eval_rows: np.ndarray,
    seed: int = 0,
) -> Dominance | None:
    """The quick models' standings of the inputs (columns of ``values``); None with fewer than
    two inputs (nothing to dominate) or a class missing from either part."""
    if values.shape[1] < 2:
        return None
    y_fit, y_eval = outcome[fit_rows], outcome[eval_rows]
    if len(np.unique(y_fit)) < 2 or len(np.unique(y_eval)) < 2:
        return None
    x_fit, x_eval = values[fit_rows], values[eval_rows]
    full = _fit(x_fit, y_fit, categorical, seed)
    auc_all = _auc(y_eval, np.asarray(full.predict(x_eval, raw_score=True)))
    # mean |SHAP| on at most SHAP_ROWS scored rows, by Candor's exact TreeSHAP kernel
    # (LightGBM's pred_contrib takes ~30 s on 40,000 rows of these trees)
    shap_rows = x_eval[: min(len(x_eval), SHAP_ROWS)]
    contributions = TreeShap(full).contributions(shap_rows)[:, : values.shape[1]]
    mean_abs = np.abs(contributions).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    checked: dict[int, float] = {}
    for j in order[:CHECKED_INPUTS].tolist():
        keep = [k for k in range(values.shape[1]) if k != j]
        cats = [keep.index(k) for k in categorical if k != j]
        model = _fit(x_fit[:, keep], y_fit, cats, seed)
        checked[j] = _auc(y_eval, np.asarray(model.predict(x_eval[:, keep], raw_score=True)))
    standings = tuple(
        InputStanding(
            names[j],
            float(mean_abs[j]),
            checked.get(j),
            None if j not in checked else auc_all - checked[j],
        )
        for j in order.tolist()
    )
    return Dominance(auc_all, standings, len(fit_rows), len(eval_rows))

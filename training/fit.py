"""Fit a lead scorer: split, try a few tree shapes, keep the cheapest to explain, calibrate.

Splits (stratified on the outcome): train 50% (fit), validation 15% (early stopping and the
choice of shape), calibration 15% (Venn-Abers), holdout 20% (the numbers we report and the
champion gate). No split is used for two jobs.

Tree shape: TreeSHAP costs O(trees x leaves x depth^2) per lead, so among shapes whose
validation ROC-AUC is within ``tolerance`` of the best we keep the cheapest to explain. The grid
fits on at most ``GRID_TRAIN_ROWS`` training and ``GRID_VALID_ROWS`` validation rows (stratified
samples); on a larger export the chosen shape is then fitted again on every training row,
early stopping on the same validation sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pyarrow as pa
from sklearn.model_selection import train_test_split

from candor.models.contract import Contract
from candor.models.leads.features import FeatureSchema, build_features, fit_schema
from candor.models.leads.scorer import LeadScorer, VennAbersCalibration, sigmoid
from candor.training.metrics import classification_metrics
from candor.training.progress import boosting_progress, end_line
from candor.training.stages import StageClock

SPLIT_SHARES = {"train": 0.50, "valid": 0.15, "calibration": 0.15, "holdout": 0.20}
# the shape grid fits on at most this many training and validation rows (stratified samples of
# those splits); on a larger export the chosen shape is then fitted on every training row. A
# shape's rank does not need a million rows, and the grid costs three fits
GRID_TRAIN_ROWS = 100_000
GRID_VALID_ROWS = 50_000
AUC_TOLERANCE = 0.005
MAX_ROUNDS = 2000
EARLY_STOPPING_ROUNDS = 60


@dataclass(frozen=True)
class TreeShape:
    num_leaves: int
    max_depth: int  # -1: unlimited

    @property
    def label(self) -> str:
        depth = "any" if self.max_depth < 0 else str(self.max_depth)
        return f"{self.num_leaves} leaves, depth {depth}"


SHAPES = (TreeShape(7, 3), TreeShape(15, 4), TreeShape(31, -1))


@dataclass(frozen=True)
class Splits:
    train: np.ndarray
    valid: np.ndarray
    calibration: np.ndarray
    holdout: np.ndarray


def split_indices(outcome: np.ndarray, *, seed: int) -> Splits:
    index = np.arange(len(outcome))
    rest, holdout = train_test_split(
        index, test_size=SPLIT_SHARES["holdout"], stratify=outcome, random_state=seed
    )
    left = 1.0 - SPLIT_SHARES["holdout"]
    rest, calibration = train_test_split(
        rest,
        test_size=SPLIT_SHARES["calibration"] / left,
        stratify=outcome[rest],
        random_state=seed + 1,
    )
    left -= SPLIT_SHARES["calibration"]
    train, valid = train_test_split(
        rest, test_size=SPLIT_SHARES["valid"] / left, stratify=outcome[rest], random_state=seed + 2
    )
    return Splits(np.sort(train), np.sort(valid), np.sort(calibration), np.sort(holdout))


def stratified_subset(rows: np.ndarray, outcome: np.ndarray, size: int, *, seed: int) -> np.ndarray:
    """At most ``size`` of ``rows``, drawn stratified on the outcome (sorted); all when fewer."""
    if len(rows) <= size:
        return rows
    kept, _ = train_test_split(rows, train_size=size, stratify=outcome[rows], random_state=seed)
    return np.sort(kept)


def grid_splits(splits: Splits, outcome: np.ndarray, *, seed: int) -> Splits:
    """The splits the shape grid fits on: bounded samples of train and validation."""
    return Splits(
        stratified_subset(splits.train, outcome, GRID_TRAIN_ROWS, seed=seed + 3),
        stratified_subset(splits.valid, outcome, GRID_VALID_ROWS, seed=seed + 4),
        splits.calibration,
        splits.holdout,
    )


def tree_depths(booster: lgb.Booster) -> list[tuple[int, int]]:
    """(leaves, depth) of every tree."""

    def depth(node: dict[str, Any]) -> int:
        if "split_index" not in node:  # a leaf
            return 0
        return 1 + max(depth(node["left_child"]), depth(node["right_child"]))

    return [
        (int(tree["num_leaves"]), depth(tree["tree_structure"]))
        for tree in booster.dump_model()["tree_info"]
    ]


def explain_cost(booster: lgb.Booster) -> float:
    """Relative TreeSHAP cost per lead: sum over trees of leaves x depth^2."""
    return float(sum(leaves * max(d, 1) ** 2 for leaves, d in tree_depths(booster)))


@dataclass
class Candidate:
    shape: TreeShape
    booster: lgb.Booster
    best_iteration: int
    valid_auc: float
    explain_cost: float


def base_params(shape: TreeShape, *, seed: int) -> dict[str, Any]:
    return {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": shape.num_leaves,
        "max_depth": shape.max_depth,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "cat_smooth": 10.0,
        "min_data_per_group": 20,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 2,
        "verbose": -1,
    }


def fit_candidate(
    values: np.ndarray,
    outcome: np.ndarray,
    splits: Splits,
    schema: FeatureSchema,
    shape: TreeShape,
    *,
    seed: int,
    sample_weight: np.ndarray | None = None,
) -> Candidate:
    names = [f"f{j}" for j in range(values.shape[1])]  # contract names may hold spaces
    cats = schema.categorical_indices
    train = lgb.Dataset(
        values[splits.train],
        outcome[splits.train],
        weight=None if sample_weight is None else sample_weight[splits.train],
        feature_name=names,
        categorical_feature=cats,
        free_raw_data=False,
    )
    valid = lgb.Dataset(values[splits.valid], outcome[splits.valid], reference=train)
    callbacks: list[Any] = [lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)]
    bar = boosting_progress(f"{shape.label} on {len(splits.train):,} rows", max_rounds=MAX_ROUNDS)
    if bar is not None:
        callbacks.append(bar)
    booster = lgb.train(
        {**base_params(shape, seed=seed), "metric": "auc"},
        train,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid],
        callbacks=callbacks,
    )
    if bar is not None:
        end_line()
    best = booster.best_iteration or booster.current_iteration()
    # keep exactly the trees early stopping chose, so predict/pred_contrib agree by default
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    margins = booster.predict(values[splits.valid], raw_score=True)
    valid_auc = classification_metrics(outcome[splits.valid], sigmoid(np.asarray(margins)))[
        "roc_auc"
    ]
    return Candidate(shape, booster, best, valid_auc, explain_cost(booster))


def choose(candidates: list[Candidate], *, tolerance: float = AUC_TOLERANCE) -> Candidate:
    best_auc = max(c.valid_auc for c in candidates)
    eligible = [c for c in candidates if c.valid_auc >= best_auc - tolerance]
    return min(eligible, key=lambda c: c.explain_cost)


@dataclass
class FitResult:
    scorer: LeadScorer
    splits: Splits
    candidates: list[Candidate]
    chosen: Candidate
    holdout_metrics: dict[str, float]
    holdout_metrics_uncalibrated: dict[str, float]
    holdout_values: np.ndarray
    holdout_outcome: np.ndarray
    holdout_score: np.ndarray
    holdout_raw_probability: np.ndarray
    grid_rows: tuple[int, int] = (0, 0)  # training and validation rows the shape grid fitted on
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def grid_sampled(self) -> bool:
        return self.grid_rows != (len(self.splits.train), len(self.splits.valid))


def fit_lead_scorer(
    columns: Mapping[str, Any],
    outcome: np.ndarray,
    contract: Contract,
    *,
    seed: int = 42,
    shapes: tuple[TreeShape, ...] = SHAPES,
    sample_weight: np.ndarray | None = None,
    clock: StageClock | None = None,
) -> FitResult:
    """Fit, choose and calibrate a scorer on the columns of a validated training frame.

    ``sample_weight`` (one per row of ``columns``; only the training split's are read) weights
    the boosting, e.g. fairness reweighing. Early stopping, the choice of shape, calibration and
    the holdout metrics stay unweighted: they describe the data as it is.
    """
    clock = clock or StageClock(show=lambda _: None)
    if sample_weight is not None and len(sample_weight) != len(outcome):
        raise ValueError(f"sample_weight has {len(sample_weight)} values for {len(outcome)} rows")
    with clock.stage("features"):
        splits = split_indices(outcome, seed=seed)
        schema = fit_schema(take_rows(columns, splits.train), contract)
        values = build_features(columns, schema=schema, n_rows=len(outcome)).values
    grid = grid_splits(splits, outcome, seed=seed)
    grid_rows = (len(grid.train), len(grid.valid))
    with clock.stage("shape grid", f"{len(shapes)} shapes on {grid_rows[0]:,} training rows"):
        candidates = [
            fit_candidate(values, outcome, grid, schema, s, seed=seed, sample_weight=sample_weight)
            for s in shapes
        ]
        chosen = choose(candidates)
    if grid_rows != (len(splits.train), len(splits.valid)):
        # the grid saw samples: the chosen shape learns from every training row, early stopping
        # on the grid's validation sample (ROC-AUC is sorted every round: on every validation
        # row that would cost as much as the boosting)
        refit = Splits(splits.train, grid.valid, splits.calibration, splits.holdout)
        detail = (
            f"{chosen.shape.label} on {len(splits.train):,} rows, early stopping on "
            f"{len(grid.valid):,}"
        )
        with clock.stage("fit", detail):
            chosen = fit_candidate(
                values,
                outcome,
                refit,
                schema,
                chosen.shape,
                seed=seed,
                sample_weight=sample_weight,
            )
    with clock.stage("calibration"):
        cal_raw = sigmoid(
            np.asarray(chosen.booster.predict(values[splits.calibration], raw_score=True))
        )
        calibration = VennAbersCalibration.fit(
            raw_probability=cal_raw, outcome=outcome[splits.calibration]
        )
    scorer = LeadScorer(
        chosen.booster,
        schema,
        calibration,
        contract,
        {
            "shape": chosen.shape.label,
            "num_leaves": chosen.shape.num_leaves,
            "max_depth": chosen.shape.max_depth,
            "trees": chosen.best_iteration,
            "seed": seed,
        },
    )
    with clock.stage("holdout metrics"):
        hold = values[splits.holdout]
        hold_margin = scorer.margins(hold)
        hold_score = scorer.calibrate(hold_margin).score
        hold_raw = sigmoid(hold_margin)
        metrics = classification_metrics(outcome[splits.holdout], hold_score)
        uncalibrated = classification_metrics(outcome[splits.holdout], hold_raw)
    return FitResult(
        scorer=scorer,
        splits=splits,
        candidates=candidates,
        chosen=chosen,
        holdout_metrics=metrics,
        holdout_metrics_uncalibrated=uncalibrated,
        holdout_values=hold,
        holdout_outcome=outcome[splits.holdout],
        holdout_score=hold_score,
        holdout_raw_probability=hold_raw,
        grid_rows=grid_rows,
    )


def take_rows(columns: Mapping[str, Any], rows: np.ndarray) -> dict[str, Any]:
    """The columns at ``rows``: lists stay lists, NumPy and Arrow arrays are indexed."""
    out: dict[str, Any] = {}
    for name, column in columns.items():
        if isinstance(column, np.ndarray):
            out[name] = column[rows]
        elif isinstance(column, pa.Array | pa.ChunkedArray):
            out[name] = column.take(pa.array(rows))
        else:
            out[name] = [column[i] for i in rows.tolist()]
    return out

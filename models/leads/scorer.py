"""The lead-scoring model: a LightGBM booster plus its inductive Venn-Abers calibration.

Units: ``margin`` is the booster's raw output in log-odds; ``score`` and the interval bounds
are probabilities of conversion. The Venn-Abers pair ``(p0, p1)`` is the interval: under
exchangeability with the calibration split, one of the two is a perfectly calibrated
probability; ``score = p1 / (1 - p0 + p1)`` is the usual single-number merge. A wide pair means
the calibration data held few leads like this one, which is why it drives ``low_confidence``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import yaml
from venn_abers import calc_p0p1, calc_probs

from candor.models.contract import Contract, contract_from_dict, dump_contract
from candor.models.leads.features import FeatureSchema
from candor.models.monitoring.performance import HoldoutPerformance
from candor.models.tree_shap import TreeShap

BOOSTER_FILE = "booster.txt"
SCHEMA_FILE = "feature_schema.json"
CALIBRATION_FILE = "calibration.npz"
CONTRACT_FILE = "contract.yaml"
META_FILE = "scorer.json"


def sigmoid(margin: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-margin))


@dataclass(frozen=True)
class VennAbersCalibration:
    """Isotonic calibration vectors from ``venn_abers.calc_p0p1`` on the calibration split."""

    p0: np.ndarray
    p1: np.ndarray
    c: np.ndarray
    n_calibration: int

    @classmethod
    def fit(cls, *, raw_probability: np.ndarray, outcome: np.ndarray) -> VennAbersCalibration:
        p_cal = np.column_stack([1.0 - raw_probability, raw_probability])
        with warnings.catch_warnings():
            # the library's hull search takes nanmin of an all-NaN slice at the ends; harmless
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            p0, p1, c = calc_p0p1(p_cal, np.asarray(outcome, dtype=float))
        return cls(p0, p1, c, len(outcome))

    def apply(self, raw_probability: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(score, lower, upper) as probabilities, for raw (uncalibrated) probabilities."""
        p_test = np.column_stack([1.0 - raw_probability, raw_probability])
        p_prime, p0_p1 = calc_probs(self.p0, self.p1, self.c, p_test)
        lower = np.minimum(p0_p1[:, 0], p0_p1[:, 1])
        upper = np.maximum(p0_p1[:, 0], p0_p1[:, 1])
        return p_prime[:, 1], lower, upper


@dataclass(frozen=True)
class Calibrated:
    score: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass
class LeadScorer:
    """A fitted lead scorer. Inputs are matrices from ``models.features.build_features``."""

    booster_: lgb.Booster
    schema_: FeatureSchema
    calibration_: VennAbersCalibration
    contract_: Contract
    meta_: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return self.schema_.names

    @property
    def grade_cutoffs(self) -> tuple[float, float, float] | None:
        """The lower bounds of grades A, B and C chosen from this model's holdout at training
        (``training.grading``); None for a model trained before they were."""
        found = self.meta_.get("grade_cutoffs")
        if not found:
            return None
        a, b, c = (float(x) for x in found["cutoffs"])
        return (a, b, c)

    @property
    def drift_reference(self) -> dict[str, Any] | None:
        """The holdout's reference distributions kept at training, as JSON
        (``candor.models.monitoring.reference.DriftReference.from_dict`` reads it); None for a
        model trained before they were kept."""
        found = self.meta_.get("drift_reference")
        return found if isinstance(found, dict) else None

    @property
    def holdout_performance(self) -> HoldoutPerformance | None:
        """ROC-AUC, Brier score and calibration by grade on this model's holdout, with 95%
        intervals, stored at training (``models.monitoring.performance``); None for a model
        trained before they were."""
        found = self.meta_.get("holdout_performance")
        return HoldoutPerformance.from_dict(found) if found else None

    def _check(self, values: np.ndarray) -> None:
        expected = len(self.schema_.specs)
        if values.ndim != 2 or values.shape[1] != expected:
            raise ValueError(
                f"X has {values.shape[-1]} features, but this LeadScorer is expecting {expected}"
            )

    def margins(self, values: np.ndarray) -> np.ndarray:
        """Raw model output in log-odds, shape (n,)."""
        self._check(values)
        return np.asarray(self.booster_.predict(values, raw_score=True), dtype=float)

    def calibrate(self, margins: np.ndarray) -> Calibrated:
        score, lower, upper = self.calibration_.apply(sigmoid(margins))
        return Calibrated(score, lower, upper)

    def predict_proba(self, values: np.ndarray) -> np.ndarray:
        """Calibrated probability of conversion, shape (n,)."""
        return self.calibrate(self.margins(values)).score

    @cached_property
    def explainer_(self) -> TreeShap:
        """The exact TreeSHAP tables of this booster, built once (on first use)."""
        return TreeShap(self.booster_)

    def contributions(self, values: np.ndarray) -> np.ndarray:
        """TreeSHAP contributions in log-odds, shape (n, k + 1); the last column is the base value.

        Path-dependent TreeSHAP from precomputed tables (``models.tree_shap``): equal to
        LightGBM's ``pred_contrib`` (exact for categorical splits and missing values) within
        1e-9, several times faster; rows sum to the margin.
        """
        self._check(values)
        return self.explainer_.contributions(values)

    def save(self, directory: str | Path) -> Path:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        self.booster_.save_model(str(path / BOOSTER_FILE))
        (path / SCHEMA_FILE).write_text(json.dumps(self.schema_.to_dict(), indent=1))
        np.savez(
            path / CALIBRATION_FILE,
            p0=self.calibration_.p0,
            p1=self.calibration_.p1,
            c=self.calibration_.c,
            n_calibration=self.calibration_.n_calibration,
        )
        (path / CONTRACT_FILE).write_text(dump_contract(self.contract_))
        (path / META_FILE).write_text(json.dumps(self.meta_, indent=1, default=str))
        return path

    @classmethod
    def load(cls, directory: str | Path) -> LeadScorer:
        path = Path(directory)
        booster = lgb.Booster(model_file=str(path / BOOSTER_FILE))
        schema = FeatureSchema.from_dict(json.loads((path / SCHEMA_FILE).read_text()))
        with np.load(path / CALIBRATION_FILE) as npz:
            calibration = VennAbersCalibration(
                npz["p0"], npz["p1"], npz["c"], int(npz["n_calibration"])
            )
        contract = contract_from_dict(yaml.safe_load((path / CONTRACT_FILE).read_text()))
        meta = json.loads((path / META_FILE).read_text())
        return cls(booster, schema, calibration, contract, meta)

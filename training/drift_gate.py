"""The drift gate: no automatic promotion of a version trained on data that has drifted beyond
``alert`` from the champion's training reference, on any input.

:func:`champion_drift` encodes the new data's training rows (at most :data:`DRIFT_ROWS`, drawn
at random) with the *champion's* schema, bins them with the champion's reference
(``meta_["drift_reference"]``, kept with the model at training) and computes the population
stability index per input (``candor.models.monitoring.drift``). :func:`drift_gate` overrules
the gate's decision when an input is at ``alert`` (``Settings.drift_alert_psi``), logs the
comparison to the run (``drift_vs_champion.json``) and tags the version ``drift.alert`` with the
inputs at alert (``none`` when there are none). A champion trained before references were kept
has none: nothing is compared and nothing is blocked, and the artifact and the log say so. An
admin can still promote the version: ``candor models promote VERSION --justify "..."``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

from candor.models.errors import CandorError, ModelNotAvailableError
from candor.models.leads.features import build_features
from candor.models.monitoring.drift import DriftStatus, Thresholds, compare_input
from candor.models.monitoring.reference import DriftReference
from candor.models.settings import Settings
from candor.registry import LEADS, load_model, versions
from candor.registry.tracking import TrainingRun
from candor.training.fit import take_rows
from candor.training.run_summary import GateOutcome

log = logging.getLogger("candor.training")

DRIFT_ROWS = 200_000  # training rows compared at most: PSI over deciles is stable long before
ARTIFACT = "drift_vs_champion.json"
TAG = "drift.alert"

G = TypeVar("G", bound=GateOutcome)


@dataclass(frozen=True)
class ChampionDrift:
    """The new training data against the champion's reference, input by input.

    ``compared`` is False (with ``note`` saying why) when there was nothing to compare with:
    no champion yet, a champion without a reference, or too few rows.
    """

    compared: bool
    note: str
    champion_version: str | None = None
    rows: int = 0
    thresholds: Thresholds = field(default_factory=Thresholds)
    psi: dict[str, float] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    not_in_data: tuple[str, ...] = ()

    @property
    def alerts(self) -> dict[str, float]:
        """The inputs at alert and their PSI, largest first."""
        found = {n: p for n, p in self.psi.items() if self.status[n] == DriftStatus.ALERT}
        return dict(sorted(found.items(), key=lambda item: -item[1]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "note": self.note,
            "champion_version": self.champion_version,
            "training_rows_compared": self.rows,
            "thresholds": self.thresholds.to_dict(),
            "psi": dict(self.psi),
            "status": dict(self.status),
            "alert": list(self.alerts),
            "champion_inputs_not_in_data": list(self.not_in_data),
        }


def compare_with_reference(
    reference: DriftReference,
    columns: Mapping[str, Any],
    rows: np.ndarray,
    *,
    schema: Any,
    thresholds: Thresholds,
    champion_version: str | None,
) -> ChampionDrift:
    """The PSI of each reference input between the reference and ``columns`` at ``rows``,
    encoded with the champion's ``schema`` (the reference's encoded space)."""
    if len(rows) < thresholds.min_scores:
        return ChampionDrift(
            False,
            f"{len(rows)} training rows, fewer than drift_min_scores ({thresholds.min_scores}): "
            "not compared",
            champion_version,
            len(rows),
            thresholds,
        )
    matrix = build_features(take_rows(columns, rows), schema=schema, n_rows=len(rows))
    psi: dict[str, float] = {}
    status: dict[str, str] = {}
    absent = []
    for j, ref in enumerate(reference.inputs):
        if ref.name not in columns:
            absent.append(ref.name)
            continue
        found = compare_input(ref, matrix.values[:, j], matrix.unseen[:, j], thresholds)
        assert found.psi is not None  # judged: enough rows
        psi[ref.name] = found.psi
        status[ref.name] = str(found.status)
    note = f"training rows against champion v{champion_version}'s holdout reference"
    return ChampionDrift(
        True, note, champion_version, len(rows), thresholds, psi, status, tuple(absent)
    )


def champion_drift(
    columns: Mapping[str, Any], train_rows: np.ndarray, settings: Settings, *, seed: int
) -> ChampionDrift:
    """The training rows of the new data against the current champion's stored reference."""
    thresholds = Thresholds.from_settings(settings)
    current = versions.champion_version(settings, settings.lead_model_name)
    if current is None:
        return ChampionDrift(False, "first model: no champion to compare with", None)
    try:
        champion = load_model(settings, kind=LEADS).model
    except ModelNotAvailableError as exc:
        return ChampionDrift(False, f"the champion could not be loaded: {exc.message}", current)
    raw = champion.drift_reference
    if raw is None:
        return ChampionDrift(
            False,
            f"champion v{current} was trained before drift references were kept: not "
            "compared, not blocked",
            current,
        )
    rows = train_rows
    if len(rows) > DRIFT_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, DRIFT_ROWS, replace=False))
    try:
        return compare_with_reference(
            DriftReference.from_dict(raw),
            columns,
            rows,
            schema=champion.schema_,
            thresholds=thresholds,
            champion_version=current,
        )
    except (CandorError, KeyError, ValueError) as exc:  # data the champion cannot read
        message = exc.message if isinstance(exc, CandorError) else str(exc)
        return ChampionDrift(
            False,
            f"the data cannot be compared with champion v{current}'s reference: {message}",
            current,
        )


def drift_reason(drift: ChampionDrift, *, version: str) -> str | None:
    """Why the version is not promoted automatically, or None when no input is at alert."""
    alerts = drift.alerts
    if not alerts:
        return None
    named = ", ".join(f"{name} (PSI {value:.3f})" for name, value in alerts.items())
    return (
        f"drift gate: the training data drifted beyond alert (PSI >= "
        f"{drift.thresholds.alert:g}) from champion v{drift.champion_version}'s reference on "
        f"{named}; not promoted automatically: `candor models promote {version} --justify "
        '"..."` can still promote it'
    )


def drift_gate(
    gate: G,
    drift: ChampionDrift,
    *,
    run: TrainingRun,
    settings: Settings,
    version: str,
    warn: Callable[[str], None] | None = None,
) -> G:
    """The gate's decision, overruled when an input drifted beyond alert from the champion's
    reference; the comparison is logged to the run and the version tagged either way."""
    run.log_dict(drift.to_dict(), ARTIFACT)
    alerts = drift.alerts
    versions.tag_version(
        settings, settings.lead_model_name, version, {TAG: ",".join(alerts) or "none"}
    )
    reason = drift_reason(drift, version=version)
    if not drift.compared:
        log.info("drift gate: %s", drift.note)
    if reason is None:
        return gate
    if warn is not None:
        warn(f"DRIFT WARNING: {reason}")
    return replace(gate, promoted=False, reason=f"{reason} ({gate.reason})")

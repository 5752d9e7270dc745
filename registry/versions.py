"""Registered versions: the champion alias, version tags, listing, and manual promotion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from candor.models.errors import CandorError, ErrorDetail, NotFoundError
from candor.models.settings import Settings
from candor.registry.store import client_for
from candor.registry.tracking import read_run_json

if TYPE_CHECKING:
    from candor.registry.champion_moves import ChampionMove

PROMOTION_ARTIFACT = "promotion.json"


@dataclass(frozen=True)
class VersionRecord:
    """One registered version of a model, as plain values."""

    version: str
    run_id: str | None
    created_ms: int | None  # epoch milliseconds
    tags: dict[str, str]


def model_versions(settings: Settings, name: str) -> list[VersionRecord]:
    """Every registered version of ``name``, newest first; empty when there is none."""
    try:
        found = list(client_for(settings).search_model_versions(f"name='{name}'"))
    except MlflowException:
        return []
    records = [
        VersionRecord(str(v.version), v.run_id, v.creation_timestamp, dict(v.tags)) for v in found
    ]
    return sorted(records, key=lambda v: int(v.version), reverse=True)


def champion_version(settings: Settings, name: str) -> str | None:
    """The version the configured alias points at, or None when it points nowhere yet."""
    try:
        return str(
            client_for(settings).get_model_version_by_alias(name, settings.model_alias).version
        )
    except MlflowException:
        return None


def set_alias(settings: Settings, name: str, alias: str, version: str) -> None:
    """Point ``alias`` at ``version`` and nothing else: a champion's move also goes through
    :func:`move_champion`, which records it first."""
    client_for(settings).set_registered_model_alias(name, alias, version)


def move_champion(
    settings: Settings, *, name: str, version: str, how: str, why: str, by: str, run_id: str | None
) -> ChampionMove:
    """Move ``name``'s champion alias to ``version``, the move recorded in the audit log first
    (who, when, from, to, why, how): see :mod:`candor.registry.champion_moves`."""
    from candor.registry import champion_moves  # it imports this module

    return champion_moves.move_champion(
        settings, name=name, version=version, how=how, why=why, by=by, run_id=run_id
    )


def require_justification(justification: str, *, what: str = "a manual promotion") -> str:
    """The justification, stripped; an empty one raises ``justification_required``."""
    text = justification.strip()
    if not text:
        raise CandorError(
            f"{what} needs a justification: --justify 'why this version should "
            "serve' (it is recorded on the version and shown on the model card)",
            [ErrorDetail("justification", "empty")],
            code="justification_required",
        )
    return text


def find_version(settings: Settings, name: str, version: str) -> ModelVersion:
    """The registered ``version`` of ``name``.

    Raises:
        NotFoundError: no such version (the message lists the known ones).
    """
    client = client_for(settings)
    try:
        found = client.get_model_version(name, str(version)) if str(version).isdigit() else None
    except MlflowException:
        found = None
    if found is None:
        try:
            known = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
        except MlflowException:
            known = []
        raise NotFoundError(
            f"model {name!r} has no version {version!r}; known versions: {known or 'none'}",
            [ErrorDetail("version", f"unknown version {version!r}")],
        )
    return found


def tag_version(settings: Settings, name: str, version: str, tags: dict[str, str]) -> None:
    client = client_for(settings)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def promote(
    settings: Settings,
    version: str,
    *,
    justification: str,
    by: str,
    at: datetime | None = None,
    accept_leakage_risk: Sequence[str] = (),
    name: str | None = None,
    how: str = "promote",
) -> dict[str, Any]:
    """Move the lead scorer's (or ``name``'s) champion alias to ``version`` by hand, recording
    why, who, when.

    The admin path past the gate (a version that failed it, or any other). The record goes on
    the model version as tags (``promotion.justification``, ``promotion.by``,
    ``promotion.at``, ``promotion.previous_champion``) and on the version's run, as the same
    tags and appended to the run artifact ``promotion.json`` (every manual promotion of that
    version, oldest first), and the move is an audit event (``how``: ``promote``, or
    ``rollback`` from :func:`candor.registry.champion_moves.rollback`). The records are written
    before the alias moves; the audit event before anything else.

    A version trained on an input with an unresolved leakage finding (tag
    ``leakage.unresolved``) is promoted only when ``accept_leakage_risk`` names every such
    input; the acceptance is recorded with the promotion (``promotion.accepted_leakage_risk``).

    Raises:
        CandorError: an empty justification (code ``justification_required``); an unresolved
            leakage finding not accepted by name (code ``leakage_risk_not_accepted``).
        NotFoundError: no such version of the model.
    """
    from candor.registry import champion_moves  # it imports this module

    text = require_justification(
        justification, what="a rollback" if how == "rollback" else "a manual promotion"
    )
    name, alias = name or settings.lead_model_name, settings.model_alias
    client = client_for(settings)
    found = find_version(settings, name, version)
    open_findings = [n for n in found.tags.get("leakage.unresolved", "").split(",") if n]
    not_accepted = [n for n in open_findings if n not in set(accept_leakage_risk)]
    if not_accepted:
        raise CandorError(
            f"version {found.version} was trained on input(s) {not_accepted} with an unresolved "
            "leakage finding (see its model card); promote it only by accepting each risk by "
            "name: --accept-leakage-risk COLUMN",
            [ErrorDetail("accept_leakage_risk", f"not accepted: {n!r}") for n in not_accepted],
            code="leakage_risk_not_accepted",
        )
    previous = champion_version(settings, name)
    when = (at or datetime.now(UTC)).isoformat(timespec="seconds")
    record: dict[str, Any] = {
        "model": name,
        "version": str(found.version),
        "alias": alias,
        "justification": text,
        "by": by,
        "at": when,
        "previous_champion": previous,
        "gate_promoted": found.tags.get("gate.promoted"),
        "gate_reason": found.tags.get("gate.reason"),
        "fairness_passed": found.tags.get("fairness.passed"),
        "accepted_leakage_risk": sorted(open_findings),
        "how": how,
    }
    move = champion_moves.plan_move(
        settings,
        name=name,
        version=str(found.version),
        how=how,
        why=text,
        by=by,
        run_id=found.run_id,
        previous=previous,
        at=when,
        details={"accepted_leakage_risk": ",".join(sorted(open_findings))} if open_findings else {},
    )
    champion_moves.record_move(settings, move)  # before the tags: a refused move leaves none
    tags = {
        "promotion.how": how,
        "promotion.accepted_leakage_risk": ",".join(sorted(open_findings)) or "none",
        "promotion.justification": text,
        "promotion.by": by,
        "promotion.at": when,
        "promotion.previous_champion": previous or "none",
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, str(found.version), key, value)
    run_id = found.run_id
    if run_id:
        history = _promotion_history(client, run_id)
        client.log_dict(run_id, {"promotions": [*history, record]}, PROMOTION_ARTIFACT)
        for key, value in tags.items():
            client.set_tag(run_id, key, value)
    champion_moves.apply_move(settings, move)
    return record


def _promotion_history(client: MlflowClient, run_id: str) -> list[dict[str, Any]]:
    record = read_run_json(client, run_id, PROMOTION_ARTIFACT) or {}
    return list(record.get("promotions", []))

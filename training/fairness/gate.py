"""The fairness gate of promotion: its verdict on one audit.

A gated attribute (every protected attribute, and each audit segment named in
``fairness_gated``) blocks promotion with a conclusive breach of a gated metric's threshold
(``fairness_gate_metrics``; by default calibration and coverage, see
``training.fairness.thresholds`` for why), and so does a protected attribute the audit could
not compare: no evidence is not evidence of fairness (an admin can still promote with a
justification). Breaches of the other metrics, of segments not gated, and proxy alerts
(``training.fairness.proxy``) are warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from candor.models.contract import Contract
from candor.models.errors import ErrorDetail, SettingsError
from candor.training.fairness.audit import FairnessAudit
from candor.training.fairness.disparity import Violation
from candor.training.fairness.groups import PROTECTED, SEGMENT, audited_attributes
from candor.training.fairness.proxy import ProxyAssociation
from candor.training.fairness.thresholds import GateSettings


def check_gated_segments(contract: Contract, gated: Sequence[str]) -> None:
    """Fail before training when ``fairness_gated`` names no audit segment of the contract."""
    segments = [name for name, role in audited_attributes(contract) if role == SEGMENT]
    unknown = [name for name in gated if name not in segments]
    if unknown:
        raise SettingsError(
            f"fairness_gated names {unknown}, not audit segments of contract {contract.name!r}; "
            f"its audit segments: {segments} (protected attributes are always gated)",
            [ErrorDetail("fairness_gated", f"unknown audit segment {n!r}") for n in unknown],
        )


@dataclass(frozen=True)
class FairnessVerdict:
    """The gate's reading of one audit: what it warns about and what blocks promotion."""

    settings: GateSettings
    breaches: tuple[Violation, ...]  # every threshold crossed, gated or not, clear or not
    violations: tuple[Violation, ...]  # conclusive, gated metric, gated attribute: they block
    unaudited: tuple[str, ...]  # protected attributes not compared, with why: they block
    gated: tuple[str, ...]  # the audited protected attributes, then the gated segments
    proxy_alerts: tuple[ProxyAssociation, ...] = ()  # at or above the proxy threshold: warnings

    @property
    def passed(self) -> bool:
        return not self.violations and not self.unaudited

    @property
    def warnings(self) -> list[Violation]:
        """Breaches that do not block: inconclusive, or of attributes not gated."""
        return [b for b in self.breaches if b not in self.violations]

    def problems(self) -> list[str]:
        """Why the gate fails, one entry per violation and unaudited attribute."""
        found = [v.describe() for v in self.violations]
        return found + [f"protected attribute not audited: {u}" for u in self.unaudited]


def unaudited_protected(audit: FairnessAudit, contract: Contract) -> list[str]:
    """Protected attributes of the contract the audit could not compare, with why.

    Absent from the data, or fewer than two groups large enough to compare: the gate then has
    no evidence of fairness for that attribute and must not pass on silence.
    """
    found = []
    for f in contract.protected_fields:
        if f.name not in audit.names:
            found.append(f"{f.name} (not in the data)")
        elif len(audit[f.name].compared) < 2:
            found.append(f"{f.name} (fewer than two groups large enough to compare)")
    return found


def judge(audit: FairnessAudit, contract: Contract, settings: GateSettings) -> FairnessVerdict:
    """The gate's verdict on ``audit`` of a scorer for ``contract``."""
    breaches = audit.breaches(settings)
    gated = [a.attribute for a in audit.attributes if a.role == PROTECTED]
    gated += [name for name in settings.gated if name not in gated]
    alerts = [p for p in audit.proxies if p.alert(settings.proxy_threshold)]
    alerts.sort(key=lambda p: -(p.cramers_v or 0.0))
    return FairnessVerdict(
        settings=settings,
        breaches=tuple(breaches),
        violations=tuple(b for b in breaches if b.blocks),
        unaudited=tuple(unaudited_protected(audit, contract)),
        gated=tuple(gated),
        proxy_alerts=tuple(alerts),
    )

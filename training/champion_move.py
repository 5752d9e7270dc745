"""The training gate's move of the champion alias, which must not lose the run's record.

The move is recorded in the audit log before the alias moves (``registry.champion_moves``).
When it cannot be (the audit store is unreachable, the registry refuses), the version is not
promoted and the gate says why, so that the run still logs its gate and tags its version; the
move can be made later, recorded, with ``candor models promote``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TypeVar

from candor.models.errors import CandorError
from candor.models.settings import Settings
from candor.registry import versions
from candor.training.run_summary import GateOutcome

log = logging.getLogger("candor.training")
G = TypeVar("G", bound=GateOutcome)


def move_by_gate(settings: Settings, gate: G, *, name: str, version: str, run_id: str) -> G:
    """Make ``version`` of ``name`` the champion as ``gate`` decided; the gate as it stands."""
    try:
        versions.move_champion(
            settings,
            name=name,
            version=version,
            how="gate",
            why=gate.reason,
            by="training gate",
            run_id=run_id,
        )
    except CandorError as exc:
        log.error("champion not moved to %s version %s: %s", name, version, exc.message)
        return replace(
            gate,
            promoted=False,
            reason=f"{gate.reason}; but NOT promoted: the move could not be recorded "
            f"({exc.code}: {exc.message}); promote it with `candor models promote {version} "
            "--justify ...` once that is mended",
        )
    return gate

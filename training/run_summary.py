"""What both training pipelines return: the run, the registered version and the champion
gate's decision (each pipeline adds its own metric and results)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar


@dataclass
class GateOutcome:
    """The champion gate's decision: promote the new version or not, and why (in words)."""

    promoted: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


GateT = TypeVar("GateT", bound=GateOutcome)


@dataclass
class RunSummary(Generic[GateT]):
    run_id: str
    model_name: str
    version: str
    gate: GateT

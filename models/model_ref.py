"""What every stored or answered result names so that it can be reproduced."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class ModelRef:
    """The registered model version behind a result, and the contract it read its inputs with."""

    name: str
    version: str
    run_id: str
    contract: str  # the contract's version tag: name@version+fingerprint

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

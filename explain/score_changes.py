"""Why a lead's score changed between two of its scores: the change split into parts that add up.

Both scores are explained in log-odds (TreeSHAP: ``base value + sum of contributions ==
margin``). Between two scores of one model version, the change of the margin is the sum of the
change of each input's contribution. Between two versions, the change is split in two, each
part measured once:

- the model's part: the new model on the old inputs against the old model on the old inputs
  (``f_new(x_old) - f_old(x_old)``), the change a new champion alone would have made;
- each input's part: its contribution under the new model on the new inputs against its
  contribution under the new model on the old inputs (``phi_new(x_new) - phi_new(x_old)``).

So ``old margin + model part + sum of input parts == new margin`` holds as an identity of the
stored numbers; what is left (``residual``) is floating-point rounding and is reported.
An input's part can be non-zero while its value stayed the same: in a tree model an input's
contribution depends on the other inputs' values, and the text says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from candor.models.contract import Contract, Field

UNCHANGED = 1e-12  # a part smaller than this (log-odds) is no change at all
RULE = (
    "from.margin + model_part + sum of the parts == to.margin (log-odds, to rounding). "
    "Each input's part is its contribution at the later score minus its contribution at the "
    "earlier one, both under the later score's model; the model's part (only when the versions "
    "differ) is the later model on the earlier inputs minus the earlier model on them. The "
    "score and the grade follow from the margin through the model's calibration."
)


@dataclass(frozen=True)
class ScoreSnapshot:
    """One stored score, as the change needs it.

    Attributes:
        names: the model's inputs, in its order.
        values: the human value of each input (None: not recorded or withheld).
        contributions: one per input, then the base value (log-odds), shape (k + 1,).
        margin: the model's raw output (log-odds) as stored with the score.
    """

    score_id: str
    at: str
    model_version: str
    score: float
    grade: str
    margin: float
    names: tuple[str, ...]
    values: tuple[Any, ...]
    contributions: tuple[float, ...]
    withheld: frozenset[str] = frozenset()
    unseen: frozenset[str] = frozenset()
    model_run: str = ""  # the training run of its model (a version number names one per registry)

    def same_model(self, other: ScoreSnapshot) -> bool:
        return (self.model_version, self.model_run) == (other.model_version, other.model_run)


@dataclass(frozen=True)
class InputPart:
    name: str
    label: str
    from_value: Any
    to_value: Any
    change: float  # log-odds
    text: str


@dataclass(frozen=True)
class ModelPart:
    from_version: str
    to_version: str
    change: float  # log-odds
    text: str
    # the new model's calibrated score of the old inputs (its calibration is new too): the
    # score path old score -> this -> new score
    score_on_old_inputs: float | None = None


@dataclass(frozen=True)
class ScoreChange:
    old: ScoreSnapshot
    new: ScoreSnapshot
    model_part: ModelPart | None
    parts: tuple[InputPart, ...]  # largest change first; inputs whose part is zero left out
    unchanged: tuple[str, ...]  # inputs whose part is zero

    @property
    def total(self) -> float:
        """Sum of the parts (log-odds): the model's and every input's."""
        model = self.model_part.change if self.model_part is not None else 0.0
        return model + float(sum(p.change for p in self.parts))

    @property
    def residual(self) -> float:
        """``old margin + parts - new margin``: rounding only."""
        return self.old.margin + self.total - self.new.margin

    def summary(self) -> str:
        head = (
            f"Score went from {self.old.score:.2f} (grade {self.old.grade}) to "
            f"{self.new.score:.2f} (grade {self.new.grade})"
        )
        if not self.parts and self.model_part is None:
            return f"{head}; nothing the model reads changed."
        moved: list[InputPart | ModelPart] = [*self.parts]
        if self.model_part is not None:
            moved.append(self.model_part)
        moved.sort(key=lambda p: -abs(p.change))
        biggest = moved[0]
        what = biggest.label if isinstance(biggest, InputPart) else "the new model version"
        return f"{head}; the largest part is {what} ({biggest.change:+.2f} log-odds)."


def decompose(
    old: ScoreSnapshot,
    new: ScoreSnapshot,
    *,
    contract: Contract,
    new_model_on_old: Sequence[float] | None = None,
    new_score_on_old: float | None = None,
) -> ScoreChange:
    """Split ``new.margin - old.margin`` into the model's part and each input's part.

    Args:
        contract: the new score's data contract (the labels of its inputs).
        new_model_on_old: the new model's contributions (one per new input, then its base
            value) on the old score's inputs, re-encoded for the new model; needed when the
            two scores came from different model versions.
        new_score_on_old: the new model's calibrated score of those inputs (reported beside
            the model's part: the parts add up on the margin, the score follows from it).

    Raises:
        ValueError: the versions differ and ``new_model_on_old`` is missing or of the wrong
            length.
    """
    k = len(new.names)
    fields = {f.name: f for f in contract.fields}
    old_values = dict(zip(old.names, old.values, strict=True))
    new_phi = np.asarray(new.contributions, dtype=np.float64)
    model_part: ModelPart | None = None
    if old.same_model(new):
        if old.names != new.names:
            raise ValueError("two scores of one model version have different inputs")
        before = np.asarray(old.contributions, dtype=np.float64)
    else:
        if new_model_on_old is None or len(new_model_on_old) != k + 1:
            raise ValueError(
                f"scores of versions {old.model_version} and {new.model_version}: the new "
                f"model's {k + 1} contributions on the old inputs are needed"
            )
        before = np.asarray(new_model_on_old, dtype=np.float64)
        change = float(before.sum()) - old.margin  # f_new(x_old) - f_old(x_old)
        on_old = (
            ""
            if new_score_on_old is None
            else f"; the new model scores the old inputs {new_score_on_old:.2f}"
        )
        model_part = ModelPart(
            old.model_version,
            new.model_version,
            change,
            f"Model changed from version {old.model_version} to {new.model_version} "
            f"(the new model on the old inputs against the old one): {change:+.2f}{on_old}",
            new_score_on_old,
        )
    parts: list[InputPart] = []
    unchanged: list[str] = []
    for j, name in enumerate(new.names):
        change = float(new_phi[j] - before[j])
        if abs(change) < UNCHANGED:
            unchanged.append(name)
            continue
        field = fields.get(name)
        label = field.label if field is not None else name
        was = _shown(old_values.get(name), name, old, known=name in old_values)
        now = _shown(new.values[j], name, new, known=True)
        parts.append(
            InputPart(
                name,
                label,
                old_values.get(name),
                new.values[j],
                change,
                _text(label, was, now, change, field),
            )
        )
    parts.sort(key=lambda p: -abs(p.change))
    return ScoreChange(old, new, model_part, tuple(parts), tuple(unchanged))


def _shown(value: Any, name: str, snapshot: ScoreSnapshot, *, known: bool) -> str:
    if not known:
        return f"not an input of version {snapshot.model_version}"
    if name in snapshot.withheld:
        return "withheld"
    if name in snapshot.unseen:
        return "a value not seen in training"
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _text(label: str, was: str, now: str, change: float, field: Field | None) -> str:
    unit = f" {field.unit}" if field is not None and field.unit and now[:1].isdigit() else ""
    if was == now:
        return (
            f"{label} stayed {now}{unit}; its effect changed with the other inputs: {change:+.2f}"
        )
    return f"{label} went from {was} to {now}{unit}: {change:+.2f}"

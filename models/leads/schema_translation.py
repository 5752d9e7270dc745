"""An encoded input row of one model version, as another version's input row."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

from candor.models.contract import Kind
from candor.models.leads.features import FeatureSchema


def translate_row(
    encoded: Sequence[float | None],
    *,
    source: FeatureSchema,
    target: FeatureSchema,
    missing: Collection[str] = (),
) -> np.ndarray:
    """``encoded`` (an input row under ``source``) as an input row under ``target``.

    Numbers and flags carry over as they are; a category carries over by its name (NaN when
    ``target`` never saw it: the model then reads it as missing, as serving does). An input
    ``source`` did not have, and any name in ``missing`` (a withheld or unseen value, which
    the source model read as missing too), is NaN.
    """
    at = {name: j for j, name in enumerate(source.names)}
    row = np.full(len(target.specs), np.nan, dtype=np.float64)
    for j, spec in enumerate(target.specs):
        i = at.get(spec.name)
        if i is None or spec.name in missing:
            continue
        value = encoded[i]
        if value is None or math.isnan(float(value)):
            continue
        was = source.specs[i]
        if spec.kind is Kind.CATEGORICAL:
            if was.kind is not Kind.CATEGORICAL:
                continue
            code = target.lookup(j).get(was.categories[int(value)])
            row[j] = np.nan if code is None else float(code)
        elif was.kind is Kind.CATEGORICAL:
            continue  # a category became a number: nothing the new model can read
        else:
            row[j] = float(value)
    return row

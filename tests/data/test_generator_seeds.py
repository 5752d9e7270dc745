"""Both sample generators: the seed, and only the seed, decides the frame they draw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pytest

from candor.data_samples.generate_leads import generate_leads
from candor.data_samples.generate_sales import generate_sales
from candor.models.contract import HCP_LEADS


@dataclass(frozen=True)
class Seeded:
    generate: Callable[[int], pd.DataFrame]  # seed -> frame
    same: list[str]  # columns that do not depend on the seed
    varies: list[str]  # columns that must


GENERATORS = {
    "leads": Seeded(
        generate=lambda seed: generate_leads(rows=300, seed=seed),
        same=["lead_id"],
        varies=[name for name in HCP_LEADS.names if name != "lead_id"],
    ),
    "sales": Seeded(
        generate=lambda seed: generate_sales(weeks=60, seed=seed), same=["week"], varies=["units"]
    ),
}


@pytest.mark.parametrize("generator", GENERATORS.values(), ids=GENERATORS.keys())
def test_the_seed_decides_the_frame(generator: Seeded) -> None:
    pd.testing.assert_frame_equal(generator.generate(5), generator.generate(5))
    a, b = generator.generate(5), generator.generate(6)
    assert a[generator.same].equals(b[generator.same])
    assert not a[generator.varies].equals(b[generator.varies])

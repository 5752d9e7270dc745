"""Draws both sample generators make: over-dispersed counts."""

from __future__ import annotations

import numpy as np


def gamma_poisson(
    rng: np.random.Generator, mean: np.ndarray | float, *, shape: float, size: int
) -> np.ndarray:
    """Poisson counts around ``mean`` on a multiplicative Gamma(``shape``, 1 / ``shape``)
    shock (mean 1): a smaller ``shape`` spreads the counts more than Poisson alone would."""
    return rng.poisson(mean * rng.gamma(shape, 1.0 / shape, size=size))

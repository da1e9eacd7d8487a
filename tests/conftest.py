"""Shared fixtures: small neighbourhoods that run in a fraction of a second."""

import numpy as np
import pytest

from model import NeighbourhoodModel, run

SMALL = {"n_residents": 1000, "weeks": 104, "burn_in_weeks": 26}


def mean_summary(seeds=range(3), **overrides) -> dict[str, float]:
    """Mean summary over a few seeds of a small neighbourhood (common random numbers)."""
    rows = [run(seed=s, collect=False, **{**SMALL, **overrides})[0] for s in seeds]
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


@pytest.fixture
def small_model():
    def make(seed: int = 0, **overrides) -> NeighbourhoodModel:
        return NeighbourhoodModel({**SMALL, **overrides}, rng=seed)

    return make

"""The sensitivity methods by name, and the steps that dispatch on a method's name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from experiments.sensitivity.morris import Morris
from experiments.sensitivity.problem import Method, SensitivityError, salib_spec
from experiments.sensitivity.sobol import Sobol

#: The methods by name (``wijkteam sa morris|sobol``).
METHODS: dict[str, Method] = {m.name: m for m in (Morris(), Sobol())}


def method_of(name: str) -> Method:
    """The method called ``name``, or a :class:`SensitivityError` naming the choices."""
    if name not in METHODS:
        raise SensitivityError(f"unknown method '{name}'; choose {' or '.join(METHODS)}")
    return METHODS[name]


def check_n(method: str, n: int) -> None:
    """Sobol' needs N a power of two (at least 4); Morris at least 2 trajectories."""
    method_of(method).check_n(n)


def block_size(method: str, num_vars: int, second_order: bool = False) -> int:
    """Rows per trajectory (Morris) or per base row (Saltelli, SALib's row order)."""
    return method_of(method).block_size(num_vars, second_order)


def draw_sample(
    method: str,
    prob: Mapping[str, Any],
    n: int,
    *,
    seed: int = 0,
    second_order: bool = False,
    num_levels: int = 4,
) -> np.ndarray:
    """The SALib sample: Morris ``n`` trajectories of D+1 rows, or Saltelli/Sobol' with
    ``n`` base rows of D+2 (2D+2 with second order) rows each, clipped to the bounds."""
    chosen = method_of(method)
    chosen.check_n(n)
    sp = salib_spec(prob)
    chosen.sample(sp, n, seed=seed, second_order=second_order, num_levels=num_levels)
    bounds = np.asarray(prob["bounds"], dtype=float)
    return np.clip(np.asarray(sp.samples, dtype=float), bounds[:, 0], bounds[:, 1])

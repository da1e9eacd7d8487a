"""Sobol' indices from a Saltelli sample (SALib): S1, ST (and S2) per lever and output.

Sobol' indices are shares of the output variance (0-1): ST is the share that would
disappear if the lever were fixed (its own effect and all its interactions), S1 the share
due to the lever alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from SALib import ProblemSpec

from experiments.sensitivity.problem import (
    CONF_LEVEL,
    NUM_RESAMPLES,
    Method,
    SensitivityError,
    results_by_output,
    salib_spec,
    subset_sizes,
)

#: ST moving by more than this between N/2 and N means the indices have not settled.
UNSETTLED = 0.1


class Sobol(Method):
    """Saltelli's scheme: ``n`` base rows of D+2 (2D+2 with second order) points."""

    name = "sobol"
    default_n = 256
    key = "ST"
    conf = "ST_conf"

    def check_n(self, n: int) -> None:
        if n < 4 or n & (n - 1):
            raise SensitivityError(f"Sobol' analysis needs --n a power of two (4, 8, ..., 256), not {n}")

    def block_size(self, num_vars: int, second_order: bool = False) -> int:
        return 2 * num_vars + 2 if second_order else num_vars + 2

    def sample(self, sp: ProblemSpec, n: int, *, seed: int, second_order: bool, num_levels: int) -> None:
        sp.sample_sobol(n, calc_second_order=second_order, seed=seed)

    def analyse(self, prob, sample, means, outputs, n, *, second_order, num_levels, seed):
        return analyse_sobol(prob, sample, means, outputs, n, second_order=second_order, seed=seed)

    def convergence_warning(self, label: str, change: float) -> str | None:
        if change > UNSETTLED:
            return (
                f"{label}: ST still moves by up to {change:.2f} between N/2 and N; "
                "the indices have not settled (increase --n)."
            )
        return None

    def design_info(self, *, second_order: bool, num_levels: int) -> dict[str, Any]:
        return {"second_order": second_order, "num_levels": None}


def analyse_sobol(
    prob: Mapping[str, Any],
    sample: np.ndarray,
    means: pd.DataFrame,
    outputs: Sequence[str],
    n: int,
    *,
    second_order: bool = False,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """SALib Sobol' indices at N/4, N/2 and N (the first base rows of the Saltelli sample).

    Returns ``(indices, convergence, second_order_indices)``.
    """
    block = Sobol().block_size(len(prob["names"]), second_order)
    conv_rows, s2_rows = [], []
    for size in subset_sizes(n, 2):
        rows = size * block
        y = means[list(outputs)].to_numpy(dtype=float)[:rows]
        sp = (
            salib_spec(prob, outputs)
            .set_samples(sample[:rows])
            .set_results(y if len(outputs) > 1 else y[:, 0])
        )
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sp.analyze_sobol(
                calc_second_order=second_order,
                num_resamples=NUM_RESAMPLES,
                conf_level=CONF_LEVEL,
                seed=np.random.default_rng(seed),
            )
        results = results_by_output(sp, outputs)
        constant = [not np.nanstd(y[:, k]) > 0 for k in range(len(outputs))]
        conv_rows += _rows_at_size(prob["names"], results, outputs, constant, size)
        if size == n and second_order:
            s2_rows = _second_order_rows(prob["names"], results, outputs, constant)
    convergence = pd.DataFrame(conv_rows)
    indices = convergence[convergence["n"] == n].drop(columns="n").reset_index(drop=True)
    indices["rank"] = indices.groupby("output")["ST"].rank(ascending=False, method="first").astype(int)
    indices["ci_wider_than_index"] = indices["ST_conf"] > indices["ST"].abs()
    return indices, convergence, pd.DataFrame(s2_rows) if second_order else None


def _rows_at_size(
    names: Sequence[str],
    results: Mapping[str, Any],
    outputs: Sequence[str],
    constant: Sequence[bool],
    size: int,
) -> list[dict[str, Any]]:
    """One row per output and lever; an output that does not vary has indices 0."""
    rows = []
    for out, flat in zip(outputs, constant, strict=True):
        res = results[out]
        for j, name in enumerate(names):
            row: dict[str, Any] = {"output": out, "parameter": name, "n": size}
            for key in ("S1", "S1_conf", "ST", "ST_conf"):
                row[key] = 0.0 if flat else float(res[key][j])
            rows.append(row)
    return rows


def _second_order_rows(
    names: Sequence[str], results: Mapping[str, Any], outputs: Sequence[str], constant: Sequence[bool]
) -> list[dict[str, Any]]:
    """S2 and its interval for every pair of levers (outputs that vary)."""
    rows = []
    for out, flat in zip(outputs, constant, strict=True):
        if flat:
            continue
        res = results[out]
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                rows.append(
                    {
                        "output": out,
                        "parameter_1": names[a],
                        "parameter_2": names[b],
                        "S2": float(res["S2"][a, b]),
                        "S2_conf": float(res["S2_conf"][a, b]),
                    }
                )
    return rows

"""Morris screening (elementary effects, SALib): μ, μ*, σ per lever and output.

μ* and σ are in the output's unit per full range of the lever (SALib's elementary effect
on the unit hypercube): "moving this lever from its low to its high bound changes the KPI
by about μ*". σ's interval, which SALib does not give, is a bootstrap over trajectories.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from SALib import ProblemSpec
from scipy.stats import norm

from experiments.sensitivity.problem import (
    CONF_LEVEL,
    NUM_RESAMPLES,
    Method,
    SensitivityError,
    results_by_output,
    salib_spec,
    subset_sizes,
)


class Morris(Method):
    """Morris trajectories of D+1 points on a grid of ``num_levels`` levels per lever."""

    name = "morris"
    default_n = 20
    key = "mu_star"
    conf = "mu_star_conf"

    def check_n(self, n: int) -> None:
        if n < 2:
            raise SensitivityError(f"Morris screening needs at least 2 trajectories, not {n}")

    def block_size(self, num_vars: int, second_order: bool = False) -> int:
        return num_vars + 1

    def sample(self, sp: ProblemSpec, n: int, *, seed: int, second_order: bool, num_levels: int) -> None:
        if num_levels < 2:
            raise SensitivityError(f"Morris screening needs at least 2 levels per lever, not {num_levels}")
        sp.sample_morris(n, num_levels=num_levels, seed=seed)

    def analyse(self, prob, sample, means, outputs, n, *, second_order, num_levels, seed):
        indices, convergence = analyse_morris(
            prob, sample, means, outputs, n, num_levels=num_levels, seed=seed
        )
        return indices, convergence, None

    def last_change(self, last: pd.Series, prev: pd.Series) -> float:
        """Relative to the largest μ* (μ* is in the output's unit)."""
        scale = last.abs().max()
        return float((last - prev).abs().max() / scale) if scale > 0 else 0.0

    def design_info(self, *, second_order: bool, num_levels: int) -> dict[str, Any]:
        return {"second_order": None, "num_levels": num_levels}


def elementary_effects(prob: Mapping[str, Any], sample: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Morris elementary effects, shape (trajectories, parameters), in output units per full
    range of the parameter (the definition SALib uses)."""
    names = list(prob["names"])
    d = len(names)
    bounds = np.asarray(prob["bounds"], dtype=float)
    unit = (sample - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])
    t = len(sample) // (d + 1)
    x = unit.reshape(t, d + 1, d)
    dx = np.diff(x, axis=1)  # (t, d steps, d params): one parameter moves per step
    moved = np.abs(dx).argmax(axis=2)
    step = np.take_along_axis(dx, moved[:, :, None], axis=2)[:, :, 0]
    dy = np.diff(y.reshape(t, d + 1), axis=1)
    ee = np.zeros((t, d))
    np.put_along_axis(ee, moved, dy / step, axis=1)
    return ee


def analyse_morris(
    prob: Mapping[str, Any],
    sample: np.ndarray,
    means: pd.DataFrame,
    outputs: Sequence[str],
    n: int,
    *,
    num_levels: int = 4,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SALib Morris μ, μ*, σ and μ*'s confidence interval at N/4, N/2 and N trajectories;
    σ's interval (which SALib does not give) from a bootstrap over trajectories.

    Returns ``(indices, convergence)``.
    """
    names = list(prob["names"])
    block = len(names) + 1
    conv_rows = []
    for size in subset_sizes(n, 2):
        rows = size * block
        y = means[list(outputs)].to_numpy(dtype=float)[:rows]
        sp = (
            salib_spec(prob, outputs)
            .set_samples(sample[:rows])
            .set_results(y if len(outputs) > 1 else y[:, 0])
        )
        sp.analyze_morris(
            num_levels=num_levels, num_resamples=NUM_RESAMPLES, conf_level=CONF_LEVEL, seed=seed
        )
        conv_rows += _rows_at_size(
            prob, sample[:rows], y, results_by_output(sp, outputs), outputs, size, seed
        )
    convergence = pd.DataFrame(conv_rows)
    indices = convergence[convergence["n"] == n].drop(columns="n").reset_index(drop=True)
    indices["rank"] = indices.groupby("output")["mu_star"].rank(ascending=False, method="first").astype(int)
    indices["ci_wider_than_index"] = indices["mu_star_conf"] > indices["mu_star"]
    return indices, convergence


def _rows_at_size(
    prob: Mapping[str, Any],
    sample: np.ndarray,
    y: np.ndarray,
    results: Mapping[str, Any],
    outputs: Sequence[str],
    size: int,
    seed: int,
) -> list[dict[str, Any]]:
    """One row per output and lever from the first ``size`` trajectories."""
    z = norm.ppf(0.5 + CONF_LEVEL / 2)
    rng = np.random.default_rng(seed)
    rows = []
    for k, out in enumerate(outputs):
        res = results[out]
        ee = elementary_effects(prob, sample, y[:, k])
        boot = rng.integers(size, size=(NUM_RESAMPLES, size))
        sigma_conf = z * ee[boot].std(axis=1, ddof=1).std(axis=0, ddof=1)
        for j, name in enumerate(prob["names"]):
            rows.append(
                {
                    "output": out,
                    "parameter": name,
                    "n": size,
                    "mu": float(res["mu"][j]),
                    "mu_star": float(res["mu_star"][j]),
                    "mu_star_conf": float(res["mu_star_conf"][j]),
                    "sigma": float(res["sigma"][j]),
                    "sigma_conf": float(sigma_conf[j]),
                }
            )
    return rows

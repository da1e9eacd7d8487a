"""Fitting the behaviour parameters to the targets (simulated method of moments).

The loss of a parameter vector is the sum over the fitted targets of the squared
standardised deviation ``((mean simulated KPI - target) / tolerance)^2``; the mean is over
a fixed list of seeds shared by every vector (common random numbers), so differences in
loss between vectors are not blurred by chance. SciPy's ``differential_evolution``
minimises it over the behaviour parameters named in ``targets.toml`` (never the policy
levers), evaluating each generation as one batch on the process pool.

After the fit, :func:`profile` varies one parameter at a time over its search range, the
others held at the fitted values: a parameter whose loss profile stays flat is not pinned
down by the targets (identifiability), and must be covered by sensitivity analysis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import differential_evolution

from calibration.runs import Simulator
from calibration.targets import Target, TargetSet
from model.params import REGISTRY, validate

#: Population size multiplier of differential evolution (population = POPSIZE x parameters).
POPSIZE = 5
#: A loss increase of 1 is one target moving one tolerance away: the profile threshold.
PROFILE_DELTA = 1.0


@dataclass
class FitResult:
    """What a calibration found."""

    names: list[str]
    best: dict[str, float]
    best_loss: float
    default_loss: float
    history: pd.DataFrame
    evaluations: int
    seeds: list[int]
    message: str
    elapsed_s: float
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)


def scenarios_of(targets: Sequence[Target]) -> list[dict[str, Any]]:
    """The distinct scenarios the targets are measured in (the defaults first)."""
    out: list[dict[str, Any]] = [{}]
    for t in targets:
        if not t.is_input and t.scenario not in out:
            out.append(dict(t.scenario))
    return out


def simulate_targets(
    simulator: Simulator,
    targets: Sequence[Target],
    candidates: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
) -> list[pd.DataFrame]:
    """For each candidate (overrides), a frame of runs: one row per scenario and seed."""
    scen = scenarios_of(targets)
    points = [{**dict(c), **s} for c in candidates for s in scen]
    runs = simulator.batch(points, seeds)
    runs["candidate"] = runs["point"] // len(scen)
    runs["scenario"] = runs["point"] % len(scen)
    return [runs[runs["candidate"] == i] for i in range(len(candidates))]


def target_values(
    targets: Sequence[Target], runs: pd.DataFrame, params: Mapping[str, Any]
) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation over seeds of each target's KPI (inputs: the value, 0)."""
    scen = scenarios_of(targets)
    p = validate(dict(params))
    out = {}
    for t in targets:
        if t.is_input:
            out[t.name] = (float(p[t.kpi[6:]]), 0.0)
            continue
        sub = runs[runs["scenario"] == scen.index(t.scenario)]
        x = sub[t.kpi].to_numpy(float) if t.kpi in sub else np.array([math.nan])
        x = x[np.isfinite(x)]
        out[t.name] = (
            (float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else 0.0)
            if x.size
            else (
                math.nan,
                math.nan,
            )
        )
    return out


def loss_of(targets: Sequence[Target], values: Mapping[str, tuple[float, float]]) -> float:
    """Sum of squared standardised deviations over the fitted targets."""
    return float(sum(t.deviation(values[t.name][0]) ** 2 for t in targets if t.fit))


def fit(
    target_set: TargetSet,
    simulator: Simulator,
    seeds: Sequence[int],
    budget: int = 60,
    rng_seed: int = 0,
    progress: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Differential evolution over the fit parameters; ``budget`` parameter vectors at most.

    The registry defaults are one member of the initial population, so the fit never
    returns a vector worse than the defaults on the same seeds.
    """
    start = time.monotonic()
    params = target_set.fit_parameters
    names = [f.name for f in params]
    bounds = [(f.low, f.high) for f in params]
    fitted = [t for t in target_set.targets if t.fit]
    history: list[dict[str, Any]] = []
    all_runs: list[pd.DataFrame] = []

    def batch_loss(x: np.ndarray) -> np.ndarray:
        # vectorized: x has shape (n_parameters, n_candidates)
        cands = [{n: _cast(n, v) for n, v in zip(names, col, strict=True)} for col in x.T]
        frames = simulate_targets(simulator, fitted, cands, seeds)
        losses = []
        for cand, runs in zip(cands, frames, strict=True):
            values = target_values(fitted, runs, cand)
            loss = loss_of(fitted, values)
            losses.append(loss)
            history.append(
                {"evaluation": len(history), **cand, "loss": loss, **{k: v[0] for k, v in values.items()}}
            )
            all_runs.append(runs.assign(evaluation=len(history) - 1))
        if progress:
            progress(len(history), min(h["loss"] for h in history))
        return np.asarray(losses)

    defaults = np.array([float(REGISTRY[n].default) for n in names])
    x0 = np.clip(defaults, [b[0] for b in bounds], [b[1] for b in bounds])
    population = POPSIZE * len(names)
    maxiter = max(0, budget // population - 1)
    result = _evolve(batch_loss, bounds, x0, maxiter, rng_seed)
    hist = pd.DataFrame(history)
    default_loss = _default_loss(hist, names, x0)
    best_row = hist.loc[hist["loss"].idxmin()]
    best = {n: _cast(n, best_row[n]) for n in names}
    return FitResult(
        names=names,
        best=best,
        best_loss=float(best_row["loss"]),
        default_loss=default_loss,
        history=hist,
        evaluations=len(hist),
        seeds=list(seeds),
        message=str(result.message),
        elapsed_s=time.monotonic() - start,
        runs=pd.concat(all_runs, ignore_index=True) if all_runs else pd.DataFrame(),
    )


def _evolve(
    batch_loss: Callable[[np.ndarray], np.ndarray],
    bounds: list[tuple[float, float]],
    x0: np.ndarray,
    maxiter: int,
    rng_seed: int,
) -> Any:
    """SciPy's differential evolution, one vectorised batch per generation, no polishing."""
    return differential_evolution(
        batch_loss,
        bounds,
        popsize=POPSIZE,
        maxiter=maxiter,
        init="latinhypercube",
        x0=x0,
        seed=rng_seed,
        polish=False,
        vectorized=True,
        updating="deferred",
        tol=0.0,
        mutation=(0.5, 1.0),
        recombination=0.7,
    )


def _default_loss(hist: pd.DataFrame, names: list[str], x0: np.ndarray) -> float:
    match = np.all(np.isclose(hist[names].to_numpy(float), x0), axis=1)
    return float(hist.loc[match, "loss"].iloc[0]) if match.any() else math.nan


def _cast(name: str, value: float) -> float | int:
    p = REGISTRY[name]
    return int(round(value)) if p.type is int else float(value)


def fit_table(
    target_set: TargetSet,
    simulator: Simulator,
    seeds: Sequence[int],
    vectors: Mapping[str, Mapping[str, Any]],
) -> pd.DataFrame:
    """Each target against each named parameter vector: simulated mean, spread, within tolerance."""
    targets = list(target_set.targets)
    frames = simulate_targets(simulator, targets, list(vectors.values()), seeds)
    rows = []
    for t in targets:
        row = {
            "target": t.name,
            "kpi": t.kpi,
            "value": t.value,
            "tolerance": t.tolerance,
            "bound": t.bound,
            "fitted": t.fit,
            "role": t.role,
            "source": t.citation,
        }
        for label, runs, vec in zip(vectors, frames, vectors.values(), strict=True):
            mean, sd = target_values(targets, runs, vec)[t.name]
            row[f"{label}_mean"] = mean
            row[f"{label}_sd"] = sd
            row[f"{label}_within"] = t.within(mean)
        rows.append(row)
    return pd.DataFrame(rows)


def profile(
    target_set: TargetSet,
    simulator: Simulator,
    seeds: Sequence[int],
    best: Mapping[str, Any],
    points: int = 5,
) -> pd.DataFrame:
    """Loss profile: each fit parameter over ``points`` values in its range (and its fitted
    value), the others at ``best``.

    Returns one row per (parameter, value) with the loss and each target's simulated mean.
    """
    fitted = [t for t in target_set.targets if t.fit]
    cands, labels = [], []
    for f in target_set.fit_parameters:
        grid = np.union1d(np.linspace(f.low, f.high, points), [float(best[f.name])])
        for v in grid:
            cands.append({**dict(best), f.name: _cast(f.name, v)})
            labels.append((f.name, float(v)))
    frames = simulate_targets(simulator, fitted, cands, seeds)
    rows = []
    for (name, v), cand, runs in zip(labels, cands, frames, strict=True):
        values = target_values(fitted, runs, cand)
        rows.append(
            {
                "parameter": name,
                "value": v,
                "loss": loss_of(fitted, values),
                **{k: m for k, (m, _) in values.items()},
            }
        )
    return pd.DataFrame(rows)


def sensitivity(prof: pd.DataFrame, target_set: TargetSet) -> pd.DataFrame:
    """Target movement over each parameter's search range, in tolerances.

    The slope of each target's simulated mean against the parameter (least squares over
    the profile grid, which averages out run-to-run noise) times the search range, divided
    by the target's tolerance. Rows: parameters; columns: fitted targets.
    """
    bounds = {f.name: (f.low, f.high) for f in target_set.fit_parameters}
    fitted = [t for t in target_set.targets if t.fit]
    rows = {}
    for name, sub in prof.groupby("parameter", sort=False):
        low, high = bounds[name]
        x = sub["value"].to_numpy(float)
        rows[name] = {
            t.name: float(np.polyfit(x, sub[t.name].to_numpy(float), 1)[0] * (high - low) / t.tolerance)
            for t in fitted
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def identifiability(prof: pd.DataFrame, target_set: TargetSet, best_loss: float) -> pd.DataFrame:
    """Per parameter: how far the targets move over its search range, and a verdict.

    ``joint_share`` (0-1) is the part of the parameter's axis that lies in the directions
    the targets pin down together (singular values of the sensitivity matrix of at least 1):
    with fewer targets than parameters some combinations are not pinned at all, and a
    parameter mostly in them is not identified even if it moves a target on its own.

    ``swing`` is the largest range (max - min over the profile grid) of a fitted target's
    simulated mean, in tolerances, which also catches non-monotone responses; ``slope`` is
    the linear movement over the search range (see :func:`sensitivity`). A parameter is
    *pinned* when it moves a target by at least 2 tolerances and its joint share is at least
    0.7, *partly pinned* from 1 tolerance and a joint share of 0.3, otherwise *not pinned*. The loss profile
    adds the range of values whose loss stays within ``PROFILE_DELTA`` of the best (a
    conditional profile: the others held at the fitted values, so trade-offs between
    parameters are not seen there; :func:`joint_identifiability` shows them).
    """
    sens = sensitivity(prof, target_set)
    leverage = _leverage(sens)
    bounds = {f.name: (f.low, f.high) for f in target_set.fit_parameters}
    fitted = [t for t in target_set.targets if t.fit]
    rows = []
    for name, sub in prof.groupby("parameter", sort=False):
        low, high = bounds[name]
        floor = min(best_loss, sub["loss"].min())
        ok = sub[sub["loss"] <= floor + PROFILE_DELTA]["value"]
        ranges = {t.name: float(sub[t.name].max() - sub[t.name].min()) / t.tolerance for t in fitted}
        driver = max(ranges, key=ranges.get)
        swing = ranges[driver]
        rows.append(
            {
                "parameter": name,
                "loss_min": float(sub["loss"].min()),
                "loss_max": float(sub["loss"].max()),
                "acceptable_low": float(ok.min()) if len(ok) else math.nan,
                "acceptable_high": float(ok.max()) if len(ok) else math.nan,
                "acceptable_share": float((ok.max() - ok.min()) / (high - low)) if len(ok) else 0.0,
                "strongest_target": driver,
                "swing_in_tolerances": swing,
                "slope_in_tolerances": float(sens.loc[name, driver]),
                "joint_share": leverage[name],
                "verdict": _verdict(swing, leverage[name]),
            }
        )
    return pd.DataFrame(rows)


def _leverage(sens: pd.DataFrame) -> dict[str, float]:
    m = sens.to_numpy(float).T  # targets x parameters
    _, s, vt = np.linalg.svd(m, full_matrices=True)
    rows = vt[: len(s)][s >= 1.0]
    share = (rows**2).sum(axis=0) if rows.size else np.zeros(m.shape[1])
    return {name: float(v) for name, v in zip(sens.index, share, strict=True)}


def _verdict(swing: float, joint: float) -> str:
    if swing >= 2.0 and joint >= 0.7:
        return "pinned"
    if swing >= 1.0 and joint >= 0.3:
        return "partly pinned"
    return "not pinned"


def joint_identifiability(prof: pd.DataFrame, target_set: TargetSet) -> tuple[list[float], list[str]]:
    """Singular values of the sensitivity matrix and the parameter combinations the targets
    cannot tell apart (right singular vectors with singular value under 1, and the null
    space when there are more parameters than targets), described by their main loadings."""
    sens = sensitivity(prof, target_set)
    m = sens.to_numpy(float).T  # targets x parameters
    _, s, vt = np.linalg.svd(m, full_matrices=True)
    values = [float(v) for v in s]
    weak = []
    for k in range(vt.shape[0]):
        if k < len(s) and s[k] >= 1.0:
            continue
        v = vt[k]
        order = np.argsort(-np.abs(v))[:3]
        terms = " ".join(f"{'+' if v[j] >= 0 else '-'}{abs(v[j]):.2f}·{sens.index[j]}" for j in order)
        weak.append(terms)
    return values, weak

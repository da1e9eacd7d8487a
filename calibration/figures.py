"""Figures of the calibration and validation reports, saved as PNG.

Each is built on a :class:`matplotlib.figure.Figure` of its own: no pyplot state and no
backend selection (``matplotlib.use``), so importing or calling these leaves the caller's
matplotlib backend alone.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from calibration.patterns import PatternResult
from calibration.targets import Pattern, kpi_unit
from calibration.text import format_effect
from model.params import REGISTRY

#: Resolution of the saved figures (dots per inch).
DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def plot_loss_history(history: pd.DataFrame, path: Path, population: int) -> Path:
    """Loss of every evaluated vector and the best so far; ``population`` vectors per generation."""
    fig = Figure(figsize=(6.5, 3.8))
    ax = fig.subplots()
    loss = history["loss"].to_numpy(float)
    ax.plot(np.arange(loss.size), loss, "o", ms=3, alpha=0.5, label="evaluated vector")
    ax.plot(np.arange(loss.size), np.minimum.accumulate(loss), "-", color="C3", lw=2, label="best so far")
    for g in range(population, loss.size, population):
        ax.axvline(g - 0.5, color="0.6", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("parameter vectors evaluated (grey lines: generations)")
    ax.set_ylabel("loss (sum of squared deviations\nin tolerances, log scale)")
    ax.set_title("Differential evolution: loss history")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_fit(table: pd.DataFrame, labels: Sequence[str], path: Path) -> Path:
    """Each simulated target (not the inputs): the target band and each vector's mean ± SD."""
    rows = table[~table["kpi"].str.startswith("param:")].reset_index(drop=True)
    fig = Figure(figsize=(3.0 * len(rows), 3.6))
    axes = fig.subplots(1, len(rows), squeeze=False)
    for ax, (_, r) in zip(axes[0], rows.iterrows(), strict=True):
        lo, hi = r["value"] - r["tolerance"], r["value"] + r["tolerance"]
        if r["bound"] == "max":
            lo = 0.0
            hi = r["value"]
        ax.axhspan(lo, hi, color="C2", alpha=0.2, label="target (tolerance)")
        ax.axhline(r["value"], color="C2", lw=1.5)
        for i, lb in enumerate(labels):
            ax.errorbar(
                [i], [r[f"{lb}_mean"]], yerr=[r[f"{lb}_sd"]], fmt="o", capsize=5, color=f"C{i}", label=lb
            )
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.set_title(r["target"].replace("_", " "), fontsize=9)
        ax.set_ylabel(f"{r['kpi']}\n({kpi_unit(r['kpi'])})", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Targets against simulation (mean ± SD over seeds)", fontsize=10)
    return _save(fig, path)


def plot_profiles(
    prof: pd.DataFrame, best: Mapping[str, float], best_loss: float, path: Path, delta: float
) -> Path:
    """Loss profile of each fitted parameter, with the fitted value and the line ``best_loss + delta``."""
    names = list(dict.fromkeys(prof["parameter"]))
    cols = min(3, len(names))
    nrows = math.ceil(len(names) / cols)
    fig = Figure(figsize=(4.0 * cols, 3.2 * nrows))
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        sub = prof[prof["parameter"] == name].sort_values("value")
        ax.plot(sub["value"], sub["loss"], "o-")
        ax.axvline(best[name], color="C3", ls="--", lw=1, label="fitted")
        ax.axhline(best_loss + delta, color="0.5", ls=":", lw=1, label=f"best + {delta:g}")
        ax.set_xlabel(f"{name}\n({REGISTRY[name].unit})", fontsize=8)
        ax.set_ylabel("loss")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(names) :]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Loss profiles (one parameter varied, the others at the fitted values)", fontsize=10)
    return _save(fig, path)


def plot_pattern(
    pattern: Pattern, results: Sequence[PatternResult], runs: pd.DataFrame, points: Sequence[int], path: Path
) -> Path:
    """One figure per pattern: the measured KPIs of its scenarios, seed by seed.

    ``points`` are the pattern's run points in :func:`calibration.patterns.pattern_points` order.
    """
    mine = [r for r in results if r.pattern == pattern.id]
    sub = runs[runs["point"].isin(points)]
    fig = Figure(figsize=(max(6.5, 4.2 * len(mine)), 4.0))
    axes = fig.subplots(1, len(mine), squeeze=False)
    draw = {"curve": _draw_curve, "level": _draw_level}.get(pattern.kind, _draw_contrast)
    for ax, r in zip(axes[0], mine, strict=True):
        draw(ax, pattern, r, sub, points)
        ax.set_ylabel(f"{r.kpi}\n({kpi_unit(r.kpi)})", fontsize=8)
        ax.set_title(f"{r.kind}: {format_effect(r)}: {'pass' if r.passed else 'FAIL'}", fontsize=9)
        ax.grid(alpha=0.3)
    title = textwrap.fill(f"{pattern.id}: {pattern.title}", 75)
    fig.suptitle(f"{title}\n{pattern.contrast}", fontsize=10)
    return _save(fig, path)


def _draw_curve(
    ax: Axes, pattern: Pattern, r: PatternResult, sub: pd.DataFrame, points: Sequence[int]
) -> None:
    """A response curve: each seed in grey, the mean over seeds, the collective time target."""
    x = np.asarray(pattern.values)
    y = np.vstack([sub[sub["point"] == i].sort_values("replicate")[r.kpi] for i in points])
    for col in y.T:
        ax.plot(x, col, color="0.75", lw=0.8)
    ax.plot(x, y.mean(axis=1), "o-", color="C0", lw=2, label="mean over seeds")
    target = REGISTRY["collective_time_target"].default
    if r.kpi == "collective_time_share":
        ax.axhline(target, ls="--", color="C3", label=f"collective time target ({target:g})")
    ax.set_xlabel(f"{pattern.parameter} ({REGISTRY[pattern.parameter].unit})")
    ax.legend(fontsize=7)


def _draw_level(
    ax: Axes, pattern: Pattern, r: PatternResult, sub: pd.DataFrame, points: Sequence[int]
) -> None:
    """A level: each seed, the mean with its 95% CI, and the bound."""
    vals = sub[r.kpi].to_numpy(float)
    ax.plot(np.zeros_like(vals), vals, "o", color="C0", alpha=0.6, label="seeds")
    ax.errorbar(
        [0],
        [r.effect],
        yerr=[[r.effect - r.ci_low], [r.ci_high - r.effect]],
        fmt="s",
        color="k",
        capsize=6,
        label="mean, 95% CI",
    )
    ax.axhline(float(pattern.checks[0].below), ls="--", color="C3", label="bound")
    ax.set_xticks([0], ["; ".join(f"{k}={v}" for k, v in pattern.scenario.items()) or "defaults"])
    ax.set_xlim(-1, 1)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)


def _draw_contrast(
    ax: Axes, pattern: Pattern, r: PatternResult, sub: pd.DataFrame, points: Sequence[int]
) -> None:
    """A contrast: baseline and treatment joined seed by seed, and the means."""
    b = sub[sub["point"] == points[0]].sort_values("replicate")[r.kpi].to_numpy(float)
    t = sub[sub["point"] == points[1]].sort_values("replicate")[r.kpi].to_numpy(float)
    for bi, ti in zip(b, t, strict=True):
        ax.plot([0, 1], [bi, ti], "-o", color="0.6", lw=0.8, ms=3)
    ax.plot(
        [0, 1],
        [np.nanmean(b), np.nanmean(t)],
        "-s",
        color="C3" if not r.passed else "C0",
        lw=2.2,
        ms=7,
        label="mean",
    )
    ax.set_xticks([0, 1], ["baseline", "treatment"])
    ax.set_xlim(-0.4, 1.4)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)

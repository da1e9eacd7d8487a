"""Figures of a sensitivity analysis (figures only; the statistics are in the method modules).

Morris: μ* against σ per output; Sobol': S1/ST bars and an ST heat map; both: convergence
of the indices with the sample size. Built on ``matplotlib.figure.Figure`` objects (no
pyplot state, no backend chosen at import).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from experiments.labels import effect_unit, lever_name, output_label
from experiments.sensitivity.analysis import Analysis


def plot_analysis(a: Analysis, out: Path) -> list[Path]:
    """The figures of an analysis (Morris: μ*-σ; Sobol': bars and ST heat map) and convergence."""
    figures = [plot(a, out / name) for plot, name in FIGURES[a.method]]
    figures.append(plot_convergence(a, out / "convergence.png"))
    return figures


def _grid(count: int, width: float, height: float):
    cols = min(3, count)
    rows = math.ceil(count / cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, axes.flat


def _reps(count: int) -> str:
    return f"{count} replicate{'s' if count != 1 else ''}"


def plot_morris(a: Analysis, path: Path) -> Path:
    """μ* against σ per output, with 95% intervals and the σ = μ* line."""
    fig, axes = _grid(len(a.outputs), 5.2, 4.4)
    for ax, output in zip(axes, a.outputs, strict=False):
        _morris_panel(ax, a, output)
    fig.suptitle(
        f"Morris screening: {a.n} trajectories × {_reps(a.replicates)}; bars are 95% intervals. "
        "Right = influential; above the dashed line = non-linear or interacting",
        fontsize=11,
    )
    fig.savefig(path, dpi=110)
    return path


def _morris_panel(ax, a: Analysis, output: str) -> None:
    scale, unit = effect_unit(output)
    sub = a.ranking(output)
    x, y = sub["mu_star"] * scale, sub["sigma"] * scale
    ax.errorbar(
        x,
        y,
        xerr=sub["mu_star_conf"] * scale,
        yerr=sub["sigma_conf"] * scale,
        fmt="o",
        color="tab:blue",
        ecolor="tab:gray",
        elinewidth=0.8,
        capsize=2,
        markersize=5,
    )
    right = max(float(np.nanmax(x + sub["mu_star_conf"] * scale)), 1e-12) * 1.15
    top = max(float(np.nanmax(y + sub["sigma_conf"] * scale)), 1e-12) * 1.15
    ax.plot([0, right], [0, right], color="tab:red", linewidth=0.8, linestyle="--", label="σ = μ*")
    # label the influential levers; a crowd of near-zero labels would hide each other
    labelled = (x >= 0.1 * x.max()) | (np.arange(len(x)) < 3)
    for xi, yi, name, show in zip(x, y, sub["parameter"], labelled, strict=True):
        if show:
            ax.annotate(lever_name(name), (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=8)
    if not labelled.all():
        ax.text(
            0.98,
            0.02,
            f"{int((~labelled).sum())} levers with μ* < 10% of the largest unlabelled",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="dimgray",
        )
    ax.set_xlim(0, right)
    ax.set_ylim(0, top)
    ax.set_title(output_label(output), fontsize=11)
    ax.set_xlabel(f"μ*: mean |effect| over the lever's range\n({unit})", fontsize=9)
    ax.set_ylabel(f"σ: spread of the effect ({unit})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", frameon=False)


def plot_sobol_bars(a: Analysis, path: Path) -> Path:
    """S1 and ST with 95% intervals per output, levers sorted by ST."""
    fig, axes = _grid(len(a.outputs), 5.4, 0.42 * len(a.names) + 1.6)
    for ax, output in zip(axes, a.outputs, strict=False):
        sub = a.ranking(output).iloc[::-1]
        y = np.arange(len(sub))
        ax.barh(y + 0.2, sub["ST"], 0.4, xerr=sub["ST_conf"], color="tab:blue", capsize=2, label="total (ST)")
        ax.barh(
            y - 0.2,
            sub["S1"],
            0.4,
            xerr=sub["S1_conf"],
            color="tab:orange",
            capsize=2,
            label="first order (S1)",
        )
        ax.set_yticks(y, [lever_name(p) for p in sub["parameter"]], fontsize=9)
        ax.axvline(0, color="black", linewidth=0.6)
        right = max(1.0, float((sub["ST"] + sub["ST_conf"]).max()), float((sub["S1"] + sub["S1_conf"]).max()))
        ax.set_xlim(min(-0.05, float((sub["S1"] - sub["S1_conf"]).min()) - 0.02), right + 0.02)
        ax.set_xlabel("share of output variance", fontsize=9)
        ax.set_title(output_label(output), fontsize=11)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right", frameon=False)
    fig.suptitle(
        f"Sobol' indices: N = {a.n} base samples × {_reps(a.replicates)}; bars are 95% intervals",
        fontsize=11,
    )
    fig.savefig(path, dpi=110)
    return path


def plot_sobol_heatmap(a: Analysis, path: Path) -> Path:
    """Total-order indices, levers × outputs, with the values written in the cells."""
    table = a.indices.pivot(index="parameter", columns="output", values="ST").reindex(
        index=a.names, columns=a.outputs
    )
    order = table.mean(axis=1).sort_values(ascending=False).index
    table = table.loc[order]
    fig = Figure(
        figsize=(max(7.5, 1.5 * len(a.outputs) + 4.5), 0.45 * len(a.names) + 2.4), layout="constrained"
    )
    ax = fig.subplots()
    values = table.to_numpy(dtype=float)
    image = ax.imshow(np.clip(values, 0, 1), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            ax.text(
                j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v < 0.6 else "black"
            )
    ax.set_xticks(
        range(len(a.outputs)), [output_label(o) for o in a.outputs], rotation=30, ha="right", fontsize=9
    )
    ax.set_yticks(range(len(order)), [lever_name(p) for p in order], fontsize=9)
    fig.colorbar(image, ax=ax, label="ST (share of output variance)")
    ax.set_title(f"Total-order Sobol' indices, levers × outcomes (N = {a.n})", fontsize=11)
    fig.savefig(path, dpi=110)
    return path


@dataclass(frozen=True)
class _ConvergenceAxes:
    """How a method's convergence panels are labelled and scaled."""

    sizes: str
    index: str
    unit: Callable[[str], tuple[float, str]]
    bounded: bool  # shares of variance: keep the scale near [0, 1]


def plot_convergence(a: Analysis, path: Path) -> Path:
    """Indices against the sample size (N/4, N/2, N) with 95% bands, per output."""
    look = CONVERGENCE_AXES[a.method]
    fig, axes = _grid(len(a.outputs), 5.0, 3.8)
    handles = None
    for ax, output in zip(axes, a.outputs, strict=False):
        _convergence_panel(ax, a, output, look)
        handles = ax.get_legend_handles_labels()
    if handles:
        fig.legend(*handles, loc="outside right center", fontsize=8, frameon=False)
    fig.suptitle(
        "Convergence: indices recomputed on the first N/4, N/2 and all samples (bands: 95% intervals)",
        fontsize=11,
    )
    fig.savefig(path, dpi=110)
    return path


def _convergence_panel(ax, a: Analysis, output: str, look: _ConvergenceAxes) -> None:
    colours = matplotlib.colormaps["tab10"]
    scale, unit = look.unit(output)
    conv = a.convergence[a.convergence["output"] == output]
    for i, name in enumerate(a.names):
        sub = conv[conv["parameter"] == name].sort_values("n")
        v, c = sub[a.spec.key] * scale, sub[a.spec.conf] * scale
        colour, style = colours(i % 10), ("-", "--", ":")[(i // 10) % 3]
        ax.plot(sub["n"], v, marker="o", markersize=3, color=colour, linestyle=style, label=lever_name(name))
        ax.fill_between(sub["n"], v - c, v + c, color=colour, alpha=0.12, linewidth=0)
    ax.set_xscale("log", base=2)
    sizes = sorted(conv["n"].unique())
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel(f"{look.sizes} used", fontsize=9)
    ax.set_ylabel(f"{look.index} ({unit})", fontsize=9)
    if look.bounded:  # estimates with wide intervals can leave [0, 1]; keep the scale readable
        low, high = ax.get_ylim()
        ax.set_ylim(max(low, -0.25), min(high, 1.25))
    ax.set_title(output_label(output), fontsize=11)
    ax.grid(alpha=0.3)


#: The figures of each method (besides convergence), with their file names.
FIGURES: dict[str, list[tuple[Callable[[Analysis, Path], Path], str]]] = {
    "morris": [(plot_morris, "morris_mu_sigma.png")],
    "sobol": [(plot_sobol_bars, "sobol_indices.png"), (plot_sobol_heatmap, "sobol_st_heatmap.png")],
}

CONVERGENCE_AXES: dict[str, _ConvergenceAxes] = {
    "morris": _ConvergenceAxes("trajectories", "μ*", effect_unit, bounded=False),
    "sobol": _ConvergenceAxes(
        "base samples N", "ST", lambda output: (1.0, "share of variance"), bounded=True
    ),
}

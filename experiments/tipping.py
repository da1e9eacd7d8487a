"""The tipping-point map (DESIGN pattern P6): where collective work takes off.

A 2-D grid sweep, by default of staffing (FTE per 1,000 residents) × the municipal target
share of worker time for collective work, run through the batch executor with replicates
(any two numeric levers can be chosen, e.g. ``collective_budget_share``). Two heat maps
show the replicate means of the share of worker time spent collectively and of
escalations to maatwerk per 1,000 residents a year. The take-off boundary is marked where
the collective time share reaches half of the collective time target, one level for the
whole map (the fixed target, or the registry default when the target is an axis); the
escalation panel also marks where escalations fall below the midpoint of their range on
the map. The report lists, for each value of the second lever, the staffing at which the
team leaves the casework trap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.designs import Axis, DesignError, parse_param
from experiments.executor import Outcome, Runner, execute, make_tasks
from experiments.labels import lever_label, output_label
from experiments.store import atomic_write_bytes
from model import REGISTRY
from model.outputs import PERCENT, display_unit

DEFAULT_X = "fte_per_1000=0.4:2.4:11"
DEFAULT_Y = "collective_time_target=0.15:0.6:10"
SHARE = "collective_time_share"
ESCALATIONS = "escalations_per_1000_year"
#: The take-off boundary: collective time share at this fraction of the target.
TAKE_OFF = 0.5


@dataclass
class TippingMap:
    """The grid of replicate means, the boundary per row and the files written."""

    x: str
    y: str
    grid: pd.DataFrame
    boundary: pd.DataFrame
    escalation_midpoint: float
    outcome: Outcome
    files: list[Path] = field(default_factory=list)


def parse_axis(spec: str | Axis | tuple, default_steps: int = 7) -> Axis:
    """An axis from ``"NAME=LO:HI:STEPS"``, ``"NAME"`` (registry bounds), ``(name, lo, hi, steps)``."""
    if isinstance(spec, Axis):
        axis = spec
    elif isinstance(spec, tuple):
        name, low, high, *steps = spec
        axis = Axis(name, float(REGISTRY[name].check(low)), float(REGISTRY[name].check(high)), *steps)
    else:
        name, axis = parse_param(spec)
        if not isinstance(axis, Axis):
            raise DesignError(f"'{spec}' fixes {name}; the map needs a range NAME=LO:HI:STEPS")
    if REGISTRY[axis.name].type is bool:
        raise DesignError(f"'{axis.name}' is a switch; the map needs numeric levers")
    if axis.values is None and axis.steps is None:
        axis = Axis(axis.name, axis.low, axis.high, default_steps)
    if len(axis.grid()) < 2:
        raise DesignError(f"the axis of {axis.name} needs at least two values")
    return axis


def tipping_map(
    x: str | Axis | tuple = DEFAULT_X,
    y: str | Axis | tuple = DEFAULT_Y,
    *,
    replicates: int = 2,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    fixed: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    runner: Runner | None = None,
    command: str | None = None,
    **execute_options: Any,
) -> TippingMap:
    """Run the grid, find the boundary and (with ``out``) write the heat maps and ``report.md``."""
    ax_x, ax_y = parse_axis(x), parse_axis(y)
    if ax_x.name == ax_y.name:
        raise DesignError("the two axes of the map must be different parameters")
    fixed = dict(fixed or {})
    xs, ys = ax_x.grid(), ax_y.grid()
    points = [{ax_x.name: xv, ax_y.name: yv} for yv in ys for xv in xs]
    setup = {
        k: v
        for k, v in {"n_residents": residents, "weeks": weeks, "burn_in_weeks": burn_in}.items()
        if v is not None
    }
    tasks = make_tasks(points, replicates=replicates, base_seed=seed, setup={**setup, **fixed})
    info = {
        "replicates": replicates,
        "base_seed": seed,
        "setup": setup,
        "design": {"kind": "grid", "x": {ax_x.name: xs}, "y": {ax_y.name: ys}, "fixed": fixed},
        "tipping": {"take_off": f"{SHARE} >= {TAKE_OFF} x collective time target"},
    }
    outcome = execute(
        tasks, out, kind="sa-tipping", info=info, runner=runner, command=command, **execute_options
    )
    grid = grid_means(outcome.runs, ax_x.name, ax_y.name, fixed)
    boundary = take_off_boundary(grid, ax_x.name, ax_y.name)
    mid = escalation_midpoint(grid)
    result = TippingMap(ax_x.name, ax_y.name, grid, boundary, mid, outcome)
    if out is not None:
        out = Path(out)
        atomic_write_bytes(out / "tipping_grid.csv", grid.to_csv(index=False).encode())
        atomic_write_bytes(out / "tipping_boundary.csv", boundary.to_csv(index=False).encode())
        figure = plot_tipping(result, out / "tipping_map.png")
        report = write_report(result, out / "report.md", figure, command=command, setup={**setup, **fixed})
        result.files = [out / "tipping_grid.csv", out / "tipping_boundary.csv", figure, report]
    return result


def grid_means(runs: pd.DataFrame, x: str, y: str, fixed: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Replicate means per grid cell and whether collective work has taken off there."""
    ok = runs[runs["status"] == "ok"]
    px, py = f"p_{x}", f"p_{y}"
    grid = ok.groupby([py, px])[[SHARE, ESCALATIONS]].agg(["mean", "std", "count"])
    grid.columns = [f"{a}_{b}" if b != "mean" else a for a, b in grid.columns]
    grid = grid.reset_index().rename(columns={px: x, py: y})
    grid["take_off_level"] = take_off_level(x, y, fixed)
    grid["taken_off"] = grid[SHARE] >= grid["take_off_level"]
    return grid.sort_values([y, x]).reset_index(drop=True)


def take_off_level(x: str, y: str, fixed: Mapping[str, Any] | None = None) -> float:
    """The collective time share that marks take-off: half of the target, one level for the map."""
    name = "collective_time_target"
    target = REGISTRY[name].default if name in (x, y) else (fixed or {}).get(name, REGISTRY[name].default)
    return TAKE_OFF * float(target)


def take_off_boundary(grid: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per value of ``y``: the ``x`` at which the collective time share first reaches the
    take-off level (linear interpolation between grid values; NaN if it never does or always has)."""
    rows = []
    for yv, sub in grid.groupby(y, sort=True):
        sub = sub.sort_values(x)
        xs, ratio = sub[x].to_numpy(float), sub[SHARE].to_numpy(float)
        level = float(sub["take_off_level"].iloc[0])
        above = np.flatnonzero(ratio >= level)
        crossing, note = np.nan, "never reaches the take-off level on this map"
        if above.size:
            i = int(above[0])
            if i == 0:
                note = "already above the take-off level at the lowest value"
            else:
                r0, r1 = ratio[i - 1], ratio[i]
                crossing = float(xs[i - 1] + (level - r0) / (r1 - r0) * (xs[i] - xs[i - 1]))
                note = ""
        rows.append({y: yv, f"{x}_at_take_off": crossing, "note": note})
    return pd.DataFrame(rows)


def escalation_midpoint(grid: pd.DataFrame) -> float:
    """Halfway between the lowest and the highest mean escalations on the map."""
    return float((grid[ESCALATIONS].min() + grid[ESCALATIONS].max()) / 2)


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges for pcolormesh from (possibly uneven) cell centres."""
    mids = (values[1:] + values[:-1]) / 2
    return np.concatenate([[values[0] - (mids[0] - values[0])], mids, [values[-1] + (values[-1] - mids[-1])]])


#: The two panels of the map: output and colour map (escalations: dark is many).
PANELS = ((SHARE, "viridis"), (ESCALATIONS, "magma_r"))
#: Largest map whose cells get their value written in them.
ANNOTATE_CELLS = 150


def plot_tipping(m: TippingMap, path: Path) -> Path:
    """Two heat maps (collective time share, escalations) with the take-off boundary."""
    xs = np.sort(m.grid[m.x].unique())
    ys = np.sort(m.grid[m.y].unique())
    wide = {
        k: m.grid.pivot(index=m.y, columns=m.x, values=k).reindex(index=ys, columns=xs) for k, _ in PANELS
    }
    fig = Figure(figsize=(14, 5.6), layout="constrained")
    axes = fig.subplots(1, 2)
    level = float(m.grid["take_off_level"].iloc[0])
    for ax, (key, cmap) in zip(axes, PANELS, strict=True):
        values = wide[key].to_numpy(float) * (100.0 if key in PERCENT else 1.0)
        mesh = ax.pcolormesh(_edges(xs), _edges(ys), values, cmap=cmap, shading="flat")
        fig.colorbar(mesh, ax=ax, label=f"{output_label(key)} ({display_unit(key)})")
        _boundaries(ax, m, xs, ys, wide, level, key)
        if len(xs) * len(ys) <= ANNOTATE_CELLS:
            _write_cells(ax, xs, ys, values, dark_is_high=cmap == "magma_r")
        ax.set_xlabel(lever_label(m.x))
        ax.set_ylabel(lever_label(m.y))
        ax.set_title(output_label(key), fontsize=12)
    fig.legend(handles=_legend(m, level), loc="outside lower center", ncol=2, frameon=False, fontsize=10)
    reps = int(m.grid[f"{SHARE}_count"].min())
    fig.suptitle(
        f"Tipping-point map (pattern P6): mean of {reps} replicate{'s' if reps > 1 else ''} per cell; "
        "numbers are the cell values",
        fontsize=12,
    )
    fig.savefig(path, dpi=110)
    return path


def _boundaries(ax, m: TippingMap, xs, ys, wide: Mapping[str, pd.DataFrame], level: float, key: str) -> None:
    """The take-off contour on both panels; the escalation midpoint on the escalation panel."""
    gx, gy = np.meshgrid(xs, ys)
    share = wide[SHARE].to_numpy(float)
    if np.nanmin(share) < level <= np.nanmax(share):
        ax.contour(gx, gy, share, levels=[level], colors="white", linewidths=2.5)
        ax.contour(gx, gy, share, levels=[level], colors="black", linewidths=1.0, linestyles="--")
    if key == ESCALATIONS:
        esc = wide[ESCALATIONS].to_numpy(float)
        if np.nanmin(esc) < m.escalation_midpoint < np.nanmax(esc):
            ax.contour(gx, gy, esc, levels=[m.escalation_midpoint], colors="deepskyblue", linewidths=1.8)


def _write_cells(ax, xs, ys, values: np.ndarray, dark_is_high: bool) -> None:
    """Each cell's value, in white on dark cells and black on light ones."""
    hi, lo = np.nanmax(values), np.nanmin(values)
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            v = values[i, j]
            light = (v - lo) / (hi - lo) < 0.5 if hi > lo else True
            if dark_is_high:
                light = not light
            ax.text(
                xv, yv, f"{v:.0f}", ha="center", va="center", fontsize=7, color="white" if light else "black"
            )


def _legend(m: TippingMap, level: float) -> list[Line2D]:
    return [
        Line2D(
            [],
            [],
            color="black",
            linestyle="--",
            linewidth=1.5,
            label=f"take-off: collective time reaches {level:.1%} of direct hours "
            f"(half of a {level / TAKE_OFF:.0%} target)",
        ),
        Line2D(
            [],
            [],
            color="deepskyblue",
            linewidth=1.8,
            label=f"escalations below the map's midpoint ({m.escalation_midpoint:.0f} per 1,000)",
        ),
    ]


def write_report(
    m: TippingMap, path: Path, figure: Path, *, command: str | None, setup: Mapping[str, Any]
) -> Path:
    """``report.md``: the boundary per row in plain words and the grid table."""
    x_unit, y_unit = REGISTRY[m.x].unit, REGISTRY[m.y].unit
    reps = int(m.grid[f"{SHARE}_count"].min())
    level = float(m.grid["take_off_level"].iloc[0])
    size = {k: REGISTRY[k].default for k in ("n_residents", "weeks", "burn_in_weeks")} | dict(setup)
    lines = [
        "# Tipping-point map: where collective work takes off (pattern P6)",
        "",
        f"Command: `{command or 'python API (experiments.tipping)'}`  ",
        f"Grid: {lever_label(m.x)} (`{m.x}`) × {lever_label(m.y)} (`{m.y}`), {reps} replicate(s) per "
        "cell (common random numbers).  ",
        "Fixed for every run: " + ", ".join(f"`{k} = {v}`" for k, v in size.items()) + ".",
        "",
        f"The team has *taken off* where the share of worker time spent collectively reaches {level:.1%} "
        f"of direct hours: {TAKE_OFF:.0%} of the municipal collective time target "
        "(`collective_time_target`; its registry default when it is an axis of the map, so that one "
        "level holds for the whole map). Below it, casework crowds out collective work and individual "
        "demand stays high (the casework trap).",
        "",
        "## Where the boundary lies",
        "",
        f"| {lever_label(m.y)} ({y_unit}) | {lever_label(m.x)} at take-off ({x_unit}) | note |",
        "|---|---|---|",
    ]
    for row in m.boundary.itertuples(index=False):
        yv, xv, note = row
        lines.append(f"| {yv:g} | {'-' if xv != xv else f'{xv:.2f}'} | {note} |")
    low_x, high_x = m.grid[m.x].min(), m.grid[m.x].max()
    lo_row = m.grid[m.grid[m.x] == low_x]
    hi_row = m.grid[m.grid[m.x] == high_x]
    lines += [
        "",
        f"Across the map, escalations range from {m.grid[ESCALATIONS].min():.0f} to "
        f"{m.grid[ESCALATIONS].max():.0f} per 1,000 residents a year (midpoint {m.escalation_midpoint:.0f}); "
        f"at {lever_label(m.x).lower()} {low_x:g} they average {lo_row[ESCALATIONS].mean():.0f}, "
        f"at {high_x:g} {hi_row[ESCALATIONS].mean():.0f}. Collective time averages "
        f"{lo_row[SHARE].mean():.0%} and {hi_row[SHARE].mean():.0%} of direct hours there.",
        "",
        f"![tipping map]({figure.name})",
        "",
        "## Grid (replicate means)",
        "",
        f"| {m.y} | {m.x} | collective time share | escalations per 1,000/yr | taken off |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r[m.y]:g} | {r[m.x]:g} | {r[SHARE]:.3f} | {r[ESCALATIONS]:.1f} | "
        f"{'yes' if r['taken_off'] else 'no'} |"
        for _, r in m.grid.iterrows()
    ]
    lines += ["", "Files: `runs.parquet`, `tipping_grid.csv`, `tipping_boundary.csv`, `manifest.json`.", ""]
    atomic_write_bytes(path, "\n".join(lines).encode())
    return path


def boundary_summary(m: TippingMap) -> str:
    """One line per row of the map for the terminal."""
    col = f"{m.x}_at_take_off"
    out = []
    for _, row in m.boundary.iterrows():
        where = f"take-off at {m.x} ≈ {row[col]:.2f}" if row[col] == row[col] else row["note"]
        out.append(f"  {m.y} = {row[m.y]:g}: {where}")
    return "\n".join(out)


__all__ = ["TippingMap", "boundary_summary", "grid_means", "take_off_boundary", "tipping_map"]

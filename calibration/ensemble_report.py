"""The files of ``wijkteam validate --ensemble``: per-world checks, shares, a figure and ``report.md``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from calibration.api import EnsembleValidation
from calibration.patterns import WORLD_RULE
from experiments.labels import output_label
from experiments.store import atomic_write_bytes
from model.params import REGISTRY

FILES = ("world_patterns.csv", "pattern_shares.csv", "pattern_worlds.png", "report.md")


def shares_text(result: EnsembleValidation) -> str:
    """The terminal table: per check, the share of worlds in which it holds."""
    df = result.to_df()
    lines = [
        f"{'pattern':8s}{'KPI':34s}{'kind':14s}{'holds in':>18s}{'strict':>9s}   effect: median [5%, 95%]"
    ]
    for r in df.itertuples():
        k = round(r.share_holds * r.worlds)
        lines.append(
            f"{r.pattern:8s}{r.kpi[:33]:34s}{r.kind:14s}"
            f"{f'{100 * r.share_holds:.0f}% ({k} of {r.worlds})':>18s}"
            f"{f'{100 * r.share_passed:.0f}%':>9s}   {_g(r.median)} [{_g(r.low)}, {_g(r.high)}]"
        )
    return "\n".join(lines)


def plot_worlds(result: EnsembleValidation, path: Path) -> Path:
    """One panel per check: each world's mean effect, green where the check holds, red where not."""
    w = result.worlds
    checks = list(dict.fromkeys(zip(w["pattern"], w["kpi"], strict=True)))
    cols = 3 if len(checks) > 4 else max(len(checks), 1)
    rows = -(-len(checks) // cols)
    fig = Figure(figsize=(4.6 * cols, 2.1 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[len(checks) :]:
        ax.set_visible(False)
    rng = np.random.default_rng(0)
    for ax, (pattern, kpi) in zip(axes, checks, strict=False):
        sub = w[(w["pattern"] == pattern) & (w["kpi"] == kpi)]
        y = rng.uniform(-0.3, 0.3, len(sub))
        colours = np.where(sub["holds"].to_numpy(bool), "tab:green", "tab:red")
        ax.scatter(sub["effect"].to_numpy(float), y, c=colours, s=16, alpha=0.8, linewidths=0)
        ax.axvline(0.0, color="grey", linewidth=0.8, linestyle="--")
        share = 100 * sub["holds"].mean()
        ax.set_title(f"{pattern}: {output_label(kpi)[:30]} (holds in {share:.0f}%)", fontsize=9)
        ax.set_yticks([])
        ax.set_xlabel(sub["criterion"].iloc[0][:60], fontsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        f"Pattern checks in {result.members} worlds ({len(result.seeds)} seeds each): one dot per world, "
        "green where the check holds",
        fontsize=11,
    )
    fig.savefig(path, dpi=100)
    return path


def write_ensemble_validation(result: EnsembleValidation, out: str | Path, command: str = "") -> list[Path]:
    """``world_patterns.csv``, ``pattern_shares.csv``, ``pattern_worlds.png`` and ``report.md``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shares = result.to_df()
    atomic_write_bytes(out / "world_patterns.csv", result.worlds.to_csv(index=False).encode())
    atomic_write_bytes(out / "pattern_shares.csv", shares.to_csv(index=False).encode())
    figure = plot_worlds(result, out / "pattern_worlds.png")
    drawn = result.ensemble_meta.get("drawn")
    sizes = {k: REGISTRY[k].default for k in ("n_residents", "weeks", "burn_in_weeks")}
    setup = ", ".join(f"{k} = {v}" for k, v in {**sizes, **result.setup}.items())
    setup += "" if result.setup else " (the registry defaults)"
    lines = [
        "# Patterns across the plausible ensemble",
        "",
        f"Command: `{command}`  ",
        f"Ensemble: {result.source}, {result.members} worlds; {len(result.seeds)} seeds per world, the same "
        f"in every world and scenario ({', '.join(str(s) for s in result.seeds)}).  ",
        f"Setup: {setup}. Runs: {result.runs_done} ({result.runs_failed} failed) in "
        f"{result.elapsed_s / 60:.1f} min.",
        "",
    ]
    if drawn:
        lines += [
            f"**Not a calibrated ensemble**: its members were drawn {drawn}; the shares are shares "
            "of the prior.",
            "",
        ]
    lines += [
        "## Rule",
        "",
        WORLD_RULE[:1].upper() + WORLD_RULE[1:],
        "",
        "*Holds in* is the share of worlds in which the check holds by that rule; *strict* the share in "
        "which it passes the single-world criterion of `wijkteam validate` (with the 95% interval over the "
        "world's seeds, rarely met with few seeds). The effect columns are the 5%, 50% and 95% quantiles "
        "of the worlds' mean effects (relative effects as fractions).",
        "",
        "| pattern | KPI | kind | criterion | holds in | strict | median effect | 90% across worlds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in shares.itertuples():
        k = round(r.share_holds * r.worlds)
        lines.append(
            f"| {r.pattern} | `{r.kpi}` | {r.kind} | {r.criterion} | {100 * r.share_holds:.0f}% ({k} of "
            f"{r.worlds}) | {100 * r.share_passed:.0f}% | {_g(r.median)} | {_g(r.low)} to {_g(r.high)} |"
        )
    lines += ["", f"![{figure.stem}]({figure.name})", ""]
    atomic_write_bytes(out / "report.md", "\n".join(lines).encode())
    return [out / name for name in FILES]


def _g(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3g}"

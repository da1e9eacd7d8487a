"""``report.md`` of a sensitivity analysis (markdown only; the numbers come from :class:`Analysis`).

What each method says in words (its title, how to read its indices, its table per output)
is a :class:`_MethodText`, one per method in :data:`TEXT`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.labels import effect_unit, lever_name, output_label
from experiments.sensitivity.analysis import Analysis
from experiments.store import atomic_write_bytes
from model import REGISTRY


def write_report(
    a: Analysis,
    path: Path,
    figures: Sequence[Path],
    *,
    runs: pd.DataFrame | None = None,
    command: str | None = None,
    setup: Mapping[str, Any] | None = None,
) -> Path:
    """``report.md``: what ran, the noise level, a ranked table of levers per output, warnings."""
    text = TEXT[a.method]
    lines = _header(a, text, runs, command, setup)
    lines += ["", "## How to read this", "", text.how_to_read]
    lines += _noise_section(a)
    lines += ["", "## Warnings", ""]
    lines += [f"- {w}" for w in a.warnings] or ["None: every top-ranked index is larger than its interval."]
    lines += ["", "## Levers ranked per outcome", ""]
    for output in a.outputs:
        noise = a.noise.set_index("output").loc[output]
        lines += [f"### {output_label(output)} (`{output}`)", ""]
        lines += text.ranking(a, output, _noise_words(noise))
        lines.append("")
    lines += _convergence_section(a, text)
    lines += ["", "## Files", ""]
    lines += [
        "`runs.parquet` (one row per run), `samples.parquet` (the SALib sample with replicate means), "
        "`indices.csv`/`indices.parquet`, `convergence.csv`, `noise.csv`"
        + (", `second_order.csv`" if a.second_order is not None else "")
        + ", `manifest.json`.",
        "",
    ]
    lines += [f"![{f.stem}]({f.name})" for f in figures]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path


def _header(
    a: Analysis,
    text: _MethodText,
    runs: pd.DataFrame | None,
    command: str | None,
    setup: Mapping[str, Any] | None,
) -> list[str]:
    """Title, command, design, fixed values and the levers with their bounds."""
    n_runs = len(runs) if runs is not None else len(a.sample) * a.replicates
    failed = int((runs["status"] != "ok").sum()) if runs is not None else 0
    return [
        f"# {text.title} of the policy levers",
        "",
        f"Command: `{command or 'python API (experiments.sensitivity)'}`  ",
        f"Design: {text.design(a)}; {_reps(a.replicates)} per point (common random numbers), "
        f"{n_runs} runs ({failed} failed).  ",
        f"Fixed for every run: {_fixed_text(setup)}.  ",
        "Levers and bounds (from the parameter registry): "
        + "; ".join(
            f"{lever_name(n)} (`{n}`) {lo:g} to {hi:g}" + (f" ({REGISTRY[n].unit})" if n in REGISTRY else "")
            for n, (lo, hi) in zip(a.names, a.problem["bounds"], strict=True)
        )
        + ".",
    ]


def _noise_section(a: Analysis) -> list[str]:
    lines = ["", "## Noise", ""]
    lines += [
        "Replicates are averaged per sample point before the analysis. *Noise share*: the share of the "
        "variance of single runs that lies between replicates at fixed parameters. *Common*: the part of "
        "that noise shared by all sample points (replicate *i* has the same seed everywhere), which shifts "
        "every point alike and does not blur the indices. *In the means*: the remaining noise, divided by "
        "the replicates, as a share of the variance of the replicate means that the indices divide up "
        "(from a two-way analysis of variance, point × replicate; see `noise.csv`).",
        "",
        "| outcome | noise share (single runs) | of which common | noise share in the means |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {output_label(r.output)} | {_pct(r.noise_share)} | {_pct(r.common_share)} | "
        f"{_pct(r.noise_share_in_means)} |"
        for r in a.noise.itertuples()
    ]
    return lines


def _convergence_section(a: Analysis, text: _MethodText) -> list[str]:
    lines = ["## Convergence", ""]
    lines += [
        f"Indices were recomputed on the first N/4, N/2 and all {text.sizes} "
        f"(see `convergence.png`, `convergence.csv`). Largest change of {text.change} between the last two "
        "sizes:",
        "",
    ]
    lines += [f"- {output_label(o)}: {_num(a.last_change(o))}" for o in a.outputs]
    return lines


# ---- what each method says ---------------------------------------------------------------------
class _MethodText:
    title: str
    how_to_read: str
    sizes: str  # what the sample sizes count
    change: str  # what the convergence section compares

    def design(self, a: Analysis) -> str:
        raise NotImplementedError

    def ranking(self, a: Analysis, output: str, noise: str) -> list[str]:
        raise NotImplementedError


class _MorrisText(_MethodText):
    title = "Morris screening"
    how_to_read = (
        "μ* is the mean absolute change of an outcome when a lever moves across its whole range "
        "(elementary effects, in the outcome's unit); μ is the same with sign; σ is the spread of "
        "these effects: σ larger than μ* means the effect depends on the other levers or is non-linear. "
        "Morris ranks levers; it does not divide the variance. Intervals are 95% bootstrap intervals "
        "(μ*: SALib; σ: over trajectories)."
    )
    sizes = "trajectories"
    change = "μ* (relative to the largest)"

    def design(self, a: Analysis) -> str:
        return f"{a.n} trajectories of {len(a.names) + 1} points ({a.num_levels} levels)"

    def ranking(self, a: Analysis, output: str, noise: str) -> list[str]:
        ranked = a.ranking(output)
        scale, unit = effect_unit(output)
        top = float(ranked["mu_star"].max())
        first = ranked.iloc[0]
        lines = [
            f"{lever_name(first.parameter)} matters most: moving it across its range changes the "
            f"outcome by about {_num(first.mu_star * scale)} {unit}. {noise}",
            "",
            f"| rank | lever | μ* ± 95% ({unit}) | μ | σ ± 95% | in plain words |",
            "|---|---|---|---|---|---|",
        ]
        return lines + [
            f"| {r.rank} | {lever_name(r.parameter)} (`{r.parameter}`) | {_num(r.mu_star * scale)} ± "
            f"{_num(r.mu_star_conf * scale)} | {_num(r.mu * scale)} | {_num(r.sigma * scale)} ± "
            f"{_num(r.sigma_conf * scale)} | {_morris_words(r, top)} |"
            for r in ranked.itertuples()
        ]


class _SobolText(_MethodText):
    title = "Sobol' sensitivity analysis"
    how_to_read = (
        "ST (total-order index) is the share of an outcome's variance that would disappear if the lever "
        "were fixed: its own effect plus all its interactions. S1 is the share due to the lever alone. "
        "0.25 means a quarter of the spread in the outcome across plausible policies comes from "
        "this lever. "
        "Intervals are 95% bootstrap intervals (SALib)."
    )
    sizes = "base samples"
    change = "ST"

    def design(self, a: Analysis) -> str:
        return (
            f"N = {a.n} base samples, {len(a.sample)} sample points (Saltelli scheme"
            f"{', with second-order indices' if a.second_order is not None else ''})"
        )

    def ranking(self, a: Analysis, output: str, noise: str) -> list[str]:
        ranked = a.ranking(output)
        first = ranked.iloc[0]
        lines = [
            f"{lever_name(first.parameter)} matters most: alone it explains {_pct(max(first.S1, 0))} of "
            f"the variance, with its interactions {_pct(first.ST)}. {noise}",
            "",
            "| rank | lever | ST ± 95% | S1 ± 95% | in plain words |",
            "|---|---|---|---|---|",
        ]
        return lines + [
            f"| {r.rank} | {lever_name(r.parameter)} (`{r.parameter}`) | {r.ST:.3f} ± {r.ST_conf:.3f} | "
            f"{r.S1:.3f} ± {r.S1_conf:.3f} | {_sobol_words(r)} |"
            for r in ranked.itertuples()
        ]


TEXT: dict[str, _MethodText] = {"morris": _MorrisText(), "sobol": _SobolText()}


# ---- words and numbers ----------------------------------------------------------------------------
def _pct(v: float) -> str:
    return "-" if v != v else f"{v:.0%}"


def _num(v: float) -> str:
    if v != v:
        return "-"
    size = abs(v)
    return (
        f"{v:.0f}" if size >= 100 else f"{v:.1f}" if size >= 10 else f"{v:.2f}" if size >= 0.1 else f"{v:.3f}"
    )


def _reps(count: int) -> str:
    return f"{count} replicate{'s' if count != 1 else ''}"


def _sobol_words(row) -> str:
    st = row.ST
    level = (
        "a major driver"
        if st >= 0.25
        else "important"
        if st >= 0.1
        else "minor"
        if st >= 0.02
        else "negligible"
    )
    if row.ci_wider_than_index:
        level += " (not distinguishable from zero)"
    elif st >= 0.05 and st - max(row.S1, 0.0) > 0.5 * st:
        level += ", mostly through interactions with other levers"
    return level


def _morris_words(row, top: float) -> str:
    rel = row.mu_star / top if top > 0 else 0.0
    level = "strong" if rel >= 0.5 else "moderate" if rel >= 0.2 else "weak" if rel >= 0.05 else "negligible"
    if row.ci_wider_than_index or rel < 0.05:
        return level + (" (not distinguishable from zero)" if row.ci_wider_than_index else "")
    if abs(row.mu) >= 0.8 * row.mu_star:
        level += "; raising the lever " + ("raises" if row.mu > 0 else "lowers") + " it"
    else:
        level += "; the direction depends on the other levers"
    if row.sigma > row.mu_star:
        level += "; non-linear or interacting"
    return level


def _noise_words(noise: pd.Series) -> str:
    if noise["noise_share"] != noise["noise_share"]:
        return "Noise: not measured (one replicate per point)."
    return (
        f"Noise: {_pct(noise['noise_share'])} of the variance of single runs, "
        f"{_pct(noise['noise_share_in_means'])} of the variance of the replicate means analysed."
    )


def _fixed_text(setup: Mapping[str, Any] | None) -> str:
    values = {k: REGISTRY[k].default for k in ("n_residents", "weeks", "burn_in_weeks")}
    values.update(setup or {})
    return ", ".join(f"`{k} = {str(v).lower() if isinstance(v, bool) else v}`" for k, v in values.items())

"""Figures, tables and a plain-language report of a scenario discovery (``wijkteam discover``).

Files written to the results folder:

``cases.parquet``        one row per case (design point x world): inputs, KPI means, outcomes
``boxes.csv``            every box: outcome, box, restricted input, limits, full range, quasi-p
``trajectory_<o>.csv``   PRIM's peeling trajectory of the first box of outcome ``o``
``cart_<o>.csv``         CART's leaves for outcome ``o``
``feature_scores.csv``   extra-trees feature scores of every input per outcome
``bootstrap.csv``        bootstrap intervals of each box's coverage and density
``robustness.csv``       regret, satisficing and cost per policy
``peeling_<o>.png``      the peeling trajectory (coverage against density)
``box_<o>.png``          the chosen box as a lever chart (box range against full range)
``tradeoff.png``         unmet need against cost across worlds, per policy
``report.md``            all of it in words
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.discovery.boxes import Box
from experiments.discovery.robust import OBJECTIVES, sentences
from experiments.labels import lever_label, output_label
from experiments.store import DISCOVERY_FILES, atomic_write_bytes, atomic_write_parquet
from model.params import REGISTRY

FILES = DISCOVERY_FILES
UNMET, COST = "unmet_need_per_1000_year", "cost_total_per_resident_year"


def input_label(name: str, levers) -> str:
    """A lever in words with its unit; an assumption by its registry name, marked as such."""
    return lever_label(name) if name in levers else f"{name} (assumption)"


# ---- figures ------------------------------------------------------------------------------
def plot_peeling(box: Box, path: Path) -> Path:
    traj = box.trajectory
    fig = Figure(figsize=(6.4, 4.6))
    ax = fig.subplots()
    points = ax.scatter(traj["coverage"], traj["density"], c=traj["res_dim"], cmap="viridis", s=28)
    chosen = traj.loc[box.chosen]
    ax.scatter([chosen["coverage"]], [chosen["density"]], s=160, facecolors="none", edgecolors="red", lw=1.8)
    ax.annotate(
        f"chosen: coverage {chosen['coverage']:.0%}, density {chosen['density']:.0%}",
        (chosen["coverage"], chosen["density"]),
        xytext=(8, -14),
        textcoords="offset points",
        fontsize=8,
        color="red",
    )
    fig.colorbar(points, ax=ax, label="restricted inputs")
    ax.set_xlabel("coverage (share of all cases of interest in the box)")
    ax.set_ylabel("density (share of the box's cases of interest)")
    ax.set_title(f"PRIM peeling trajectory: '{box.outcome}', box {box.number}", fontsize=10)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def plot_box(box: Box, levers, path: Path) -> Path | None:
    lims = box.limits
    if lims.empty:
        return None
    fig = Figure(figsize=(7.5, 0.7 + 0.55 * len(lims)))
    ax = fig.subplots()
    for i, row in enumerate(lims.itertuples()):
        span = row.full_high - row.full_low or 1.0
        lo, hi = (row.low - row.full_low) / span, (row.high - row.full_low) / span
        ax.barh(i, 1.0, color="0.88", height=0.6)
        ax.barh(i, hi - lo, left=lo, color="tab:blue" if row.name in levers else "tab:orange", height=0.6)
        qps = [q for q in (row.qp_low, row.qp_high) if np.isfinite(q)]
        qp = f", qp {max(qps):.2g}" if qps else ""
        text = f"{_num(row.low)}–{_num(row.high)} of {_num(row.full_low)}–{_num(row.full_high)}{qp}"
        ax.text(1.02, i, text, va="center", fontsize=8)
    ax.set_yticks(range(len(lims)), [input_label(n, levers) for n in lims["name"]], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.5, 1], ["low end", "middle", "high end"], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(
        f"'{box.outcome}' box {box.number}: coverage {box.coverage:.0%}, density {box.density:.0%} "
        "(blue: levers, orange: assumptions; grey: full range)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def plot_tradeoff(cases: pd.DataFrame, policies: pd.DataFrame, titles: dict[str, str], path: Path) -> Path:
    fig = Figure(figsize=(7.2, 5.0))
    ax = fig.subplots()
    ax.scatter(cases[UNMET], cases[COST], s=6, color="0.8", label="design cases (levers x worlds)")
    names = [p for p in policies["policy"].unique()]
    colours = matplotlib.colormaps["tab10"]
    for i, name in enumerate(names):
        part = policies[policies["policy"] == name]
        ref = part["role"].iloc[0] == "reference"
        ax.scatter(
            part[UNMET], part[COST], s=24 if not ref else 34, marker="x" if ref else "o",
            color="black" if ref else colours(i % 10), alpha=0.85,
            label=titles.get(name, "Pre-2015 approach, equal spending" if ref else name),
        )  # fmt: skip
    ax.set_xlabel(f"{output_label(UNMET)} (severity-weeks per 1,000 residents a year)")
    ax.set_ylabel(f"{output_label(COST)} (EUR per resident a year)")
    ax.set_title("Unmet need against cost: one point per policy and world", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def _num(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


# ---- tables and the report ----------------------------------------------------------------
def boxes_table(disc) -> pd.DataFrame:
    rows = []
    for name, found in disc.boxes.items():
        for box in found:
            for row in box.limits.itertuples(index=False):
                kind = "lever" if row.name in disc.levers else "assumption"
                stats = {"coverage": box.coverage, "density": box.density, "mass": box.mass}
                rows.append({"outcome": name, "box": box.number, **stats, "kind": kind, **row._asdict()})
    return pd.DataFrame(rows)


def _pct(x: float) -> str:
    return f"{x:.0%}" if np.isfinite(x) else "–"


def _interval(boot: pd.DataFrame, outcome: str, number: int, mode: str, stat: str) -> str:
    part = (
        boot[(boot["outcome"] == outcome) & (boot["box"] == number) & (boot["resample"] == mode)]
        if len(boot)
        else boot
    )
    if part.empty:
        return "–"
    row = part.iloc[0]
    return f"{_pct(row[f'{stat}_low'])}–{_pct(row[f'{stat}_high'])}"


def findings(disc) -> list[str]:
    """Plain-language findings, every number from the results."""
    out = []
    words = {"escapes": "the team escapes the caseload trap", "fails": "the team does worse than before 2015"}
    for name, found in disc.boxes.items():
        share = float(disc.cases[name].mean())
        if not found:
            out.append(f"In {share:.0%} of cases {words[name]}; PRIM found no box (no or only such cases).")
            continue
        box = found[0]
        levers = [n for n in box.limits["name"] if n in disc.levers]
        assumptions = [n for n in box.limits["name"] if n not in disc.levers]
        text = (
            f"In {share:.0%} of cases {words[name]}. {box.coverage:.0%} of those cases lie where "
            f"{box.describe(lambda n: input_label(n, disc.levers))}; there, {box.density:.0%} of cases "
            f"{'escape' if name == 'escapes' else 'fail'} (90% bootstrap interval over replicates and "
            f"worlds: {_interval(disc.bootstrap, name, box.number, 'both', 'density')}), against "
            f"{share:.0%} overall."
        )
        if levers and assumptions:
            text += " The box mixes levers a municipality sets with assumptions it cannot set: where the "
            text += "assumptions lie outside it, the levers alone do not give this result."
        elif assumptions and not levers:
            text += (
                " The box restricts only assumptions: which worlds we are in decides this, not the levers."
            )
        out.append(text)
        insignificant = box.limits[(box.limits[["qp_low", "qp_high"]].max(axis=1) > 0.05)]["name"].tolist()
        if insignificant:
            out.append(
                f"Restrictions with a quasi-p value above 0.05 in the '{name}' box (could be chance): "
                f"{', '.join(insignificant)}."
            )
    if not disc.scores.empty:
        for name in disc.scores.columns:
            top = disc.scores[name].sort_values(ascending=False).head(3)
            out.append(
                f"Strongest drivers of '{name}' (extra-trees feature scores): "
                + ", ".join(f"{input_label(n, disc.levers)} ({v:.2f})" for n, v in top.items())
                + "."
            )
    out.extend(sentences(disc.robustness, disc.policy_titles))
    return out


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(str(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _cell(v) -> str:
    if isinstance(v, float | np.floating):
        return "–" if not np.isfinite(v) else f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def policy_table(disc) -> pd.DataFrame:
    """The robustness table in words and rounded numbers, for a policy maker."""
    t = disc.robustness
    table = pd.DataFrame({"policy": [disc.policy_titles.get(p, p) for p in t["policy"]]})
    for objective, words in OBJECTIVES.items():
        table[f"{words}: mean"] = t[objective]
        table[f"{words}: worst regret"] = [
            f"{_num(a)} ({r:.0%})" if np.isfinite(r) else _num(a)
            for a, r in zip(t[f"{objective}_regret_max"], t[f"{objective}_regret_max_rel"], strict=True)
        ]
    table["worlds not worse than pre-2015"] = [f"{v:.0%}" for v in t["satisficing_share"]]
    table["worlds escaping the trap"] = [f"{v:.0%}" for v in t["escapes_share"]]
    for cost in disc.info.get("cost_columns", []):
        if cost in t and cost not in OBJECTIVES:
            table[output_label(cost)] = t[cost]
    return table


def write(disc, out: str | Path) -> list[Path]:
    """Write every table, figure and the report to ``out``; returns the paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def csv(name: str, df: pd.DataFrame, index: bool = False) -> None:
        atomic_write_bytes(folder / name, df.to_csv(index=index).encode())
        written.append(folder / name)

    atomic_write_parquet(folder / "cases.parquet", disc.cases)
    written.append(folder / "cases.parquet")
    csv("boxes.csv", boxes_table(disc))
    for name, found in disc.boxes.items():
        if found:
            csv(f"trajectory_{name}.csv", found[0].trajectory)
            written.append(plot_peeling(found[0], folder / f"peeling_{name}.png"))
            box_fig = plot_box(found[0], disc.levers, folder / f"box_{name}.png")
            if box_fig:
                written.append(box_fig)
        csv(f"cart_{name}.csv", disc.cart[name])
    csv("feature_scores.csv", disc.scores.rename_axis("input"), index=True)
    csv("bootstrap.csv", disc.bootstrap)
    csv("robustness.csv", disc.robustness)
    written.append(
        plot_tradeoff(disc.cases, disc.policy_results, disc.policy_titles, folder / "tradeoff.png")
    )
    text = report_text(disc, {p.name for p in written})
    atomic_write_bytes(folder / "report.md", text.encode())
    written.append(folder / "report.md")
    return written


def report_text(disc, files: set[str]) -> str:
    info = disc.info
    d = info["discovery"]
    setup = info.get("setup", {})
    size = ", ".join(f"{k} = {v}" for k, v in setup.items()) or "registry defaults"
    stand_in = "draws from the registry ranges" in str(d.get("ensemble", ""))
    lines = [
        "# Scenario discovery: which levers get the team out of the caseload trap",
        "",
        f"Design: {d['design_points']} Latin-hypercube points over {len(disc.levers)} policy levers, "
        f"crossed with {d['worlds']} worlds ({d['ensemble']}), {info['replicates']} replicates each with "
        f"common random numbers (base seed {info['base_seed']}); {size}; {info['runs']} runs of the design, "
        f"the pre-2015 reference and the named policies ({info['failed']} failed).",
        "",
    ]
    if stand_in:
        lines += [
            "**The worlds are a stand-in**: behaviour parameters drawn uniformly within their registry "
            "ranges, not a calibrated plausible ensemble. Boxes that restrict assumptions say which "
            "assumptions matter, not which worlds are plausible.",
            "",
        ]
    lines += ["## Outcomes of interest", ""]
    for name, text in disc.spec.describe().items():
        lines.append(f"- **{name}**: {text} (share of cases: {disc.cases[name].mean():.0%}).")
    lines += [
        f"- The admissions threshold of 'escapes' is {disc.escalation_cut:.3g} per 1,000 residents a year.",
        "",
        "## Findings in plain language",
        "",
        *[f"- {f}" for f in findings(disc)],
        "",
        "## Boxes (PRIM)",
        "",
        "Chosen on the peeling trajectory: the largest coverage with a density of at least the minimum "
        "(and at least half way from the overall share to 1). Quasi-p values test each restriction "
        "(Bryant and Lempert); bootstrap intervals (90%) resample replicates within worlds "
        "('replicates') or worlds and replicates ('both'), recomputing the outcomes each time.",
        "",
    ]
    for name, found in disc.boxes.items():
        for box in found:
            iv = lambda mode, stat, n=name, b=box.number: _interval(disc.bootstrap, n, b, mode, stat)  # noqa: E731
            lines += [
                f"### '{name}', box {box.number}: coverage {box.coverage:.0%}, density {box.density:.0%}, "
                f"mass {box.mass:.0%}",
                "",
                f"Bootstrap: coverage {iv('replicates', 'coverage')} (replicates), {iv('both', 'coverage')} "
                f"(worlds and replicates); density {iv('replicates', 'density')} (replicates), "
                f"{iv('both', 'density')} (both).",
                "",
            ]
            if not box.limits.empty:
                shown = box.limits.copy()
                shown.insert(0, "input", [input_label(n, disc.levers) for n in shown.pop("name")])
                lines += [_md_table(shown), ""]
            for fig in (f"peeling_{name}.png", f"box_{name}.png"):
                if fig in files and box.number == 1:
                    lines += [f"![{fig}]({fig})", ""]
    lines += ["## CART leaves (richest first)", ""]
    for name, leaves in disc.cart.items():
        lines += [f"**{name}**", "", _md_table(leaves.head(5)) if not leaves.empty else "(no cases)", ""]
    lines += ["## Feature scores (extra trees)", ""]
    if not disc.scores.empty:
        top = disc.scores.head(10).reset_index().rename(columns={"index": "input"})
        top.iloc[:, 0] = [input_label(n, disc.levers) for n in top.iloc[:, 0]]
        lines += [_md_table(top), ""]
    lines += [
        "## Robust policies",
        "",
        "Regret: how much worse than the best of the compared policies in the same world (worst case over "
        "worlds, in the KPI's unit and, in brackets, as a share of the best value). 'Not worse than "
        "pre-2015': the share of worlds in which the policy does not fail. Box policies are the centre "
        "of each restricted lever of an 'escapes' box, other levers at their registry defaults.",
        "",
        _md_table(policy_table(disc)),
        "",
        "![tradeoff.png](tradeoff.png)",
        "",
    ]
    return "\n".join(lines)


def lever_ranges() -> dict[str, tuple[float, float]]:
    return {n: (float(REGISTRY[n].low), float(REGISTRY[n].high)) for n in REGISTRY}

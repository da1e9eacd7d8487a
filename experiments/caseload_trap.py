"""Experiment script: the caseload trap (DESIGN pattern P1/P6).

Does the team get out of casework when staffing rises? We sweep staffing from low to high
and look at the share of worker time that goes to collective work, the escalations to
individual maatwerk and the collective initiatives that run. Below some staffing level
individual cases eat all the time (Van Arum (Movisie), 'Sociale wijkteams are here to
stay'); above it collective work can lower individual demand (Zorg+Welzijn and Movisie,
'Collectieve aanpak in de lead').

Run it from the repository root (a few minutes on 2 cores with the defaults below):

    python -m experiments.caseload_trap

Copy this file to make your own experiment: change the constants, the sweep, the figure.
Results go to results/caseload_trap/ (runs.parquet, manifest.json, caseload_trap.png).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from experiments import sweep
from experiments.labels import lever_label, output_label
from experiments.plots import mean_ci
from model.outputs import PERCENT, display_unit

# ---- what to run: edit these ------------------------------------------------------------
STAFFING = (0.3, 2.5, 9)  # fte_per_1000 from 0.3 to 2.5 FTE per 1,000 residents, 9 steps
FIXED = {"collective_time_target": 0.3}  # the municipality asks for 30% collective work
REPLICATES = 5  # seeds per staffing level (common random numbers)
RESIDENTS, WEEKS = 5000, 520  # the default neighbourhood and horizon (10 years)
OUT = Path("results/caseload_trap")

# The KPIs to show (columns of runs.parquet); labels and units come from the output table
PANELS = [
    "collective_time_share",
    "escalations_per_1000_year",
    "initiatives_active",
    "cost_total_per_resident_year",
]


def main(
    residents: int = RESIDENTS, weeks: int = WEEKS, replicates: int = REPLICATES, out: Path = OUT, **options
) -> Path:
    # One row per run: p_<parameter> columns, seed, replicate and every summary KPI.
    # overwrite=True replaces an earlier run of this script; use resume=True to continue one.
    runs = sweep(
        {"fte_per_1000": STAFFING, **FIXED},
        replicates=replicates,
        residents=residents,
        weeks=weeks,
        out=out,
        overwrite=True,
        **options,
    )
    ok = runs[runs["status"] == "ok"]

    fig = Figure(figsize=(4.2 * len(PANELS), 4), layout="constrained")
    axes = fig.subplots(1, len(PANELS))
    for ax, column in zip(axes, PANELS, strict=True):
        scale = 100.0 if column in PERCENT else 1.0  # shares are shown in per cent
        # Mean over replicates with a 95% confidence band, per staffing level
        stats = [mean_ci(group[column] * scale) for _, group in ok.groupby("p_fte_per_1000")]
        x = sorted(ok["p_fte_per_1000"].unique())
        ax.plot(x, [m for m, _ in stats], marker="o", color="tab:blue")
        ax.fill_between(x, [m - h for m, h in stats], [m + h for m, h in stats], alpha=0.2)
        ax.set_title(output_label(column))
        ax.set_xlabel(lever_label("fte_per_1000"))
        ax.set_ylabel(display_unit(column))
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"The caseload trap: {len(ok)} runs, mean and 95% confidence band over {replicates} replicates"
    )
    path = Path(out) / "caseload_trap.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

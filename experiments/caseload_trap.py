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

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments import sweep  # noqa: E402
from experiments.plots import mean_ci  # noqa: E402

# ---- what to run: edit these ------------------------------------------------------------
STAFFING = (0.3, 2.5, 9)  # fte_per_1000 from 0.3 to 2.5 FTE per 1,000 residents, 9 steps
FIXED = {"collective_time_target": 0.3}  # the municipality asks for 30% collective work
REPLICATES = 5  # seeds per staffing level (common random numbers)
RESIDENTS, WEEKS = 5000, 520  # the default neighbourhood and horizon (10 years)
OUT = Path("results/caseload_trap")

# The KPIs to show: column in runs.parquet, label, unit, scale (100 turns a share into %)
PANELS = [
    ("collective_time_share", "Collective work", "% of direct worker hours", 100.0),
    ("escalations_per_1000_year", "Escalations to maatwerk", "per 1,000 residents per year", 1.0),
    ("initiatives_active", "Collective initiatives", "running initiatives", 1.0),
    ("cost_total_per_resident_year", "Total cost", "EUR per resident per year", 1.0),
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

    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 4), constrained_layout=True)
    for ax, (column, label, unit, scale) in zip(axes, PANELS, strict=True):
        # Mean over replicates with a 95% confidence band, per staffing level
        stats = [mean_ci(group[column] * scale) for _, group in ok.groupby("p_fte_per_1000")]
        x = sorted(ok["p_fte_per_1000"].unique())
        ax.plot(x, [m for m, _ in stats], marker="o", color="tab:blue")
        ax.fill_between(x, [m - h for m, h in stats], [m + h for m, h in stats], alpha=0.2)
        ax.set_title(label)
        ax.set_xlabel("staffing (FTE per 1,000 residents)")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"The caseload trap: {len(ok)} runs, mean and 95% confidence band over {replicates} replicates"
    )
    path = Path(out) / "caseload_trap.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

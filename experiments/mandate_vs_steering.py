"""Experiment script: mandate and outcome steering compared at equal budget (patterns P3/P4).

Four teams with the same municipal budget per resident: the default team, one with full
mandate (RadarAdvies, 'Sociale teams werken'), one steered on outcomes instead of inputs
(Van Arum (Movisie), 'Sociale wijkteams are here to stay') and one with both. Which gives
earlier help, fewer escalations and less unmet need for the same money?

    python -m experiments.mandate_vs_steering

Results go to results/mandate_vs_steering/ (runs.parquet, manifest.json, the figure).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from experiments import execute, make_tasks
from experiments.labels import output_label
from experiments.plots import mean_ci
from model import REGISTRY
from model.outputs import PERCENT, display_unit

# ---- what to run: edit these ------------------------------------------------------------
#: EUR per resident per year, the same for every variant: the registry default.
BUDGET = float(REGISTRY["budget_per_resident"].default)
MANDATE, STEERING = REGISTRY["mandate"].default, REGISTRY["steering"].default  # the default team
VARIANTS = {  # label -> overrides
    "default team": {"mandate": MANDATE, "steering": STEERING},
    "full mandate": {"mandate": 1.0, "steering": STEERING},
    "outcome steering": {"mandate": MANDATE, "steering": 1.0},
    "mandate + outcome steering": {"mandate": 1.0, "steering": 1.0},
}
REPLICATES = 10
RESIDENTS, WEEKS = 5000, 520
OUT = Path("results/mandate_vs_steering")

# The KPIs to show (columns of runs.parquet); labels and units come from the output table
PANELS = [
    "wait_weeks_mean",
    "escalations_per_1000_year",
    "unmet_need_per_1000_year",
    "cost_total_per_resident_year",
]


def main(
    residents: int = RESIDENTS, weeks: int = WEEKS, replicates: int = REPLICATES, out: Path = OUT, **options
) -> Path:
    # One design point per variant, all with the same budget; replicate i has the same seed
    # in every variant (common random numbers). The tag becomes a column of runs.parquet.
    tasks = make_tasks(
        [{**overrides, "budget_per_resident": BUDGET} for overrides in VARIANTS.values()],
        replicates=replicates,
        setup={"n_residents": residents, "weeks": weeks},
        tags=[{"variant": label} for label in VARIANTS],
    )
    runs = execute(tasks, out, kind="mandate_vs_steering", overwrite=True, **options).runs
    ok = runs[runs["status"] == "ok"]

    labels = list(VARIANTS)
    groups = [ok[ok["variant"] == label] for label in labels]
    colours = matplotlib.colormaps["tab10"](np.arange(len(labels)))
    fig = Figure(figsize=(4.2 * len(PANELS), 4.2), layout="constrained")
    axes = fig.subplots(1, len(PANELS))
    for ax, column in zip(axes, PANELS, strict=True):
        scale = 100.0 if column in PERCENT else 1.0  # shares are shown in per cent
        stats = [mean_ci(g[column] * scale) for g in groups]  # mean and 95% CI half-width
        ax.bar(
            range(len(labels)), [m for m, _ in stats], yerr=[h for _, h in stats], color=colours, capsize=4
        )
        ax.set_xticks(range(len(labels)), labels, rotation=25, ha="right")
        ax.set_title(output_label(column))
        ax.set_ylabel(display_unit(column))
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(
        f"Mandate and steering at an equal budget of EUR {BUDGET:.0f} per resident: "
        f"mean of {replicates} replicates with 95% confidence interval"
    )
    path = Path(out) / "mandate_vs_steering.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

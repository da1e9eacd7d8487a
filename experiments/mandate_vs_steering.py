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

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments import execute, make_tasks  # noqa: E402
from experiments.plots import mean_ci  # noqa: E402

# ---- what to run: edit these ------------------------------------------------------------
BUDGET = 640.0  # EUR per resident per year, the same for every variant (registry default)
VARIANTS = {  # label -> overrides
    "default team": {"mandate": 0.3, "steering": 0.2},
    "full mandate": {"mandate": 1.0, "steering": 0.2},
    "outcome steering": {"mandate": 0.3, "steering": 1.0},
    "mandate + outcome steering": {"mandate": 1.0, "steering": 1.0},
}
REPLICATES = 10
RESIDENTS, WEEKS = 5000, 520
OUT = Path("results/mandate_vs_steering")

PANELS = [
    ("wait_weeks_mean", "Wait for support", "weeks", 1.0),
    ("escalations_per_1000_year", "Escalations to maatwerk", "per 1,000 residents per year", 1.0),
    ("unmet_need_per_1000_year", "Unmet need", "severity-weeks per 1,000 per year", 1.0),
    ("cost_total_per_resident_year", "Total cost", "EUR per resident per year", 1.0),
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
    colours = plt.get_cmap("tab10")(np.arange(len(labels)))
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 4.2), constrained_layout=True)
    for ax, (column, title, unit, scale) in zip(axes, PANELS, strict=True):
        stats = [mean_ci(g[column] * scale) for g in groups]  # mean and 95% CI half-width
        ax.bar(
            range(len(labels)), [m for m, _ in stats], yerr=[h for _, h in stats], color=colours, capsize=4
        )
        ax.set_xticks(range(len(labels)), labels, rotation=25, ha="right")
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(
        f"Mandate and steering at an equal budget of EUR {BUDGET:.0f} per resident: "
        f"mean of {replicates} replicates with 95% confidence interval"
    )
    path = Path(out) / "mandate_vs_steering.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

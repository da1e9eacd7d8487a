"""Runs per second of a 200-run sweep: ours on 1 and 2 workers and ``mesa.batch_run``, side by side.

    python benchmarks/bench_sweep.py [--residents 500] [--weeks 52] [--burn-in 10] [--repeats 2]

The design is the same everywhere: a 10 x 10 grid of mandate x steering, 2 seeds per
point (200 runs). Ours writes the results store (Parquet parts, manifest) to a temporary
folder with the weekly series off; ``mesa.batch_run`` keeps its results in memory and needs
the model's DataCollector on (``collect=True``) to report anything, with
``data_collection_period=-1`` so only the last step is read back. Wall-clock times include
starting the worker processes. The four configurations run interleaved ``--repeats``
times and the fastest time of each is shown, so a load spike from other processes on a
shared machine does not decide the comparison.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import mesa
import numpy as np

from experiments import make_tasks
from experiments.executor import execute
from model import NeighbourhoodModel

LEVELS = [float(v) for v in np.linspace(0.0, 1.0, 10)]
SEEDS = 2


def ours(workers: int, setup: dict) -> tuple[float, int]:
    points = [{"mandate": m, "steering": s} for m in LEVELS for s in LEVELS]
    tasks = make_tasks(points, replicates=SEEDS, base_seed=0, setup=setup)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        outcome = execute(tasks, f"{tmp}/bench", workers=workers, progress=False)
        elapsed = time.perf_counter() - start
    return elapsed, int((outcome.runs["status"] == "ok").sum())


def mesa_batch(processes: int, setup: dict) -> tuple[float, int]:
    start = time.perf_counter()
    results = mesa.batch_run(
        NeighbourhoodModel,
        parameters={"mandate": LEVELS, "steering": LEVELS, "collect": True, **setup},
        number_processes=processes,
        data_collection_period=-1,
        max_steps=setup["burn_in_weeks"] + setup["weeks"],
        display_progress=False,
        rng=list(range(SEEDS)),
    )
    return time.perf_counter() - start, len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--burn-in", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2, help="timings per configuration (best shown)")
    args = parser.parse_args()
    setup = {"n_residents": args.residents, "weeks": args.weeks, "burn_in_weeks": args.burn_in}
    print(
        f"200 runs: 10 x 10 grid (mandate x steering) x {SEEDS} seeds, {args.residents} residents, "
        f"{args.weeks} + {args.burn_in} weeks"
    )
    configs = (
        ("wijkteam sweep (experiments)", ours, 1),
        ("wijkteam sweep (experiments)", ours, 2),
        ("mesa.batch_run", mesa_batch, 1),
        ("mesa.batch_run", mesa_batch, 2),
    )
    best: dict[int, tuple[float, int]] = {}
    for _ in range(args.repeats):
        for i, (_, func, workers) in enumerate(configs):
            elapsed, runs = func(workers, setup)
            if i not in best or elapsed < best[i][0]:
                best[i] = (elapsed, runs)
    print(
        f"{'executor':32s} {'workers':>7s} {'runs':>6s} {'seconds':>8s} {'runs/s':>7s}"
        f"  (best of {args.repeats})"
    )
    for i, (label, _, workers) in enumerate(configs):
        elapsed, runs = best[i]
        print(f"{label:32s} {workers:7d} {runs:6d} {elapsed:8.1f} {runs / elapsed:7.2f}")


if __name__ == "__main__":
    main()

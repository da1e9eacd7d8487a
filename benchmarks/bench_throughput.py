"""Sweep throughput on the default neighbourhood: speed-up from workers and per-run overhead.

    python benchmarks/bench_throughput.py [--runs 2000] [--workers 1 2] [--residents 5000]

Runs the same design (``--runs`` runs: staffing levels x replicates, default neighbourhood,
weekly series off) through the executor with each number of workers, writing the results
store to a temporary folder. Prints runs per second, the speed-up over one worker, and the
overhead share: 1 - (summed model time of the runs) / (workers x wall time), i.e. the part of
the workers' time not spent inside ``model.run`` (process start-up, pickling, scheduling,
writing Parquet). A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from experiments import make_tasks
from experiments.executor import execute


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--residents", type=int, default=5000)
    args = parser.parse_args()
    levels = np.linspace(0.4, 2.0, 20)
    replicates = max(1, args.runs // levels.size)
    points = [{"fte_per_1000": float(v)} for v in levels]
    tasks = make_tasks(points, replicates=replicates, base_seed=0, setup={"n_residents": args.residents})
    print(f"{len(tasks)} runs of {args.residents} residents (default horizon), weekly series off")
    print(f"{'workers':>8} {'wall s':>8} {'runs/s':>8} {'speed-up':>9} {'overhead':>9}")
    base = None
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            outcome = execute(tasks, f"{tmp}/bench", workers=workers, progress=False)
            wall = time.perf_counter() - start
        model_time = float(outcome.runs["elapsed_s"].sum())
        rate = len(tasks) / wall
        base = base or rate
        overhead = 1.0 - model_time / (workers * wall)
        print(f"{workers:>8} {wall:>8.1f} {rate:>8.2f} {rate / base:>8.2f}x {overhead:>8.1%}")


if __name__ == "__main__":
    main()

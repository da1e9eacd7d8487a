"""Time full model runs: seconds per run and microseconds per resident-week.

    python benchmarks/bench_model.py [--sizes 1000 5000 20000] [--repeats 3] [--weeks 520]

Each run includes the burn-in and weekly data collection, as a user's default run does.
Prints the median over repeats (seeds 0, 1, ...) of wall time and of this process's CPU time
(the latter is less disturbed by other work on a shared machine). A script that prints
figures, not a test.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from model import run
from model.params import REGISTRY


def time_run(n: int, weeks: int, seed: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one full run."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(seed=seed, n_residents=n, weeks=weeks)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=REGISTRY["weeks"].default)
    args = parser.parse_args()
    burn_in = REGISTRY["burn_in_weeks"].default
    total_weeks = args.weeks + burn_in
    print(
        f"python {platform.python_version()} on {platform.machine()}; "
        f"{args.weeks} weeks + {burn_in} burn-in, median of {args.repeats}"
    )
    print(f"{'residents':>10} {'wall s/run':>11} {'CPU s/run':>10} {'CPU us/resident-week':>21}")
    time_run(500, 10, 0)  # warm imports and caches
    for n in args.sizes:
        times = [time_run(n, args.weeks, s) for s in range(args.repeats)]
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        print(f"{n:>10} {wall:>11.3f} {cpu:>10.3f} {cpu / (n * total_weeks) * 1e6:>21.3f}")


if __name__ == "__main__":
    main()

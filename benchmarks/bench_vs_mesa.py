"""Our full model against Mesa's own empty agent loop, side by side in one process.

    python benchmarks/bench_vs_mesa.py [--sizes 1000 5000 20000] [--repeats 5] [--weeks 520]

(a) the full neighbourhood model (every mechanism, weekly data collection, burn-in included);
(b) a bare Mesa model with the same number of agents whose ``step`` does nothing, driven by
``model.agents.shuffle_do("step")`` for the same number of weeks (burn-in included).
Prints the median wall time of each and the ratio a/b (goal: below 0.5).
"""

from __future__ import annotations

import argparse
import statistics
import time

import mesa

from model import NeighbourhoodModel
from model.params import REGISTRY


class IdleAgent(mesa.Agent):
    """An agent whose weekly step does nothing."""

    def step(self) -> None:
        pass


class IdleModel(mesa.Model):
    """A bare Mesa model: ``n`` idle agents, stepped in random order each week."""

    def __init__(self, n: int, seed: int) -> None:
        super().__init__(rng=seed)
        IdleAgent.create_agents(self, n)

    def step(self) -> None:
        self.agents.shuffle_do("step")


def time_ours(n: int, weeks: int, seed: int) -> float:
    start = time.perf_counter()
    model = NeighbourhoodModel({"n_residents": n, "weeks": weeks}, rng=seed)
    model.run_model()
    return time.perf_counter() - start


def time_idle(n: int, total_weeks: int, seed: int) -> float:
    start = time.perf_counter()
    model = IdleModel(n, seed)
    for _ in range(total_weeks):
        model.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--weeks", type=int, default=REGISTRY["weeks"].default)
    args = parser.parse_args()
    total = args.weeks + REGISTRY["burn_in_weeks"].default
    print(f"{total} weeks (burn-in included), median of {args.repeats}, alternating (a) and (b)")
    print(f"{'agents':>8} {'(a) model s':>12} {'(b) empty Mesa s':>17} {'a/b':>6}")
    for n in args.sizes:
        ours, idle = [], []
        for seed in range(args.repeats):
            ours.append(time_ours(n, args.weeks, seed))
            idle.append(time_idle(n, total, seed))
        a, b = statistics.median(ours), statistics.median(idle)
        print(f"{n:>8} {a:>12.3f} {b:>17.3f} {a / b:>6.2f}")


if __name__ == "__main__":
    main()

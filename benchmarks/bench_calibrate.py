"""History matching on a Dask cluster: wall time with 1 and 2 workers (issue #18, item 6).

    python benchmarks/bench_calibrate.py [--workers 1 2] [--residents 2000] [--runs-per-wave 60]

Runs the same small history matching (the ``--quick`` settings of ``wijkteam calibrate``, with
``--residents`` and ``--runs-per-wave`` as given) once per worker count, each on a fresh
``dask.distributed.LocalCluster`` of that many single-threaded worker processes, in a temporary
folder. Prints per worker count the wall time, the model runs, runs per second, the speed-up over
the first count, and the share of wall time outside the batches of model runs (emulator fits,
the non-implausibility filter, writing): that part is serial, so it bounds the speed-up
(Amdahl). Last line: whether every worker count kept the same members with the same values
(results must not depend on the cluster). A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--runs-per-wave", type=int, default=60)
    args = parser.parse_args()

    from dask import distributed

    from calibration.cli import QUICK
    from calibration.history import Settings, behaviour_priors, history_match
    from calibration.runs import Simulator
    from calibration.targets import load_targets

    targets = load_targets()
    base = {k: v for k, v in QUICK.items() if k != "setup"}
    base["runs_per_wave"] = args.runs_per_wave
    setup = {**QUICK["setup"], "n_residents": args.residents}
    settings = Settings(
        parameters=tuple(behaviour_priors()),
        setup=setup,
        base_seed=int(targets.settings.get("base_seed", 0)),
        **base,
    )
    print(
        f"history matching: {settings.waves} waves of {settings.runs_per_wave} points, "
        f"{settings.members} members asked, {args.residents} residents, {setup['weeks']} weeks; "
        "Dask LocalCluster, one thread per worker process"
    )
    print(f"{'workers':>8} {'wall s':>8} {'runs':>6} {'runs/s':>8} {'speed-up':>9} {'serial':>8}")
    first_rate, members = None, []
    for workers in args.workers:
        with (
            distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=40,
            ) as cluster,
            distributed.Client(cluster) as client,
            tempfile.TemporaryDirectory() as tmp,
        ):
            client.run(lambda: __import__("calibration.runs"))  # import before timing, as a pool preloads
            with Simulator(setup, scheduler=client) as sim:
                timed = _TimedBatches(sim)
                start = time.perf_counter()
                result = history_match(targets, settings, f"{tmp}/cal", timed)
                wall = time.perf_counter() - start
        runs = result.runs_done + result.runs_failed
        rate = runs / wall
        first_rate = first_rate or rate
        serial = 1.0 - timed.seconds / wall
        print(f"{workers:>8} {wall:>8.1f} {runs:>6} {rate:>8.2f} {rate / first_rate:>8.2f}x {serial:>7.1%}")
        members.append(result.members.drop(columns=["implausibility"]))
    same = all(m.equals(members[0]) for m in members[1:])
    detail = "" if same else f" ({[len(m) for m in members]} members)"
    print(f"same members with the same values on every worker count: {same}{detail}")


class _TimedBatches:
    """A runner that forwards to the simulator and adds up the wall time spent in its batches."""

    def __init__(self, sim) -> None:
        self.sim = sim
        self.seconds = 0.0

    def batch(self, points, seeds):
        start = time.perf_counter()
        try:
            return self.sim.batch(points, seeds)
        finally:
            self.seconds += time.perf_counter() - start


if __name__ == "__main__":
    main()

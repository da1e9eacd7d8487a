"""Compare code versions side by side: CPU time of default runs, and whether results are identical.

    python benchmarks/compare_versions.py REF [REF ...] [--rounds 10] [--residents 5000]
    python benchmarks/compare_versions.py REF --identical

Each REF is a git commit, branch or tag, checked out in a temporary worktree (``.`` is the working
tree as it is). The first version is the baseline.

Timing: each round runs one default neighbourhood (``--residents``, the default horizon) in a fresh
process per version, the versions one after another, with seed = round. Each process first does a
short warm-up run (which also loads or compiles the compiled loops), then times the full run in CPU
seconds. Alternating the versions within minutes is what makes the comparison fair on a shared machine
whose speed varies from minute to minute.

``--identical``: every version runs 22 configurations (seeds 0-2, staffing, pre-2015, steering,
mandate, secondment, 1,000 and 20,000 residents, a collective-heavy setting, each mechanism switch
off) and is compared with the first version exactly: summary, weekly series, final state of every
resident array, the workers and initiatives, and the random generator. Prints the fields that differ.

A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CONFIGS: list[tuple[dict, int]] = [
    ({}, 0),
    ({}, 1),
    ({}, 2),
    ({"fte_per_1000": 0.6}, 0),
    ({"fte_per_1000": 1.6}, 0),
    ({"pre_2015": True}, 0),
    ({"steering": 0.0}, 0),
    ({"steering": 1.0}, 0),
    ({"mandate": 1.0, "steering": 1.0}, 1),
    ({"independence": 0.0, "mandate": 0.8}, 0),
    ({"n_residents": 1000}, 0),
    ({"n_residents": 20000, "weeks": 104}, 0),
    ({"collective_time_target": 0.4, "steering": 1.0}, 3),
] + [
    ({f"m{i}_{name}": False}, 0)
    for i, name in enumerate(
        [
            "escalation",
            "early_signalling",
            "capacity_limit",
            "skill_dynamics",
            "mandate_rules",
            "provider_behaviour",
            "initiatives",
            "reliance_dynamics",
            "municipal_review",
        ],
        start=1,
    )
]


# ---- what runs inside each version's process -----------------------------------------------
def _time_one(residents: int, seed: int) -> None:
    import time

    from model import run

    run(seed=seed, n_residents=500, weeks=10)  # warm-up; loads (or compiles) the compiled loops
    start = time.process_time()
    run(seed=seed, n_residents=residents)
    print(time.process_time() - start)


def _dump(path: str) -> None:
    import numpy as np

    from model import NeighbourhoodModel

    out = {}
    for overrides, seed in CONFIGS:
        model = NeighbourhoodModel(rng=seed, **overrides)
        model.run_model()
        state = {k: v.copy() for k, v in vars(model.pop).items() if isinstance(v, np.ndarray)}
        state["random generator"] = model.rng.bit_generator.state
        state["workers"] = [
            (w.lef, w.skill_collective, w.demand, w.service, w.capacity) for w in model.workers
        ]
        state["initiatives"] = sorted(
            (i.ident, i.block, i.domain, i.health, i.participants, i.volunteers, i.quality)
            for i in model.initiatives.values()
        )
        out[repr((overrides, seed))] = (model.summary(), model.series(), state)
    with open(path, "wb") as f:
        pickle.dump(out, f)


# ---- the driver ------------------------------------------------------------------------------
def _checkout(ref: str, tmp: Path) -> Path:
    if ref == ".":
        return REPO
    where = tmp / ref.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(where), ref],
        check=True,
        capture_output=True,
    )
    return where


def _in_version(tree: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env={**os.environ, **env, "PYTHONPATH": str(tree)},
        cwd=tempfile.gettempdir(),  # nothing importable as ``model`` but the version's tree
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"the run in {tree} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def _differences(a, b) -> list[str]:
    import numpy as np

    (sum_a, series_a, state_a), (sum_b, series_b, state_b) = a, b
    out = [f"summary {k}" for k in sum_a if repr(sum_a[k]) != repr(sum_b.get(k))]
    if not series_a.equals(series_b):
        out.append("weekly series")
    for key, x in state_a.items():
        y = state_b.get(key)
        same = np.array_equal(x, y, equal_nan=True) if isinstance(x, np.ndarray) else x == y
        if not same:
            out.append(key)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("refs", nargs="*", help="git commits, branches or tags; '.' is the working tree")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--identical", action="store_true", help="compare results instead of timing")
    parser.add_argument("--worker-time", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-dump", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_time:
        return _time_one(*args.worker_time)
    if args.worker_dump:
        return _dump(args.worker_dump)
    if not args.refs:
        parser.error("give at least one version (a git ref, or '.' for the working tree)")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        versions = [(ref, _checkout(ref, tmp), {}) for ref in args.refs]
        try:
            if args.identical:
                results = {}
                for label, tree, env in versions:
                    path = str(tmp / f"{len(results)}.pkl")
                    _in_version(tree, env, "--worker-dump", path)
                    with open(path, "rb") as f:
                        results[label] = pickle.load(f)
                base_label, base = next(iter(results.items()))
                for label, result in list(results.items())[1:]:
                    diffs = {k: _differences(base[k], result[k]) for k in base}
                    same = sum(not d for d in diffs.values())
                    print(f"{label} against {base_label}: {same} of {len(diffs)} configurations identical")
                    for k, d in diffs.items():
                        if d:
                            print(f"  {k}: {', '.join(d)}")
                return
            times: dict[str, list[float]] = {label: [] for label, _, _ in versions}
            for seed in range(1, args.rounds + 1):
                for label, tree, env in versions:
                    out = _in_version(tree, env, "--worker-time", str(args.residents), str(seed))
                    times[label].append(float(out.split()[-1]))
                print(f"round {seed} of {args.rounds}", file=sys.stderr)
            print(f"{args.residents} residents, default horizon, CPU s per run, {args.rounds} rounds")
            print(f"{'version':<28} {'min':>7} {'median':>7} {'max':>7} {'median/first':>13}")
            first = statistics.median(next(iter(times.values())))
            for label, values in times.items():
                median = statistics.median(values)
                low, high = min(values), max(values)
                print(f"{label:<28} {low:>7.3f} {median:>7.3f} {high:>7.3f} {median / first:>13.2f}")
        finally:
            for _, tree, _ in versions:
                if tree != REPO:
                    subprocess.run(
                        ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                        capture_output=True,
                    )


if __name__ == "__main__":
    main()

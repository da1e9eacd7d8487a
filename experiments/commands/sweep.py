"""``wijkteam sweep``: a batch sweep over registry parameters, one row per run."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from experiments.api import sweep_outcome
from experiments.designs import DESIGNS
from experiments.options import (
    add_execution_options,
    add_output_options,
    add_replicates,
    add_size_options,
    execute_kwargs,
    positive_int,
    setup_kwargs,
)
from experiments.plots import plot_sweep

DEFAULT_OUT = "results/sweep"

EPILOG = """examples:
  wijkteam sweep --param fte_per_1000=0.4:2.0:9 --replicates 5
  wijkteam sweep --param mandate=0:1:5 --param steering=0,1 --param independence=1
  wijkteam sweep --sample 512 --design sobol --workers 2 --out results/levers
  wijkteam sweep --sample 4096 --scheduler tcp://10.0.0.5:8786 --out results/big --resume

--param forms: NAME=LO:HI:STEPS (grid), NAME=LO:HI or NAME (sampled; bounds from the
registry, see docs/parameters.md), NAME=V1,V2,V3 (these values), NAME=V (fixed)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="batch sweep over parameters (grid, Latin hypercube or Sobol' design)",
        description="Run a batch sweep over any registry parameters and store one row per run in "
        "--out/runs.parquet. With only --sample N, all numeric policy levers are sampled within "
        "their registry bounds. Interrupted sweeps continue with --resume.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=LO:HI:STEPS",
        help="a parameter to vary or fix (repeatable; forms below)",
    )
    parser.add_argument(
        "--sample",
        type=positive_int,
        metavar="N",
        help="design points to sample (lhs, sobol) or grid steps per parameter (grid)",
    )
    parser.add_argument(
        "--design",
        choices=DESIGNS,
        help="grid (default without --sample), lhs (default with --sample), sobol (best: N a power of 2)",
    )
    parser.add_argument(
        "--series", action="store_true", help="also store the weekly series of every run (series.parquet)"
    )
    add_replicates(parser, default=1)
    add_size_options(parser)
    add_execution_options(parser)
    add_output_options(parser, DEFAULT_OUT)
    parser.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    start = time.monotonic()
    outcome = sweep_outcome(
        args.param,
        sample=args.sample,
        design=args.design,
        replicates=args.replicates,
        series=args.series,
        **setup_kwargs(args),
        **execute_kwargs(args, args.command_line),
    )
    out = Path(args.out)
    varied_info = outcome.manifest["design"]["varied"]
    varied = list(varied_info) if isinstance(varied_info, dict) else _sampled_levers(outcome)
    figure = plot_sweep(outcome.runs, varied, out / "sweep.png")
    print(
        f"{outcome.total} runs ({outcome.computed} computed now, {outcome.failed} failed) in "
        f"{time.monotonic() - start:.0f} s; results in {out}/: runs.parquet"
        f"{', series.parquet' if args.series else ''}{', ' + figure.name if figure else ''}, "
        "manifest.json"
    )
    if outcome.failed:
        print(f"wijkteam: {outcome.failed} runs failed; see the 'error' column of runs.parquet")
        return 1
    return 0


def _sampled_levers(outcome) -> list[str]:
    from model.params import policy_levers

    fixed = outcome.manifest["design"]["fixed"]
    return [n for n in policy_levers() if n not in fixed]

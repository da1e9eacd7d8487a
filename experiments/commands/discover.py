"""``wijkteam discover``: scenario discovery over the policy levers crossed with plausible worlds."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from experiments.options import (
    CommandError,
    add_execution_options,
    add_members,
    add_output_options,
    add_replicates,
    add_size_options,
    execute_kwargs,
    members_or_error,
    positive_int,
)

DEFAULT_OUT = "results/discover"

EPILOG = """examples:
  wijkteam discover --sample 64 --worlds 20 --residents 2000
  wijkteam discover --ensemble results/ensemble --sample 128 --out results/discover
  wijkteam discover --levers fte_per_1000,collective_time_target,mandate --collective-target own
  wijkteam discover --fails-on unmet --fails-margin 0.05 --box-on levers

outcomes (defaults in brackets):
  escapes  collective time >= FRACTION [0.5] x TARGET [the registry default, 0.25; or 'own':
           each case's own lever] AND admissions to maatwerk in the lowest QUANTILE [1/3]
  fails    worse than the pre-2015 approach at equal spending, run in the same world with
           the same seeds, on unmet need and/or cost [both] by more than MARGIN [0]

Writes to --out: report.md, boxes.csv, trajectory_*.csv, cart_*.csv, feature_scores.csv,
bootstrap.csv, robustness.csv, cases.parquet, peeling_*.png, box_*.png, tradeoff.png, the runs
(results.duckdb, runs.parquet, manifest.json) and the box policies' runs in box_policies/."""


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    return value


def _target(text: str) -> float | str:
    return text if text == "own" else _share(text)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "discover",
        help="scenario discovery: boxes of levers and assumptions that escape the trap or fail",
        description="Run a Latin hypercube of the policy levers in every world of a plausible ensemble "
        "(or of draws from the behaviour ranges), with the pre-2015 reference and the named policies in "
        "each world; find the boxes that lead to 'escapes the trap' and 'fails' (PRIM, CART, feature "
        "scores), bootstrap their coverage and density, and compare the policies by regret and "
        "satisficing. Interrupted runs continue with --resume.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    design = parser.add_argument_group("design")
    design.add_argument(
        "--sample",
        type=positive_int,
        default=64,
        metavar="N",
        help="Latin-hypercube points over the levers (default 64)",
    )
    design.add_argument(
        "--levers",
        metavar="A,B,...",
        help="levers to vary (default: every numeric policy lever); others keep their defaults",
    )
    design.add_argument("--ensemble", metavar="DIR", help="a plausible ensemble (wijkteam calibrate)")
    design.add_argument(
        "--worlds",
        type=positive_int,
        default=20,
        metavar="M",
        help="without --ensemble: worlds drawn from the behaviour ranges (default 20)",
    )
    add_members(design)
    add_replicates(parser, default=2)
    outcomes = parser.add_argument_group("outcomes of interest")
    outcomes.add_argument(
        "--collective-target",
        type=_target,
        default=None,
        metavar="T|own",
        help="collective-time target of 'escapes' (default: the registry default 0.25)",
    )
    outcomes.add_argument(
        "--collective-fraction",
        type=_share,
        default=0.5,
        metavar="F",
        help="share of the target to reach (default 0.5)",
    )
    outcomes.add_argument(
        "--escalation-quantile",
        type=_share,
        default=1 / 3,
        metavar="Q",
        help="admissions at most this quantile of the design (default 1/3)",
    )
    outcomes.add_argument(
        "--fails-on",
        default="unmet,cost",
        metavar="unmet,cost",
        help="what 'fails' compares with pre-2015 (default unmet,cost: either)",
    )
    outcomes.add_argument(
        "--fails-margin",
        type=_share,
        default=0.0,
        metavar="M",
        help="relative tolerance before 'worse' counts (default 0)",
    )
    analysis = parser.add_argument_group("analysis")
    analysis.add_argument(
        "--boxes", type=positive_int, default=2, metavar="K", help="PRIM boxes per outcome (default 2)"
    )
    analysis.add_argument(
        "--min-density",
        type=_share,
        default=0.75,
        metavar="D",
        help="choose the box with the largest coverage at this density (default 0.75)",
    )
    analysis.add_argument(
        "--box-on",
        choices=("all", "levers"),
        default="all",
        help="inputs of PRIM/CART: levers and assumptions (all) or levers only",
    )
    analysis.add_argument(
        "--bootstrap",
        type=positive_int,
        default=500,
        metavar="B",
        help="bootstrap resamples of each box (default 500)",
    )
    add_size_options(parser)
    add_execution_options(parser)
    add_output_options(parser, DEFAULT_OUT)
    parser.set_defaults(func=discover_command)


def discover_command(args: argparse.Namespace) -> int:
    from calibration.ensemble import EnsembleError
    from experiments.discovery.outcomes import OutcomeError, OutcomeSpec
    from experiments.discovery.report import write
    from experiments.discovery.run import discover, summary
    from experiments.store import update_manifest

    start = time.monotonic()
    try:
        spec_args = {
            "collective_fraction": args.collective_fraction,
            "escalation_quantile": args.escalation_quantile,
            "fail_on": tuple(k.strip() for k in args.fails_on.split(",") if k.strip()),
            "fail_margin": args.fails_margin,
        }
        if args.collective_target is not None:
            spec_args["collective_target"] = args.collective_target
        spec = OutcomeSpec(**spec_args)
        levers = [n.strip() for n in args.levers.split(",") if n.strip()] if args.levers else None
        disc = discover(
            sample=args.sample,
            levers=levers,
            ensemble=args.ensemble,
            members=members_or_error(args),
            worlds=args.worlds,
            replicates=args.replicates,
            residents=args.residents,
            weeks=args.weeks,
            burn_in=args.burn_in,
            seed=args.seed,
            spec=spec,
            boxes=args.boxes,
            min_density=args.min_density,
            box_on=args.box_on,
            n_boot=args.bootstrap,
            **execute_kwargs(args, args.command_line),
        )
    except (OutcomeError, EnsembleError) as exc:
        raise CommandError(str(exc)) from None
    out = Path(args.out)
    write(disc, out)
    update_manifest(out, {"discovery_boxes": summary(disc)})
    shares = ", ".join(f"{name} {disc.cases[name].mean():.0%}" for name in disc.boxes)
    print(
        f"{disc.info['runs']} runs ({disc.info['failed']} failed) in {time.monotonic() - start:.0f} s; "
        f"cases: {shares}; results in {out}/: report.md, boxes.csv, robustness.csv, figures"
    )
    return 1 if disc.info["failed"] else 0

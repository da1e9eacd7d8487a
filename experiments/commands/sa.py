"""``wijkteam sa morris|sobol|tipping``: global sensitivity analysis of the policy levers."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from experiments.designs import parse_params
from experiments.labels import output_label
from experiments.options import (
    add_execution_options,
    add_output_options,
    add_replicates,
    add_size_options,
    execute_kwargs,
    positive_int,
    setup_kwargs,
)
from experiments.sensitivity import DEFAULT_OUTPUTS, METHODS, SensitivityError, run_sensitivity
from experiments.tipping import DEFAULT_X, DEFAULT_Y, boundary_summary, tipping_map

EPILOG = """examples:
  wijkteam sa morris --n 20 --replicates 2 --workers 2
  wijkteam sa sobol --n 256 --replicates 2 --out results/sa-sobol
  wijkteam sa sobol --params fte_per_1000,collective_time_target,mandate --outputs collective_time_share
  wijkteam sa sobol --n 1024 --scheduler tcp://10.0.0.5:8786 --out results/sobol-big --resume
  wijkteam sa tipping --x fte_per_1000=0.4:2.4:11 --y collective_time_target=0.15:0.6:10
  wijkteam sa tipping --y collective_budget_share=0:0.1:6 --residents 2000 --replicates 3

Runs: Morris N x (levers + 1) x replicates; Sobol' N x (levers + 2) x replicates
(N x (2 levers + 2) x replicates with --second-order). --seed seeds the sample too.

Results: runs.parquet (one row per run), samples.parquet, indices.csv/.parquet,
convergence.csv, noise.csv, figures and report.md in --out. An interrupted analysis
continues with the same command and --resume."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sa",
        help="sensitivity analysis of the policy levers (Morris, Sobol', tipping-point map)",
        description="Global sensitivity analysis with SALib: Morris screening or Sobol' indices of the "
        "policy levers (bounds from the parameter registry), run through the batch executor with "
        "replicates; or the tipping-point map of staffing x collective budget.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    methods = parser.add_subparsers(title="analyses", metavar="ANALYSIS")
    for method, help_text, n_help, own_options in _METHOD_PARSERS:
        _add_method(methods, method, help_text, n_help, own_options)
    _add_tipping(methods)
    _add_emulate(methods)
    parser.set_defaults(func=lambda args: _usage(parser))


def _morris_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--levels", type=positive_int, default=4, metavar="L", help="grid levels per lever (default 4)"
    )


def _sobol_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--second-order", action="store_true", help="also estimate second-order indices (S2)")


#: Each method's subcommand: name, help, what --n counts, its own options.
_METHOD_PARSERS = (
    ("morris", "Morris screening: mu*, sigma and their intervals per lever", "trajectories", _morris_options),
    ("sobol", "Sobol' indices S1 and ST (Saltelli sampling)", "base samples, a power of two", _sobol_options),
)


def _add_method(methods, method: str, help_text: str, n_help: str, own_options) -> None:
    """``wijkteam sa morris`` or ``sa sobol``: levers, outputs, N, the method's options."""
    n_default = METHODS[method].default_n
    sub = methods.add_parser(
        method,
        help=help_text,
        description=f"{help_text}. Indices are recomputed at N/4, N/2 and N to show convergence.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument(
        "--params",
        default="policy",
        metavar="policy|behaviour|all|NAME,...",
        help="parameters to analyse: 'policy' (all numeric policy levers, default), 'behaviour' (all "
        "numeric behaviour parameters: the assumptions; Morris screening copes, for Sobol' use "
        "`sa emulate`), 'all' (both) or names (groups may be mixed in)",
    )
    sub.add_argument(
        "--outputs",
        default=",".join(DEFAULT_OUTPUTS),
        metavar="KPI,...",
        help="summary KPIs to analyse (default: " + ", ".join(DEFAULT_OUTPUTS) + ")",
    )
    sub.add_argument(
        "--n", type=positive_int, default=n_default, metavar="N", help=f"{n_help} (default {n_default})"
    )
    own_options(sub)
    _common(sub, f"results/sa-{method}")
    sub.set_defaults(func=sa_command, method=method)


def _add_tipping(methods) -> None:
    """``wijkteam sa tipping``: the two axes of the map."""
    tip = methods.add_parser(
        "tipping",
        help="tipping-point map: staffing x collective budget (pattern P6)",
        description="A 2-D grid sweep showing where collective work takes off and escalations fall; "
        "heat maps with the take-off boundary (collective time at half its target).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tip.add_argument(
        "--x", default=DEFAULT_X, metavar="NAME=LO:HI:STEPS", help=f"horizontal axis (default {DEFAULT_X})"
    )
    tip.add_argument(
        "--y", default=DEFAULT_Y, metavar="NAME=LO:HI:STEPS", help=f"vertical axis (default {DEFAULT_Y})"
    )
    _common(tip, "results/sa-tipping")
    tip.set_defaults(func=tipping_command, method="tipping")


def _add_emulate(methods) -> None:
    """``wijkteam sa emulate``: Sobol' indices of many parameters on an emulator of direct runs."""
    from experiments.sensitivity.emulator import DEFAULT_CONTRAST, EMULATORS

    contrast = ":".join(DEFAULT_CONTRAST)
    sub = methods.add_parser(
        "emulate",
        help="which assumptions decide which conclusion: Sobol' indices on an emulator (many parameters)",
        description="Run a Latin-hypercube design of direct runs over the parameters (default: all "
        "numeric behaviour parameters, priors from the registry), fit a scikit-learn emulator per "
        "output (gradient boosting or a Gaussian process) and compute Sobol' indices on it; the "
        "emulator's out-of-sample R2 is reported next to the indices. With --contrast the outputs "
        "are the paired contrast of two scenarios (a conclusion), and the report names per "
        "conclusion the few assumptions that decide it.",
        epilog="Runs: N x 2 sides x replicates (N x replicates with --contrast none).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument(
        "--params",
        default="behaviour",
        metavar="behaviour|policy|all|NAME,...",
        help="parameters to vary (default behaviour)",
    )
    sub.add_argument(
        "--outputs",
        metavar="KPI,...",
        help="summary KPIs (default with a contrast: escalations, unmet need and total cost)",
    )
    sub.add_argument(
        "--contrast",
        default=contrast,
        metavar="TREATMENT:BASELINE|none",
        help=f"the conclusion: treatment minus baseline scenario, paired (default {contrast}); "
        "'none' analyses the KPIs themselves",
    )
    sub.add_argument("--n", type=positive_int, default=64, metavar="N", help="design points (default 64)")
    sub.add_argument(
        "--emulator", choices=EMULATORS, default="gb", help="gb: gradient boosting (default); gp"
    )
    sub.add_argument(
        "--base-n",
        type=positive_int,
        default=1024,
        metavar="M",
        help="Saltelli base rows on the emulator, a power of two (default 1024)",
    )
    _common(sub, "results/sa-emulate")
    sub.set_defaults(func=emulate_command, method="emulate", replicates=1)


def _contrast(text: str) -> tuple[str, str] | None:
    if text.strip().lower() == "none":
        return None
    treatment, sep, baseline = text.partition(":")
    if not sep or not treatment or not baseline:
        raise SensitivityError(
            f"--contrast expects TREATMENT:BASELINE (scenario names) or none, not '{text}'"
        )
    return treatment.strip(), baseline.strip()


def emulate_command(args: argparse.Namespace) -> int:
    from experiments.sensitivity.emulator import POOR_R2, run_emulated, write_emulated

    start = time.monotonic()
    setup = setup_kwargs(args)
    result = run_emulated(
        args.params,
        args.outputs,
        n=args.n,
        contrast=_contrast(args.contrast),
        replicates=args.replicates,
        fixed=_fixed(args.fix),
        emulator=args.emulator,
        base_n=args.base_n,
        **setup,
        **execute_kwargs(args, args.command_line),
    )
    given = {"n_residents": args.residents, "weeks": args.weeks, "burn_in_weeks": args.burn_in}
    files = write_emulated(result, args.out, args.command_line, {k: v for k, v in given.items() if v})
    outcome = result.outcome
    print(
        f"{outcome.total} runs ({outcome.computed} computed now, {outcome.failed} failed) in "
        f"{time.monotonic() - start:.0f} s; results in {args.out}/: " + ", ".join(f.name for f in files)
    )
    for output in result.outputs:
        d = result.deciders(output, 3)
        top = ", ".join(f"{r.parameter} (ST {r.ST:.2f})" for r in d.itertuples())
        print(f"  {output_label(output)}: R2 {float(d['r2'].iloc[0]):.2f}; {top}")
    poor = result.fit[~(result.fit["r2"] >= POOR_R2)]
    if not poor.empty:
        print(
            f"wijkteam: warning: emulator R2 below {POOR_R2} for {', '.join(poor['output'])}: its indices "
            "are not to be trusted (see report.md); add design points (--n) or analyse fewer parameters"
        )
    return 1 if outcome.failed else 0


def _common(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=V",
        help="hold another parameter at a value in every run (repeatable), e.g. --fix m7_initiatives=false",
    )
    add_replicates(parser, default=2)
    add_size_options(parser)
    add_execution_options(parser)
    add_output_options(parser, default_out)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _fixed(texts: list[str]) -> dict:
    axes, fixed = parse_params(texts)
    if axes:
        raise SensitivityError(f"--fix takes single values (NAME=V), not ranges: {axes[0].name}")
    return fixed


def sa_command(args: argparse.Namespace) -> int:
    start = time.monotonic()
    result = run_sensitivity(
        args.method,
        args.params,
        args.outputs,
        n=args.n,
        replicates=args.replicates,
        fixed=_fixed(args.fix),
        second_order=getattr(args, "second_order", False),
        num_levels=getattr(args, "levels", 4),
        **setup_kwargs(args),
        **execute_kwargs(args, args.command_line),
    )
    a, outcome = result.analysis, result.outcome
    print(
        f"{outcome.total} runs ({outcome.computed} computed now, {outcome.failed} failed) in "
        f"{time.monotonic() - start:.0f} s; results in {args.out}/: report.md, "
        + ", ".join(f.name for f in result.files if f.suffix == ".png")
    )
    key = a.spec.key
    for output in a.outputs:
        ranked = a.ranking(output).head(3)
        top = ", ".join(f"{r.parameter} ({getattr(r, key):.3g})" for r in ranked.itertuples())
        print(f"  {output_label(output)}: {top}")
    for warning in a.warnings:
        print(f"wijkteam: warning: {warning}")
    return 1 if outcome.failed else 0


def tipping_command(args: argparse.Namespace) -> int:
    start = time.monotonic()
    result = tipping_map(
        args.x,
        args.y,
        replicates=args.replicates,
        fixed=_fixed(args.fix),
        **setup_kwargs(args),
        **execute_kwargs(args, args.command_line),
    )
    outcome = result.outcome
    print(
        f"{outcome.total} runs ({outcome.computed} computed now, {outcome.failed} failed) in "
        f"{time.monotonic() - start:.0f} s; results in {Path(args.out)}/: report.md, tipping_map.png"
    )
    print(boundary_summary(result))
    return 1 if outcome.failed else 0

"""``wijkteam run``: compare scenarios with common random numbers; figures and a report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from calibration.ensemble import EnsembleError
from experiments.api import scenario_outcome
from experiments.ensemble import DEFAULT_REPLICATES, run_ensemble, write_results
from experiments.ensemble import summary_text as ensemble_text
from experiments.options import (
    CommandError,
    add_execution_options,
    add_members,
    add_output_options,
    add_replicates,
    add_size_options,
    execute_kwargs,
    members_or_error,
    setup_kwargs,
)
from experiments.plots import plot_income_groups, plot_kpis, plot_payback, plot_payers, plot_series
from experiments.report import (
    payback_baseline,
    scenario_ledgers,
    scenario_paybacks,
    summary_text,
    write_report,
)
from experiments.scenario import MAIN_SCENARIOS, available, load

DEFAULT_OUT = "results/scenarios"
DEFAULT_ENSEMBLE_OUT = "results/ensemble"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="compare scenarios (default: the main ones) with figures and a report",
        description="Run scenarios from experiments/scenarios/ (or TOML files) with common random "
        "numbers: replicate i uses the same seed in every scenario. Writes runs.parquet, "
        "series.parquet, kpis.png, series.png, payers.png (cost per payer by year), payback.png "
        "(cumulative saving per payer against the pre-2015 baseline, when run) and report.md to "
        "--out. Without scenario names "
        f"it compares the main ones: {', '.join(MAIN_SCENARIOS)}.",
    )
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario names or paths to TOML files (default: the main scenarios)",
    )
    parser.add_argument("--list", action="store_true", help="list the available scenarios and exit")
    parser.add_argument(
        "--no-series",
        dest="series",
        action="store_false",
        help="skip the weekly series (faster; no series figure)",
    )
    parser.add_argument(
        "--ensemble",
        metavar="DIR",
        help="run the scenarios on every member of the plausible ensemble in DIR (from `wijkteam "
        "calibrate`) and report each effect against the reference across the members: median, 90%% "
        "interval and the share of worlds in which the scenario is better (default --out "
        f"{DEFAULT_ENSEMBLE_OUT}, --replicates {DEFAULT_REPLICATES} per member)",
    )
    parser.add_argument(
        "--reference",
        metavar="SCENARIO",
        help="with --ensemble: the scenario the others are compared with (default: the first, "
        f"{MAIN_SCENARIOS[0]} without scenario names)",
    )
    add_members(parser)
    add_replicates(parser, default=10)
    add_size_options(parser)
    add_execution_options(parser)
    add_output_options(parser, DEFAULT_OUT, replace_by_default=True)
    parser.set_defaults(func=run_command, replicates=None, out=None)


def run_command(args: argparse.Namespace) -> int:
    if args.list:
        for name in available():
            s = load(name)
            print(f"{name:24s} {s.title}")
        return 0
    members_or_error(args)
    if args.ensemble:
        return ensemble_command(args)
    if args.reference:
        raise CommandError(
            "--reference is for --ensemble runs; `wijkteam run` shows every scenario side by side"
        )
    args.out = args.out or DEFAULT_OUT
    start = time.monotonic()
    outcome, scenarios = scenario_outcome(
        args.scenarios or None,
        replicates=args.replicates or 10,
        series=args.series,
        **setup_kwargs(args),
        **execute_kwargs(args, args.command_line),
    )
    out = Path(args.out)
    titles = {s.name: s.title for s in scenarios}
    figures = [plot_kpis(outcome.runs, titles, out / "kpis.png")]
    series_fig = plot_series(outcome.series, outcome.runs, titles, out / "series.png")
    figures += [series_fig] if series_fig else []
    baseline = payback_baseline([s.name for s in scenarios])
    paybacks = scenario_paybacks(scenario_ledgers(outcome.series, outcome.runs, discounted=True), baseline)
    payers_fig = plot_payers(scenario_ledgers(outcome.series, outcome.runs), titles, out / "payers.png")
    payback_fig = plot_payback(paybacks, titles, baseline, out / "payback.png") if baseline else None
    figures += [f for f in (payers_fig, payback_fig) if f]
    figures.append(plot_income_groups(outcome.runs, titles, out / "income_groups.png"))
    report = write_report(
        out / "report.md",
        outcome.runs,
        scenarios,
        figures,
        args.command_line,
        outcome.manifest,
        paybacks,
        baseline,
    )
    print(summary_text(outcome.runs, scenarios))
    print(
        f"\n{outcome.total} runs ({outcome.computed} computed, {outcome.failed} failed) in "
        f"{time.monotonic() - start:.0f} s; results in {out}/: runs.parquet"
        f"{', series.parquet' if args.series else ''}, "
        f"{', '.join(f.name for f in figures)}, {report.name}, manifest.json"
    )
    if outcome.failed:
        print(f"wijkteam: {outcome.failed} runs failed; see the 'error' column of runs.parquet")
        return 1
    return 0


def ensemble_command(args: argparse.Namespace) -> int:
    """``wijkteam run --ensemble DIR``: the scenarios on every member, effects across members."""
    args.out = args.out or DEFAULT_ENSEMBLE_OUT
    start = time.monotonic()
    try:
        result = run_ensemble(
            args.ensemble,
            args.scenarios or None,
            members=args.members,
            reference=args.reference,
            replicates=args.replicates or DEFAULT_REPLICATES,
            series=False,
            **setup_kwargs(args),
            **execute_kwargs(args, args.command_line),
        )
    except EnsembleError as exc:
        raise CommandError(str(exc)) from None
    files = write_results(result, args.out, args.command_line)
    outcome = result.outcome
    print(ensemble_text(result))
    print(
        f"\n{outcome.total} runs ({outcome.computed} computed, {outcome.failed} failed) on "
        f"{len(result.ensemble)} worlds in {time.monotonic() - start:.0f} s; results in {args.out}/: "
        f"runs.parquet, {', '.join(f.name for f in files)}, manifest.json"
    )
    if outcome.failed:
        print(f"wijkteam: {outcome.failed} runs failed; see the 'error' column of runs.parquet")
        return 1
    return 0

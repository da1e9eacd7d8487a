"""``wijkteam calibrate`` and ``wijkteam validate``: argument parsing and printing only.

:func:`register` adds both subcommands to the ``wijkteam`` parser (``experiments/cli.py``);
each sets ``func(args) -> int``. The commands call :func:`calibration.api.calibrate` and
:func:`calibration.api.validate`, which compute, and :mod:`calibration.report`, which writes
the results folder; scripts and tests may call those directly.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from calibration.api import calibrate, seeds_for, setup_for, validate, validate_ensemble
from calibration.report import write_calibration, write_validation
from calibration.targets import TargetsError, TargetSet, load_targets
from calibration.text import text_table
from calibration.writeback import PARAMS_FILE, WriteBackError, write_back
from experiments.options import CommandError, add_members, add_size_options, members_or_error, positive_int
from model.params import REGISTRY
from model.params import validate as validate_params


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``calibrate`` and ``validate`` to the ``wijkteam`` command line."""
    _register_calibrate(subparsers)
    _register_validate(subparsers)


def _register_calibrate(subparsers: argparse._SubParsersAction) -> None:
    cal = subparsers.add_parser(
        "calibrate",
        help="history matching to a plausible ensemble (or --method de: a differential-evolution fit)",
        description="History matching (default): waves of runs from the behaviour parameters' priors, "
        "an emulator per fitted target of calibration/targets.toml (Gaussian process or gradient "
        "boosting, compared per wave), implausibility against each target's tolerance, model "
        "discrepancy and replicate noise, and a shrinking non-implausible region; then parameter sets "
        "from the final region run with the model and kept below the cutoff: the plausible ensemble "
        "(ensemble.parquet in --out, for `wijkteam run --ensemble`), with the wave history, the held-out "
        "and consistency targets on the ensemble, figures and report.md. Each finished wave is kept: "
        "rerunning the same command resumes. --quick: a small version for trying out (1,000 residents, "
        "3 years, 2 waves). --method de: the former fit of the [fit] parameters by differential "
        "evolution on a simulated-method-of-moments loss (one point, not an ensemble); --apply DIR "
        "writes the fitted values of such a fit back as the registry defaults. Policy levers are never "
        "fitted.",
    )
    cal.add_argument(
        "--method",
        choices=("hm", "de"),
        default="hm",
        help="hm: history matching to a plausible ensemble (default); de: differential evolution",
    )
    hm = cal.add_argument_group("history matching (--method hm)")
    hm.add_argument("--quick", action="store_true", help="a small version: 1,000 residents, 3 years, 2 waves")
    hm.add_argument("--waves", type=positive_int, metavar="N", help="waves (default 3; --quick 2)")
    hm.add_argument(
        "--runs-per-wave",
        type=positive_int,
        metavar="N",
        help="parameter sets run per wave (default 150; --quick 40)",
    )
    hm.add_argument(
        "--members",
        type=positive_int,
        metavar="N",
        help="members the plausible ensemble should have at least (default 100; --quick 20)",
    )
    hm.add_argument(
        "--emulator",
        choices=("auto", "gp", "gb"),
        default="auto",
        help="emulator per target: Gaussian process, gradient boosting, or the better one per wave (auto)",
    )
    hm.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (see README)"
    )
    cal.add_argument(
        "--budget",
        type=positive_int,
        default=60,
        metavar="N",
        help="--method de: parameter vectors the optimiser may evaluate (default 60, two generations; "
        "more on a bigger machine)",
    )
    cal.add_argument(
        "--profile-points",
        type=positive_int,
        default=4,
        metavar="K",
        help="--method de: values per parameter in the loss profiles (default 4)",
    )
    cal.add_argument(
        "--no-patterns",
        dest="patterns",
        action="store_false",
        help="--method de: skip the pattern checks with the fitted values",
    )
    cal.add_argument(
        "--apply",
        metavar="DIR",
        help="write the fitted values in DIR/fitted_values.json back to model/params.py (nothing is run)",
    )
    cal.add_argument("--params-file", default=str(PARAMS_FILE), help=argparse.SUPPRESS)
    _common(cal, "results/calibration", "fit")
    cal.set_defaults(func=calibrate_command)


def _register_validate(subparsers: argparse._SubParsersAction) -> None:
    val = subparsers.add_parser(
        "validate",
        help="check the patterns P1-P8 (DESIGN section 7) with several seeds",
        description="Run the pattern checks P1-P8 of DESIGN section 7 with common random numbers: each "
        "pattern compares scenarios seed by seed and needs a direction and a minimum effect fixed in "
        "calibration/targets.toml. Prints the table (pattern, seed article, measured effect with 95% "
        "CI, pass or fail) and writes it, one figure per pattern, runs.parquet and report.md to --out. "
        "Exit status 1 when a pattern fails.",
    )
    val.add_argument("--patterns", metavar="IDS", help="comma-separated pattern ids (default: all)")
    val.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        dest="set_values",
        help="behaviour parameter value applied to every scenario, e.g. to check candidate "
        "defaults before writing them back (repeatable)",
    )
    val.add_argument(
        "--fitted",
        metavar="DIR",
        help="apply the fitted values of a calibration folder (DIR/fitted_values.json) to "
        "every scenario; --set values override them",
    )
    val.add_argument(
        "--ensemble",
        metavar="DIR",
        help="check the patterns in every member of the plausible ensemble in DIR (from `wijkteam "
        "calibrate`) and report the share of worlds in which each holds (a world: the mean over its "
        "seeds reaches the criterion; default 2 seeds per world, the same in every world); default "
        "--out results/validation-ensemble",
    )
    add_members(val)
    _common(val, "results/validation", "validate")
    val.set_defaults(func=validate_command)


def _common(parser: argparse.ArgumentParser, default_out: str, kind: str) -> None:
    add_size_options(parser)
    section = "[fit]" if kind == "fit" else "[settings]"
    hint = f"default: seeds in {section} of the targets file"
    parser.add_argument(
        "--seeds",
        type=positive_int,
        metavar="N",
        help=f"seeds per parameter vector or scenario, common to all ({hint})",
    )
    parser.add_argument("--targets", metavar="TOML", help="targets file (default calibration/targets.toml)")
    parser.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="local worker processes (default: all cores; 1 runs in this process)",
    )
    parser.add_argument(
        "--out",
        default=default_out,
        metavar="DIR",
        help=f"results folder (default {default_out}); earlier results there are replaced"
        + (
            " (history matching resumes the one there when the settings are the same)"
            if kind == "fit"
            else ""
        ),
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(kind=kind, seed=None)


def _setup(args: argparse.Namespace, targets: TargetSet) -> dict[str, int]:
    given = {"n_residents": args.residents, "weeks": args.weeks, "burn_in_weeks": args.burn_in}
    return setup_for(targets, args.kind, given)


def _seeds(args: argparse.Namespace, targets: TargetSet, offset: int = 0) -> list[int]:
    """The common seeds; ``offset=1`` gives a disjoint set (fresh seeds for a check)."""
    return seeds_for(targets, args.kind, args.seeds, args.seed, offset)


def _user_errors(func):
    """Report a bad targets file or write-back as a one-line ``wijkteam`` error (status 2)."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (TargetsError, WriteBackError) as exc:
            raise CommandError(str(exc)) from None

    return wrapper


@_user_errors
def validate_command(args: argparse.Namespace) -> int:
    """``wijkteam validate``: run the pattern checks, write the folder, print the table.

    Exit status 0 when every check passes, 1 otherwise.
    """
    targets = load_targets(args.targets)
    only = [s.strip() for s in args.patterns.split(",")] if args.patterns else None
    if only:
        unknown = set(only) - {p.id for p in targets.patterns}
        if unknown:
            from model import ParameterError

            raise ParameterError(f"unknown pattern id(s): {', '.join(sorted(unknown))}")
    if members_or_error(args) is not None or args.ensemble:
        return _validate_ensemble(args, targets, only)
    out = Path(args.out)
    setup, seeds = _setup(args, targets), _seeds(args, targets)
    base = _base_values(args)
    result = validate(targets, setup, seeds, args.workers, only, base=base)
    write_validation(result, out, getattr(args, "command_line", "wijkteam validate"))
    print(text_table(result.patterns))
    print(f"\n{result.n_passed} of {len(result.patterns)} checks pass; results in {out}/")
    return 0 if result.passed else 1


def _validate_ensemble(args: argparse.Namespace, targets: TargetSet, only: list[str] | None) -> int:
    """``wijkteam validate --ensemble DIR``: the share of worlds in which each pattern holds."""
    from calibration.ensemble_report import shares_text, write_ensemble_validation
    from experiments.ensemble import resolve_ensemble

    if args.fitted or args.set_values:
        raise CommandError("--ensemble takes each world's parameters from the ensemble: drop --fitted/--set")
    try:
        ensemble, source = resolve_ensemble(args.ensemble, args.members)
    except ValueError as exc:  # EnsembleError: one line naming the folder or the bad value
        raise CommandError(str(exc)) from None
    out = Path(args.out if args.out != "results/validation" else "results/validation-ensemble")
    seeds = seeds_for(targets, "validate", args.seeds or 2, args.seed)
    say = None if args.quiet else (lambda line: print(f"  {line}", flush=True))
    result = validate_ensemble(
        ensemble, targets, _setup(args, targets), seeds, args.workers, only, source=source, progress=say
    )
    write_ensemble_validation(result, out, getattr(args, "command_line", "wijkteam validate"))
    print(shares_text(result))
    print(
        f"\n{result.members} worlds x {len(seeds)} seeds: {result.runs_done} runs "
        f"({result.runs_failed} failed) in {result.elapsed_s / 60:.1f} min; results in {out}/"
    )
    return 1 if result.runs_failed else 0


def _base_values(args: argparse.Namespace) -> dict[str, Any]:
    """Behaviour values from ``--fitted DIR`` and ``--set NAME=VALUE`` (validated)."""
    from model import ParameterError

    base: dict[str, Any] = {}
    if args.fitted:
        path = Path(args.fitted) / "fitted_values.json"
        try:
            base.update(json.loads(path.read_text())["values"])
        except (OSError, ValueError, KeyError) as exc:
            raise ParameterError(f"cannot read fitted values from {path}: {exc}") from None
    for item in args.set_values:
        name, sep, text = item.partition("=")
        if not sep or name not in REGISTRY:
            raise ParameterError(f"--set expects NAME=VALUE with a registry parameter, not '{item}'")
        base[name] = int(text) if REGISTRY[name].type is int else float(text)
    for name in base:
        if REGISTRY[name].kind != "behaviour":
            raise ParameterError(
                f"--set/--fitted take behaviour parameters only; '{name}' is "
                f"a {REGISTRY[name].kind} parameter"
            )
    validate_params(base)
    return base


@_user_errors
def calibrate_command(args: argparse.Namespace) -> int:
    """``wijkteam calibrate``: fit, write the folder and print the fit table; or ``--apply`` one."""
    if args.apply:
        return _apply(Path(args.apply), args.params_file)
    if args.method == "hm":
        return _history_command(args)
    targets = load_targets(args.targets)
    out = Path(args.out)
    setup, seeds = _setup(args, targets), _seeds(args, targets)
    result = calibrate(
        targets,
        setup,
        seeds,
        budget=args.budget,
        workers=args.workers,
        profile_points=args.profile_points,
        patterns=args.patterns,
        fresh_seeds=_seeds(args, targets, offset=1),
        progress=None if args.quiet else _progress(time.monotonic()),
    )
    write_calibration(result, out, getattr(args, "command_line", "wijkteam calibrate"))
    columns = ["target", "value", "defaults_mean", "defaults_within", "fitted_mean", "fitted_within"]
    view = result.table[columns + ["fresh_mean", "fresh_within"]]
    print(view.to_string(index=False, float_format=lambda v: f"{v:.4g}" if not math.isnan(v) else "-"))
    print(
        f"\nloss: defaults {result.fit.default_loss:.3g}, fitted {result.fit.best_loss:.3g}; "
        f"{result.elapsed_s / 60:.1f} min; results in {out}/ "
        f"(apply with: wijkteam calibrate --apply {out})"
    )
    return 0


#: The settings of ``--quick`` and of a default history matching (``calibration.history.Settings``).
QUICK = {
    "setup": {"n_residents": 1000, "weeks": 156, "burn_in_weeks": 52},
    "seeds": 1,
    "waves": 2,
    "runs_per_wave": 40,
    "replicate_points": 5,
    "members": 20,
    "final_runs": 60,
    "heldout_members": 5,
    "sample": 5000,
}
#: Sized for about an hour on two cores at the default neighbourhood (calibration/NOTE.md, "Cost").
DEFAULT_HM = {
    "seeds": 2,
    "waves": 3,
    "runs_per_wave": 150,
    "replicate_points": 10,
    "replicate_seeds": 4,
    "members": 100,
    "final_runs": 250,
    "final_rounds": 8,
    "heldout_members": 20,
    "sample": 20000,
}


def _history_command(args: argparse.Namespace) -> int:
    """``wijkteam calibrate`` (history matching): run or resume, write the folder, print the summary."""
    from calibration.api import now
    from calibration.history import HistoryError, Settings, behaviour_priors, history_match, hold_folder
    from calibration.history_report import write_history
    from calibration.runs import Simulator

    targets = load_targets(args.targets)
    base = dict(QUICK if args.quick else DEFAULT_HM)
    setup = dict(base.pop("setup", {})) or targets.setup("fit")
    setup.update(
        {
            k: v
            for k, v in {
                "n_residents": args.residents,
                "weeks": args.weeks,
                "burn_in_weeks": args.burn_in,
            }.items()
            if v is not None
        }
    )
    given = {"waves": args.waves, "runs_per_wave": args.runs_per_wave, "members": args.members}
    base.update({k: v for k, v in given.items() if v is not None})
    if args.members is not None:
        base["final_runs"] = max(base["final_runs"], math.ceil(1.1 * args.members))
    if args.seeds:
        base["seeds"] = args.seeds
    settings = Settings(
        parameters=tuple(behaviour_priors()),
        emulator=args.emulator,
        setup=setup,
        base_seed=int(targets.settings.get("base_seed", 0)),
        **base,
    )
    out = Path(args.out)
    started = now()
    say = (lambda _line: None) if args.quiet else (lambda line: print(f"  {line}", flush=True))
    command = getattr(args, "command_line", "wijkteam calibrate")
    try:
        settings.check()
        with hold_folder(out):  # also while the report is written
            with Simulator(setup, args.workers, args.scheduler) as sim:
                result = history_match(targets, settings, out, sim, progress=say)
            write_history(result, out, command, started, now(), {"targets_file": str(targets.path)})
    except HistoryError as exc:
        raise CommandError(str(exc)) from None
    print(
        result.checks[["target", "role", "value", "members", "share_within", "median"]].to_string(index=False)
    )
    share = result.waves[-1].info["remaining_share"]
    print(
        f"\n{len(result.members)} plausible parameter sets (of {len(result.candidates)} run); "
        f"{100 * share:.2f}% of the prior space remains after {len(result.waves)} waves; "
        f"{result.runs_done + result.runs_failed} runs; {result.elapsed_s / 60:.1f} min; results in {out}/"
    )
    return 0


def _progress(t0: float) -> Callable[[int, float], None]:
    """A progress line per generation: vectors evaluated, best loss, seconds since ``t0``."""

    def progress(n: int, best: float) -> None:
        took = time.monotonic() - t0
        print(f"  {n} vectors evaluated, best loss {best:.3g} ({took:.0f} s)", flush=True)

    return progress


def _apply(folder: Path, params_file: str) -> int:
    """``--apply DIR``: write the fitted values in ``DIR/fitted_values.json`` back as defaults."""
    try:
        data = json.loads((folder / "fitted_values.json").read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read the fitted values in {folder}: {exc}") from None
    report = data.get("report") or str(folder / "report.md")
    changed = write_back(data["values"], report, params_file)
    for name, (old, new) in changed.items():
        print(f"{name}: {old} -> {new}")
    print(
        f"wrote {len(changed)} defaults to {params_file} (source: {report}); "
        "regenerate docs/parameters.md with: python -m model --write-docs"
    )
    return 0

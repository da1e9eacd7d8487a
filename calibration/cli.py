"""``wijkteam calibrate`` and ``wijkteam validate``.

:func:`register` adds both subcommands to the ``wijkteam`` parser (``experiments/cli.py``);
each sets ``func(args) -> int``. The commands are thin layers over :func:`calibrate` and
:func:`validate`, which scripts and tests may call directly.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from calibration import fit as fitting
from calibration.patterns import (
    PatternResult,
    markdown_table,
    per_seed_markdown,
    plot_pattern,
    results_table,
    run_patterns,
    text_table,
)
from calibration.report import (
    fit_table_markdown,
    markdown,
    now,
    plot_fit,
    plot_loss_history,
    plot_profiles,
    prepare_out,
    sources_markdown,
    write_manifest,
    write_table,
    write_text,
)
from calibration.runs import Simulator, crn_seeds
from calibration.targets import TargetsError, TargetSet, load_targets
from calibration.writeback import PARAMS_FILE, WriteBackError, write_back
from experiments.options import CommandError, add_size_options, positive_int
from model.params import REGISTRY, names
from model.params import validate as validate_params


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``calibrate`` and ``validate`` to the ``wijkteam`` command line."""
    cal = subparsers.add_parser(
        "calibrate",
        help="fit behaviour parameters to the sourced targets (calibration/targets.toml)",
        description="Fit the behaviour parameters named in calibration/targets.toml to the sourced "
        "targets with differential evolution on a simulated-method-of-moments loss, with common random "
        "numbers. Writes the fitted values, loss history, fit table, loss profiles (identifiability), "
        "the pattern checks with the fitted values, figures and report.md to --out. Policy levers are "
        "never fitted. --apply DIR writes the fitted values of an earlier calibration back as the "
        "registry defaults (an explicit, separate step).",
    )
    cal.add_argument(
        "--budget",
        type=positive_int,
        default=60,
        metavar="N",
        help="parameter vectors the optimiser may evaluate (default 60, two generations; more on a "
        "bigger machine)",
    )
    cal.add_argument(
        "--profile-points",
        type=positive_int,
        default=4,
        metavar="K",
        help="values per parameter in the loss profiles (default 4)",
    )
    cal.add_argument(
        "--no-patterns",
        dest="patterns",
        action="store_false",
        help="skip the pattern checks with the fitted values",
    )
    cal.add_argument(
        "--apply",
        metavar="DIR",
        help="write the fitted values in DIR/fitted_values.json back to model/params.py (nothing is run)",
    )
    cal.add_argument("--params-file", default=str(PARAMS_FILE), help=argparse.SUPPRESS)
    _common(cal, "results/calibration", "fit")
    cal.set_defaults(func=calibrate_command)

    val = subparsers.add_parser(
        "validate",
        help="check the patterns P1-P7 (DESIGN section 7) with several seeds",
        description="Run the pattern checks P1-P7 of DESIGN section 7 with common random numbers: each "
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
        help=f"results folder (default {default_out}); earlier results there are replaced",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(kind=kind, seed=None)


def _setup(args: argparse.Namespace, targets: TargetSet) -> dict[str, int]:
    setup = targets.setup(args.kind)
    given = {"n_residents": args.residents, "weeks": args.weeks, "burn_in_weeks": args.burn_in}
    setup.update({k: v for k, v in given.items() if v is not None})
    return setup


def _seeds(args: argparse.Namespace, targets: TargetSet, offset: int = 0) -> list[int]:
    """The common seeds; ``offset=1`` gives a disjoint set (fresh seeds for a check)."""
    n = args.seeds or targets.seeds(args.kind)
    base = args.seed if args.seed is not None else int(targets.settings.get("base_seed", 0))
    return crn_seeds(n, base + offset)


# ---- validate --------------------------------------------------------------------------
def validate(
    targets: TargetSet,
    out: Path,
    setup: dict[str, int],
    seeds: Sequence[int],
    workers: int | None = None,
    only: Sequence[str] | None = None,
    command: str = "python API (calibration.cli.validate)",
    base: dict[str, Any] | None = None,
) -> list[PatternResult]:
    """Run the pattern checks and write the validation folder; returns the results.

    ``base`` holds behaviour-parameter values applied to every scenario (candidate defaults).
    """
    started, t0 = now(), time.monotonic()
    prepare_out(out)
    with Simulator(setup, workers) as sim:
        results, runs, where = run_patterns(targets, sim, seeds, base=base, only=only)
        done, failed = sim.runs_done, sim.runs_failed
    table = results_table(results)
    write_table(out, "patterns", table)
    write_table(out, "runs", runs)
    figures = []
    for pattern in targets.patterns:
        if pattern.id in where:
            figures.append(plot_pattern(pattern, results, runs, where[pattern.id], out / f"{pattern.id}.png"))
    elapsed = time.monotonic() - t0
    passed = int(table["passed"].sum())
    lines = [
        "# Pattern-oriented validation (P1-P7)",
        "",
        f"Command: `{command}`  ",
        f"Neighbourhood: {_size_text(setup)}; {len(seeds)} seeds per scenario, the same in every "
        f"scenario (common random numbers); {done} runs ({failed} failed) in {elapsed:.0f} s.  ",
        f"Registry defaults{_base_text(base)} except for what each pattern changes. "
        "Effects are per-seed contrasts (treatment against baseline), mean and 95% t-interval over "
        "seeds; minimum effects were fixed in `calibration/targets.toml` before the model was run.",
        "",
        f"**{passed} of {len(table)} checks pass.**",
        "",
        markdown_table(results),
        "",
        "### Effects seed by seed",
        "",
        per_seed_markdown(results),
        "",
        "## Figures",
        "",
        *[f"![{f.stem}]({f.name})" for f in figures],
        "",
    ]
    write_text(out / "report.md", "\n".join(lines))
    write_manifest(
        out,
        {
            "name": out.name,
            "kind": "validation",
            "command": command,
            "status": "done",
            "started": started,
            "finished": now(),
            "runs": {"total": done + failed, "done": done, "failed": failed},
            "setup": setup,
            "seeds": {"rule": "experiments.executor.run_seed(base_seed, replicate)", "list": list(seeds)},
            "parameters": {
                "base": base or {},
                "patterns": [asdict(p) for p in targets.patterns if p.id in where],
            },
            "targets_file": str(targets.path),
        },
    )
    return results


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
    targets = load_targets(args.targets)
    only = [s.strip() for s in args.patterns.split(",")] if args.patterns else None
    if only:
        unknown = set(only) - {p.id for p in targets.patterns}
        if unknown:
            from model import ParameterError

            raise ParameterError(f"unknown pattern id(s): {', '.join(sorted(unknown))}")
    out = Path(args.out)
    setup, seeds = _setup(args, targets), _seeds(args, targets)
    base = _base_values(args)
    results = validate(
        targets,
        out,
        setup,
        seeds,
        args.workers,
        only,
        getattr(args, "command_line", "wijkteam validate"),
        base=base,
    )
    print(text_table(results))
    n_pass = sum(r.passed for r in results)
    print(f"\n{n_pass} of {len(results)} checks pass; results in {out}/")
    return 0 if n_pass == len(results) else 1


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


def _size_text(setup: dict[str, Any]) -> str:
    p = validate_params(setup)
    return f"{p.n_residents} residents, {p.weeks} reported weeks after a burn-in of {p.burn_in_weeks} weeks"


def _base_text(base: dict[str, Any] | None) -> str:
    if not base:
        return ""
    return " with " + ", ".join(f"`{k} = {v:.4g}`" for k, v in base.items())


# ---- calibrate -------------------------------------------------------------------------
def calibrate(
    targets: TargetSet,
    out: Path,
    setup: dict[str, int],
    seeds: Sequence[int],
    budget: int = 60,
    workers: int | None = None,
    profile_points: int = 4,
    patterns: bool = True,
    quiet: bool = False,
    command: str = "python API (calibration.cli.calibrate)",
    fresh_seeds: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Fit, tabulate, profile and (optionally) check the patterns; write the calibration folder.

    With ``fresh_seeds`` the fit table also shows the fitted values on seeds the fit never
    saw (column group ``fresh``), a check against fitting the noise of the fit's seeds.
    """
    started, t0 = now(), time.monotonic()
    prepare_out(out)

    def progress(n: int, best: float) -> None:
        if not quiet:
            took = time.monotonic() - t0
            print(f"  {n} vectors evaluated, best loss {best:.3g} ({took:.0f} s)", flush=True)

    with Simulator(setup, workers) as sim:
        result = fitting.fit(targets, sim, seeds, budget=budget, progress=progress)
        table = fitting.fit_table(targets, sim, seeds, {"defaults": {}, "fitted": result.best})
        labels = ["defaults", "fitted"]
        if fresh_seeds:
            fresh = fitting.fit_table(targets, sim, fresh_seeds, {"fresh": result.best})
            table = table.join(fresh[[c for c in fresh if c.startswith("fresh_")]])
            labels.append("fresh")
        prof = fitting.profile(targets, sim, seeds, result.best, points=profile_points)
        ident = fitting.identifiability(prof, targets, result.best_loss)
        pattern_results = []
        if patterns:
            pattern_results, _, _ = run_patterns(targets, sim, seeds, base=result.best)
        done, failed = sim.runs_done, sim.runs_failed
    elapsed = time.monotonic() - t0

    values = [
        {
            "parameter": n,
            "default": float(REGISTRY[n].default),
            "fitted": float(result.best[n]),
            "search_low": f.low,
            "search_high": f.high,
            "unit": REGISTRY[n].unit,
        }
        for n, f in ((f.name, f) for f in targets.fit_parameters)
    ]
    fitted_json = {
        "values": {v["parameter"]: v["fitted"] for v in values},
        "loss": result.best_loss,
        "default_loss": result.default_loss,
        "report": str(out / "report.md"),
        "setup": setup,
        "seeds": list(seeds),
    }
    write_text(out / "fitted_values.json", json.dumps(fitted_json, indent=2) + "\n")
    write_table(out, "fitted_values", pd.DataFrame(values))
    write_table(out, "loss_history", result.history)
    write_table(out, "fit_table", table)
    write_table(out, "profiles", prof)
    write_table(out, "identifiability", ident)
    if pattern_results:
        write_table(out, "patterns_fitted", results_table(pattern_results))
    figures = [
        plot_loss_history(result.history, out / "loss_history.png", fitting.POPSIZE * len(result.names)),
        plot_fit(table, labels, out / "fit.png"),
        plot_profiles(prof, result.best, result.best_loss, out / "profiles.png", fitting.PROFILE_DELTA),
    ]
    report = _calibration_report(
        targets,
        result,
        table,
        labels,
        ident,
        prof,
        pattern_results,
        values,
        setup,
        seeds,
        figures,
        elapsed,
        done,
        failed,
        command,
    )
    write_text(out / "report.md", report)
    write_manifest(
        out,
        {
            "name": out.name,
            "kind": "calibration",
            "command": command,
            "status": "done",
            "started": started,
            "finished": now(),
            "elapsed_s": elapsed,
            "runs": {"total": done + failed, "done": done, "failed": failed},
            "setup": setup,
            "seeds": {"rule": "experiments.executor.run_seed(base_seed, replicate)", "list": list(seeds)},
            "parameters": {
                "fitted": {f.name: [f.low, f.high] for f in targets.fit_parameters},
                "budget": budget,
                "optimiser": f"scipy.optimize.differential_evolution(popsize={fitting.POPSIZE}, "
                "init='latinhypercube', x0=registry defaults, polish=False, updating='deferred')",
            },
            "targets_file": str(targets.path),
            "result": {
                "loss": result.best_loss,
                "default_loss": result.default_loss,
                "message": result.message,
            },
        },
    )
    return {
        "result": result,
        "table": table,
        "identifiability": ident,
        "patterns": pattern_results,
        "elapsed_s": elapsed,
    }


def _calibration_report(
    targets,
    result,
    table,
    labels,
    ident,
    prof,
    pattern_results,
    values,
    setup,
    seeds,
    figures,
    elapsed,
    done,
    failed,
    command,
) -> str:
    fitted_targets = [t.name for t in targets.targets if t.fit]
    unpinned = [r["parameter"] for _, r in ident.iterrows() if r["verdict"] != "pinned"]
    pinned = [r["parameter"] for _, r in ident.iterrows() if r["verdict"] == "pinned"]
    not_fitted = [n for n in names("behaviour") if n not in result.names]
    ident_view = ident.assign(
        acceptable=[f"{r.acceptable_low:.3g} – {r.acceptable_high:.3g}" for r in ident.itertuples()],
        swing=[f"{r.swing_in_tolerances:.1f}" for r in ident.itertuples()],
        joint=[f"{r.joint_share:.2f}" for r in ident.itertuples()],
    )[["parameter", "strongest_target", "swing", "joint", "acceptable", "loss_min", "loss_max", "verdict"]]
    sens = fitting.sensitivity(prof, targets).round(2).reset_index(names="parameter")
    singular, weak = fitting.joint_identifiability(prof, targets)
    missed = table[~table["fitted_within"]]["target"].tolist()
    missed_def = table[~table["defaults_within"]]["target"].tolist()
    lines = [
        "# Calibration to sourced targets",
        "",
        f"Command: `{command}`  ",
        f"Neighbourhood: {_size_text(setup)}; {len(seeds)} seeds, the same for every parameter "
        f"vector (common random numbers).  ",
        f"Optimiser: SciPy differential evolution over {len(result.names)} behaviour parameters "
        f"(policy levers are never fitted), {result.evaluations} parameter vectors, "
        f"{done} runs ({failed} failed), "
        f"{elapsed / 60:.1f} min wall time.  ",
        f"Loss (sum over the fitted targets {', '.join(fitted_targets)} of ((simulated - target) / "
        f"tolerance)²): registry defaults {result.default_loss:.2f}, fitted {result.best_loss:.2f}.",
        "",
        "## Fit table",
        "",
        "Simulated values are means over the seeds (SD in brackets); 'fresh' repeats the fitted values "
        "on seeds the fit never saw. 'Checked, not fitted' targets are inputs or identities of the "
        "model; they are reported, not fitted.",
        "",
        fit_table_markdown(table, labels),
        "",
        f"Targets outside tolerance: defaults {', '.join(missed_def) or 'none'}; fitted "
        f"{', '.join(missed) or 'none'}.",
        "",
        "## Fitted values",
        "",
        "Proposed as registry defaults only through the explicit step "
        "`wijkteam calibrate --apply <this folder>`, which names this report as their source.",
        "",
        markdown(pd.DataFrame(values)),
        "",
        "## Identifiability",
        "",
        "Each fitted parameter was varied over its search range, the others held at the fitted values "
        f"({len(prof) // max(len(result.names), 1)} values each). 'swing' is how many tolerances the most "
        "sensitive target moves over the range (max - min of its mean over seeds); 'joint' (0-1) is "
        "the part of the parameter's axis that lies in the directions the targets pin down together "
        "(right singular vectors of the sensitivity matrix below with singular value ≥ 1). A parameter "
        "is *pinned* with swing ≥ 2 and joint ≥ 0.7, *partly pinned* with swing ≥ 1 and joint ≥ 0.3, "
        f"otherwise *not pinned*. 'acceptable' is the range whose loss stays within "
        f"{fitting.PROFILE_DELTA:g} of the best on this grid (a conditional profile: it ignores trade-offs "
        "and, with three seeds, the loss varies by a few units between neighbouring values, so read it "
        "together with 'joint').",
        "",
        markdown(ident_view),
        "",
        "Sensitivity matrix (target movement over each parameter's search range, linear fit, in tolerances):",
        "",
        markdown(sens),
        "",
        f"Singular values: {', '.join(f'{v:.2g}' for v in singular)}. With {len(fitted_targets)} fitted "
        f"targets for {len(result.names)} parameters, at most {len(fitted_targets)} combinations are "
        "pinned; the others are free. Combinations the targets cannot tell apart (main loadings of the "
        "unpinned singular directions): " + "; ".join(f"({w})" for w in weak) + ".",
        "",
        f"Pinned: {', '.join(pinned) or 'none'}. Partly or not pinned: {', '.join(unpinned) or 'none'}. "
        f"The {len(not_fitted)} behaviour parameters not fitted at all are not pinned by any target: "
        f"{', '.join(not_fitted)}. Sensitivity analysis must cover them together with the partly or not "
        "pinned ones above.",
        "",
    ]
    if pattern_results:
        n_pass = sum(r.passed for r in pattern_results)
        lines += [
            "## Patterns P1-P7 with the fitted values",
            "",
            f"{n_pass} of {len(pattern_results)} checks pass (same seeds; the registry defaults: see "
            "`wijkteam validate`).",
            "",
            markdown_table(pattern_results),
            "",
        ]
    lines += [
        "## Figures",
        "",
        *[f"![{f.stem}]({f.name})" for f in figures],
        "",
        "## Sources of the targets",
        "",
        sources_markdown(targets),
        "",
    ]
    return "\n".join(lines)


@_user_errors
def calibrate_command(args: argparse.Namespace) -> int:
    if args.apply:
        folder = Path(args.apply)
        try:
            data = json.loads((folder / "fitted_values.json").read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the fitted values in {folder}: {exc}") from None
        report = data.get("report") or str(folder / "report.md")
        changed = write_back(data["values"], report, args.params_file)
        for name, (old, new) in changed.items():
            print(f"{name}: {old} -> {new}")
        print(
            f"wrote {len(changed)} defaults to {args.params_file} (source: {report}); "
            "regenerate docs/parameters.md with: python -m model --write-docs"
        )
        return 0
    targets = load_targets(args.targets)
    out = Path(args.out)
    setup, seeds = _setup(args, targets), _seeds(args, targets)
    outcome = calibrate(
        targets,
        out,
        setup,
        seeds,
        args.budget,
        args.workers,
        args.profile_points,
        args.patterns,
        args.quiet,
        getattr(args, "command_line", "wijkteam calibrate"),
        fresh_seeds=_seeds(args, targets, offset=1),
    )
    table = outcome["table"]
    columns = ["target", "value", "defaults_mean", "defaults_within", "fitted_mean", "fitted_within"]
    view = table[columns + ["fresh_mean", "fresh_within"]]
    print(view.to_string(index=False, float_format=lambda v: f"{v:.4g}" if not math.isnan(v) else "-"))
    result = outcome["result"]
    print(
        f"\nloss: defaults {result.default_loss:.3g}, fitted {result.best_loss:.3g}; "
        f"{outcome['elapsed_s'] / 60:.1f} min; results in {out}/ "
        f"(apply with: wijkteam calibrate --apply {out})"
    )
    return 0

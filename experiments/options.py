"""Command-line options shared by every subcommand, so they mean the same everywhere.

A subcommand module calls the ``add_*`` helpers on its parser and turns the parsed
arguments into API keyword arguments with :func:`setup_kwargs` and :func:`execute_kwargs`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from model.params import REGISTRY


class CommandError(RuntimeError):
    """A user error found by a subcommand; ``wijkteam`` prints it as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _whole_number(text: str, minimum: int, rule: str) -> int:
    """Parse a whole number of at least ``minimum``; ``rule`` words the error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{value} {rule}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole_number(text, 1, "must be at least 1")


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1-65535."""
    value = _whole_number(text, 1, "must be at least 1")
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: use 1-65535")
    return value


def seed_int(text: str) -> int:
    """An argparse type: a non-negative whole number (a base seed)."""
    return _whole_number(text, 0, "must not be negative")


def _range(name: str) -> str:
    p = REGISTRY[name]
    return f"{int(p.low)}-{int(p.high)}, default {p.default}"


def add_size_options(parser: argparse.ArgumentParser) -> None:
    """``--residents``, ``--weeks``, ``--burn-in`` and ``--seed``."""
    group = parser.add_argument_group("size and seed (the same in every subcommand)")
    group.add_argument(
        "--residents",
        type=positive_int,
        metavar="R",
        help=f"residents in the neighbourhood ({_range('n_residents')})",
    )
    group.add_argument(
        "--weeks",
        type=positive_int,
        metavar="W",
        help=f"reported weeks after the burn-in ({_range('weeks')})",
    )
    group.add_argument(
        "--burn-in",
        type=int,
        metavar="B",
        dest="burn_in",
        help=f"weeks simulated before reporting ({_range('burn_in_weeks')})",
    )
    group.add_argument(
        "--seed",
        type=seed_int,
        default=0,
        metavar="S",
        help="base seed; run seeds derive from it and the replicate number (default 0)",
    )


def add_replicates(parser: argparse.ArgumentParser, default: int) -> None:
    """``--replicates``: runs per scenario or design point, with common random numbers."""
    parser.add_argument(
        "--replicates",
        type=positive_int,
        default=default,
        metavar="N",
        help="replicates per scenario or design point; replicate i uses the same "
        f"seed everywhere (default {default})",
    )


def add_members(parser: argparse.ArgumentParser | Any) -> None:
    """``--members N``: run only the first N members of the ensemble given with ``--ensemble``."""
    parser.add_argument(
        "--members",
        type=positive_int,
        default=None,
        metavar="N",
        help="with --ensemble: use the ensemble's first N members only, a random subset since "
        "members are stored in the order drawn (default: all)",
    )


def members_or_error(args: argparse.Namespace) -> int | None:
    """``args.members``, refused in one line when no ``--ensemble`` is given."""
    if getattr(args, "members", None) is not None and not getattr(args, "ensemble", None):
        raise CommandError("--members is for --ensemble runs: it picks the ensemble's first N members")
    return getattr(args, "members", None)


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--scheduler``."""
    group = parser.add_argument_group("where to run")
    group.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="local worker processes (default and at most: all cores; 1 runs in this process)",
    )
    group.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (see README)"
    )


def add_output_options(
    parser: argparse.ArgumentParser, default_out: str, replace_by_default: bool = False
) -> None:
    """``--out``, ``--resume``, ``--overwrite`` and ``--quiet``."""
    group = parser.add_argument_group("results")
    group.add_argument(
        "--out", default=default_out, metavar="DIR", help=f"results folder (default {default_out})"
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in --out: compute only the runs not stored yet",
    )
    if replace_by_default:
        parser.set_defaults(replace_same_kind=True)
        help_text = "replace any earlier results in --out (else only an earlier result of this command)"
    else:
        help_text = "replace earlier results in --out (never files that are not wijkteam results)"
    group.add_argument("--overwrite", action="store_true", help=help_text)
    group.add_argument("--quiet", action="store_true", help="no progress bar")


def setup_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """API keyword arguments for size and seed."""
    return {"residents": args.residents, "weeks": args.weeks, "burn_in": args.burn_in, "seed": args.seed}


def execute_kwargs(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """API keyword arguments for the executor (``--workers`` capped at the cores, as it is there)."""
    from experiments.backends import default_workers

    cores = default_workers()
    if args.workers and args.workers > cores and not args.scheduler:
        print(f"wijkteam: note: --workers {args.workers} capped at the {cores} cores here", file=sys.stderr)
    return {
        "workers": args.workers,
        "scheduler": args.scheduler,
        "out": args.out,
        "resume": args.resume,
        "overwrite": args.overwrite and not args.resume,
        "replace_same_kind": getattr(args, "replace_same_kind", False) and not args.resume,
        "progress": not args.quiet,
        "command": command,
    }

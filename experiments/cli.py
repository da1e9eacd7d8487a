"""The ``wijkteam`` command line (also ``python -m experiments``).

Each subcommand lives in ``experiments/commands/<name>.py`` with a ``register(subparsers)``
function that adds its parser and sets ``func(args) -> int``; adding one is one line in
:data:`COMMANDS`. User errors (an unknown parameter or scenario, a value out of range, a
results folder in the way) are reported as one line on stderr with exit status 2 and
nothing written.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from experiments.backends import SchedulerError
from experiments.designs import DesignError
from experiments.options import CommandError, Parser
from experiments.scenario import ScenarioError
from experiments.store import StoreError
from model import ParameterError, warm_up

#: Subcommand modules under ``experiments.commands``, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("run", "sweep", "sa", "discover", "export", "viz")

USER_ERRORS = (ParameterError, ScenarioError, DesignError, StoreError, CommandError, SchedulerError)


def build_parser() -> Parser:
    """The argument parser with every subcommand registered."""
    parser = Parser(
        prog="wijkteam",
        description="Experiments with the neighbourhood-team model: compare scenarios, run sweeps, "
        "open the browser view. Results go to results/<name>/ (see results/README.md).",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for name in COMMANDS:
        importlib.import_module(f"experiments.commands.{name}").register(subparsers)
    importlib.import_module("calibration.cli").register(subparsers)  # calibrate, validate
    return parser


def _runs_model(args) -> bool:
    """Whether the command runs the model in this process or its workers."""
    return args.command != "viz" and not getattr(args, "list", False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    args.command_line = " ".join(["wijkteam", *argv])
    try:
        if _runs_model(args):
            warm_up()  # compile once here, announced, before any progress bar or worker starts
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        print(f"wijkteam: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, TimeoutError) as exc:
        if not getattr(args, "scheduler", None):
            raise
        print(f"wijkteam: error: lost the Dask scheduler at {args.scheduler}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        out = getattr(args, "out", None)
        where = f"; the finished runs are stored in {out}: add --resume to continue" if out else ""
        print(f"\nwijkteam: interrupted{where}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

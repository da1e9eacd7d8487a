"""``wijkteam export DIR``: write a results folder's database out as Parquet and manifest.json."""

from __future__ import annotations

import argparse

from experiments.store import export


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a results folder's database (results.duckdb) to runs.parquet, series.parquet",
        description="Write runs.parquet, series.parquet and manifest.json of a results folder from its "
        "database (results.duckdb), e.g. of a sweep that was interrupted. Sweeps export these files "
        "themselves when they finish.",
    )
    parser.add_argument("folder", metavar="DIR", help="the results folder, e.g. results/sweep")
    parser.set_defaults(func=export_command)


def export_command(args: argparse.Namespace) -> int:
    files = export(args.folder)
    print(f"wrote {', '.join(str(f) for f in files) or 'nothing (no runs stored yet)'}")
    return 0

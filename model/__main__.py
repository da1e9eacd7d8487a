"""``python -m model [--seed S]``: one default run, printing its summary with units.

``python -m model --write-docs`` regenerates ``docs/parameters.md`` from the registry.
"""

import argparse
from pathlib import Path

from model.neighbourhood import run
from model.params import parameters_markdown
from model.reporters import SUMMARY_FIELDS

parser = argparse.ArgumentParser(prog="python -m model", description=__doc__)
parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
parser.add_argument("--write-docs", action="store_true", help="regenerate docs/parameters.md")
args = parser.parse_args()
if args.write_docs:
    target = Path(__file__).resolve().parent.parent / "docs" / "parameters.md"
    target.write_text(parameters_markdown())
    print(f"wrote {target}")
else:
    summary, _ = run(seed=args.seed, collect=False)
    for name, value in summary.items():
        print(f"{name:36s} {value:12.3f}  {SUMMARY_FIELDS[name][0]}")

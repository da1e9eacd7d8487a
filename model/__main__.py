"""``python -m model [--seed S]``: one default run, printing its summary with units.

``python -m model --write-docs`` regenerates ``docs/parameters.md`` from the registry and
``docs/outputs.md`` from the output table.
"""

import argparse
from pathlib import Path

from model.neighbourhood import run
from model.outputs import SUMMARY_FIELDS, outputs_markdown
from model.params import parameters_markdown

parser = argparse.ArgumentParser(prog="python -m model", description=__doc__)
parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
parser.add_argument("--write-docs", action="store_true", help="regenerate docs/parameters.md and outputs.md")
args = parser.parse_args()
if args.write_docs:
    docs = Path(__file__).resolve().parent.parent / "docs"
    for name, text in (("parameters.md", parameters_markdown()), ("outputs.md", outputs_markdown())):
        (docs / name).write_text(text)
        print(f"wrote {docs / name}")
else:
    summary, _ = run(seed=args.seed, collect=False)
    for name, value in summary.items():
        print(f"{name:36s} {value:12.3f}  {SUMMARY_FIELDS[name][0]}")

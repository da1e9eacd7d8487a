"""``python -m model [--seed S]``: one default run, printing its summary with units.

``python -m model --write-docs`` regenerates the documentation derived from the code:
``docs/parameters.md`` from the registry, ``docs/outputs.md`` from the output table, and the
generated regions of ``docs/ODD.md`` (the parameter and output tables), each between the lines
``<!-- BEGIN generated: NAME ... -->`` and ``<!-- END generated: NAME -->``. A test
(``tests/test_docs.py``) fails when a checked-in file differs from what this writes.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _odd_regions() -> dict[str, Callable[[], str]]:
    """The generated regions of ``docs/ODD.md``: name -> the function that writes its body."""
    from model.outputs import outputs_odd_markdown
    from model.params import parameters_odd_markdown

    return {"parameters": parameters_odd_markdown, "outputs": outputs_odd_markdown}


class DocsError(ValueError):
    """A document whose generated regions cannot be rewritten; the message says which and why."""


def fill_regions(text: str, regions: dict[str, Callable[[], str]], where: str = "docs/ODD.md") -> str:
    """``text`` with the body of every generated region replaced by its generator's output.

    Each region in ``regions`` must occur exactly once, as a ``BEGIN generated: NAME`` comment
    line and an ``END generated: NAME`` comment line.
    """
    for name, render in regions.items():
        key = re.escape(name)
        begin = rf"^<!-- BEGIN generated: {key}\b[^\n]*-->\n"
        end = rf"^<!-- END generated: {key} -->$"
        pattern = re.compile(rf"({begin})(.*?)({end})", re.M | re.S)
        found = pattern.findall(text)
        if len(found) != 1:
            raise DocsError(
                f"{where}: generated region '{name}' must occur exactly once (found {len(found)});"
                f" mark it with '<!-- BEGIN generated: {name} -->' and '<!-- END generated: {name} -->'"
            )
        body = render().rstrip("\n") + "\n"
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(3), text)
    return text


def generated_docs() -> dict[Path, str]:
    """Every file ``--write-docs`` writes, with the text it writes."""
    from model.outputs import outputs_markdown
    from model.params import parameters_markdown

    odd = DOCS / "ODD.md"
    return {
        DOCS / "parameters.md": parameters_markdown(),
        DOCS / "outputs.md": outputs_markdown(),
        odd: fill_regions(odd.read_text(), _odd_regions()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model", description=__doc__)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="regenerate docs/parameters.md, docs/outputs.md and the tables in docs/ODD.md",
    )
    args = parser.parse_args(argv)
    if args.write_docs:
        for path, text in generated_docs().items():
            path.write_text(text)
            print(f"wrote {path}")
        return
    from model.neighbourhood import run
    from model.outputs import SUMMARY_FIELDS

    summary, _ = run(seed=args.seed, collect=False)
    for name, value in summary.items():
        print(f"{name:36s} {value:12.3f}  {SUMMARY_FIELDS[name][0]}")


if __name__ == "__main__":
    main()

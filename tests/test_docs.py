"""The documentation equals the code (issue 16, item 8).

- The files ``python -m model --write-docs`` writes (``docs/parameters.md``, ``docs/outputs.md``
  and the generated tables of ``docs/ODD.md``) are what it would write now.
- ``docs/ODD.md``, ``calibration/NOTE.md`` and the README name, in backticks, only parameters and
  outputs that exist: every snake_case name in a code span must be a registry parameter, a
  summary or series output, a derived KPI or target of the calibration, a resident state array,
  a manifest field, a name of the packages' public API (``__all__``), or one of the few other code
  names in :data:`OTHER_CODE_NAMES`; dotted names of the model's modules must resolve.
- A default the ODD quotes as "`name` (default X)" is the registry's default.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from calibration.targets import DERIVED, load_targets
from model.__main__ import DocsError, fill_regions, generated_docs
from model.neighbourhood import NeighbourhoodModel
from model.outputs import SERIES, SUMMARY
from model.params import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("docs/ODD.md", "calibration/NOTE.md", "README.md")

#: Other code names the documents may put in backticks, each with the reason it is not in a
#: table the test reads. Keep it short: every entry must name something that exists.
OTHER_CODE_NAMES: dict[str, str] = {}  # none at present: every name so far is derived from the code

SNAKE = re.compile(r"_?[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
FILE = re.compile(r".*\.(py|md|csv|png|parquet|toml|json|duckdb|log|txt|lock)$")


def _known_names() -> set[str]:
    import calibration
    import experiments
    import model as model_package
    from experiments.provenance import package_versions

    model = NeighbourhoodModel(n_residents=200, rng=0, collect=False)
    state = {k for k, v in vars(model.pop).items() if hasattr(v, "shape")}
    targets = load_targets()
    return (
        set(REGISTRY)
        | {o.name for o in SUMMARY}
        | {o.name for o in SERIES}
        | set(DERIVED)
        | {t.name for t in targets.targets}
        | state  # resident state arrays (ODD section 2)
        | set(package_versions())  # fields of a results folder's manifest (README)
        | {f.stem for f in (ROOT / "experiments" / "scenarios").glob("*.toml")}  # scenario names
        | {*model_package.__all__, *experiments.__all__, *calibration.__all__}  # the public API
        | set(OTHER_CODE_NAMES)
    )


def _model_namespaces() -> list[object]:
    """The model package and each of its modules."""
    return [importlib.import_module("model")] + [
        importlib.import_module(f"model.{p.stem}")
        for p in sorted((ROOT / "model").glob("*.py"))
        if p.stem != "__main__"
    ]


def _resolves(dotted: str) -> bool:
    """Whether ``a.b`` names something: ``a`` a module of the model package (or the package), or
    a name one of them defines (``Worker.adjust_courage``)."""
    head, *rest = dotted.removesuffix("()").split(".")
    spaces = _model_namespaces()
    starts = [getattr(m, head) for m in spaces if hasattr(m, head)]
    starts += [m for m in spaces if m.__name__ in (f"model.{head}", head)]
    for obj in starts:
        try:
            for part in rest:
                obj = getattr(obj, part)
        except AttributeError:
            continue
        return True
    return False


def _model_modules() -> set[str]:
    """First parts of dotted names that refer to the model: its modules and the names they define."""
    return (
        {"model"}
        | {m.__name__.split(".")[-1] for m in _model_namespaces()}
        | {name for m in _model_namespaces() for name in vars(m) if name[:1].isupper()}
    )


def names_in_code_spans(text: str) -> tuple[set[str], set[str]]:
    """The snake_case names and the dotted model names in the backticked spans of ``text``.

    A span is split into words at blanks and ``= , ( ) [ ] | : < >``; paths and file names are
    skipped, command-line flags lose their dashes. Names after ``--set`` in code blocks count too.
    """
    words: list[str] = []
    for span in re.findall(r"`([^`\n]+)`", text):
        words += re.split(r"[\s,=()\[\]|:<>]+", span)
    words += re.findall(r"--set\s+([a-z_0-9]+)=", text)
    names, dotted = set(), set()
    modules = _model_modules()
    for word in words:
        word = word.strip("-.'\"")
        if not word or "/" in word or FILE.match(word):
            continue
        if "." in word:
            if word.split(".")[0] in modules:
                dotted.add(word)
            continue
        if SNAKE.fullmatch(word):
            names.add(word)
    return names, dotted


def test_generated_docs_are_current():
    stale = [
        str(path.relative_to(ROOT)) for path, text in generated_docs().items() if path.read_text() != text
    ]
    assert not stale, f"stale generated docs {stale}: run python -m model --write-docs"


def test_odd_has_the_parameter_and_output_tables():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for name in ("parameters", "outputs"):
        body = odd.split(f"<!-- BEGIN generated: {name}")[1].split(f"<!-- END generated: {name}")[0]
        rows = set(re.findall(r"^\| `([a-z_0-9]+)` \|", body, re.M))
        expected = set(REGISTRY) if name == "parameters" else {o.name for o in (*SUMMARY, *SERIES)}
        assert rows == expected, f"ODD {name} table: missing {expected - rows}, extra {rows - expected}"


def test_fill_regions_rewrites_only_between_the_markers():
    text = "a\n<!-- BEGIN generated: t (note) -->\nold\n<!-- END generated: t -->\nb\n"
    new = fill_regions(text, {"t": lambda: "new\nlines"})
    assert new == "a\n<!-- BEGIN generated: t (note) -->\nnew\nlines\n<!-- END generated: t -->\nb\n"
    assert fill_regions(new, {"t": lambda: "new\nlines"}) == new
    with pytest.raises(DocsError, match="region 'u' must occur exactly once"):
        fill_regions(text, {"u": lambda: ""})
    with pytest.raises(DocsError, match="found 2"):
        fill_regions(text + text, {"t": lambda: ""})


def test_the_name_check_finds_names_and_skips_paths():
    text = (
        "`fte_per_1000` (`team_case_max_weeks`), `--set mandate_x=1`, `model/params.py`,"
        " `tests/test_golden.py`, `budget.book_costs`, `budget.no_such_rule`, `sev`\n"
        "    wijkteam validate --set arrival_youth_family=90\n"
    )
    names, dotted = names_in_code_spans(text)
    assert names == {"fte_per_1000", "team_case_max_weeks", "mandate_x", "arrival_youth_family"}
    assert dotted == {"budget.book_costs", "budget.no_such_rule"}
    assert _resolves("budget.book_costs") and not _resolves("budget.no_such_rule")
    assert "team_case_max_weeks" not in _known_names()


@pytest.mark.parametrize("doc", CHECKED)
def test_docs_name_only_parameters_and_outputs_that_exist(doc):
    names, dotted = names_in_code_spans((ROOT / doc).read_text())
    unknown = sorted(names - _known_names())
    assert not unknown, (
        f"{doc} names {unknown} in backticks: not a parameter (model/params.py), an output"
        " (model/outputs.py), a calibration KPI or target, a resident state array or a manifest field"
    )
    broken = sorted(d for d in dotted if not _resolves(d))
    assert not broken, f"{doc} names {broken}: no such function or attribute in the model package"


def test_defaults_quoted_in_the_odd_are_the_registry_defaults():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    quoted = re.findall(r"`([a-z_0-9]+)` \(default ([0-9][0-9,.]*)\)", odd)
    assert quoted, "the check found no quoted default"
    wrong = {
        name: (value, REGISTRY[name].default)
        for name, value in quoted
        if float(value.replace(",", "")) != float(REGISTRY[name].default)
    }
    assert not wrong, f"docs/ODD.md quotes defaults (quoted, registry): {wrong}"


def pattern_kinds_stated(text: str) -> dict[str, set[str]]:
    """Per pattern, the kinds a document states in its list item ``- **P3** (*verification*: ...)``."""
    found = {}
    for pid, head in re.findall(r"^- \*\*(P\d)\*\* \(([^)]*)\)", text, re.M):
        found[pid] = set(re.findall(r"\*(verification|validation)\*", head))
    return found


@pytest.mark.parametrize("doc", ("docs/ODD.md", "calibration/NOTE.md"))
def test_docs_say_per_pattern_what_the_targets_file_says(doc):
    """Built in or emergent: the ODD and the note state, per pattern, the kinds of its checks."""
    expected: dict[str, set[str]] = {}
    for pattern in load_targets().patterns:
        expected.setdefault(pattern.id.rstrip("b"), set()).update(c.kind for c in pattern.checks)
    stated = pattern_kinds_stated((ROOT / doc).read_text())
    wrong = {pid: (stated.get(pid), kinds) for pid, kinds in expected.items() if stated.get(pid) != kinds}
    assert not wrong, f"{doc}: pattern kinds (stated, calibration/targets.toml): {wrong}"

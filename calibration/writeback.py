"""The explicit step that writes fitted values back as the registry's defaults.

:func:`write_back` rewrites the ``default`` (and the ``source``) of behaviour parameters in
``model/params.py``: the source becomes the fit report, followed by the former source. A fitted
default is not taken from a document, so its source class follows its basis (``Param.source_class``).
The file is edited in place at the exact positions of the two arguments (found with
``ast``), so formatting and comments stay as they are. Only behaviour parameters can be
written, and only within their registry bounds. Afterwards regenerate the parameter table
with ``python -m model --write-docs``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

from model.params import CALIBRATED, REGISTRY

PARAMS_FILE = Path(__file__).resolve().parent.parent / "model" / "params.py"


class WriteBackError(ValueError):
    """Values that cannot be written back; the message names the parameter."""


def format_value(name: str, value: float | int) -> str:
    """The literal written for a fitted value (4 significant digits; ints stay ints)."""
    if REGISTRY[name].type is int:
        return str(int(round(value)))
    text = repr(float(f"{float(value):.4g}"))
    return text


def write_back(
    values: Mapping[str, float | int],
    report: str,
    path: str | Path = PARAMS_FILE,
) -> dict[str, tuple[str, str]]:
    """Set the defaults of ``values`` in the registry file ``path``; returns name -> (old, new).

    ``report`` (the fit report's path) is named as the new source of each value.
    """
    _check(values)
    path = Path(path)
    data = path.read_bytes()
    tree = ast.parse(data)
    strings = _module_strings(tree)
    starts = _line_starts(data)
    edits: list[tuple[int, int, bytes]] = []
    changed: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_p" and node.args):
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and first.value in values):
            continue
        name = first.value
        low, high = _span(starts, node.args[1])
        new_text = format_value(name, values[name])
        edits.append((low, high, new_text.encode()))
        edits.append(_source_edit(node, data, starts, strings, report))
        changed[name] = (data[low:high].decode(), new_text)
    missing = set(values) - set(changed)
    if missing:
        raise WriteBackError(f"no registry entry found in {path} for: {', '.join(sorted(missing))}")
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text + data[end:]
    ast.parse(data)  # never leave a file that does not parse
    path.write_bytes(data)
    return changed


def _check(values: Mapping[str, float | int]) -> None:
    """Refuse unknown parameters, policy levers and values outside the registry bounds."""
    for name, value in values.items():
        p = REGISTRY.get(name)
        if p is None:
            raise WriteBackError(f"unknown parameter '{name}'")
        if p.kind != "behaviour":
            raise WriteBackError(f"'{name}' is a {p.kind} parameter; only behaviour defaults are fitted")
        if not (p.low <= float(value) <= p.high):
            raise WriteBackError(f"'{name}' = {value} is outside its registry range [{p.low}, {p.high}]")


def _span(starts: list[int], node: ast.AST) -> tuple[int, int]:
    """Byte offsets of a node's start and end in the file."""
    return starts[node.lineno - 1] + node.col_offset, starts[node.end_lineno - 1] + node.end_col_offset


def _source_edit(
    node: ast.Call, data: bytes, starts: list[int], strings: Mapping[str, str], report: str
) -> tuple[int, int, bytes]:
    """The edit that names ``report`` as an entry's source (the former source in brackets)."""
    source_node = (
        node.args[8]
        if len(node.args) > 8
        else next((k.value for k in node.keywords if k.arg == "source"), None)
    )
    old_source = _string_of(source_node, strings) if source_node is not None else "assumed"
    new_source = _quote(f"{CALIBRATED}{report} (before: {old_source})").encode()
    if source_node is not None:
        return (*_span(starts, source_node), new_source)
    meaning = node.args[7]
    at = _span(starts, meaning)[1]
    line_start = starts[meaning.lineno - 1]
    indent = data[line_start : line_start + meaning.col_offset]
    sep = b",\n" + indent if not indent.strip() else b", "
    return (at, at, sep + new_source)


def _quote(text: str) -> str:
    """A double-quoted Python string literal (the style of the registry file)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line_starts(data: bytes) -> list[int]:
    starts, pos = [0], 0
    for line in data.splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments (the short citations)."""
    out = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            out[node.targets[0].id] = node.value.value
    return out


def _string_of(node: ast.AST, strings: Mapping[str, str]) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.Name):
        return strings.get(node.id, node.id)
    return ast.unparse(node)

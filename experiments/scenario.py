"""Scenarios: named sets of parameter overrides, stored as TOML in ``experiments/scenarios/``.

A scenario file has exactly this shape (the browser view reads the same files)::

    name = "mandate"                 # equals the file stem
    title = "Team with full mandate" # short human label for figures and tables
    source = "RadarAdvies, 'Sociale teams werken'"
    rationale = "One paragraph, citing the source article by author and title."

    [params]                         # overrides of the parameter registry (model.params)
    mandate = 1.0

Loading validates every override against the registry; an error names the file, the key
and the allowed range.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import ParameterError, Params, validate
from model.params import REGISTRY

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

#: The scenarios ``wijkteam run`` compares when none are named, in display order.
MAIN_SCENARIOS: tuple[str, ...] = (
    "pre_2015_equal_staff",
    "pre_2015_equal_spending",
    "typical_2019",
    "default_team",
    "mandate",
    "outcome_steering",
    "collective_investment",
    "independent_team",
    "success_conditions",
)

_REQUIRED = {"name": str, "title": str, "rationale": str, "source": str}


class ScenarioError(ValueError):
    """A scenario that cannot be found or read; the message is one line for the user."""


@dataclass(frozen=True)
class Scenario:
    """A named, validated set of parameter overrides with its rationale and source."""

    name: str
    title: str
    rationale: str
    source: str
    params: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def parameters(self, **setup: Any) -> Params:
        """The complete parameter set of this scenario, with setup overrides (validated)."""
        return validate({**self.params, **setup})


def available() -> list[str]:
    """Names of the scenarios shipped in ``experiments/scenarios/``, main ones first."""
    found = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
    return [n for n in MAIN_SCENARIOS if n in found] + [n for n in found if n not in MAIN_SCENARIOS]


def load(name_or_path: str | Path) -> Scenario:
    """Load a scenario by name (``"mandate"``) or from a path to a TOML file.

    Raises :class:`ScenarioError` with a one-line message naming the file and the
    offending key (and the allowed range for a bad value).
    """
    path = _resolve(name_or_path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    return parse(data, path)


def parse(data: Mapping[str, Any], path: Path) -> Scenario:
    """Check the shape and the parameter overrides of a scenario read from ``path``."""
    unknown = sorted(set(data) - set(_REQUIRED) - {"params"})
    if unknown:
        raise ScenarioError(
            f"{path}: unknown top-level key '{unknown[0]}'; allowed: name, title, source, "
            "rationale and a [params] table"
        )
    for key, kind in _REQUIRED.items():
        if not isinstance(data.get(key), kind) or not data[key].strip():
            raise ScenarioError(f"{path}: '{key}' must be a non-empty string")
    if data["name"] != path.stem:
        raise ScenarioError(f"{path}: name '{data['name']}' must equal the file name '{path.stem}'")
    params = data.get("params", {})
    if not isinstance(params, Mapping):
        raise ScenarioError(f"{path}: 'params' must be a table of parameter overrides")
    checked: dict[str, Any] = {}
    for key, value in params.items():
        if key not in REGISTRY:
            try:
                validate({key: value})
            except ParameterError as exc:
                raise ScenarioError(f"{path}: [params] {exc}") from None
        if REGISTRY[key].kind == "setup":
            raise ScenarioError(
                f"{path}: [params] '{key}' is a setup parameter; set it on the command line "
                "(--residents, --weeks) instead"
            )
        try:
            checked[key] = REGISTRY[key].check(value)
        except ParameterError as exc:
            raise ScenarioError(f"{path}: [params] {exc}") from None
    return Scenario(
        name=data["name"],
        title=data["title"].strip(),
        rationale=" ".join(data["rationale"].split()),
        source=data["source"].strip(),
        params=checked,
        path=path,
    )


def load_many(names: Iterable[str | Path | Scenario] | None = None) -> list[Scenario]:
    """Load several scenarios (default: the main ones); duplicate names are an error."""
    chosen = list(names) if names else available()
    scenarios = [n if isinstance(n, Scenario) else load(n) for n in chosen]
    seen: set[str] = set()
    for s in scenarios:
        if s.name in seen:
            raise ScenarioError(f"scenario '{s.name}' is given twice")
        seen.add(s.name)
    return scenarios


def _resolve(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or isinstance(name_or_path, Path):
        path = Path(name_or_path)
        if not path.is_file():
            raise ScenarioError(f"scenario file {path} does not exist")
        return path
    path = SCENARIO_DIR / f"{text}.toml"
    if not path.is_file():
        raise ScenarioError(f"unknown scenario '{text}'; available: {', '.join(available())}")
    return path


def load_all(directory: str | Path = SCENARIO_DIR) -> tuple[list[Scenario], list[str]]:
    """Every scenario file in ``directory`` that loads, and one line for each that does not.

    For a reader that shows what it can (the browser page's presets) instead of stopping at the
    first bad file. Main scenarios come first in their display order, then the others by name.
    """
    paths = sorted(Path(directory).glob("*.toml"))
    rank = {name: i for i, name in enumerate(MAIN_SCENARIOS)}
    paths.sort(key=lambda p: rank.get(p.stem, len(rank)))  # stable: the others stay in name order
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for path in paths:
        try:
            scenarios.append(load(path))
        except ScenarioError as exc:
            problems.append(str(exc))
    return scenarios, problems

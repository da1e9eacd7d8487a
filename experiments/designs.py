"""Sweep designs: which parameter values to run, from ranges given by the user or the registry.

A sweep varies some registry parameters and may fix others:

- a range ``NAME=LO:HI:STEPS`` (grid steps), ``NAME=LO:HI`` or just ``NAME`` (bounds from
  the registry) is varied;
- a list ``NAME=V1,V2,V3`` is varied over exactly those values;
- a single value ``NAME=V`` fixes the parameter for the whole sweep.

Designs: ``grid`` (full factorial), ``lhs`` (Latin hypercube) and ``sobol`` (a scrambled
Sobol' sequence), both from ``scipy.stats.qmc`` and seeded, so a design is reproducible.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import qmc

from model.params import REGISTRY, Param, policy_levers

DESIGNS = ("grid", "lhs", "sobol")
DEFAULT_STEPS = 5
MAX_GRID = 1_000_000


class DesignError(ValueError):
    """A sweep that cannot be built; the message is one line for the user."""


@dataclass(frozen=True)
class Axis:
    """One varied parameter: bounds and grid steps, or an explicit list of values."""

    name: str
    low: float | None = None
    high: float | None = None
    steps: int | None = None
    values: tuple[Any, ...] | None = None

    def grid(self, default_steps: int = DEFAULT_STEPS) -> list[Any]:
        """The values of this axis in a grid design (validated, rounded for integers)."""
        if self.values is not None:
            return list(self.values)
        p = REGISTRY[self.name]
        if p.type is bool:
            return [False, True]
        steps = self.steps or default_steps
        raw = np.linspace(self.low, self.high, steps) if steps > 1 else np.array([self.low])
        return _unique([_cast(p, v) for v in raw])

    def size(self, default_steps: int = DEFAULT_STEPS) -> int:
        """The number of grid values at most (without building them)."""
        if self.values is not None:
            return len(self.values)
        return 2 if REGISTRY[self.name].type is bool else self.steps or default_steps

    def scale(self, unit: np.ndarray) -> list[Any]:
        """Map samples in [0, 1) onto this axis (a value list is indexed)."""
        p = REGISTRY[self.name]
        if self.values is not None:
            idx = np.minimum((unit * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in idx]
        if p.type is bool:
            raise DesignError(f"parameter '{self.name}' is a switch: it can only be varied in a grid")
        if p.type is int:  # every integer in [low, high] gets an equal share of the samples
            lo, hi = math.ceil(self.low), math.floor(self.high)
            return [int(v) for v in np.minimum(lo + np.floor(unit * (hi - lo + 1)), hi)]
        return [float(v) for v in self.low + unit * (self.high - self.low)]


def parse_param(text: str) -> tuple[str, Axis | Any]:
    """Parse one ``--param`` value into ``(name, Axis)`` or ``(name, fixed value)``.

    Raises :class:`DesignError` or ``ParameterError`` with a one-line message.
    """
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not name:
        raise DesignError(f"malformed --param '{text}': expected NAME=LO:HI:STEPS, NAME=V1,V2 or NAME=V")
    p = _param(name)
    if not sep:
        return name, Axis(name, float(p.low), float(p.high)) if p.type is not bool else Axis(name)
    spec = spec.strip()
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or p.type is bool:
            raise DesignError(f"malformed --param '{text}': expected {name}=LO:HI:STEPS with {p.allowed}")
        low, high = (p.check(_number(text, v)) for v in parts[:2])
        if low > high:
            raise DesignError(f"malformed --param '{text}': LO must not exceed HI")
        steps = None
        if len(parts) == 3:
            steps = _number(text, parts[2])
            if not float(steps).is_integer() or steps < 1:
                raise DesignError(f"malformed --param '{text}': STEPS must be a whole number ≥ 1")
            steps = _steps(int(steps), f"malformed --param '{text}': STEPS")
        return name, Axis(name, float(low), float(high), steps)
    if "," in spec:
        values = tuple(_unique(p.check(_value(text, p, v)) for v in spec.split(",") if v.strip()))
        if not values:
            raise DesignError(f"malformed --param '{text}': no values between the commas")
        return name, Axis(name, values=values)
    return name, p.check(_value(text, p, spec))


def parse_params(texts: Sequence[str]) -> tuple[list[Axis], dict[str, Any]]:
    """Parse all ``--param`` options into varied axes and fixed overrides."""
    axes: dict[str, Axis] = {}
    fixed: dict[str, Any] = {}
    for text in texts:
        name, spec = parse_param(text)
        if name in axes or name in fixed:
            raise DesignError(f"--param {name} is given twice")
        if isinstance(spec, Axis):
            axes[name] = spec
        else:
            fixed[name] = spec
    return list(axes.values()), fixed


def axes_from(spec: Mapping[str, Any] | Sequence[str] | None) -> tuple[list[Axis], dict[str, Any]]:
    """Axes and fixed values from the Python API's ``params`` argument.

    Accepts ``{"mandate": (0, 1, 5), "steering": (0, 1), "fte_per_1000": [0.5, 1.0],
    "independence": 1.0}`` (range with steps, range, values, fixed) or a list of
    ``--param`` strings.
    """
    if spec is None:
        return [], {}
    if not isinstance(spec, Mapping):
        return parse_params(list(spec))
    axes, fixed = [], {}
    for name, value in spec.items():
        p = _param(name)
        if isinstance(value, tuple) and len(value) in (2, 3):
            low, high = p.check(value[0]), p.check(value[1])
            if low > high:
                raise DesignError(f"parameter '{name}': the low bound exceeds the high bound")
            steps = None
            if len(value) == 3:
                steps = _steps(int(value[2]), f"parameter '{name}': the number of steps")
            axes.append(Axis(name, float(low), float(high), steps))
        elif isinstance(value, (list, np.ndarray)):
            axes.append(Axis(name, values=tuple(_unique(p.check(v) for v in value))))
        else:
            fixed[name] = p.check(value)
    return axes, fixed


def build_design(
    axes: Sequence[Axis],
    fixed: Mapping[str, Any] | None = None,
    sample: int | None = None,
    design: str | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The design points: one dict of parameter overrides per point.

    Without axes, ``sample`` draws all numeric policy levers within their registry bounds.
    ``design`` defaults to ``grid`` without ``sample`` and to ``lhs`` with it.
    """
    design = design or ("lhs" if sample else "grid")
    if design not in DESIGNS:
        raise DesignError(f"unknown design '{design}'; choose one of {', '.join(DESIGNS)}")
    axes = list(axes)
    if not axes:
        if not sample:
            raise DesignError("nothing to sweep: give --param NAME=LO:HI:STEPS or --sample N")
        axes = [Axis(n, float(REGISTRY[n].low), float(REGISTRY[n].high)) for n in policy_levers()]
        axes = [a for a in axes if a.name not in (fixed or {})]
    if sample is not None and not 1 <= sample <= MAX_GRID:
        raise DesignError(f"--sample must be in [1, {MAX_GRID:,}] (design points), not {sample:,}")
    fixed = dict(fixed or {})
    if design == "grid":
        count = math.prod(a.size(sample or DEFAULT_STEPS) for a in axes)  # before building it
        if count > MAX_GRID:
            raise DesignError(
                f"the grid has {count:,} points, more than {MAX_GRID:,}; use fewer steps or --design lhs"
            )
        values = [a.grid(sample or DEFAULT_STEPS) for a in axes]
        return [
            {**fixed, **dict(zip([a.name for a in axes], combo, strict=True))}
            for combo in itertools.product(*values)
        ]
    if not sample:
        raise DesignError(f"--design {design} needs --sample N (the number of design points)")
    if design == "lhs":
        unit = qmc.LatinHypercube(d=len(axes), rng=np.random.default_rng(seed)).random(sample)
    else:  # balanced for N a power of two; other N work, without scipy's warning about it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            unit = qmc.Sobol(d=len(axes), scramble=True, rng=np.random.default_rng(seed)).random(sample)
    columns = [a.scale(unit[:, j]) for j, a in enumerate(axes)]
    return [{**fixed, **{a.name: columns[j][i] for j, a in enumerate(axes)}} for i in range(sample)]


def _param(name: str) -> Param:
    if name not in REGISTRY:
        from model import validate

        validate({name: 0})  # raises the registry's one-line message with suggestions
    p = REGISTRY[name]
    if p.kind == "setup":
        raise DesignError(
            f"'{name}' is a setup parameter; use --residents, --weeks or --burn-in instead of --param"
        )
    return p


def _number(text: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise DesignError(f"malformed --param '{text}': '{raw}' is not a number") from None


def _value(text: str, p: Param, raw: str) -> Any:
    raw = raw.strip()
    if p.type is bool:
        return p.check(raw)  # the registry's one rule for switches
    number = _number(text, raw)
    return int(number) if p.type is int and number.is_integer() else number


def _cast(p: Param, value: float) -> Any:
    return int(round(float(value))) if p.type is int else float(value)


def _unique(values) -> list[Any]:
    return list(dict.fromkeys(values))


def _steps(steps: int, what: str) -> int:
    if not 1 <= steps <= MAX_GRID:
        raise DesignError(f"{what} must be in [1, {MAX_GRID:,}], not {steps:,}")
    return steps

"""Calibration targets and validation patterns, read from ``calibration/targets.toml``.

A :class:`Target` is a published figure with a tolerance, the KPI it maps to and its
source; a :class:`Pattern` is one of the qualitative patterns P1-P8 of DESIGN section 7,
as a direction and a minimum effect, each check marked as verification (a rule imposes it)
or validation (it emerges from mechanisms). :func:`kpis` turns a run's summary into every KPI a
target may name, including the derived ones in :data:`DERIVED`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.params import REGISTRY, Params, validate

TARGETS_FILE = Path(__file__).with_name("targets.toml")

#: KPIs computed from a run's summary and parameters: name -> (unit, meaning).
DERIVED: dict[str, tuple[str, str]] = {
    "maatwerk_cost_per_client_year": ("EUR per client per year", "Maatwerk cost per maatwerk client."),
    "team_group_hours_per_resident_year": (
        "hours per resident per year",
        "Worker hours the team spent running initiatives (its collective hours less outreach; measured"
        " beside the run by calibration.runs.measured_run; NaN where not measured).",
    ),
    "collective_tariff_per_participant_year": (
        "EUR per participant per year",
        "Group-support tariffs paid for initiatives (the model's collective cost) per participant"
        " (NaN without participants).",
    ),
    "collective_team_hours_per_participant_year": (
        "hours per participant per year",
        "Team hours that run the initiatives per participant (NaN without participants or not measured).",
    ),
    "collective_cost_per_participant_year": (
        "EUR per participant per year",
        "Costed as the Speelkamer case is (RadarAdvies): the group-support tariff (the provider's"
        " professional) plus the team's hours that run the group at worker_hour_cost, per participant.",
    ),
    "collective_to_individual_cost_ratio": (
        "ratio",
        "Collective cost per participant-year (tariff and team hours) over maatwerk cost per client-year.",
    ),
    "group_to_individual_tariff_ratio": ("ratio", "Group tariff per hour over a worker hour."),
}


#: What a target is for (issue #18): ``fitted`` rules parameter space out (history matching) or
#: enters the loss (differential evolution); ``held_out`` is kept back and only evaluated on the
#: result; ``consistency`` is an input in disguise (a target equal to a model input, or an
#: identity of inputs), checked, never fitted.
ROLES: tuple[str, ...] = ("fitted", "held_out", "consistency")


class TargetsError(ValueError):
    """A targets file that cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class Target:
    """A quantitative calibration target."""

    name: str
    kpi: str
    value: float
    tolerance: float
    source: dict[str, Any]
    bound: str = "two-sided"
    role: str = "fitted"
    scenario: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def fit(self) -> bool:
        """Whether the target is fitted (the former ``fit`` flag): its role is ``fitted``."""
        return self.role == "fitted"

    @property
    def is_input(self) -> bool:
        """A model input checked against a published figure (``param:<name>``)."""
        return self.kpi.startswith("param:")

    @property
    def citation(self) -> str:
        s = self.source
        return f"{s.get('publisher', '')}, '{s.get('title', '')}' ({s.get('year', 'n.d.')})"

    def within(self, simulated: float) -> bool:
        """Whether a simulated value is within tolerance of (or on the right side of) the target."""
        if simulated is None or math.isnan(simulated):
            return False
        if self.bound == "max":
            return simulated <= self.value
        if self.bound == "min":
            return simulated >= self.value
        return abs(simulated - self.value) <= self.tolerance

    def deviation(self, simulated: float) -> float:
        """Standardised deviation ``(sim - value) / tolerance`` (0 inside a one-sided bound)."""
        if simulated is None or math.isnan(simulated):
            return 10.0  # a KPI the run cannot produce counts as far off
        d = (simulated - self.value) / self.tolerance
        if self.bound == "max":
            return max(d, 0.0)
        if self.bound == "min":
            return min(d, 0.0)
        return d


#: What a pattern check is evidence of (DESIGN section 7): ``verification`` where a rule of the
#: model imposes the pattern (the check shows the code does what the rule says), ``validation``
#: where it emerges from mechanisms that do not state it.
CHECK_KINDS: tuple[str, ...] = ("verification", "validation")


@dataclass(frozen=True)
class Check:
    """One measured quantity of a pattern, with the direction and minimum effect it needs.

    ``kind`` is one of :data:`CHECK_KINDS` (not the pattern's kind of measurement); ``origin``
    says which rule imposes it (file:function, the equation) or which mechanisms it emerges from,
    and the evidence for that.
    """

    kpi: str
    effect: str = "relative"
    direction: str = "decrease"
    min_effect: float = 0.0
    below: float | None = None
    trapped_below: float | None = None
    kind: str = "validation"
    origin: str = ""


@dataclass(frozen=True)
class Pattern:
    """A qualitative pattern of DESIGN section 7."""

    id: str
    title: str
    source: str
    kind: str
    checks: tuple[Check, ...]
    contrast: str = ""
    baseline: dict[str, Any] = field(default_factory=dict)
    treatment: dict[str, Any] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)
    parameter: str = ""
    values: tuple[float, ...] = ()


@dataclass(frozen=True)
class FitParameter:
    """A behaviour parameter the fit may move, with its search bounds."""

    name: str
    low: float
    high: float


@dataclass(frozen=True)
class TargetSet:
    """Everything in a targets file."""

    targets: tuple[Target, ...]
    patterns: tuple[Pattern, ...]
    fit_parameters: tuple[FitParameter, ...]
    settings: dict[str, Any]
    path: Path
    fit_settings: dict[str, Any] = field(default_factory=dict)

    def setup(self, kind: str = "validate") -> dict[str, int]:
        """Setup overrides (size and horizon) for validation, or for the fit (``kind="fit"``)."""
        s = {**self.settings, **(self.fit_settings if kind == "fit" else {})}
        return {k: int(s[k]) for k in ("n_residents", "weeks", "burn_in_weeks") if k in s}

    def seeds(self, kind: str = "validate") -> int:
        """Number of common seeds for validation, or for the fit."""
        s = {**self.settings, **(self.fit_settings if kind == "fit" else {})}
        return int(s.get("seeds", 4))


def load_targets(path: str | Path | None = None) -> TargetSet:
    """Read and check a targets file (default: ``calibration/targets.toml``)."""
    path = Path(path) if path is not None else TARGETS_FILE
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TargetsError(f"cannot read targets file {path}: {exc}") from None
    targets = tuple(_target(t) for t in data.get("target", []))
    patterns = tuple(_pattern(p) for p in data.get("pattern", []))
    fit = tuple(_fit_parameter(f) for f in data.get("fit", {}).get("parameters", []))
    fit_settings = {k: v for k, v in data.get("fit", {}).items() if k != "parameters"}
    return TargetSet(targets, patterns, fit, dict(data.get("settings", {})), path, fit_settings)


def _target(t: Mapping[str, Any]) -> Target:
    name = t.get("name", "?")
    for key in ("kpi", "value", "tolerance", "source"):
        if key not in t:
            raise TargetsError(f"target '{name}' has no '{key}'")
    if t.get("bound", "two-sided") not in ("two-sided", "max", "min"):
        raise TargetsError(f"target '{name}': bound must be two-sided, max or min")
    if float(t["tolerance"]) <= 0:
        raise TargetsError(f"target '{name}': tolerance must be positive")
    kpi = t["kpi"]
    if kpi.startswith("param:"):
        if kpi[6:] not in REGISTRY:
            raise TargetsError(f"target '{name}' names unknown parameter '{kpi[6:]}'")
    elif kpi not in _known_kpis():
        raise TargetsError(f"target '{name}' names unknown KPI '{kpi}'")
    if "role" in t:
        role = t["role"]
        if role not in ROLES:
            raise TargetsError(f"target '{name}': role must be one of {', '.join(ROLES)} (got {role!r})")
        if "fit" in t and bool(t["fit"]) != (role == "fitted"):
            raise TargetsError(f"target '{name}': fit = {t['fit']} contradicts role = {role!r}")
    elif kpi.startswith("param:"):
        role = "consistency"
    else:  # the former flag: fit = true is fitted, fit = false was kept back
        role = "fitted" if bool(t.get("fit", True)) else "held_out"
    if role == "fitted" and kpi.startswith("param:"):
        raise TargetsError(
            f"target '{name}': an input (kpi {kpi}) cannot be fitted; use role = \"consistency\""
        )
    scenario = dict(t.get("scenario", {}))
    validate(scenario)
    return Target(
        name=name,
        kpi=kpi,
        value=float(t["value"]),
        tolerance=float(t["tolerance"]),
        source=dict(t["source"]),
        bound=t.get("bound", "two-sided"),
        role=role,
        scenario=scenario,
        note=t.get("note", ""),
    )


def _pattern(p: Mapping[str, Any]) -> Pattern:
    pid = p.get("id", "?")
    kind = p.get("kind", "contrast")
    if kind not in ("contrast", "level", "curve"):
        raise TargetsError(f"pattern {pid}: kind must be contrast, level or curve")
    checks = []
    for c in p.get("check", []):
        if c.get("kpi") not in _known_kpis():
            raise TargetsError(f"pattern {pid} names unknown KPI '{c.get('kpi')}'")
        if c.get("direction", "decrease") not in ("decrease", "increase"):
            raise TargetsError(f"pattern {pid}: direction must be decrease or increase")
        if c.get("kind") not in CHECK_KINDS:
            raise TargetsError(
                f"pattern {pid} check '{c.get('kpi')}': kind must be verification or validation"
                f" (got {c.get('kind')!r})"
            )
        if not str(c.get("origin", "")).strip():
            raise TargetsError(
                f"pattern {pid} check '{c.get('kpi')}': origin must name the rule that imposes it"
                " or the mechanisms it emerges from"
            )
        checks.append(
            Check(
                kpi=c["kpi"],
                effect=c.get("effect", "relative"),
                direction=c.get("direction", "decrease"),
                min_effect=float(c.get("min_effect", 0.0)),
                below=c.get("below"),
                trapped_below=c.get("trapped_below"),
                kind=c["kind"],
                origin=" ".join(str(c["origin"]).split()),
            )
        )
    if not checks:
        raise TargetsError(f"pattern {pid} has no checks")
    from experiments.scenario import load as load_scenario

    baseline, treatment = dict(p.get("baseline", {})), dict(p.get("treatment", {}))
    if "baseline_scenario" in p:
        baseline = {**load_scenario(p["baseline_scenario"]).params, **baseline}
    if "treatment_scenario" in p:
        treatment = {**load_scenario(p["treatment_scenario"]).params, **treatment}
    for overrides in (baseline, treatment, p.get("scenario", {})):
        validate(overrides)
    if kind == "curve" and (p.get("parameter") not in REGISTRY or len(p.get("values", [])) < 3):
        raise TargetsError(f"pattern {pid}: a curve needs a registry parameter and at least 3 values")
    return Pattern(
        id=pid,
        title=p.get("title", ""),
        source=p.get("source", ""),
        kind=kind,
        checks=tuple(checks),
        contrast=p.get("contrast", ""),
        baseline=baseline,
        treatment=treatment,
        scenario=dict(p.get("scenario", {})),
        parameter=p.get("parameter", ""),
        values=tuple(float(v) for v in p.get("values", [])),
    )


def _fit_parameter(f: Mapping[str, Any]) -> FitParameter:
    name = f.get("name")
    if name not in REGISTRY:
        raise TargetsError(f"fit parameter '{name}' is not in the registry")
    p = REGISTRY[name]
    if p.kind != "behaviour":
        raise TargetsError(
            f"fit parameter '{name}' is a {p.kind} parameter; calibration fits behaviour parameters only"
        )
    low, high = float(f.get("low", p.low)), float(f.get("high", p.high))
    if not (p.low <= low < high <= p.high):
        raise TargetsError(f"fit bounds of '{name}' must lie within the registry range [{p.low}, {p.high}]")
    return FitParameter(name, low, high)


def _known_kpis() -> set[str]:
    from model import SUMMARY_FIELDS

    return set(SUMMARY_FIELDS) | set(DERIVED)


def kpis(
    summary: Mapping[str, float],
    params: Mapping[str, Any] | Params,
    team_group_hours: float = math.nan,
) -> dict[str, float]:
    """A run's summary plus the derived KPIs of :data:`DERIVED` (NaN where undefined).

    ``team_group_hours`` is the team's hours on initiatives per resident per year
    (:func:`calibration.runs.measured_run`); without it the Speelkamer costing of P2
    (``collective_cost_per_participant_year`` and the cost ratio) is NaN, never the tariff alone.
    """
    p = validate(params)
    out = {k: float(v) for k, v in summary.items()}
    clients = out.get("maatwerk_clients_per_1000", 0.0)
    per_client = (
        out.get("cost_maatwerk_per_resident_year", math.nan) * 1000.0 / clients if clients > 0 else math.nan
    )
    participants = out.get("participants_per_1000", 0.0)
    per_participant = 1000.0 / participants if participants > 0.05 else math.nan  # residents per participant
    tariff = out.get("cost_collective_per_resident_year", math.nan) * per_participant
    hours = float(team_group_hours) * per_participant
    out["maatwerk_cost_per_client_year"] = per_client
    out["team_group_hours_per_resident_year"] = float(team_group_hours)
    out["collective_tariff_per_participant_year"] = tariff
    out["collective_team_hours_per_participant_year"] = hours
    out["collective_cost_per_participant_year"] = tariff + hours * p.worker_hour_cost
    out["collective_to_individual_cost_ratio"] = out["collective_cost_per_participant_year"] / per_client
    out["group_to_individual_tariff_ratio"] = p.group_tariff / p.worker_hour_cost
    return out


def kpi_unit(name: str) -> str:
    """Unit of a summary or derived KPI, or of a parameter (``param:<name>``)."""
    from model import SUMMARY_FIELDS

    if name.startswith("param:"):
        return REGISTRY[name[6:]].unit
    return {**SUMMARY_FIELDS, **DERIVED}.get(name, ("", ""))[0]

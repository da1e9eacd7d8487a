"""Outcomes of interest for scenario discovery: "escapes the trap" and "fails".

A *case* is one design point (a set of policy lever values) in one world (an ensemble member
or a draw of the behaviour parameters), its KPIs averaged over the replicates. Both outcomes
are booleans per case, with defaults a researcher can change on the command line:

``escapes`` (the team gets out of the individual-caseload trap, DESIGN patterns P1 and P6)
    the share of worker time spent collectively is at least ``collective_fraction`` (default
    one half) of the collective-time target, AND the admissions to maatwerk
    (``escalations_per_1000_year``) lie in the lowest ``escalation_quantile`` (default one
    third) of all cases of the design. The target is the registry default of
    ``collective_time_target`` (the quarter of the time municipalities expect; Van Arum
    (Movisie), 'Sociale wijkteams are here to stay') or, with ``collective_target="own"``,
    each case's own lever value.
``fails`` (the team does worse than the approach before 2015)
    on unmet need or on total cost (``fail_on``) the case is worse than the pre-2015 approach
    at equal spending run in the same world with the same seeds (RadarAdvies, 'Sociale teams
    werken', compares the teams with how things would have gone before 2015), by more than
    ``fail_margin`` (a relative tolerance, default 0: any excess counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.params import REGISTRY

OUTCOMES = ("escapes", "fails")
#: KPIs the outcomes read, by short name (what ``--fails-on`` accepts) and column.
FAIL_KPIS: dict[str, str] = {
    "unmet": "unmet_need_per_1000_year",
    "cost": "cost_total_per_resident_year",
}
COLLECTIVE = "collective_time_share"
ESCALATIONS = "escalations_per_1000_year"
#: Every KPI the outcomes need (the case tables keep these).
OUTCOME_KPIS: tuple[str, ...] = (COLLECTIVE, ESCALATIONS, *FAIL_KPIS.values())


class OutcomeError(ValueError):
    """An outcome definition out of range; the message is one line naming the option."""


@dataclass(frozen=True)
class OutcomeSpec:
    """The definitions of the outcomes of interest (see the module docstring)."""

    collective_target: float | str = float(REGISTRY["collective_time_target"].default)
    collective_fraction: float = 0.5
    escalation_quantile: float = 1 / 3
    fail_on: tuple[str, ...] = ("unmet", "cost")
    fail_margin: float = 0.0

    def __post_init__(self) -> None:
        target = self.collective_target
        if isinstance(target, str):
            if target != "own":
                raise OutcomeError(
                    f"--collective-target: '{target}' is not allowed: expected 'own' or a share 0-1"
                )
        elif not 0.0 <= float(target) <= 1.0:
            raise OutcomeError(f"--collective-target: {target} is out of range: expected 'own' or 0-1")
        if not 0.0 < self.collective_fraction <= 1.0:
            raise OutcomeError(
                f"--collective-fraction: {self.collective_fraction} is out of range: expected > 0 and <= 1"
            )
        if not 0.0 < self.escalation_quantile < 1.0:
            raise OutcomeError(
                f"--escalation-quantile: {self.escalation_quantile} is out of range: expected > 0 and < 1"
            )
        bad = [k for k in self.fail_on if k not in FAIL_KPIS]
        if bad or not self.fail_on:
            raise OutcomeError(
                f"--fails-on: '{','.join(bad) or ''}' is not allowed: expected one or more of "
                f"{', '.join(FAIL_KPIS)} (comma-separated)"
            )
        if not 0.0 <= self.fail_margin <= 1.0:
            raise OutcomeError(f"--fails-margin: {self.fail_margin} is out of range: expected 0-1")

    def describe(self) -> dict[str, str]:
        """The definitions in words, for the report."""
        target = (
            "its own collective-time target (the lever)"
            if self.collective_target == "own"
            else f"the collective-time target of {float(self.collective_target):.0%}"
        )
        fails_on = " or ".join(
            {"unmet": "unmet need", "cost": "total cost per resident"}[k] for k in self.fail_on
        )
        margin = f" by more than {self.fail_margin:.0%}" if self.fail_margin else ""
        return {
            "escapes": (
                f"collective time at least {self.collective_fraction:.0%} of {target}, and admissions "
                f"to maatwerk in the lowest {self.escalation_quantile:.0%} of all cases of the design"
            ),
            "fails": (
                f"worse than the pre-2015 approach at equal spending in the same world on {fails_on}{margin}"
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "collective_target": self.collective_target,
            "collective_fraction": self.collective_fraction,
            "escalation_quantile": self.escalation_quantile,
            "fail_on": list(self.fail_on),
            "fail_margin": self.fail_margin,
        }


def escalation_threshold(cases: pd.DataFrame, spec: OutcomeSpec) -> float:
    """The admissions at the ``escalation_quantile`` of the design's cases (the 'lowest third')."""
    return float(np.nanquantile(cases[ESCALATIONS].to_numpy(dtype=float), spec.escalation_quantile))


def escapes(cases: pd.DataFrame, spec: OutcomeSpec, threshold: float | None = None) -> np.ndarray:
    """Whether each case escapes the caseload trap (a boolean array, one per row of ``cases``).

    ``cases`` has the KPI columns and, for ``collective_target="own"``, the lever column
    ``collective_time_target``. ``threshold`` is the admissions cut-off; by default the
    ``escalation_quantile`` of these cases (pass the design's when classifying other policies).
    """
    if spec.collective_target == "own":
        target = cases["collective_time_target"].to_numpy(dtype=float)
    else:
        target = np.full(len(cases), float(spec.collective_target))
    cut = escalation_threshold(cases, spec) if threshold is None else threshold
    collective = cases[COLLECTIVE].to_numpy(dtype=float) >= spec.collective_fraction * target
    low = cases[ESCALATIONS].to_numpy(dtype=float) <= cut
    return collective & low


def fails(cases: pd.DataFrame, reference: pd.DataFrame, spec: OutcomeSpec) -> np.ndarray:
    """Whether each case does worse than the pre-2015 reference of its world.

    ``cases`` has a ``member`` column and the KPI columns; ``reference`` has one row per
    member (``member`` and the same KPI columns): the pre-2015 approach in that world.
    A case whose world has no reference is an error (the comparison would be meaningless).
    """
    ref = reference.set_index("member")
    missing = sorted(set(cases["member"]) - set(ref.index))
    if missing:
        raise OutcomeError(f"fails: no pre-2015 reference for world(s) {missing[:5]}")
    worse = np.zeros(len(cases), dtype=bool)
    for key in spec.fail_on:
        column = FAIL_KPIS[key]
        base = ref.loc[cases["member"].to_numpy(), column].to_numpy(dtype=float)
        value = cases[column].to_numpy(dtype=float)
        worse |= value > base + spec.fail_margin * np.abs(base)
    return worse


def classify(
    cases: pd.DataFrame,
    reference: pd.DataFrame,
    spec: OutcomeSpec,
    outcomes: Sequence[str] = OUTCOMES,
    threshold: float | None = None,
) -> dict[str, np.ndarray]:
    """Both outcomes (or those named) for every case."""
    result = {}
    for name in outcomes:
        if name == "escapes":
            result[name] = escapes(cases, spec, threshold)
        elif name == "fails":
            result[name] = fails(cases, reference, spec)
        else:
            raise OutcomeError(f"outcome '{name}' is not allowed: expected one of {', '.join(OUTCOMES)}")
    return result

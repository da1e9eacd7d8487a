"""The problem of a sensitivity analysis: levers and bounds, outputs, sample rows as
parameter dicts, and :class:`Method`, the interface of a method.

A method (:mod:`~experiments.sensitivity.morris`, :mod:`~experiments.sensitivity.sobol`,
listed in :mod:`~experiments.sensitivity.methods`) says how it samples (rows per block,
SALib's sampler) and how it analyses the replicate means into indices (a table per output
and lever) and a convergence table. Everything that differs between methods lives in the
method's module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from SALib import ProblemSpec

from experiments.designs import DesignError
from model import REGISTRY, SUMMARY_FIELDS
from model.params import names, policy_levers, salib_problem

#: The KPIs analysed by default (DESIGN section 6): prevention, reliance, collective work,
#: cost and unmet need.
DEFAULT_OUTPUTS: tuple[str, ...] = (
    "escalations_per_1000_year",
    "caught_early_share",
    "self_reliance_mean",
    "collective_time_share",
    "cost_total_per_resident_year",
    "unmet_need_per_1000_year",
)

CONF_LEVEL = 0.95
NUM_RESAMPLES = 200


class SensitivityError(DesignError):
    """A sensitivity analysis that cannot be set up or analysed; one line for the user."""


# ---- levers and outputs -------------------------------------------------------------------------
#: Groups of parameters ``--params`` accepts besides names: the numeric policy levers, the
#: numeric behaviour parameters (the assumptions about residents, workers and providers) or both.
GROUPS: tuple[str, ...] = ("policy", "behaviour", "all")


def behaviour_parameters() -> list[str]:
    """The numeric behaviour parameters, in registry order (switches cannot be sampled)."""
    return [n for n in names("behaviour") if REGISTRY[n].type is not bool]


def group(name: str) -> list[str]:
    """The parameters of a group in :data:`GROUPS`."""
    if name == "policy":
        return policy_levers()
    if name == "behaviour":
        return behaviour_parameters()
    return policy_levers() + behaviour_parameters()


def resolve_params(params: str | Sequence[str] | None) -> list[str]:
    """Parameter names from ``None``/``"policy"`` (all numeric policy levers), ``"behaviour"``
    (all numeric behaviour parameters), ``"all"`` (both), or names/"a,b,c" (groups may be mixed in)."""
    if params is None:
        return policy_levers()
    if isinstance(params, str):
        params = [p.strip() for p in params.split(",") if p.strip()]
    chosen: list[str] = []
    for name in params:
        if name in GROUPS:
            chosen += [n for n in group(name) if n not in chosen]
        elif name not in chosen:
            chosen.append(name)
    for name in chosen:
        if name in REGISTRY and REGISTRY[name].kind == "setup":
            raise SensitivityError(f"'{name}' is a setup parameter and cannot be analysed")
    if len(chosen) < 2:
        raise SensitivityError("a sensitivity analysis needs at least two parameters")
    return chosen


def resolve_outputs(outputs: str | Sequence[str] | None) -> list[str]:
    """KPI names (default :data:`DEFAULT_OUTPUTS`), checked against the summary fields."""
    if outputs is None:
        return list(DEFAULT_OUTPUTS)
    if isinstance(outputs, str):
        outputs = [o.strip() for o in outputs.split(",") if o.strip()]
    unknown = [o for o in outputs if o not in SUMMARY_FIELDS]
    if unknown:
        raise SensitivityError(
            f"unknown output {', '.join(repr(u) for u in unknown)}; choose from the summary KPIs: "
            + ", ".join(SUMMARY_FIELDS)
        )
    if not outputs:
        raise SensitivityError("no outputs to analyse")
    return list(dict.fromkeys(outputs))


def problem(params: str | Sequence[str] | None = None) -> dict[str, Any]:
    """The SALib problem dict (``num_vars``, ``names``, ``bounds``) from the registry
    (:func:`model.params.salib_problem`).

    Sensitivity analysis samples every parameter uniformly within its prior range (the registry
    entry's ``prior_low``/``prior_high``): Morris' grid is uniform by construction, and one rule
    for both methods keeps their rankings comparable. The prior *shapes* (log-uniform, triangular)
    are what calibration draws from (:func:`model.params.draw_priors`); a log-uniform rate is
    therefore explored more in its upper decades here than it is weighted there.
    """
    prob = salib_problem(resolve_params(params))
    prob.pop("dists", None)
    prob["bounds"] = [[float(REGISTRY[n].prior_low), float(REGISTRY[n].prior_high)] for n in prob["names"]]
    return prob


def salib_spec(prob: Mapping[str, Any], outputs: Sequence[str] | None = None) -> ProblemSpec:
    """SALib's ``ProblemSpec`` for a problem dict (and the outputs, to analyse results)."""
    spec = {"names": list(prob["names"]), "bounds": [list(b) for b in prob["bounds"]]}
    if outputs is not None:
        spec["outputs"] = list(outputs)
    return ProblemSpec(spec)


def results_by_output(sp: ProblemSpec, outputs: Sequence[str]) -> dict[str, Any]:
    """SALib's analysis per output (it is not keyed by output when there is only one)."""
    analysis = sp.analysis
    return dict(analysis) if len(outputs) > 1 else {outputs[0]: analysis}


def subset_sizes(n: int, minimum: int) -> list[int]:
    """N/4, N/2 and N (those of at least ``minimum``)."""
    return sorted({k for k in (n // 4, n // 2, n) if k >= minimum})


# ---- the methods ---------------------------------------------------------------------------------
class Method:
    """One sensitivity method: its sample and its analysis (listed in
    :data:`experiments.sensitivity.methods.METHODS`)."""

    name: ClassVar[str]
    #: Trajectories (Morris) or base samples (Sobol') when none are asked.
    default_n: ClassVar[int]
    #: The index that ranks the levers, and its interval's column.
    key: ClassVar[str]
    conf: ClassVar[str]

    def check_n(self, n: int) -> None:
        """Raise :class:`SensitivityError` for a sample size this method cannot use."""
        raise NotImplementedError

    def block_size(self, num_vars: int, second_order: bool = False) -> int:
        """Rows per trajectory (Morris) or per base row (Saltelli, SALib's row order)."""
        raise NotImplementedError

    def sample(self, sp: ProblemSpec, n: int, *, seed: int, second_order: bool, num_levels: int) -> None:
        """Draw SALib's sample into ``sp``."""
        raise NotImplementedError

    def analyse(
        self,
        prob: Mapping[str, Any],
        sample: np.ndarray,
        means: pd.DataFrame,
        outputs: Sequence[str],
        n: int,
        *,
        second_order: bool,
        num_levels: int,
        seed: int,
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
        """``(indices, convergence, second_order_indices or None)`` from the replicate means."""
        raise NotImplementedError

    def last_change(self, last: pd.Series, prev: pd.Series) -> float:
        """Largest change of the ranking index between the last two sample sizes."""
        return float((last - prev).abs().max())

    def convergence_warning(self, label: str, change: float) -> str | None:
        """A warning when the indices have not settled, or ``None``."""
        return None

    def design_info(self, *, second_order: bool, num_levels: int) -> dict[str, Any]:
        """The method's own entries of the manifest's design (``None`` for the other method's)."""
        return {"second_order": None, "num_levels": None}


def sample_points(sample: np.ndarray, names: Sequence[str]) -> list[dict[str, Any]]:
    """One parameter dict per sample row (integers rounded for integer parameters)."""
    types = [REGISTRY[n].type if n in REGISTRY else float for n in names]
    return [
        {n: (int(round(v)) if t is int else float(v)) for n, t, v in zip(names, types, row, strict=True)}
        for row in sample
    ]

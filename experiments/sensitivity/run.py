"""Running a sensitivity analysis: sample, run through the batch executor, analyse, write.

The runs go through :func:`experiments.executor.execute` (replicates with common random
numbers, a local process pool, this process or a Dask cluster, a resumable results store).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.executor import Outcome, Runner, execute, make_tasks
from experiments.sensitivity.analysis import Analysis, analyse
from experiments.sensitivity.files import write_results
from experiments.sensitivity.methods import draw_sample, method_of
from experiments.sensitivity.problem import SensitivityError, problem, resolve_outputs, sample_points


@dataclass
class SensitivityResult:
    """What :func:`run_sensitivity` did: the analysis, the runs and the files written."""

    analysis: Analysis
    outcome: Outcome
    files: list[Path] = field(default_factory=list)

    @property
    def runs(self) -> pd.DataFrame:
        return self.outcome.runs

    def to_df(self) -> pd.DataFrame:
        """The indices, one row per output and lever."""
        return self.analysis.to_df()

    def plot(self, out: str | Path) -> list[Path]:
        """The figures of the analysis, drawn into folder ``out``."""
        return self.analysis.plot(out)


def run_sensitivity(
    method: str,
    params: str | Sequence[str] | None = None,
    outputs: str | Sequence[str] | None = None,
    *,
    n: int | None = None,
    replicates: int = 2,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    fixed: Mapping[str, Any] | None = None,
    second_order: bool = False,
    num_levels: int = 4,
    out: str | Path | None = None,
    runner: Runner | None = None,
    command: str | None = None,
    **execute_options: Any,
) -> SensitivityResult:
    """Sample, run (through :func:`experiments.executor.execute`), analyse and report.

    ``params``: lever names or ``"policy"`` (default: all numeric policy levers), bounds from
    the registry. ``outputs``: summary KPIs (default :data:`DEFAULT_OUTPUTS`). ``n``: Morris
    trajectories (default 20) or Sobol' base samples (a power of two, default 256).
    ``fixed``: other parameters held at a value in every run (e.g. a switch). ``runner``:
    what runs one task (default the model). Further keyword arguments (``workers``,
    ``scheduler``, ``backend``, ``resume``, ``overwrite``, ``progress``) go to the executor;
    with ``out`` the results store, indices, figures and ``report.md`` are written there.
    """
    n = n or method_of(method).default_n
    prob = problem(params)
    chosen = resolve_outputs(outputs)
    fixed = dict(fixed or {})
    clash = sorted(set(fixed) & set(prob["names"]))
    if clash:
        raise SensitivityError(f"{', '.join(clash)} cannot be both sampled and fixed")
    sample = draw_sample(method, prob, n, seed=seed, second_order=second_order, num_levels=num_levels)
    setup = _size(residents, weeks, burn_in)
    tasks = make_tasks(
        sample_points(sample, prob["names"]), replicates=replicates, base_seed=seed, setup={**setup, **fixed}
    )
    design = {
        "method": method,
        "n": n,
        "sample_rows": len(sample),
        **method_of(method).design_info(second_order=second_order, num_levels=num_levels),
        "problem": prob,
        "outputs": chosen,
        "fixed": fixed,
        "sample_seed": seed,
        "salib": "ProblemSpec.sample_morris / sample_sobol, analyze_morris / analyze_sobol",
    }
    info = {"replicates": replicates, "base_seed": seed, "setup": setup, "sensitivity": design}
    outcome = execute(
        tasks, out, kind=f"sa-{method}", info=info, runner=runner, command=command, **execute_options
    )
    result = analyse(
        method,
        prob,
        sample,
        outcome.runs,
        chosen,
        second_order=second_order,
        num_levels=num_levels,
        seed=seed,
    )
    files: list[Path] = []
    if out is not None:
        files = write_results(result, out, outcome.runs, command=command, setup={**setup, **fixed})
    return SensitivityResult(result, outcome, files)


def _size(residents: int | None, weeks: int | None, burn_in: int | None) -> dict[str, int]:
    """The size overrides that were given (the registry defaults hold for the others)."""
    given = {"n_residents": residents, "weeks": weeks, "burn_in_weeks": burn_in}
    return {k: v for k, v in given.items() if v is not None}


def morris(
    params: str | Sequence[str] | None = None, outputs: str | Sequence[str] | None = None, **kwargs: Any
) -> SensitivityResult:
    """Morris screening (elementary effects); see :func:`run_sensitivity`."""
    return run_sensitivity("morris", params, outputs, **kwargs)


def sobol(
    params: str | Sequence[str] | None = None, outputs: str | Sequence[str] | None = None, **kwargs: Any
) -> SensitivityResult:
    """Sobol' indices from a Saltelli sample; see :func:`run_sensitivity`."""
    return run_sensitivity("sobol", params, outputs, **kwargs)

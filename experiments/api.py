"""The Python API for scripts and notebooks; the command line is a thin layer over it.

>>> from experiments import run_scenarios, sweep
>>> runs, series = run_scenarios(["pre_2015_equal_staff", "mandate"], replicates=3, residents=500, weeks=52)
>>> df = sweep({"fte_per_1000": (0.4, 2.0, 5)}, replicates=2, residents=500, weeks=52)

Both return pandas DataFrames with one row per run (parameters as ``p_<name>`` columns,
``seed``, ``replicate``, ``status``, ``error`` and every summary KPI); with ``out=`` they
also write the results store (``manifest.json``, ``runs.parquet``, ...) there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.designs import axes_from, build_design
from experiments.executor import Outcome, execute, make_tasks
from experiments.scenario import Scenario, load_many


def setup_overrides(
    residents: int | None = None, weeks: int | None = None, burn_in: int | None = None
) -> dict[str, int]:
    """The setup parameters set on the command line (only those given)."""
    given = {"n_residents": residents, "weeks": weeks, "burn_in_weeks": burn_in}
    return {k: v for k, v in given.items() if v is not None}


def scenario_outcome(
    scenarios: Sequence[str | Path | Scenario] | None = None,
    *,
    replicates: int = 10,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    series: bool = True,
    **execute_options: Any,
) -> tuple[Outcome, list[Scenario]]:
    """Like :func:`run_scenarios`, returning the executor's full :class:`Outcome`."""
    chosen = load_many(scenarios)
    setup = setup_overrides(residents, weeks, burn_in)
    tasks = make_tasks(
        [s.params for s in chosen],
        replicates=replicates,
        base_seed=seed,
        setup=setup,
        tags=[{"scenario": s.name} for s in chosen],
    )
    info = {
        "replicates": replicates,
        "base_seed": seed,
        "setup": setup,
        "scenarios": [
            {"name": s.name, "title": s.title, "source": s.source, "params": s.params} for s in chosen
        ],
    }
    outcome = execute(tasks, out, kind="scenarios", collect_series=series, info=info, **execute_options)
    return outcome, chosen


def run_scenarios(
    scenarios: Sequence[str | Path | Scenario] | None = None,
    *,
    replicates: int = 10,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    series: bool = True,
    **execute_options: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run scenarios with common random numbers and return ``(runs, series)``.

    Replicate *i* uses the same seed in every scenario, so differences between scenarios
    are not blurred by chance. ``scenarios`` are names, TOML paths or loaded
    :class:`Scenario` objects (default: the main scenarios). Further keyword arguments
    (``workers``, ``scheduler``, ``resume``, ``overwrite``, ``progress``) go to
    :func:`experiments.executor.execute`.
    """
    outcome, _ = scenario_outcome(
        scenarios,
        replicates=replicates,
        residents=residents,
        weeks=weeks,
        burn_in=burn_in,
        seed=seed,
        out=out,
        series=series,
        **execute_options,
    )
    return outcome.runs, outcome.series


def sweep_outcome(
    params: Mapping[str, Any] | Sequence[str] | None = None,
    *,
    sample: int | None = None,
    design: str | None = None,
    replicates: int = 1,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    series: bool = False,
    **execute_options: Any,
) -> Outcome:
    """Like :func:`sweep`, returning the executor's full :class:`Outcome`."""
    axes, fixed = axes_from(params)
    points = build_design(axes, fixed, sample=sample, design=design, seed=seed)
    setup = setup_overrides(residents, weeks, burn_in)
    tasks = make_tasks(points, replicates=replicates, base_seed=seed, setup=setup)
    info = {
        "replicates": replicates,
        "base_seed": seed,
        "setup": setup,
        "design": {
            "kind": design or ("lhs" if sample else "grid"),
            "sample": sample,
            "points": len(points),
            "varied": {
                a.name: (list(a.values) if a.values is not None else [a.low, a.high, a.steps]) for a in axes
            }
            or "all numeric policy levers, registry bounds",
            "fixed": fixed,
        },
    }
    return execute(tasks, out, kind="sweep", collect_series=series, info=info, **execute_options)


def sweep(
    params: Mapping[str, Any] | Sequence[str] | None = None,
    *,
    sample: int | None = None,
    design: str | None = None,
    replicates: int = 1,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    series: bool = False,
    **execute_options: Any,
) -> pd.DataFrame:
    """Run a batch sweep over registry parameters; one row per run.

    ``params`` maps names to ``(lo, hi, steps)`` (grid), ``(lo, hi)`` (sampled), a list of
    values, or a single fixed value; or give ``--param``-style strings. With only
    ``sample=N`` all numeric policy levers are sampled within their registry bounds.
    ``design`` is ``grid``, ``lhs`` or ``sobol``. Replicate *i* uses the same seed at
    every design point (common random numbers).
    """
    return sweep_outcome(
        params,
        sample=sample,
        design=design,
        replicates=replicates,
        residents=residents,
        weeks=weeks,
        burn_in=burn_in,
        seed=seed,
        out=out,
        series=series,
        **execute_options,
    ).runs

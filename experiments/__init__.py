"""Experiments with the neighbourhood-team model: scenarios, batch sweeps, figures, the CLI.

Python API (the ``wijkteam`` command line is a thin layer over it):

- :func:`run_scenarios` - compare named scenarios (``experiments/scenarios/*.toml``) with
  common random numbers; returns ``(runs, series)`` DataFrames;
- :func:`sweep` - a batch sweep (grid, Latin hypercube or Sobol' design) over any registry
  parameters; returns one row per run;
- :func:`execute` and :func:`make_tasks` - the executor underneath (local processes or a
  Dask cluster, resumable results store, failure recording, progress, manifest), for
  experiments that bring their own list of parameter dicts (e.g. a SALib sample);
- :class:`InProcess`, :class:`LocalPool`, :class:`DaskCluster` - where the runs go
  (:mod:`experiments.backends`), context managers to keep one pool open for several batches
  (``execute(tasks, backend=pool)``);
- :func:`load_scenario`, :func:`available_scenarios` - the scenario files.
"""

from experiments.api import run_scenarios, sweep
from experiments.backends import DaskCluster, InProcess, LocalPool
from experiments.executor import PARAM_PREFIX, Task, execute, make_tasks, run_seed
from experiments.scenario import Scenario, ScenarioError
from experiments.scenario import available as available_scenarios
from experiments.scenario import load as load_scenario

__all__ = [
    "PARAM_PREFIX",
    "DaskCluster",
    "InProcess",
    "LocalPool",
    "Scenario",
    "ScenarioError",
    "Task",
    "available_scenarios",
    "execute",
    "load_scenario",
    "make_tasks",
    "run_scenarios",
    "run_seed",
    "sweep",
]

"""Global sensitivity analysis of the policy levers: Morris screening and Sobol' indices (SALib).

One module per concern, as SALib's ``analyze/morris.py`` and ``analyze/sobol.py``:

- :mod:`~experiments.sensitivity.problem` - levers and bounds from the parameter registry,
  outputs, sample rows as parameter dicts, and :class:`Method`, the interface of a method;
- :mod:`~experiments.sensitivity.morris`, :mod:`~experiments.sensitivity.sobol` - each
  method's sample blocks and analysis (indices at N/4, N/2 and N for convergence);
  :mod:`~experiments.sensitivity.methods` lists them (:data:`METHODS`) and draws the sample;
- :mod:`~experiments.sensitivity.noise` - replicate means and the noise level;
- :mod:`~experiments.sensitivity.analysis` - the one result object :class:`Analysis`
  (``.to_df()``, ``.plot()``) and :func:`analyse`, a function of the results table only;
- :mod:`~experiments.sensitivity.run` - :func:`run_sensitivity`: sample, run through the
  batch executor (replicates with common random numbers, local processes or a Dask
  cluster, a resumable results store), analyse, write;
- :mod:`~experiments.sensitivity.figures`, :mod:`~experiments.sensitivity.report`,
  :mod:`~experiments.sensitivity.files` - figures, ``report.md`` and the tables.

Units: Sobol' indices are shares of the output variance (0-1). Morris μ* and σ are in the
output's unit per full range of the lever (SALib's elementary effect on the unit
hypercube): "moving this lever from its low to its high bound changes the KPI by about μ*".

Stochastic noise: each sample point runs ``replicates`` times (replicate *i* has the same
seed at every point); the indices use the replicate means. The noise share of an output is
the mean within-point variance over the total variance of single runs; the noise left in
the replicate means is about that share divided by the number of replicates.

The package's names ``morris`` and ``sobol`` are the functions that run an analysis
(``experiments.sensitivity.morris(...)``); the method modules are imported by their full
name (``from experiments.sensitivity.morris import Morris``).
"""

from __future__ import annotations

from experiments.sensitivity.analysis import Analysis, analyse
from experiments.sensitivity.files import write_results
from experiments.sensitivity.methods import METHODS, block_size, check_n, draw_sample
from experiments.sensitivity.morris import Morris, elementary_effects
from experiments.sensitivity.noise import noise_table, replicate_means
from experiments.sensitivity.problem import (
    DEFAULT_OUTPUTS,
    Method,
    SensitivityError,
    problem,
    resolve_outputs,
    resolve_params,
    sample_points,
)
from experiments.sensitivity.run import SensitivityResult, morris, run_sensitivity, sobol
from experiments.sensitivity.sobol import Sobol

__all__ = [
    "DEFAULT_OUTPUTS",
    "METHODS",
    "Analysis",
    "Method",
    "Morris",
    "SensitivityError",
    "SensitivityResult",
    "Sobol",
    "analyse",
    "block_size",
    "check_n",
    "draw_sample",
    "elementary_effects",
    "morris",
    "noise_table",
    "problem",
    "replicate_means",
    "resolve_outputs",
    "resolve_params",
    "run_sensitivity",
    "sample_points",
    "sobol",
    "write_results",
]

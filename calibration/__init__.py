"""Calibration to sourced targets and pattern-oriented validation (DESIGN sections 0 and 7).

- ``calibration/targets.toml``: the targets (value, tolerance, KPI, source) and the
  patterns P1-P7 (direction and minimum effect), read by :func:`load_targets`;
- :func:`calibration.fit.fit` - differential evolution of the behaviour parameters on a simulated-method-of-
  moments loss with common random numbers; :func:`profile` - the identifiability profiles;
- :func:`run_patterns` - the pattern checks; :func:`write_back` - fitted values as defaults;
- ``wijkteam calibrate`` and ``wijkteam validate`` (:mod:`calibration.cli`).
"""

from calibration.fit import fit_table, identifiability, profile
from calibration.patterns import PatternResult, run_patterns
from calibration.runs import Simulator, crn_seeds
from calibration.targets import Target, TargetSet, kpis, load_targets
from calibration.writeback import write_back

__all__ = [
    "PatternResult",
    "Simulator",
    "Target",
    "TargetSet",
    "crn_seeds",
    "fit_table",
    "identifiability",
    "kpis",
    "load_targets",
    "profile",
    "run_patterns",
    "write_back",
]

"""Calibration to sourced targets and pattern-oriented validation (DESIGN sections 0 and 7).

- ``calibration/targets.toml``: the targets (value, tolerance, KPI, source) and the
  patterns P1-P8 (direction and minimum effect), read by :func:`load_targets`;
- :func:`validate` and :func:`calibrate` (:mod:`calibration.api`) compute and return a
  :class:`ValidationResult` or :class:`CalibrationResult`; :func:`write_validation` and
  :func:`write_calibration` (:mod:`calibration.report`) write its results folder;
- :mod:`calibration.history` - history matching to a plausible ensemble (issue #18; the default of
  ``wijkteam calibrate``), with :mod:`calibration.emulators` and :mod:`calibration.history_report`;
- :mod:`calibration.fit` - differential evolution of the behaviour parameters on a simulated-method-of-
  moments loss with common random numbers; :func:`profile` - the identifiability profiles;
- :func:`run_patterns` - the pattern checks; :func:`write_back` - fitted values as defaults;
- ``wijkteam calibrate`` (``--method de`` for the fit) and ``wijkteam validate`` (:mod:`calibration.cli`).
"""

from calibration.api import CalibrationResult, ValidationResult, calibrate, validate
from calibration.fit import fit_table, identifiability, profile
from calibration.patterns import PatternResult, run_patterns
from calibration.report import write_calibration, write_validation
from calibration.runs import Simulator, crn_seeds
from calibration.targets import Target, TargetSet, kpis, load_targets
from calibration.writeback import write_back

__all__ = [
    "CalibrationResult",
    "PatternResult",
    "Simulator",
    "Target",
    "TargetSet",
    "ValidationResult",
    "calibrate",
    "crn_seeds",
    "fit_table",
    "identifiability",
    "kpis",
    "load_targets",
    "profile",
    "run_patterns",
    "validate",
    "write_back",
    "write_calibration",
    "write_validation",
]

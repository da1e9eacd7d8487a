"""wijkteam-sim: an agent-based model of a Dutch neighbourhood and its social neighbourhood team.

Public interface, kept small and stable for experiments, calibration and the browser view:

- :func:`run` - one run, returning ``(summary, weekly series)``;
- :class:`NeighbourhoodModel` - the Mesa model;
- :data:`REGISTRY`, :class:`Params`, :func:`validate`, :class:`ParameterError` - the parameters;
- :data:`SUMMARY_FIELDS`, :data:`SERIES_FIELDS` - what a run reports, with units;
- :func:`warm_up` - compile the model's loops now (announced on stderr the first time).
"""

from model.compiled import warm_up
from model.neighbourhood import NeighbourhoodModel, run
from model.outputs import SERIES_FIELDS, SUMMARY_FIELDS
from model.params import REGISTRY, ParameterError, Params, validate

__all__ = [
    "REGISTRY",
    "SERIES_FIELDS",
    "SUMMARY_FIELDS",
    "NeighbourhoodModel",
    "ParameterError",
    "Params",
    "run",
    "validate",
    "warm_up",
]

"""Scenario discovery (``wijkteam discover``): which lever combinations get a team out of the
caseload trap, in which worlds, and which policies are robust.

- :mod:`.outcomes` - the outcomes of interest ("escapes the trap", "fails") and their options;
- :mod:`.boxes` - PRIM, CART and feature scores (EMA Workbench) and bootstrap box statistics;
- :mod:`.robust` - regret against the best policy per world, satisficing, cost;
- :mod:`.run` - the design (levers x worlds x replicates) on the executor, end to end;
- :mod:`.report` - figures, tables and the plain-language report.
"""

from experiments.discovery.outcomes import OutcomeError, OutcomeSpec, classify, escapes, fails
from experiments.discovery.run import Discovery, DiscoveryError, discover

__all__ = [
    "Discovery",
    "DiscoveryError",
    "OutcomeError",
    "OutcomeSpec",
    "classify",
    "discover",
    "escapes",
    "fails",
]
